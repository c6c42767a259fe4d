//! The start page.

use leptos::prelude::*;

use crate::components::grid_preview::GridPreview;
use crate::i18n::{request_lang, texts};

#[component]
pub fn Home() -> impl IntoView {
    let t = texts(request_lang());
    view! {
        <section class="hero">
            <h1>{t.product_tagline}</h1>
            <p>{t.home_intro}</p>
            <noscript>
                <p class="warning">{t.noscript}</p>
            </noscript>
        </section>
        <GridPreview />
        <section class="how">
            <h2>{t.home_how_title}</h2>
            <ol>
                <li>{t.home_how_1}</li>
                <li>{t.home_how_2}</li>
                <li>{t.home_how_3}</li>
            </ol>
            <p>
                <a href="/ca/ca.pem" download="passgrid-ca.pem">
                    {t.ca_download}
                </a>
            </p>
        </section>
    }
}
