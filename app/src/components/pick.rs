//! Picking cells in order, shared by the sample grid and the pattern editor: the
//! button of one cell (marked when picked, with its order numbers) and the undo and
//! clear controls.

use leptos::prelude::*;

use super::grid_rows::starts_block;
use crate::i18n::Texts;

/// "1,3" for a cell picked first and third: the order numbers shown on a cell.
pub fn order_numbers(picked: &[u16], cell: u16) -> String {
    picked
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == cell)
        .map(|(i, _)| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// One pickable cell; `digit` is shown when the grid has digits (the sample grid).
pub fn pick_cell_button(
    picked: RwSignal<Vec<u16>>,
    cell: u16,
    col: usize,
    label: String,
    max_cells: usize,
    digit: Option<u8>,
) -> impl IntoView {
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
                        if p.len() < max_cells {
                            p.push(cell);
                        }
                    })
            }
        >
            {digit.map(|d| view! { <span class="digit">{d}</span> })}
            <span class="order">{move || order_numbers(&picked.get(), cell)}</span>
        </button>
    }
}

/// Undo the last pick, or clear them all.
pub fn undo_and_clear(picked: RwSignal<Vec<u16>>, t: &'static Texts) -> impl IntoView {
    view! {
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
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_numbers_list_every_position() {
        assert_eq!(super::order_numbers(&[5, 2, 5], 5), "1,3");
        assert_eq!(super::order_numbers(&[5, 2, 5], 7), "");
    }
}
