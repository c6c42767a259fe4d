//! What the HTTP front ends (pages, JSON API, later OIDC, SAML, forward-auth) share:
//! the state handlers see, cookies, CSRF, the client's transport, request limits,
//! proxy headers, and the one mapping of errors to answers.

pub mod body_limit;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod flow;
pub mod metrics_access;
pub mod middleware;
pub mod proxy;

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{auth::Authenticator, metrics::Metrics};

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
    /// The sign-in services: the installation, the `[auth]` settings, the login guards.
    pub authn: Authenticator,
    pub metrics: Arc<Metrics>,
    pub leptos_options: LeptosOptions,
    /// Where forwarded client addresses and certificates may come from (none: not
    /// behind a proxy).
    pub proxy: Option<proxy::ProxySettings>,
    /// Who may read `/metrics`.
    pub metrics_access: metrics_access::MetricsAccess,
    /// Bulk certificate jobs of this process (SPEC §2.9).
    pub bulk_jobs: crate::bulk_certificates::BulkJobs,
    /// The OpenID Connect provider and forward-auth (SPEC §10.1, §10.2).
    pub sso: Arc<crate::sso::Provider>,
    /// The RADIUS server runs (the portal offers its "VPN sign-in" page).
    pub radius_enabled: bool,
    /// The SAML 2.0 identity provider (SPEC §10.4).
    pub saml: Arc<crate::saml_idp::IdentityProvider>,
}

/// The front ends reach the installation and the settings through the services.
impl std::ops::Deref for Shared {
    type Target = Authenticator;

    fn deref(&self) -> &Authenticator {
        &self.authn
    }
}

impl Shared {
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

/// The signed-in user of a request, put there by the page context.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user_id: String,
    /// When the user last proved who they are (see `auth::session::FRESH_PROOF_SECS`).
    pub proved_at: i64,
}

impl SignedIn {
    /// Whether the sign-in is recent enough for a change that needs a fresh proof.
    pub fn freshly_proved(&self, now: i64) -> bool {
        now - self.proved_at <= crate::auth::session::FRESH_PROOF_SECS
    }
}
