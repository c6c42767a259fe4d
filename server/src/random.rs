//! The operating system's random generator, and the random tokens made from it:
//! cookies, mailed links, API tokens. Only the SHA-256 of a token is ever stored.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The OS random generator failed (there is nothing safe to fall back to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random generator failed")]
pub struct RandomError;

/// Fills `buf` from the OS CSPRNG.
pub fn os_random(buf: &mut [u8]) -> Result<(), RandomError> {
    use rand::{rngs::OsRng, TryRngCore};
    OsRng.try_fill_bytes(buf).map_err(|_| RandomError)
}

/// A fresh 256-bit token, base64url without padding (43 characters).
pub fn new_token() -> Result<Zeroizing<String>, RandomError> {
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

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
