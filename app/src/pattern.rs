//! Patterns (SPEC §1.2): an ordered list of cells, repeats allowed. The policy's rules
//! and the printable text form live here, shared by the server (which enforces) and
//! the browser (which gives live feedback while the user draws).

use crate::grid::{GridShape, BLOCK_SIDE};

/// The pattern rules of a policy. Defaults as in SPEC §1.2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternRules {
    pub min_len: usize,
    pub max_len: usize,
    pub refuse_straight_line: bool,
    pub refuse_one_stroke: bool,
    pub require_every_block: bool,
    /// Minimum strength against blind guessing, in bits (see `strength`).
    pub min_strength_bits: u32,
}

impl Default for PatternRules {
    fn default() -> Self {
        PatternRules {
            min_len: 6,
            max_len: 16,
            refuse_straight_line: true,
            refuse_one_stroke: false,
            require_every_block: false,
            // 6 cells of the default 48-cell grid give 33.5 bits.
            min_strength_bits: 30,
        }
    }
}

/// Why a pattern is refused; `code()` is stable for URLs, JSON and i18n.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleViolation {
    CellOutOfRange,
    TooShort { min: usize },
    TooLong { max: usize },
    SingleCell,
    StraightLine,
    OneStroke,
    MissingBlock,
    TooWeak { min_bits: u32 },
}

impl RuleViolation {
    pub fn code(&self) -> &'static str {
        match self {
            RuleViolation::CellOutOfRange => "cell_out_of_range",
            RuleViolation::TooShort { .. } => "too_short",
            RuleViolation::TooLong { .. } => "too_long",
            RuleViolation::SingleCell => "single_cell",
            RuleViolation::StraightLine => "straight_line",
            RuleViolation::OneStroke => "one_stroke",
            RuleViolation::MissingBlock => "missing_block",
            RuleViolation::TooWeak { .. } => "too_weak",
        }
    }
}

/// Every rule `cells` breaks (empty = acceptable).
pub fn check_pattern(cells: &[u16], shape: GridShape, rules: &PatternRules) -> Vec<RuleViolation> {
    let mut out = Vec::new();
    if cells.iter().any(|&c| usize::from(c) >= shape.cells()) {
        out.push(RuleViolation::CellOutOfRange);
        return out;
    }
    if cells.len() < rules.min_len {
        out.push(RuleViolation::TooShort { min: rules.min_len });
    }
    if cells.len() > rules.max_len {
        out.push(RuleViolation::TooLong { max: rules.max_len });
    }
    if cells.len() > 1 && cells.iter().all(|&c| c == cells[0]) {
        out.push(RuleViolation::SingleCell);
    } else if rules.refuse_straight_line && cells.len() > 1 && is_straight_line(cells, shape) {
        out.push(RuleViolation::StraightLine);
    }
    if rules.refuse_one_stroke && cells.len() > 1 && is_one_stroke(cells, shape) {
        out.push(RuleViolation::OneStroke);
    }
    if !cells.is_empty()
        && crate::strength::strength_bits(shape.cells(), cells.len())
            < f64::from(rules.min_strength_bits)
        && cells.len() >= rules.min_len
    {
        out.push(RuleViolation::TooWeak {
            min_bits: rules.min_strength_bits,
        });
    }
    if rules.require_every_block {
        let blocks = usize::from(shape.blocks_across) * usize::from(shape.blocks_down);
        let mut seen = vec![false; blocks];
        for &c in cells {
            seen[shape.block_of(usize::from(c))] = true;
        }
        if seen.iter().any(|s| !s) {
            out.push(RuleViolation::MissingBlock);
        }
    }
    out
}

fn row_col(cell: u16, shape: GridShape) -> (i32, i32) {
    let cols = shape.cols() as i32;
    (i32::from(cell) / cols, i32::from(cell) % cols)
}

/// All cells on one row, one column or one 45° diagonal: the first thing an
/// onlooker or a guesser tries.
fn is_straight_line(cells: &[u16], shape: GridShape) -> bool {
    let points: Vec<(i32, i32)> = cells.iter().map(|&c| row_col(c, shape)).collect();
    let (r0, c0) = points[0];
    points.iter().all(|&(r, _)| r == r0)
        || points.iter().all(|&(_, c)| c == c0)
        || points.iter().all(|&(r, c)| r - c == r0 - c0)
        || points.iter().all(|&(r, c)| r + c == r0 + c0)
}

/// Every step goes to a neighbouring cell (8 directions, or the same cell).
fn is_one_stroke(cells: &[u16], shape: GridShape) -> bool {
    cells.windows(2).all(|w| {
        let (a, b) = (row_col(w[0], shape), row_col(w[1], shape));
        (a.0 - b.0).abs() <= 1 && (a.1 - b.1).abs() <= 1
    })
}

