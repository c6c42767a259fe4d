//! Registering one's own pattern: draw it, then prove it on two fresh grids.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::otp_form::{AttemptGone, OtpForm, QueryError};
use crate::components::{grid_view::GridView, pattern_editor::PatternEditor};
use crate::context::{csrf_token, from_request, GridChallenge, Viewer};
use crate::i18n::{request_lang, texts};
use crate::pattern::PatternRules;

#[component]
pub fn PatternRegistration() -> impl IntoView {
    let t = texts(request_lang());
    let must_change = from_request::<Viewer>().is_some_and(|v| v.must_change_pattern);
    let rules = PatternRules::default();
    view! {
        <section class="card pattern">
            <h1>{t.editor_title}</h1>
            {must_change.then(|| view! { <p class="warning must-change" role="status">{t.portal_must_change}</p> })}
            <p>{t.editor_help}</p>
            <QueryError />
            <PatternEditor
                csrf=csrf_token()
                blocks_across=3
                blocks_down=1
                min_len=rules.min_len
                max_len=rules.max_len
                refuse_straight_line=rules.refuse_straight_line
                refuse_one_stroke=rules.refuse_one_stroke
                require_every_block=rules.require_every_block
                min_strength_bits=rules.min_strength_bits
            />
        </section>
    }
}

#[component]
pub fn PatternConfirm() -> impl IntoView {
    let t = texts(request_lang());
    let query = use_query_map();
    let step = move || {
        query
            .read()
            .get("step")
            .filter(|s| s == "1" || s == "2")
            .unwrap_or_else(|| "1".into())
    };
    match from_request::<GridChallenge>() {
        None => view! { <AttemptGone title=t.confirm_title again_href="/me/pattern" again_text=t.editor_start_again /> }
            .into_any(),
        Some(challenge) => view! {
            <section class="card pattern">
                <h1>{t.confirm_title}</h1>
                <p class="confirm-step">{move || t.confirm_step.replace("{step}", &step())}</p>
                <p>{t.confirm_help}</p>
                <GridView
                    seed=challenge.seed_hex.clone()
                    blocks_across=challenge.blocks_across
                    blocks_down=challenge.blocks_down
                    canvas_only=challenge.canvas_only
                />
                <OtpForm action="/me/pattern/confirm" challenge_id=challenge.id.clone() submit=t.confirm_submit />
            </section>
        }
        .into_any(),
    }
}
