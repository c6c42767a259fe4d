//! Picking cells in order, shared by the sample grid and the pattern editor: the
//! button of one cell (marked when picked, with its order numbers) and the undo and
//! clear controls. The cells form an ARIA grid with one Tab stop: the arrow keys,
//! Home and End move between cells (a roving tabindex), Enter or Space picks.

use leptos::prelude::*;

use super::grid_rows::starts_block;
use crate::grid::GridShape;
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

/// The state of one pickable grid.
#[derive(Clone, Copy)]
pub struct Picker {
    pub picked: RwSignal<Vec<u16>>,
    /// The cell that holds the grid's one Tab stop.
    pub active: RwSignal<u16>,
    pub shape: GridShape,
    pub max_cells: usize,
}

impl Picker {
    pub fn new(shape: GridShape, max_cells: usize) -> Picker {
        Picker {
            picked: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
            shape,
            max_cells,
        }
    }
}

/// Where a key moves the focus from `cell` (None: the key is not for the grid).
pub fn key_target(key: &str, ctrl: bool, cell: usize, shape: GridShape) -> Option<usize> {
    let cols = shape.cols();
    let last = shape.cells() - 1;
    let (row, col) = (cell / cols, cell % cols);
    Some(match key {
        "ArrowLeft" => cell - usize::from(col > 0),
        "ArrowRight" => cell + usize::from(col + 1 < cols),
        "ArrowUp" if row > 0 => cell - cols,
        "ArrowUp" => cell,
        "ArrowDown" if cell + cols <= last => cell + cols,
        "ArrowDown" => cell,
        "Home" if ctrl => 0,
        "End" if ctrl => last,
        "Home" => row * cols,
        "End" => row * cols + cols - 1,
        _ => return None,
    })
}

/// One pickable cell in its grid cell; `digit` is shown when the grid has digits.
pub fn pick_cell_button(
    p: Picker,
    cell: u16,
    col: usize,
    label: String,
    picked_text: &'static str,
    digit: Option<u8>,
) -> impl IntoView {
    let picked = p.picked;
    let aria_label = move || {
        let orders = order_numbers(&picked.get(), cell);
        if orders.is_empty() {
            label.clone()
        } else {
            format!("{label}, {}", picked_text.replace("{order}", &orders))
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if let Some(next) = key_target(&ev.key(), ev.ctrl_key(), usize::from(cell), p.shape) {
            ev.prevent_default();
            let next = next as u16;
            p.active.set(next);
            focus_cell(&ev, next);
        }
    };
    view! {
        <div role="gridcell" class="cell-slot" class:block-start=starts_block(col)>
            <button
                type="button"
                class="cell"
                class:picked=move || picked.get().contains(&cell)
                tabindex=move || if p.active.get() == cell { "0" } else { "-1" }
                aria-label=aria_label
                data-cell=cell
                on:focus=move |_| p.active.set(cell)
                on:keydown=on_key
                on:click=move |_| {
                    picked
                        .update(|v| {
                            if v.len() < p.max_cells {
                                v.push(cell);
                            }
                        })
                }
            >
                {digit.map(|d| view! { <span class="digit" aria-hidden="true">{d}</span> })}
                <span class="order" aria-hidden="true">{move || order_numbers(&picked.get(), cell)}</span>
            </button>
        </div>
    }
}

/// Moves the keyboard focus to `cell` of the grid the event came from.
fn focus_cell(ev: &leptos::ev::KeyboardEvent, cell: u16) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[role=grid]").ok().flatten())
            .and_then(|grid| {
                grid.query_selector(&format!("button[data-cell=\"{cell}\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = target {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, cell);
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
    use super::*;

    #[test]
    fn order_numbers_list_every_position() {
        assert_eq!(order_numbers(&[5, 2, 5], 5), "1,3");
        assert_eq!(order_numbers(&[5, 2, 5], 7), "");
    }

    #[test]
    fn arrow_keys_stay_inside_the_grid() {
        let s = GridShape::default(); // 4 rows × 12 columns
        assert_eq!(key_target("ArrowRight", false, 0, s), Some(1));
        assert_eq!(key_target("ArrowRight", false, 11, s), Some(11));
        assert_eq!(key_target("ArrowLeft", false, 12, s), Some(12));
        assert_eq!(key_target("ArrowDown", false, 5, s), Some(17));
        assert_eq!(key_target("ArrowDown", false, 41, s), Some(41));
        assert_eq!(key_target("ArrowUp", false, 17, s), Some(5));
        assert_eq!(key_target("ArrowUp", false, 5, s), Some(5));
        assert_eq!(key_target("Home", false, 17, s), Some(12));
        assert_eq!(key_target("End", false, 17, s), Some(23));
        assert_eq!(key_target("End", true, 17, s), Some(47));
        assert_eq!(key_target("Home", true, 17, s), Some(0));
        assert_eq!(key_target("a", false, 17, s), None);
    }
}
