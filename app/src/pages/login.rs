//! The sign-in pages (SPEC §5.1): user ID → Next → grid → OTP → Log in. Both forms
//! post to server routes, so they work without WASM; only the grid needs it.

use leptos::prelude::*;

use crate::components::grid_view::GridView;
use crate::components::otp_form::{AttemptGone, OtpForm, QueryError};
use crate::context::{
    csrf_token, from_request, login_id_hint, GridChallenge, SiteFeatures, CSRF_FIELD,
};
use crate::i18n::{request_lang, texts};

#[component]
pub fn Login() -> impl IntoView {
    let t = texts(request_lang());
    // After an error the ID typed before is kept; a fresh visit starts empty.
    let hint = login_id_hint();
    let focus_id = hint.is_none();
    // "Forgot your pattern?" can only mail its link when a relay is configured.
    let mail = from_request::<SiteFeatures>().is_some_and(|f| f.mail);
    view! {
        <section class="card login">
            <h1>{t.login_title}</h1>
            <QueryError />
            <form method="post" action="/login/start">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <label>
                    {t.login_user_id}
                    <input name="user_id" required maxlength="64" autocomplete="username" autofocus=focus_id value=hint />
                </label>
                <button type="submit">{t.login_next}</button>
            </form>
            {mail.then(|| view! { <p class="forgot-link"><a href="/login/forgot">{t.reset_link}</a></p> })}
        </section>
    }
}

#[component]
pub fn LoginGrid() -> impl IntoView {
    let t = texts(request_lang());
    match from_request::<GridChallenge>() {
        None => view! { <AttemptGone title=t.login_title again_href="/login" again_text=t.login_start_again /> }.into_any(),
        Some(challenge) if challenge.method == "totp" => view! {
            <section class="card login">
                <h1>{t.login_title}</h1>
                <p>{t.login_totp_help}</p>
                <OtpForm action="/login/verify" challenge_id=challenge.id.clone() submit=t.login_submit label=t.login_totp_code />
                // No authenticator yet: the grid stands in for the code once.
                <details class="grid-instead">
                    <summary>{t.login_no_token_yet}</summary>
                    <p>{t.login_grid_help}</p>
                    <GridView
                        seed=challenge.seed_hex.clone()
                        blocks_across=challenge.blocks_across
                        blocks_down=challenge.blocks_down
                        canvas_only=challenge.canvas_only
                    />
                </details>
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
                {match challenge.phrase.as_str() {
                    "before" => Some(view! { <p class="phrase-hint">{t.login_phrase_before}</p> }),
                    "after" => Some(view! { <p class="phrase-hint">{t.login_phrase_after}</p> }),
                    _ => None,
                }}
                <GridView
                    seed=challenge.seed_hex.clone()
                    blocks_across=challenge.blocks_across
                    blocks_down=challenge.blocks_down
                    canvas_only=challenge.canvas_only
                />
                <OtpForm action="/login/verify" challenge_id=challenge.id.clone() submit=t.login_submit totp_field={challenge.method == "both"} />
                <p>
                    <a href="/login">{t.login_start_again}</a>
                </p>
            </section>
        }
        .into_any(),
    }
}
