//! What the server hands to the pages it renders, through request extensions. Pages
//! are server-only components (islands mode), so they read these directly; islands
//! get what they need as serialised props.

/// The signed-in user, if any.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user_id: String,
    pub display_name: String,
    pub must_change_pattern: bool,
    pub is_admin: bool,
}

/// The CSRF token that every form of the page must carry (double-submit cookie).
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The open challenge of the login page.
#[derive(Clone, Debug)]
pub struct GridChallenge {
    pub id: String,
    pub seed_hex: String,
    pub blocks_across: u8,
    pub blocks_down: u8,
    pub expires_at: i64,
    /// Policy: paint the grid into a canvas only (SPEC §1.8).
    pub canvas_only: bool,
}

/// The nonce of this response's Content-Security-Policy: inline scripts (Leptos's
/// hydration loader) run only with it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Name of the CSRF cookie and form field.
pub const CSRF_COOKIE: &str = "passgrid_csrf";
pub const CSRF_FIELD: &str = "csrf";

/// A value the server put into this request's extensions.
pub fn from_request<T: Clone + Send + Sync + 'static>() -> Option<T> {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<T>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The page's CSRF token (empty if the server set none, which makes forms fail closed).
pub fn csrf_token() -> String {
    from_request::<CsrfToken>().map(|t| t.0).unwrap_or_default()
}
