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
    /// Login protect is on: the page offers to open a sign-in window (SPEC §1.10).
    pub login_protect: bool,
    /// Until when this user's sign-in window is open (Unix seconds), if it is.
    pub login_window_until: Option<i64>,
    /// The policy signs in with TOTP codes (the portal links the authenticator page).
    pub uses_totp: bool,
    /// The RADIUS server runs and the user's policy allows VPN sign-in: the portal
    /// links the "VPN sign-in" page.
    pub vpn: bool,
}

/// The portal's "VPN sign-in" page (SPEC §10.4).
#[derive(Clone, Debug)]
pub struct VpnSignIn {
    /// Why no grid can be given, when none can (an error code of `error_message`).
    pub unavailable: Option<String>,
    /// The grid just issued, while it is open.
    pub grid: Option<GridChallenge>,
}

/// The applications the signed-in user may open from the portal (SAML service
/// providers, IdP-initiated sign-in): (name, description) each.
#[derive(Clone, Debug, Default)]
pub struct PortalTiles(pub Vec<(String, String)>);

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
    /// "grid", "totp" (a code instead of the grid) or "both".
    pub method: String,
    /// Where the additional phrase goes: "", "before" or "after".
    pub phrase: String,
}

/// A certificate waiting for its one download (the download page).
#[derive(Clone, Debug)]
pub struct CertificatePickup {
    pub token: String,
    /// Where its file is downloaded (`?t=TOKEN` follows) and where "Next" leads.
    pub file_path: String,
    pub next_path: String,
    pub serial: String,
    /// Shown on this page only; sealed in the database until the download.
    pub password: String,
}

/// The visitor's operating system, as far as the User-Agent says (install guides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientOs {
    Windows,
    MacOs,
    Ios,
    Android,
    Other,
}

impl ClientOs {
    /// From a User-Agent header. iPadOS that claims to be a Mac counts as macOS: the
    /// profile route differs little and the page lists every system anyway.
    pub fn from_user_agent(ua: &str) -> ClientOs {
        if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
            ClientOs::Ios
        } else if ua.contains("Android") {
            ClientOs::Android
        } else if ua.contains("Windows") {
            ClientOs::Windows
        } else if ua.contains("Macintosh") || ua.contains("Mac OS X") {
            ClientOs::MacOs
        } else {
            ClientOs::Other
        }
    }
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

#[cfg(test)]
mod tests {
    use super::ClientOs;

    #[test]
    fn systems_are_told_apart_by_their_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120",
                ClientOs::Windows,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Safari/605.1",
                ClientOs::MacOs,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
                ClientOs::Ios,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile",
                ClientOs::Android,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                ClientOs::Other,
            ),
        ];
        for (ua, os) in cases {
            assert_eq!(ClientOs::from_user_agent(ua), os, "{ua}");
        }
    }
}

/// The signed-in user's TOTP state (the authenticator page).
#[derive(Clone, Debug)]
pub struct TokenState {
    /// The serial and kind of the user's token, if any.
    pub token: Option<(String, String)>,
    /// An enrolment in progress: the QR code (SVG made by the server) and the key.
    pub pending: Option<(String, String)>,
    /// The policy wants a token and the user has none.
    pub required: bool,
}

/// The additional-phrase page: the policy's rules and whether one is set.
#[derive(Clone, Debug)]
pub struct PhraseState {
    /// "before" or "after" ("" when the policy has none).
    pub mode: String,
    pub min_len: usize,
    pub max_len: usize,
    pub has_phrase: bool,
}

/// A mailed reset link, on its page: whether it can still be used.
#[derive(Clone, Debug)]
pub struct ResetLink {
    pub token: String,
    pub valid: bool,
}

/// The new initial pattern after a reset, shown once.
#[derive(Clone, Debug)]
pub struct ResetDone {
    pub user_id: String,
    pub cells: Vec<u16>,
    pub blocks_across: u8,
    pub blocks_down: u8,
}

/// A set-up link, on its page: whether it can still create the first administrator.
#[derive(Clone, Debug)]
pub struct SetupLink {
    pub valid: bool,
}

/// The first administrator just made from the set-up link: its initial pattern, shown
/// once, and what the first sign-in will ask for.
#[derive(Clone, Debug)]
pub struct SetupDone {
    pub user_id: String,
    pub cells: Vec<u16>,
    pub blocks_across: u8,
    pub blocks_down: u8,
    /// "auto_issue" (a certificate is offered at the first sign-in), "required" (one
    /// must be issued and installed first) or "none".
    pub certificate: String,
    /// Days the initial pattern stays valid.
    pub valid_days: i64,
}

/// The signed-in administrator of a console page (`/admin…`); the server renders
/// those pages for administrators only.
#[derive(Clone, Debug)]
pub struct AdminViewer {
    pub user_id: String,
    /// admin, user-admin, operator or auditor (SPEC §9.1).
    pub role: String,
}

impl AdminViewer {
    /// Whether the role may change users and their certificates.
    pub fn writes_users(&self) -> bool {
        matches!(self.role.as_str(), "admin" | "user-admin")
    }

    /// Whether the role may unlock users and hand out initial patterns.
    pub fn operates(&self) -> bool {
        matches!(self.role.as_str(), "admin" | "user-admin" | "operator")
    }

    /// Whether the role may read the audit log.
    pub fn reads_audit(&self) -> bool {
        matches!(self.role.as_str(), "admin" | "auditor")
    }
}

/// What this installation can do that pages offer only when it can.
#[derive(Clone, Debug, Default)]
pub struct SiteFeatures {
    /// A mail relay is configured: "Forgot your pattern?" can send its link.
    pub mail: bool,
}

/// The file names of this build's static assets in `/pkg/`. The build names them by
/// a hash of their content, so the server may let browsers keep them for a year.
#[derive(Clone, Debug)]
pub struct AssetNames {
    /// The sign-in pages' WASM and JS glue (without `.wasm` / `.js`).
    pub main: String,
    /// The console's.
    pub console: String,
    /// The stylesheet, with its extension.
    pub css: String,
}

impl Default for AssetNames {
    /// The unhashed names of a build without a manifest.
    fn default() -> Self {
        AssetNames {
            main: "passgrid".into(),
            console: crate::CONSOLE_OUTPUT_NAME.into(),
            css: "passgrid.css".into(),
        }
    }
}

/// Remembers the user ID typed at sign-in (path /login only, this browser session),
/// so an error does not make the user type it again.
pub const LOGIN_ID_COOKIE: &str = "passgrid_login_id";

/// The user ID of the last sign-in attempt in this browser session, if any.
pub fn login_id_hint() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        let value = parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == LOGIN_ID_COOKIE)
            .map(|(_, v)| v.to_string())?;
        percent_decode(&value).filter(|id| !id.is_empty() && id.len() <= 256)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// `%XX`-encodes everything but ASCII letters, digits and `.-_@` (a cookie value).
pub fn percent_encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`percent_encode_id`]; `None` for malformed input.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod cookie_tests {
    #[test]
    fn login_ids_survive_the_cookie() {
        for id in ["alice", "a.b-c_d@example.com", "山田 太郎", "x;y=z%"] {
            let enc = super::percent_encode_id(id);
            assert!(
                enc.bytes().all(|b| b.is_ascii_graphic() && b != b';'),
                "{enc}"
            );
            assert_eq!(super::percent_decode(&enc).as_deref(), Some(id));
        }
        assert_eq!(super::percent_decode("%4"), None);
    }
}
