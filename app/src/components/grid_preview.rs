//! A sample grid whose cells can be clicked to draw a pattern: the interactive part
//! of the start page. Clicks only work once the WASM has hydrated the page, which is
//! what the end-to-end tests use to prove hydration. It is an island: the only part of
//! the page that ships as WASM.

use leptos::prelude::*;

use super::grid_rows::grid_rows;
use super::pick::{pick_cell_button, undo_and_clear, Picker};
use crate::grid::{digits_from_seed, GridShape, Seed};
use crate::i18n::{request_lang, texts};

/// A fixed, public seed: this grid is an illustration, never a challenge.
const SAMPLE_SEED: Seed = *b"passgrid sample grid, not secret";
/// The longest pattern the preview records (the policy maximum).
const MAX_CELLS: usize = 16;

#[island]
pub fn GridPreview() -> impl IntoView {
    let t = texts(request_lang());
    let shape = GridShape::default();
    let digits = digits_from_seed(&SAMPLE_SEED, shape);
    let picker = Picker::new(shape, MAX_CELLS);
    let picked = picker.picked;
    let hydrated = RwSignal::new(false);
    // Effects never run on the server: this flips only in a hydrated page.
    Effect::new(move |_| hydrated.set(true));

    let digits_for_otp = digits.clone();
    let otp = move || {
        picked
            .get()
            .iter()
            .map(|&cell| char::from(b'0' + digits_for_otp[usize::from(cell)]))
            .collect::<String>()
    };
    let rows = grid_rows(shape, move |row, col, cell| {
        let digit = digits[cell];
        let label = t
            .preview_cell_label
            .replace("{row}", &(row + 1).to_string())
            .replace("{col}", &(col + 1).to_string())
            .replace("{digit}", &digit.to_string());
        pick_cell_button(
            picker,
            cell as u16,
            col,
            label,
            t.editor_cell_picked,
            Some(digit),
        )
    });

    view! {
        <section class="grid-preview" data-hydrated=move || hydrated.get().to_string()>
            <h2>{t.preview_title}</h2>
            <p>{t.preview_help}</p>
            <p class="wasm-missing" hidden=move || hydrated.get()>
                {t.preview_loading}
            </p>
            <div class="grid" role="grid" aria-label=t.preview_grid_label>
                {rows}
            </div>
            <p class="otp-preview">
                {t.preview_otp} ": " <output class="otp" aria-live="polite">{otp}</output>
            </p>
            {undo_and_clear(picked, t)}
        </section>
    }
}
