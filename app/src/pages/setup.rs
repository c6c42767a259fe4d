//! The one-time page that creates the first administrator (link printed at first start),
//! and the page after it: the administrator's initial pattern, shown once, with how to
//! sign in. The form posts to the server's `/setup` route, so it works without WASM;
//! the token is checked there, once, together with "no administrator exists yet".

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::otp_form::QueryError;
use crate::components::pattern_picture::PatternPicture;
use crate::context::{from_request, SetupDone, SetupLink};
use crate::grid::GridShape;
use crate::i18n::{request_lang, texts};
use crate::pattern::text_rows;

#[component]
pub fn Setup() -> impl IntoView {
    let t = texts(request_lang());
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    // The server says whether the link still works; without that word (no server
    // context) the form is shown and the server decides on submit.
    let usable = from_request::<SetupLink>().is_none_or(|l| l.valid);
    view! {
        <section class="card setup">
            <h1>{t.setup_title}</h1>
            {if usable {
                view! {
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
                }.into_any()
            } else {
                view! { <p class="error setup-gone" role="alert">{t.setup_link_gone}</p> }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn SetupDone() -> impl IntoView {
    let t = texts(request_lang());
    let done = from_request::<SetupDone>()
        .and_then(|d| GridShape::new(d.blocks_across, d.blocks_down).map(|s| (d, s)));
    #[cfg(feature = "ssr")]
    if done.is_some() {
        // The initial pattern is for this reader only: never stored by a cache, and
        // never compressed beside attacker-chosen text (see the server's assets).
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
        }
    }
    view! {
        <section class="card setup-done">
            <h1>{t.setup_done_title}</h1>
            {match done {
                Some((d, shape)) => {
                    let rows = text_rows(&d.cells, shape).join("\n");
                    // A certificate to install comes before anything else; one issued
                    // at the first sign-in comes right after the digits (SPEC §5.2).
                    let first = (d.certificate == "required")
                        .then(|| view! { <li class="setup-certificate">{t.setup_how_cert_required}</li> });
                    let after_digits = (d.certificate == "auto_issue")
                        .then(|| view! { <li class="setup-certificate">{t.setup_how_cert_auto}</li> });
                    let user_id = d.user_id.clone();
                    view! {
                        <p>{t.setup_done_body}</p>
                        <p>{t.setup_done_for} " " <strong class="user-id">{d.user_id}</strong></p>
                        <p class="notice" role="status">{t.setup_done_once}</p>
                        <PatternPicture cells=d.cells shape=shape />
                        <p class="muted pattern-note">{t.setup_done_rows}</p>
                        <pre class="pattern-rows">{rows}</pre>
                        <p class="muted">{t.setup_done_valid_for} " " {d.valid_days} " " {t.setup_done_days}</p>
                        <h2>{t.setup_how_title}</h2>
                        <ol class="setup-how">
                            {first}
                            <li>{t.setup_how_login} " " <a href="/login" class="setup-login">"/login"</a></li>
                            <li>{t.setup_how_id} " " <strong>{user_id}</strong> " " {t.setup_how_id_after}</li>
                            <li>{t.setup_how_digits}</li>
                            {after_digits}
                            <li>{t.setup_how_own}</li>
                        </ol>
                    }.into_any()
                }
                None => view! { <p class="error" role="alert">{t.setup_done_gone}</p> }.into_any(),
            }}
        </section>
    }
}
