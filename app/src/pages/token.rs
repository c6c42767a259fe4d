//! The authenticator page (SPEC §4.1): enrol an app by QR code, confirm with a code.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::otp_form::QueryError;
use crate::context::{csrf_token, from_request, TokenState, CSRF_FIELD};
use crate::i18n::{request_lang, texts};

#[component]
pub fn TokenEnrolment() -> impl IntoView {
    let t = texts(request_lang());
    let state = from_request::<TokenState>();
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some();
    let (token, pending, required) = match state {
        Some(s) => (s.token, s.pending, s.required),
        None => (None, None, false),
    };
    view! {
        <section class="card token">
            <h1>{t.token_title}</h1>
            <QueryError />
            {move || saved().then(|| view! { <p class="notice token-saved" role="status">{t.token_saved}</p> })}
            {required.then(|| view! { <p class="warning token-required" role="status">{t.token_required}</p> })}
            <p>{t.token_intro}</p>
            {token.map(|(serial, kind)| view! { <p>{t.token_have} " " <strong class="token-serial">{serial}</strong> " (" {kind} ")"</p> })}
            {match pending {
                Some((svg, key)) => view! {
                    <p>{t.token_scan}</p>
                    // The SVG is drawn by the server from the otpauth URI (qrcode crate).
                    <div class="qr" inner_html=svg></div>
                    <p>{t.token_secret} " " <code class="totp-key">{key}</code></p>
                    <form method="post" action="/me/token/confirm" class="otp-form">
                        <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                        <label>
                            {t.login_totp_code}
                            <input name="code" required inputmode="numeric" pattern="[0-9]*" maxlength="8" autocomplete="one-time-code" autofocus />
                        </label>
                        <button type="submit">{t.token_confirm}</button>
                    </form>
                }.into_any(),
                None => view! {
                    <form method="post" action="/me/token/new">
                        <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                        <button type="submit" class="start-enrolment">{t.token_start}</button>
                    </form>
                }.into_any(),
            }}
            <p><a href="/me">{t.portal_title}</a></p>
        </section>
    }
}
