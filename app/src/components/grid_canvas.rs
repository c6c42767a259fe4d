//! The canvas-only grid (SPEC §1.8): when the policy says so, the digits are painted
//! into a `<canvas>` and never become text in the page, so page scrapers, extensions
//! reading the DOM and copy-paste cannot read them. The price, stated to the user, is
//! that screen readers cannot either.

use crate::grid::{GridShape, BLOCK_SIDE};

/// Size of one cell, in CSS pixels at full size (the canvas scales down to fit).
pub const CELL: f64 = 44.0;
/// Gap between cells of one block.
pub const GAP: f64 = 3.0;
/// Extra gap between blocks, so that the blocks are visible.
pub const BLOCK_GAP: f64 = 12.0;
/// Margin around the grid.
pub const PAD: f64 = 4.0;

/// Where each cell is painted, in CSS pixels.
#[derive(Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Top-left corner of each cell, in cell-index order (row by row).
    pub cells: Vec<(f64, f64)>,
}

fn offset(index: usize) -> f64 {
    let blocks_before = (index / BLOCK_SIDE) as f64;
    PAD + index as f64 * (CELL + GAP) + blocks_before * BLOCK_GAP
}

/// The picture's geometry for `shape`: same rows, columns and blocks as the text grid.
pub fn layout(shape: GridShape) -> Layout {
    let (rows, cols) = (shape.rows(), shape.cols());
    let extent = |n: usize| offset(n - 1) + CELL + PAD;
    let cells = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (offset(c), offset(r))))
        .collect();
    Layout {
        width: extent(cols),
        height: extent(rows),
        cells,
    }
}

/// Paints `digits` into `canvas` at the device's pixel density.
#[cfg(feature = "hydrate")]
pub fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    shape: GridShape,
    digits: &[u8],
) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;

    let geometry = layout(shape);
    let ratio = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0);
    canvas.set_width((geometry.width * ratio).ceil() as u32);
    canvas.set_height((geometry.height * ratio).ceil() as u32);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no 2d context"))?
        .dyn_into()?;
    ctx.scale(ratio, ratio)?;
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, geometry.width, geometry.height);
    ctx.set_font(&format!(
        "600 {}px system-ui, sans-serif",
        (CELL * 0.56).round()
    ));
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    ctx.set_line_width(1.0);
    for (index, &(x, y)) in geometry.cells.iter().enumerate() {
        // Alternate block shading, so the blocks read at a glance as in the text grid.
        let block = (index % shape.cols()) / BLOCK_SIDE + (index / shape.cols()) / BLOCK_SIDE;
        ctx.set_fill_style_str(if block.is_multiple_of(2) {
            "#ffffff"
        } else {
            "#f3f5f8"
        });
        ctx.fill_rect(x, y, CELL, CELL);
        ctx.set_stroke_style_str("#c9d1dc");
        ctx.stroke_rect(x + 0.5, y + 0.5, CELL - 1.0, CELL - 1.0);
        if let Some(d) = digits.get(index) {
            ctx.set_fill_style_str("#1b2330");
            ctx.fill_text(
                &char::from(b'0' + d).to_string(),
                x + CELL / 2.0,
                y + CELL / 2.0 + 1.0,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_do_not_overlap_and_blocks_are_set_apart() {
        let shape = GridShape::default();
        let l = layout(shape);
        assert_eq!(l.cells.len(), shape.rows() * shape.cols());
        // Neighbours in a block are one cell plus a gap apart; across a block border
        // the gap is wider.
        let (x0, _) = l.cells[0];
        let (x1, _) = l.cells[1];
        let (x3, _) = l.cells[3];
        let (x4, _) = l.cells[4];
        assert_eq!(x1 - x0, CELL + GAP);
        assert_eq!(x4 - x3, CELL + GAP + BLOCK_GAP);
        // Every cell lies inside the picture.
        for &(x, y) in &l.cells {
            assert!(x >= PAD && y >= PAD);
            assert!(x + CELL <= l.width - PAD + 1e-9);
            assert!(y + CELL <= l.height - PAD + 1e-9);
        }
        // The second row starts below the first.
        let (_, y_second_row) = l.cells[shape.cols()];
        assert_eq!(y_second_row, PAD + CELL + GAP);
    }

    #[test]
    fn the_picture_fits_a_phone_when_scaled_to_its_width() {
        // 12 columns at full size; scaled to a 360-px phone (minus page margins of
        // 2 × 20 px) the cells stay above 22 px, about the size of body text.
        let l = layout(GridShape::default());
        let scale = (360.0 - 40.0) / l.width;
        assert!(CELL * scale > 22.0, "cell {} px", CELL * scale);
    }
}
