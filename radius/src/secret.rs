//! Secret octets (shared secrets, passwords, keys) that zeroize on drop and never
//! print: `Debug` shows `[redacted]`.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Secret octets: a RADIUS shared secret, a password or a password candidate.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps octets (the caller's copy should be zeroized by the caller).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The octets.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Compares with a candidate in constant time (for a PAP password vs the
    /// expected OTP); lengths are not secret.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_slice().ct_eq(candidate))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.as_bytes().to_vec())
    }
}

impl From<&[u8]> for Secret {
    fn from(value: &[u8]) -> Self {
        Secret(value.to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The shared secret RadSec uses in place of a configured one (RFC 6614 §2.3).
pub fn radsec_secret() -> Secret {
    Secret::from("radsec")
}

/// Fills a buffer from the operating system's generator (RFC 2865 §3 asks for
/// unpredictable authenticators; State and challenges need the same).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    use rand_core::{OsRng, TryRngCore};
    let mut out = [0u8; N];
    OsRng.try_fill_bytes(&mut out).map_err(|_| RandomError)?;
    Ok(out)
}

/// The operating system's random generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::from("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose(), b"hunter2");
        assert!(s.matches(b"hunter2"));
        assert!(!s.matches(b"hunter3"));
        assert!(!s.matches(b"hunter"));
    }

    #[test]
    fn random_bytes_differ() {
        let a: [u8; 16] = random_bytes().unwrap();
        let b: [u8; 16] = random_bytes().unwrap();
        assert_ne!(a, b);
    }
}
