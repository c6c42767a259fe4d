//! The grid as text for an Access-Challenge's Reply-Message (RFC 2865 §5.18): one
//! line per grid row, the 4-digit blocks apart, the blocks named by letter so a user
//! finds the cells of their pattern as on the web. 4 rows × 12 digits is about 110
//! octets, inside one 253-octet attribute; taller grids take more attributes (the
//! NAS shows them in order).

use app::grid::{GridShape, BLOCK_SIDE};

/// The block letters, left to right, then down.
const LETTERS: &[u8] = b"ABCDEFGH";

/// The Reply-Message text of a challenge: a title, the blocks' letters over their
/// columns, the numbered rows, and what to type.
pub fn grid_message(digits: &[u8], shape: GridShape, prompt: &str) -> String {
    let cols = shape.cols();
    let across = usize::from(shape.blocks_across);
    let mut out = String::new();
    for (band, rows) in (0..shape.rows())
        .collect::<Vec<_>>()
        .chunks(BLOCK_SIDE)
        .enumerate()
    {
        // "    A    B    C" over the columns of this band's blocks.
        out.push_str("  ");
        for b in 0..across {
            let letter = LETTERS
                .get(band * across + b)
                .map(|l| char::from(*l))
                .unwrap_or('?');
            out.push_str(&format!(" {letter}   "));
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
        for &row in rows {
            out.push_str(&format!("{} ", row + 1));
            for col in 0..cols {
                if col > 0 && col % BLOCK_SIDE == 0 {
                    out.push(' ');
                }
                let d = digits.get(row * cols + col).copied().unwrap_or(0);
                out.push(char::from(b'0' + d));
            }
            out.push('\n');
        }
    }
    out.push_str(prompt);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grid_is_four_numbered_rows_under_the_block_letters() {
        let shape = GridShape::default();
        let digits: Vec<u8> = (0..48).map(|i| (i % 10) as u8).collect();
        let text = grid_message(&digits, shape, "Type the digits of your pattern");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "   A    B    C");
        assert_eq!(lines[1], "1 0123 4567 8901");
        assert_eq!(lines[4], "4 6789 0123 4567");
        assert_eq!(lines[5], "Type the digits of your pattern");
        assert!(text.len() < 253, "{}", text.len());
    }

    #[test]
    fn a_second_band_of_blocks_gets_the_next_letters() {
        let shape = GridShape::new(2, 2).unwrap();
        let digits = vec![7u8; shape.rows() * shape.cols()];
        let text = grid_message(&digits, shape, "");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "   A    B");
        assert_eq!(lines[5], "   C    D");
        assert_eq!(lines[6], "5 7777 7777");
        assert_eq!(lines.len(), 10);
    }
}
