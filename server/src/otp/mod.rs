//! One-time passwords: the only code that opens sealed patterns. Challenges (grid
//! seeds) are made and checked here; the login state machine in `auth` calls in.

pub mod challenge;
pub mod expected;
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
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
    #[error("too many phrase checks at once; try again shortly")]
    Busy,
}
