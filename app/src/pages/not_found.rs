//! Shown for any address that has no page.

use leptos::prelude::*;

use crate::i18n::{request_lang, texts};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let t = texts(request_lang());
    view! {
        <section class="notice">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_body}</p>
            <p>
                <a href="/">{t.back_home}</a>
            </p>
        </section>
    }
}
