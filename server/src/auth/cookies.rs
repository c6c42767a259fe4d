//! The login flow cookie and the session cookie: random tokens whose SHA-256 is what
//! the database keeps.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::otp::{os_random, OtpError};

pub const FLOW_COOKIE: &str = "passgrid_flow";
pub const SESSION_COOKIE: &str = "passgrid_session";
/// A flow lives as long as a few challenges.
const FLOW_MAX_AGE_SECS: i64 = 30 * 60;

/// A fresh 256-bit token, base64url without padding (43 characters).
pub fn new_token() -> Result<Zeroizing<String>, OtpError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    os_random(bytes.as_mut_slice())?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice())))
}

/// Whether `value` has the shape of a token we issued (anything else is ignored).
pub fn is_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn flow_cookie(token: &str) -> String {
    format!("{FLOW_COOKIE}={token}; Path=/; Max-Age={FLOW_MAX_AGE_SECS}; Secure; HttpOnly; SameSite=Lax")
}

pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

pub fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}
