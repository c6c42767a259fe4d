//! The login flow cookie and the session cookie: random tokens whose SHA-256 is what
//! the database keeps.

pub const FLOW_COOKIE: &str = "passgrid_flow";
pub const SESSION_COOKIE: &str = "passgrid_session";
/// A flow lives as long as a few challenges.
const FLOW_MAX_AGE_SECS: i64 = 30 * 60;

pub fn flow_cookie(token: &str) -> String {
    format!("{FLOW_COOKIE}={token}; Path=/; Max-Age={FLOW_MAX_AGE_SECS}; Secure; HttpOnly; SameSite=Lax")
}

pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

pub fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}
