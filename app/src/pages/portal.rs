//! The signed-in user's page: who they are, and the way out.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::context::{csrf_token, from_request, PortalTiles, Viewer, CSRF_FIELD};
use crate::i18n::{request_lang, texts};

#[component]
pub fn Portal() -> impl IntoView {
    let t = texts(request_lang());
    // The server redirects to /login before rendering when nobody is signed in.
    let viewer = from_request::<Viewer>();
    let name = viewer
        .as_ref()
        .map(|v| v.user_id.clone())
        .unwrap_or_default();
    let display = viewer
        .as_ref()
        .map(|v| v.display_name.clone())
        .unwrap_or_default();
    let is_admin = viewer.as_ref().is_some_and(|v| v.is_admin);
    let console = crate::pages::admin::texts::admin_texts(request_lang()).console;
    let must_change = viewer.as_ref().is_some_and(|v| v.must_change_pattern);
    let login_protect = viewer.as_ref().is_some_and(|v| v.login_protect);
    let uses_totp = viewer.as_ref().is_some_and(|v| v.uses_totp);
    let vpn = viewer.as_ref().is_some_and(|v| v.vpn);
    let window_open = viewer
        .as_ref()
        .is_some_and(|v| v.login_window_until.is_some());
    let tiles = from_request::<PortalTiles>().unwrap_or_default().0;
    let query = use_query_map();
    let changed = move || query.read().get("changed").is_some();
    let phrase_saved = move || query.read().get("phrase").is_some();
    view! {
        <section class="card portal">
            <h1>{t.portal_title}</h1>
            <p>
                {t.portal_signed_in_as} " " <strong class="user-id">{name}</strong>
                {(!display.is_empty()).then(|| format!(" ({display})"))}
            </p>
            {must_change.then(|| view! { <p class="warning must-change" role="status">{t.portal_must_change}</p> })}
            {move || changed().then(|| view! { <p class="notice pattern-changed" role="status">{t.portal_pattern_changed}</p> })}
            {move || phrase_saved().then(|| view! { <p class="notice phrase-saved" role="status">{t.phrase_saved}</p> })}
            {(!tiles.is_empty()).then(|| view! {
                <nav class="portal-apps" aria-labelledby="portal-apps-title">
                    <h2 id="portal-apps-title">{t.portal_apps}</h2>
                    <ul class="app-tiles">
                        {tiles.into_iter().map(|(name, description)| {
                            let href = format!("/saml/start/{name}");
                            let data = name.clone();
                            view! {
                                <li><a class="app-tile" data-app=data href=href>
                                    <strong>{name}</strong>
                                    {(!description.is_empty()).then(|| view! { <span>{description}</span> })}
                                </a></li>
                            }
                        }).collect_view()}
                    </ul>
                </nav>
            })}
            <p>
                <a href="/me/pattern">{t.portal_change_pattern}</a>
            </p>
            {is_admin.then(|| view! { <p><a class="console-link" href="/admin">{console}</a></p> })}
            {uses_totp.then(|| view! { <p><a href="/me/token">{t.token_title}</a></p> })}
            {vpn.then(|| view! { <p><a class="vpn-link" href="/me/vpn">{t.vpn_link}</a></p> })}
            {login_protect.then(|| view! {
                <div class="login-protect">
                    <p>{t.portal_login_protect}</p>
                    {window_open.then(|| view! { <p class="notice login-window-open" role="status">{t.portal_window_open}</p> })}
                    <form method="post" action="/me/login-window">
                        <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                        <button type="submit" class="allow-login">{t.portal_allow_login}</button>
                    </form>
                </div>
            })}
            <form method="post" action="/logout">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <button type="submit">{t.portal_logout}</button>
            </form>
        </section>
    }
}
