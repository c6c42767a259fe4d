//! The login grid (SPEC §1.8): an island that derives the digits from the challenge's
//! seed in the browser. The server-rendered page shows the empty layout; without WASM
//! the page says so.

use leptos::prelude::*;

use super::grid_canvas::layout;
#[cfg(feature = "hydrate")]
use super::grid_canvas::paint;
use super::grid_rows::{grid_rows, starts_block};
use crate::grid::{digits_from_seed, GridShape, Seed};
use crate::i18n::{request_lang, texts};

fn parse_seed(hex: &str) -> Option<Seed> {
    if hex.len() != 64 {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(seed)
}

#[island]
pub fn GridView(
    seed: String,
    blocks_across: u8,
    blocks_down: u8,
    /// Policy: paint the digits into a canvas instead of the page's text.
    canvas_only: bool,
) -> impl IntoView {
    let t = texts(request_lang());
    let shape = GridShape::new(blocks_across, blocks_down).unwrap_or_default();
    if canvas_only {
        return canvas_grid(seed, shape).into_any();
    }
    let digits = RwSignal::new(None::<Vec<u8>>);
    // Runs in the browser only: the digits are never part of the server's HTML.
    Effect::new(move |_| {
        if let Some(seed) = parse_seed(&seed) {
            digits.set(Some(digits_from_seed(&seed, shape)));
        }
    });
    let rows = grid_rows(shape, move |row, col, cell| {
        let digit = move || digits.get().map(|d| char::from(b'0' + d[cell]).to_string());
        let label = move || {
            digit().map(|d| {
                t.grid_cell_label
                    .replace("{row}", &(row + 1).to_string())
                    .replace("{col}", &(col + 1).to_string())
                    .replace("{digit}", &d)
            })
        };
        view! {
            <span class="cell" class:block-start=starts_block(col) role="cell" data-cell=cell aria-label=label>
                <span class="digit">{move || digit().unwrap_or_else(|| "·".into())}</span>
            </span>
        }
    });
    view! {
        <div class="grid-box" data-ready=move || digits.get().is_some().to_string()>
            <p class="wasm-missing" hidden=move || digits.get().is_some()>
                {t.preview_loading}
            </p>
            <div class="grid login-grid" role="table" aria-label=t.grid_label>
                {rows}
            </div>
        </div>
    }
    .into_any()
}

/// The same grid painted into a canvas; its digits never enter the DOM.
fn canvas_grid(seed: String, shape: GridShape) -> impl IntoView {
    let t = texts(request_lang());
    let geometry = layout(shape);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let painted = RwSignal::new(false);
    // Runs in the browser once the canvas is in the page.
    Effect::new(move |_| {
        let (Some(seed), Some(element)) = (parse_seed(&seed), canvas.get()) else {
            return;
        };
        #[cfg(feature = "hydrate")]
        painted.set(paint(&element, shape, &digits_from_seed(&seed, shape)).is_ok());
        #[cfg(not(feature = "hydrate"))]
        let _ = (seed, element);
    });
    view! {
        <div class="grid-box" data-ready=move || painted.get().to_string()>
            <p class="wasm-missing" hidden=move || painted.get()>
                {t.preview_loading}
            </p>
            <canvas
                node_ref=canvas
                class="grid-canvas"
                data-cols=shape.cols()
                role="img"
                aria-label=t.grid_canvas_label
                width=geometry.width
                height=geometry.height
                style=format!("aspect-ratio: {} / {}", geometry.width, geometry.height)
            ></canvas>
            <p class="muted">{t.grid_canvas_note}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds_parse_only_when_well_formed() {
        assert_eq!(super::parse_seed(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(super::parse_seed("ab"), None);
        assert_eq!(super::parse_seed(&"zz".repeat(32)), None);
        assert_eq!(super::parse_seed(&"é".repeat(32)), None);
    }
}
