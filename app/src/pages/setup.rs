//! The one-time page that creates the first administrator (link printed at first start).
//! The form posts to the server's `/setup` route, so it works without WASM; the token
//! is checked there, once, in constant time.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::otp_form::QueryError;
use crate::i18n::{request_lang, texts};

#[component]
pub fn Setup() -> impl IntoView {
    let t = texts(request_lang());
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    view! {
        <section class="card setup">
            <h1>{t.setup_title}</h1>
            <p>{t.setup_intro}</p>
            <QueryError />
            <form method="post" action="/setup">
                <input type="hidden" name="token" value=token />
                <label>
                    {t.setup_user_id}
                    <input name="user_id" required maxlength="64" autocomplete="username" />
                </label>
                <label>
                    {t.setup_display_name}
                    <input name="display_name" maxlength="128" autocomplete="name" />
                </label>
                <label>
                    {t.setup_email}
                    <input name="email" type="email" maxlength="254" autocomplete="email" />
                </label>
                <button type="submit">{t.setup_submit}</button>
            </form>
        </section>
    }
}

#[component]
pub fn SetupDone() -> impl IntoView {
    let t = texts(request_lang());
    view! {
        <section class="card">
            <h1>{t.setup_done_title}</h1>
            <p>{t.setup_done_body}</p>
            <p>
                <a href="/">{t.back_home}</a>
            </p>
        </section>
    }
}
