//! A sample grid whose cells can be clicked to draw a pattern: the interactive part
//! of the start page. Clicks only work once the WASM has hydrated the page, which is
//! what the end-to-end tests use to prove hydration. It is an island: the only part of
//! the page that ships as WASM.

use leptos::prelude::*;

use super::grid_rows::{grid_rows, starts_block};
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
    let picked = RwSignal::new(Vec::<usize>::new());
    let hydrated = RwSignal::new(false);
    // Effects never run on the server: this flips only in a hydrated page.
    Effect::new(move |_| hydrated.set(true));

    let digits_for_otp = digits.clone();
    let otp = move || {
        picked
            .get()
            .iter()
            .map(|&cell| char::from(b'0' + digits_for_otp[cell]))
            .collect::<String>()
    };
    let rows = grid_rows(shape, move |row, col, cell| {
        let digit = digits[cell];
        let label = t
            .preview_cell_label
            .replace("{row}", &(row + 1).to_string())
            .replace("{col}", &(col + 1).to_string())
            .replace("{digit}", &digit.to_string());
        let order = move || order_numbers(&picked.get(), cell);
        view! {
            <button
                type="button"
                class="cell"
                class:block-start=starts_block(col)
                class:picked=move || picked.get().contains(&cell)
                aria-label=label
                data-cell=cell
                on:click=move |_| {
                    picked
                        .update(|p| {
                            if p.len() < MAX_CELLS {
                                p.push(cell);
                            }
                        })
                }
            >
                <span class="digit">{digit}</span>
                <span class="order">{order}</span>
            </button>
        }
    });

    view! {
        <section class="grid-preview" data-hydrated=move || hydrated.get().to_string()>
            <h2>{t.preview_title}</h2>
            <p>{t.preview_help}</p>
            <p class="wasm-missing" hidden=move || hydrated.get()>
                {t.preview_loading}
            </p>
            <div class="grid" role="grid">
                {rows}
            </div>
            <p class="otp-preview">
                {t.preview_otp} ": " <output class="otp" aria-live="polite">{otp}</output>
            </p>
            <div class="actions">
                <button
                    type="button"
                    class="secondary undo"
                    on:click=move |_| {
                        picked
                            .update(|p| {
                                p.pop();
                            })
                    }
                >
                    {t.preview_undo}
                </button>
                <button type="button" class="secondary clear" on:click=move |_| picked.set(Vec::new())>
                    {t.preview_clear}
                </button>
            </div>
        </section>
    }
}

/// "1,3" for a cell picked first and third: the order numbers shown on a cell.
pub fn order_numbers<T: PartialEq + Copy>(picked: &[T], cell: T) -> String {
    picked
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == cell)
        .map(|(i, _)| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_numbers_list_every_position() {
        assert_eq!(super::order_numbers(&[5usize, 2, 5], 5), "1,3");
        assert_eq!(super::order_numbers(&[5usize, 2, 5], 7), "");
    }
}