/// The printable form of SPEC §1.7: groups of 4 cells (a block's part of one row),
/// row by row, separated by spaces — 12 groups for 48 cells; `*` is an unused cell, the character gives the
/// order (1–9, then a–g for 10–16). A cell used twice shows its first position.
pub fn text_form(cells: &[u16], shape: GridShape) -> String {
    let mut marks = vec!['*'; shape.cells()];
    for (i, &c) in cells.iter().enumerate().rev() {
        let order = i + 1;
        let mark = if order < 10 {
            char::from(b'0' + order as u8)
        } else {
            char::from(b'a' + (order - 10) as u8)
        };
        if let Some(m) = marks.get_mut(usize::from(c)) {
            *m = mark;
        }
    }
    marks
        .chunks(BLOCK_SIDE)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text form split into the grid's rows: on the default 12-column grid, three
/// groups of four cells make a row, so a reader can find each cell on the grid.
pub fn text_rows(cells: &[u16], shape: GridShape) -> Vec<String> {
    let groups_per_row = (shape.cols() / BLOCK_SIDE).max(1);
    text_form(cells, shape)
        .split(' ')
        .collect::<Vec<_>>()
        .chunks(groups_per_row)
        .map(|row| row.join(" "))
        .collect()
}

/// The shape a pattern answer names (`rows`, `cols`), if it is one passgrid makes.
pub fn shape_of(rows: u64, cols: u64) -> Option<GridShape> {
    let across = u8::try_from(cols / BLOCK_SIDE as u64).ok()?;
    let down = u8::try_from(rows / BLOCK_SIDE as u64).ok()?;
    GridShape::new(across, down).filter(|s| s.rows() as u64 == rows && s.cols() as u64 == cols)
}

/// The one-time password a pattern gives on a grid: the digits at its cells, in order.
pub fn otp_for(digits: &[u8], cells: &[u16]) -> Option<Vec<u8>> {
    cells
        .iter()
        .map(|&c| digits.get(usize::from(c)).map(|d| b'0' + d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: GridShape = GridShape {
        blocks_across: 3,
        blocks_down: 1,
    };

    #[test]
    fn lengths_and_single_cell() {
        let r = PatternRules::default();
        assert_eq!(
            check_pattern(&[1, 17, 30, 4, 9], S, &r),
            vec![RuleViolation::TooShort { min: 6 }]
        );
        assert!(check_pattern(&[5; 6], S, &r).contains(&RuleViolation::SingleCell));
        assert!(check_pattern(&[1, 17, 30, 4, 9, 40], S, &r).is_empty());
        assert!(
            check_pattern(&[1, 17, 30, 4, 9, 40, 1, 1], S, &r).is_empty(),
            "repeats are allowed"
        );
        assert_eq!(
            check_pattern(&[48, 1, 2, 3, 4, 5], S, &r),
            vec![RuleViolation::CellOutOfRange]
        );
        assert!(check_pattern(&[1; 17], S, &r).contains(&RuleViolation::TooLong { max: 16 }));
    }

    #[test]
    fn straight_lines_are_refused() {
        let r = PatternRules::default();
        assert_eq!(
            check_pattern(&[0, 1, 2, 3, 4, 5], S, &r),
            vec![RuleViolation::StraightLine]
        );
        assert_eq!(
            check_pattern(&[2, 14, 26, 38, 26, 14], S, &r),
            vec![RuleViolation::StraightLine]
        );
        assert_eq!(
            check_pattern(&[0, 13, 26, 39, 26, 13], S, &r),
            vec![RuleViolation::StraightLine]
        );
        assert_eq!(
            check_pattern(&[3, 14, 25, 36, 25, 14], S, &r),
            vec![RuleViolation::StraightLine]
        );
        let off = PatternRules {
            refuse_straight_line: false,
            ..PatternRules::default()
        };
        assert!(check_pattern(&[0, 1, 2, 3, 4, 5], S, &off).is_empty());
    }

    #[test]
    fn strength_minimum_is_enforced() {
        let strict = PatternRules {
            min_strength_bits: 40,
            ..PatternRules::default()
        };
        // 6 cells on 48: 33.5 bits < 40; 7 cells: 39.1 < 40; 8 cells: 44.7.
        assert!(check_pattern(&[1, 17, 30, 4, 9, 40], S, &strict)
            .contains(&RuleViolation::TooWeak { min_bits: 40 }));
        assert!(check_pattern(&[1, 17, 30, 4, 9, 40, 41, 2], S, &strict).is_empty());
        assert!(check_pattern(&[1, 17, 30, 4, 9, 40], S, &PatternRules::default()).is_empty());
    }

    #[test]
    fn one_stroke_and_every_block() {
        let r = PatternRules {
            refuse_one_stroke: true,
            require_every_block: true,
            ..PatternRules::default()
        };
        // 0 → 1 → 13 → 14 → 2 → 3: all neighbours, and only block 0.
        let v = check_pattern(&[0, 1, 13, 14, 2, 3], S, &r);
        assert!(v.contains(&RuleViolation::OneStroke));
        assert!(v.contains(&RuleViolation::MissingBlock));
        assert!(check_pattern(&[0, 5, 10, 20, 33, 47], S, &r).is_empty());
    }

    #[test]
    fn text_form_matches_the_notice_layout() {
        // Cells 1 (order 1), 4 (2), 11 (3), 12 (4), 30 (5), 47 (6).
        let t = text_form(&[1, 4, 11, 12, 30, 47], S);
        assert_eq!(
            t,
            "*1** 2*** ***3 4*** **** **** **** **5* **** **** **** ***6"
        );
        let long: Vec<u16> = (0..12).map(|i| i * 4).collect();
        assert!(
            text_form(&long, S).contains('c'),
            "orders 10-12 print as a-c"
        );
    }

    #[test]
    fn text_rows_follow_the_grid_rows() {
        let rows = text_rows(&[1, 4, 11, 12, 30, 47], S);
        assert_eq!(
            rows,
            [
                "*1** 2*** ***3",
                "4*** **** ****",
                "**** **5* ****",
                "**** **** ***6"
            ]
        );
        assert_eq!(shape_of(4, 12), Some(S));
        assert_eq!(shape_of(4, 13), None);
    }

    #[test]
    fn otp_reads_digits_in_order() {
        let digits = [3, 1, 4, 1, 5, 9, 2, 6];
        assert_eq!(otp_for(&digits, &[7, 0, 0, 5]).unwrap(), b"6339".to_vec());
        assert_eq!(otp_for(&digits, &[8]), None);
    }
}
