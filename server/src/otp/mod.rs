//! One-time passwords: the only code that opens sealed patterns. Challenges (grid
//! seeds) are made and checked here; the login state machine in `auth` calls in.

pub mod challenge;
pub mod patterns;
pub mod phrase;
pub mod token_files;
pub mod tokens;
pub mod totp;

#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Seal(#[from] crate::master_key::SealError),
    #[error("the pattern is not acceptable: {0}")]
    Rules(String),
    #[error("no user with that ID")]
    NoSuchUser,
    #[error("the operating system's random generator failed")]
    Random,
    #[error("too many phrase checks at once; try again shortly")]
    Busy,
    /// The user's effective policy could not be read.
    #[error("policy: {0}")]
    Policy(#[from] crate::policy::PolicyError),
}

/// Fills `buf` from the OS CSPRNG.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<(), OtpError> {
    use rand::{rngs::OsRng, TryRngCore};
    OsRng.try_fill_bytes(buf).map_err(|_| OtpError::Random)
}
