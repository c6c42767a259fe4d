//! Drawing a new pattern (SPEC §1.6): click cells in order; order numbers, undo and
//! clear; the policy's rules are checked as you go and a strength meter shows how
//! many patterns an onlooker would have to consider. An island: it needs WASM.

use leptos::prelude::*;

use super::grid_rows::grid_rows;
use super::pick::{pick_cell_button, undo_and_clear, Picker};
use crate::context::CSRF_FIELD;
use crate::grid::GridShape;
use crate::i18n::{grouped, request_lang, rule_message, texts};
use crate::pattern::{check_pattern, PatternRules};
use crate::strength::{expected_candidates, rounded, Strength};

#[island]
#[allow(clippy::too_many_arguments)]
pub fn PatternEditor(
    csrf: String,
    blocks_across: u8,
    blocks_down: u8,
    min_len: usize,
    max_len: usize,
    refuse_straight_line: bool,
    refuse_one_stroke: bool,
    require_every_block: bool,
    min_strength_bits: u32,
) -> impl IntoView {
    let lang = request_lang();
    let t = texts(lang);
    let shape = GridShape::new(blocks_across, blocks_down).unwrap_or_default();
    let rules = PatternRules {
        min_len,
        max_len,
        refuse_straight_line,
        refuse_one_stroke,
        require_every_block,
        min_strength_bits,
    };
    let picker = Picker::new(shape, max_len);
    let picked = picker.picked;
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let rules_for_check = rules.clone();
    let violations = Memo::new(move |_| check_pattern(&picked.get(), shape, &rules_for_check));
    let cells_value = move || {
        picked
            .get()
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    // Strength in words (weak / fair / strong) with the reason, not in bits.
    let level = move || {
        let len = picked.get().len();
        (len > 0).then(|| Strength::of(shape.cells(), len))
    };
    let strength = move || {
        let len = picked.get().len();
        let after_one = rounded(expected_candidates(shape.cells(), len, 1));
        level().map(|l| {
            let text = match l {
                Strength::Weak => t.strength_weak,
                Strength::Fair => t.strength_fair,
                Strength::Strong => t.strength_strong,
            };
            text.replace("{after}", &grouped(after_one))
        })
    };
    let meter_width = move || {
        let share = match level() {
            None => 0,
            Some(Strength::Weak) => 25,
            Some(Strength::Fair) => 60,
            Some(Strength::Strong) => 100,
        };
        format!("width: {share}%")
    };

    let rows = grid_rows(shape, move |row, col, index| {
        let label = t
            .editor_cell_label
            .replace("{row}", &(row + 1).to_string())
            .replace("{col}", &(col + 1).to_string());
        pick_cell_button(picker, index as u16, col, label, t.editor_cell_picked, None)
    });

    view! {
        <form method="post" action="/me/pattern" class="pattern-editor" data-hydrated=move || hydrated.get().to_string()>
            <input type="hidden" name=CSRF_FIELD value=csrf />
            <input type="hidden" name="cells" value=cells_value />
            <p class="wasm-missing" hidden=move || hydrated.get()>
                {t.preview_loading}
            </p>
            <div class="grid editor-grid" role="grid" aria-label=t.editor_grid_label>
                {rows}
            </div>
            {undo_and_clear(picked, t)}
            <div class="strength" data-strength=move || level().map(Strength::code).unwrap_or_default() aria-live="polite">
                <div class="meter" aria-hidden="true">
                    <div class="meter-fill" style=meter_width></div>
                </div>
                <p class="strength-text">{strength}</p>
            </div>
            <ul class="rule-feedback" aria-live="polite">
                {move || {
                    violations
                        .get()
                        .iter()
                        .map(|v| view! { <li class="rule" data-rule=v.code()>{rule_message(lang, v)}</li> })
                        .collect_view()
                }}
            </ul>
            <button type="submit" disabled=move || !violations.get().is_empty()>
                {t.editor_submit}
            </button>
        </form>
    }
}
