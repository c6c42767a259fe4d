//! The row structure every grid on the site shares: one `role="row"` per grid row,
//! each cell made by the caller from (row, column, cell index).

use leptos::prelude::*;

use crate::grid::{GridShape, BLOCK_SIDE};

/// Whether a cell starts a new block (and gets the wider gap before it).
pub fn starts_block(col: usize) -> bool {
    col.is_multiple_of(BLOCK_SIDE) && col != 0
}

/// The rows of `shape`, cells from `cell(row, col, index)`.
pub fn grid_rows<V: IntoView + 'static>(
    shape: GridShape,
    cell: impl Fn(usize, usize, usize) -> V,
) -> impl IntoView {
    (0..shape.rows())
        .map(|row| {
            let cells = (0..shape.cols())
                .map(|col| cell(row, col, row * shape.cols() + col))
                .collect_view();
            view! {
                <div class="grid-row" role="row">
                    {cells}
                </div>
            }
        })
        .collect_view()
}
