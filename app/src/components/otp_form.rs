//! The one-time password form under a grid (sign-in and pattern confirmation), and
//! the notice shown when the grid is gone. Plain forms: they work without WASM.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::context::{csrf_token, CSRF_FIELD};
use crate::i18n::{error_message, request_lang, texts};

#[component]
pub fn OtpForm(
    action: &'static str,
    challenge_id: String,
    submit: &'static str,
    /// The label of the main field (default: one-time password).
    #[prop(optional)]
    label: Option<&'static str>,
    /// A second field for a TOTP code (logins that ask for the grid and a code).
    #[prop(optional)]
    totp_field: bool,
) -> impl IntoView {
    let t = texts(request_lang());
    view! {
        <form method="post" action=action class="otp-form">
            <input type="hidden" name=CSRF_FIELD value=csrf_token() />
            <input type="hidden" name="challenge" value=challenge_id />
            <label>
                {label.unwrap_or(t.login_otp)}
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
            {totp_field.then(|| view! {
                <label>
                    {t.login_totp_code}
                    // Not required: a user without a token yet answers with the grid alone.
                    <input name="totp" inputmode="numeric" pattern="[0-9]*" maxlength="8" autocomplete="one-time-code" />
                </label>
            })}
            <button type="submit">{submit}</button>
        </form>
    }
}

/// "This attempt has expired", with a way to start again.
#[component]
pub fn AttemptGone(
    title: &'static str,
    again_href: &'static str,
    again_text: &'static str,
) -> impl IntoView {
    let t = texts(request_lang());
    view! {
        <section class="card">
            <h1>{title}</h1>
            <p class="error" role="alert">{t.login_attempt_gone}</p>
            <p>
                <a href=again_href>{again_text}</a>
            </p>
        </section>
    }
}

/// The error named by `?error=CODE`, in the user's language.
#[component]
pub fn QueryError() -> impl IntoView {
    let lang = request_lang();
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .map(|code| view! { <p class="error" role="alert">{error_message(lang, &code)}</p> })
    }
}
