//! The additional phrase (SPEC §1.3): a fixed phrase typed before or after the
//! digits, hashed with argon2id. Hashing is deliberately expensive, so only a few run
//! at once (each on a blocking thread): a flood of logins queues for a permit, and
//! when the queue does not move in time the login is refused as busy instead of
//! piling up memory and threads.

use std::{sync::Arc, time::Duration};

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use zeroize::Zeroizing;

use super::OtpError;
use crate::random::os_random;

/// Where the phrase goes (policy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhraseMode {
    #[default]
    Off,
    /// Typed before the digits.
    Before,
    /// Typed after the digits.
    After,
}

/// The phrase rules of a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhraseRule {
    pub mode: PhraseMode,
    pub min_len: usize,
    pub max_len: usize,
}

impl Default for PhraseRule {
    fn default() -> Self {
        PhraseRule {
            mode: PhraseMode::Off,
            min_len: 4,
            max_len: 32,
        }
    }
}

/// Why a phrase is not acceptable (the code is shown to the user translated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhraseProblem {
    TooShort,
    TooLong,
    /// Outside letters, digits and the ASCII symbols other than `,` and `:`.
    BadCharacter,
    Mismatch,
}

impl PhraseProblem {
    pub fn code(self) -> &'static str {
        match self {
            PhraseProblem::TooShort => "phrase_too_short",
            PhraseProblem::TooLong => "phrase_too_long",
            PhraseProblem::BadCharacter => "phrase_character",
            PhraseProblem::Mismatch => "phrase_mismatch",
        }
    }
}

/// Whether `c` may appear in a phrase: ASCII letters, digits and symbols except the
/// comma and the colon (SPEC §1.3).
pub fn phrase_char(c: u8) -> bool {
    c.is_ascii_graphic() && c != b',' && c != b':'
}

impl PhraseRule {
    pub fn check(&self, phrase: &str) -> Result<(), PhraseProblem> {
        if !phrase.bytes().all(phrase_char) {
            return Err(PhraseProblem::BadCharacter);
        }
        if phrase.len() < self.min_len {
            return Err(PhraseProblem::TooShort);
        }
        if phrase.len() > self.max_len {
            return Err(PhraseProblem::TooLong);
        }
        Ok(())
    }

    /// Splits what was typed into (digits, phrase), the digits being `digits` long.
    /// `None` when it is too short to hold them.
    pub fn split<'a>(&self, typed: &'a [u8], digits: usize) -> Option<(&'a [u8], &'a [u8])> {
        if typed.len() < digits {
            return None;
        }
        Some(match self.mode {
            PhraseMode::Off => (typed, &[][..]),
            PhraseMode::Before => {
                let (phrase, otp) = typed.split_at(typed.len() - digits);
                (otp, phrase)
            }
            PhraseMode::After => typed.split_at(digits),
        })
    }
}

/// Hashes running at once, at most: about one per core.
const MAX_IN_FLIGHT: usize = 2;
/// How long a login waits for a hashing permit before it is refused as busy.
const PERMIT_WAIT: Duration = Duration::from_secs(5);

/// argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).
fn argon2() -> Result<Argon2<'static>, OtpError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| OtpError::Busy)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes and verifies phrases under a bound on concurrent work.
pub struct PhraseHasher {
    permits: Arc<tokio::sync::Semaphore>,
    /// Checked when the user has no phrase (or does not exist), so every login with
    /// phrases on costs one hash.
    decoy_hash: String,
}

impl PhraseHasher {
    pub fn new() -> Result<PhraseHasher, OtpError> {
        let mut decoy = [0u8; 16];
        os_random(&mut decoy)?;
        Ok(PhraseHasher {
            permits: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            decoy_hash: hash_blocking(&hex::encode(decoy))?,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, OtpError> {
        let permit = tokio::time::timeout(PERMIT_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| OtpError::Busy)?
            .map_err(|_| OtpError::Busy)?;
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| OtpError::Busy)?;
        Ok(out)
    }

    pub async fn hash(&self, phrase: &str) -> Result<String, OtpError> {
        let phrase = Zeroizing::new(phrase.to_string());
        self.run(move || hash_blocking(&phrase)).await?
    }

    /// Whether `typed` is the phrase of `stored`; with no stored hash, the decoy is
    /// checked (and the answer is whether `typed` is empty: a user who has not set a
    /// phrase yet types none).
    pub async fn verify(&self, stored: Option<&str>, typed: &[u8]) -> Result<bool, OtpError> {
        let (hash, has_phrase) = match stored {
            Some(h) => (h.to_string(), true),
            None => (self.decoy_hash.clone(), false),
        };
        let typed = Zeroizing::new(typed.to_vec());
        let empty = typed.is_empty();
        let matched = self
            .run(move || {
                let Ok(parsed) = PasswordHash::new(&hash) else {
                    return false;
                };
                argon2()
                    .map(|a| a.verify_password(&typed, &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(if has_phrase { matched } else { empty })
    }
}

fn hash_blocking(phrase: &str) -> Result<String, OtpError> {
    let mut salt = [0u8; 16];
    os_random(&mut salt)?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|_| OtpError::Random(crate::random::RandomError))?;
    Ok(argon2()?
        .hash_password(phrase.as_bytes(), &salt)
        .map_err(|_| OtpError::Random(crate::random::RandomError))?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_allow_ascii_symbols_but_comma_and_colon() {
        let rule = PhraseRule {
            mode: PhraseMode::After,
            min_len: 4,
            max_len: 8,
        };
        assert_eq!(rule.check("ab#9"), Ok(()));
        assert_eq!(rule.check("ab,9"), Err(PhraseProblem::BadCharacter));
        assert_eq!(rule.check("ab:9"), Err(PhraseProblem::BadCharacter));
        assert_eq!(rule.check("ab 9"), Err(PhraseProblem::BadCharacter));
        assert_eq!(rule.check("äbcd"), Err(PhraseProblem::BadCharacter));
        assert_eq!(rule.check("abc"), Err(PhraseProblem::TooShort));
        assert_eq!(rule.check("abcdefghi"), Err(PhraseProblem::TooLong));
    }

    #[test]
    fn the_phrase_is_cut_from_the_side_the_policy_names() {
        let mut rule = PhraseRule::default();
        assert_eq!(rule.split(b"123456", 6), Some((&b"123456"[..], &b""[..])));
        rule.mode = PhraseMode::Before;
        assert_eq!(
            rule.split(b"cat!123456", 6),
            Some((&b"123456"[..], &b"cat!"[..]))
        );
        rule.mode = PhraseMode::After;
        assert_eq!(
            rule.split(b"123456cat!", 6),
            Some((&b"123456"[..], &b"cat!"[..]))
        );
        assert_eq!(rule.split(b"12345", 6), None);
    }

    #[tokio::test]
    async fn hashes_verify_and_users_without_a_phrase_type_none() {
        let hasher = PhraseHasher::new().unwrap();
        let hash = hasher.hash("blue-moon").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify(Some(&hash), b"blue-moon").await.unwrap());
        assert!(!hasher.verify(Some(&hash), b"blue-mooN").await.unwrap());
        assert!(!hasher.verify(Some(&hash), b"").await.unwrap());
        assert!(hasher.verify(None, b"").await.unwrap());
        assert!(!hasher.verify(None, b"anything").await.unwrap());
    }
}
