//! Self-service reset (SPEC §9.3): ask for a link, use it, see the new initial
//! pattern once.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::otp_form::QueryError;
use crate::components::pattern_picture::PatternPicture;
use crate::context::{csrf_token, from_request, ResetDone, ResetLink, CSRF_FIELD};
use crate::grid::GridShape;
use crate::i18n::{request_lang, texts};

#[component]
pub fn ForgotPattern() -> impl IntoView {
    let t = texts(request_lang());
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    view! {
        <section class="card forgot">
            <h1>{t.reset_title}</h1>
            <QueryError />
            {move || if sent() {
                view! { <p class="notice reset-sent" role="status">{t.reset_sent}</p> }.into_any()
            } else {
                view! {
                    <p>{t.reset_intro}</p>
                    <form method="post" action="/login/forgot">
                        <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                        <label>
                            {t.login_user_id}
                            <input name="user_id" required maxlength="64" autocomplete="username" autofocus />
                        </label>
                        <button type="submit">{t.reset_send}</button>
                    </form>
                }.into_any()
            }}
            <p><a href="/login">{t.login_start_again}</a></p>
        </section>
    }
}

#[component]
pub fn ResetPattern() -> impl IntoView {
    let t = texts(request_lang());
    let link = from_request::<ResetLink>();
    view! {
        <section class="card reset">
            <h1>{t.reset_title}</h1>
            {match link {
                Some(link) if link.valid => view! {
                    <p>{t.reset_confirm}</p>
                    <form method="post" action="/login/reset">
                        <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                        <input type="hidden" name="t" value=link.token />
                        <button type="submit" class="do-reset">{t.reset_button}</button>
                    </form>
                }.into_any(),
                _ => view! { <p class="error" role="alert">{t.reset_link_gone}</p> }.into_any(),
            }}
            <p><a href="/login">{t.login_start_again}</a></p>
        </section>
    }
}

#[component]
pub fn ResetDonePage() -> impl IntoView {
    let t = texts(request_lang());
    let done = from_request::<ResetDone>();
    view! {
        <section class="card reset-done">
            <h1>{t.reset_title}</h1>
            {match done.and_then(|d| GridShape::new(d.blocks_across, d.blocks_down).map(|s| (d, s))) {
                Some((d, shape)) => view! {
                    <p>{t.reset_done} " " <strong class="user-id">{d.user_id}</strong></p>
                    <PatternPicture cells=d.cells shape=shape />
                    <p>{t.reset_done_next}</p>
                    <p><a href="/login">{t.login_title}</a></p>
                }.into_any(),
                None => view! { <p class="error" role="alert">{t.reset_shown_already}</p> }.into_any(),
            }}
        </section>
    }
}
