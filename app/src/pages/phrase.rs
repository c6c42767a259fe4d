//! The additional-phrase page (SPEC §1.3): set the phrase typed with the digits.

use leptos::prelude::*;

use crate::components::otp_form::QueryError;
use crate::context::{csrf_token, from_request, PhraseState, CSRF_FIELD};
use crate::i18n::{request_lang, texts};

#[component]
pub fn PhraseSetting() -> impl IntoView {
    let t = texts(request_lang());
    let Some(state) = from_request::<PhraseState>() else {
        return view! { <section class="card"><p>{t.error_internal}</p></section> }.into_any();
    };
    let where_text = if state.mode == "before" {
        t.phrase_before
    } else {
        t.phrase_after
    };
    let rules = t
        .phrase_rules
        .replace("{min}", &state.min_len.to_string())
        .replace("{max}", &state.max_len.to_string());
    view! {
        <section class="card phrase">
            <h1>{t.phrase_title}</h1>
            <QueryError />
            {(!state.has_phrase).then(|| view! { <p class="warning phrase-required" role="status">{t.phrase_required}</p> })}
            <p>{where_text}</p>
            <p>{rules}</p>
            <form method="post" action="/me/phrase">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <label>
                    {t.phrase_new}
                    <input type="password" name="phrase" required minlength=state.min_len maxlength=state.max_len autocomplete="new-password" />
                </label>
                <label>
                    {t.phrase_again}
                    <input type="password" name="again" required minlength=state.min_len maxlength=state.max_len autocomplete="new-password" />
                </label>
                <button type="submit">{t.phrase_save}</button>
            </form>
            <p><a href="/me">{t.portal_title}</a></p>
        </section>
    }
    .into_any()
}
