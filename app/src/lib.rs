// Leptos views nest deep generic types; the console's larger islands pass the default limit.
#![recursion_limit = "256"]

//! passgrid's Leptos application: pages, components, i18n, and the pure code that
//! the server and the browser share (grid derivation from a seed).

pub mod components;
pub mod context;
pub mod grid;
pub mod i18n;
pub mod pages;
pub mod pattern;
pub mod strength;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Meta, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::i18n::{request_lang, texts};

/// The WASM of the console's pages (all islands); other pages load the smaller one
/// without the console (`OPTIONS.output_name`).
pub const CONSOLE_OUTPUT_NAME: &str = "passgrid-admin";

/// Whether a page may hold an island (and so needs the WASM). Other pages are plain
/// HTML and forms: they load no script at all. The e2e suite checks both directions.
pub fn page_has_islands(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login/grid"
            | "/me/pattern"
            | "/me/pattern/confirm"
            | "/me/certificate/download"
            | "/me/vpn/grid"
            | "/certificate"
    ) || is_console_path(path)
}

/// Whether a path is one of the administrators' console pages.
pub fn is_console_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// The HTML document around the application, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = context::from_request::<context::AssetNames>().unwrap_or_default();
    #[cfg(feature = "ssr")]
    let (options, islands) = {
        let path = leptos::prelude::use_context::<http::request::Parts>()
            .map(|p| p.uri.path().to_string())
            .unwrap_or_default();
        let mut options = options;
        options.output_name = if is_console_path(&path) {
            assets.console.clone()
        } else {
            assets.main.clone()
        }
        .into();
        (options, page_has_islands(&path))
    };
    #[cfg(not(feature = "ssr"))]
    let islands = true;
    // The server's CSP names this nonce; the hydration scripts must carry it.
    #[cfg(feature = "ssr")]
    if let Some(nonce) = context::from_request::<context::CspNonce>() {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                {islands.then(|| view! { <HydrationScripts options islands=true /> })}
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="passgrid-css" href=format!("/pkg/{}", assets.css) />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application root: routes and the chrome shared by every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = request_lang();
    let t = texts(lang);
    view! {
        <Html {..} lang=lang.code() />
        <Title text=t.product_title />
        <Meta name="description" content=t.product_tagline />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"passgrid"</a>
                <components::lang_switch::LangSwitch />
            </header>
            <main>
                <Routes fallback=|| view! { <pages::not_found::NotFound /> }>
                    <Route path=path!("/") view=pages::home::Home />
                    <Route path=path!("/login") view=pages::login::Login />
                    <Route path=path!("/login/grid") view=pages::login::LoginGrid />
                    <Route path=path!("/login/forgot") view=pages::reset::ForgotPattern />
                    <Route path=path!("/login/reset") view=pages::reset::ResetPattern />
                    <Route path=path!("/login/reset/done") view=pages::reset::ResetDonePage />
                    <Route path=path!("/me") view=pages::portal::Portal />
                    <Route path=path!("/certificate") view=pages::certificate::CertificateDownload />
                    <Route path=path!("/certificate/install") view=pages::certificate::CertificateInstall />
                    <Route path=path!("/help/install/:system") view=pages::certificate::InstallGuide />
                    <Route path=path!("/me/certificate") view=pages::certificate::CertificateIssue />
                    <Route path=path!("/me/certificate/download") view=pages::certificate::CertificateDownload />
                    <Route path=path!("/me/certificate/install") view=pages::certificate::CertificateInstall />
                    <Route path=path!("/me/pattern") view=pages::pattern::PatternRegistration />
                    <Route path=path!("/me/pattern/confirm") view=pages::pattern::PatternConfirm />
                    <Route path=path!("/me/token") view=pages::token::TokenEnrolment />
                    <Route path=path!("/me/phrase") view=pages::phrase::PhraseSetting />
                    <Route path=path!("/me/vpn") view=pages::vpn::VpnSignInPage />
                    <Route path=path!("/me/vpn/grid") view=pages::vpn::VpnGridPage />
                    <Route path=path!("/admin") view=pages::admin::AdminDashboardPage />
                    <Route path=path!("/admin/users") view=pages::admin::AdminUsersPage />
                    <Route path=path!("/admin/users/:id") view=pages::admin::AdminUserPage />
                    <Route path=path!("/admin/policies") view=pages::admin::AdminPoliciesPage />
                    <Route path=path!("/admin/sync") view=pages::admin::AdminSyncPage />
                    <Route path=path!("/admin/tokens") view=pages::admin::AdminTokensPage />
                    <Route path=path!("/admin/api-tokens") view=pages::admin::AdminApiTokensPage />
                    <Route path=path!("/admin/applications") view=pages::admin::AdminApplicationsPage />
                    <Route path=path!("/admin/radius") view=pages::admin::AdminRadiusPage />
                    <Route path=path!("/admin/groups") view=pages::admin::AdminGroupsPage />
                    <Route path=path!("/admin/audit") view=pages::admin::AdminAuditPage />
                    <Route path=path!("/setup/done") view=pages::setup::SetupDone />
                    <Route path=path!("/setup/:token") view=pages::setup::Setup />
                </Routes>
            </main>
        </Router>
    }
}
