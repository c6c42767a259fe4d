//! The login grid (SPEC §1.8): an island that derives the digits from the challenge's
//! seed in the browser. The server-rendered page shows the empty layout; without WASM
//! the page says so.

use leptos::prelude::*;

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
pub fn GridView(seed: String, blocks_across: u8, blocks_down: u8) -> impl IntoView {
    let t = texts(request_lang());
    let shape = GridShape::new(blocks_across, blocks_down).unwrap_or_default();
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
