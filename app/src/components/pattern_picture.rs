//! A picture of a pattern on an empty grid: each cell numbered with its place(s) in
//! the pattern, blocks set apart. Server-rendered; no WASM.

use leptos::prelude::*;

use crate::grid::{GridShape, BLOCK_SIDE};

#[component]
pub fn PatternPicture(cells: Vec<u16>, shape: GridShape) -> impl IntoView {
    let mut orders: Vec<Vec<usize>> = vec![Vec::new(); shape.cells()];
    for (i, &c) in cells.iter().enumerate() {
        if let Some(o) = orders.get_mut(usize::from(c)) {
            o.push(i + 1);
        }
    }
    let cols = shape.cols();
    let rows = (0..shape.rows())
        .map(|row| {
            let tds = (0..cols)
                .map(|col| {
                    let order = &orders[row * cols + col];
                    let mut class = String::new();
                    if col % BLOCK_SIDE == 0 && col > 0 {
                        class.push_str("block ");
                    }
                    if !order.is_empty() {
                        class.push_str("used");
                    }
                    let text = order
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    view! { <td class=class.trim().to_string() data-cell=row * cols + col data-order=text.clone()>{text.clone()}</td> }
                })
                .collect_view();
            view! { <tr>{tds}</tr> }
        })
        .collect_view();
    view! { <table class="pattern-picture">{rows}</table> }
}
