//! The sign-in pages (SPEC §5.1): user ID → Next → grid → OTP → Log in. Both forms
//! post to server routes, so they work without WASM; only the grid needs it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::grid_view::GridView;
use crate::context::{csrf_token, from_request, GridChallenge, CSRF_FIELD};
use crate::i18n::{error_message, request_lang, texts};

#[component]
pub fn Login() -> impl IntoView {
    let lang = request_lang();
    let t = texts(lang);
    let query = use_query_map();
    let error = move || {
        query
            .read()
            .get("error")
            .map(|code| view! { <p class="error" role="alert">{error_message(lang, &code)}</p> })
    };
    view! {
        <section class="card login">
            <h1>{t.login_title}</h1>
            {error}
            <form method="post" action="/login/start">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <label>
                    {t.login_user_id}
                    <input name="user_id" required maxlength="64" autocomplete="username" autofocus />
                </label>
                <button type="submit">{t.login_next}</button>
            </form>
        </section>
    }
}

#[component]
pub fn LoginGrid() -> impl IntoView {
    let t = texts(request_lang());
    match from_request::<GridChallenge>() {
        None => view! {
            <section class="card login">
                <h1>{t.login_title}</h1>
                <p class="error" role="alert">{t.login_attempt_gone}</p>
                <p>
                    <a href="/login">{t.login_start_again}</a>
                </p>
            </section>
        }
        .into_any(),
        Some(challenge) => view! {
            <section class="card login">
                <h1>{t.login_title}</h1>
                <p>{t.login_grid_help}</p>
                <GridView
                    seed=challenge.seed_hex.clone()
                    blocks_across=challenge.blocks_across
                    blocks_down=challenge.blocks_down
                />
                <form method="post" action="/login/verify" class="otp-form">
                    <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                    <input type="hidden" name="challenge" value=challenge.id.clone() />
                    <label>
                        {t.login_otp}
                        <input
                            name="otp"
                            required
                            inputmode="numeric"
                            pattern="[0-9]*"
                            maxlength="64"
                            autocomplete="one-time-code"
                            autofocus
                        />
                    </label>
                    <button type="submit">{t.login_submit}</button>
                </form>
                <p>
                    <a href="/login">{t.login_start_again}</a>
                </p>
            </section>
        }
        .into_any(),
    }
}
