//! The HTTP application: routes, middleware and shared state. Pages are rendered by
//! the Leptos app; JSON routes live in `api`.

pub mod assets;
pub mod body_limit;
pub mod certificate;
pub mod csrf;
pub mod flow;
pub mod lang;
pub mod login;
pub mod login_hint;
pub mod middleware;
pub mod page_context;
pub mod pattern;
pub mod proxy;
pub mod redirect;
pub mod reset;
pub mod setup;
pub mod token;

use std::sync::Arc;

use axum::{
    extract::FromRef, middleware::from_fn, middleware::from_fn_with_state, routing::get,
    routing::post, Router,
};
use leptos::config::LeptosOptions;
use leptos_axum::LeptosRoutes;
use tower_http::trace::TraceLayer;

use crate::{api, auth::AuthSettings, instance::Instance, metrics::Metrics};

/// State shared by every handler, built once in `serve`. Cloned for every request by
/// each layer that needs it, hence one `Arc` around all of it.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub instance: Instance,
    pub metrics: Arc<Metrics>,
    pub leptos_options: LeptosOptions,
    pub public_url: Arc<str>,
    pub auth: Arc<AuthSettings>,
    /// Where forwarded client certificates may come from (none: not behind a proxy).
    pub proxy: Option<proxy::ProxySettings>,
    /// A pattern sealed for the decoy user, opened when a login names no real user so
    /// that both cases cost the same.
    pub decoy_pattern: Arc<Vec<u8>>,
    /// Checks additional phrases, a few at a time (SPEC §1.3).
    pub phrase_hasher: crate::otp::phrase::PhraseHasher,
    /// A TOTP seed sealed likewise, for logins that name no token.
    pub decoy_token: Arc<Vec<u8>>,
    /// The SMTP relay of `[mail]`, when one is configured (lock-out notices, reset links).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Login starts per address and per ID, in this process (SPEC §6.2).
    pub rate_limits: crate::auth::rate_limit::RateLimits,
    /// Rate-limited attempts counted for the audit log's minute summaries.
    pub refusal_tally: crate::auth::refusal_tally::RefusalTally,
    /// Bulk certificate jobs of this process (SPEC §2.9).
    pub bulk_jobs: crate::bulk_certificates::BulkJobs,
}

impl Shared {
    /// The settings for `user_id`: the configuration with the user's effective policy
    /// (one query; unknown IDs get the default policy).
    pub async fn settings_for(
        &self,
        user_id: &str,
    ) -> Result<AuthSettings, crate::policy::PolicyError> {
        Ok(
            crate::policy::effective_policy_for(&self.instance.store, &self.auth, user_id)
                .await?
                .settings,
        )
    }

    /// Where sync runs mail new users' first-login notices (none without a relay).
    pub fn sync_notices(&self) -> Option<crate::sync::Notices> {
        self.mailer.clone().map(|mailer| crate::sync::Notices {
            mailer,
            login_url: format!("{}/login", self.public_url),
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// Every route of the HTTPS listener.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let options = state.leptos_options.clone();
    let routes = leptos_axum::generate_route_list(app::App);
    let site_root = std::path::Path::new(options.site_root.as_ref());
    let pkg_dir = site_root.join(options.site_pkg_dir.as_ref());
    let site = assets::SiteContext::load(site_root, state.mailer.is_some());
    Router::new()
        .merge(api::routes())
        .route("/lang/{code}", get(lang::switch_language))
        .route("/setup", post(setup::create_first_admin))
        .route("/login/start", post(login::start))
        .route("/login/verify", post(login::verify))
        .route("/login/forgot", post(reset::forgot))
        .route("/login/reset", post(reset::reset))
        .route("/logout", post(login::logout))
        .route("/me/login-window", post(login::open_login_window))
        .route("/me/token/new", post(token::start))
        .route("/me/phrase", post(login::set_phrase))
        .route("/me/token/confirm", post(token::confirm))
        .route("/me/certificate/issue", post(certificate::issue))
        .route("/me/certificate/file", get(certificate::file))
        .route("/me/certificate/csr", post(certificate::csr))
        .route("/certificate/file", get(certificate::link_file))
        .route("/me/pattern", post(pattern::draw))
        .route("/me/pattern/confirm", post(pattern::confirm))
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(from_fn(assets::pkg_cache_headers))
                .service(assets::pkg_service(&pkg_dir)),
        )
        .leptos_routes(&state, routes, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(assets::compression())
        .layer(from_fn_with_state(site, assets::attach_site_context))
        .layer(from_fn_with_state(
            state.clone(),
            page_context::attach_page_context,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            proxy::forwarded_client_cert,
        ))
        .layer(from_fn(csrf::issue_csrf_token))
        .layer(from_fn(middleware::select_language))
        .layer(from_fn(middleware::security_headers))
        .layer(from_fn_with_state(
            body_limit::BodyLimits {
                default: max_body_bytes,
            },
            body_limit::limit_request_body,
        ))
        .layer(from_fn(middleware::reject_malformed_cookies))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::count_responses,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
