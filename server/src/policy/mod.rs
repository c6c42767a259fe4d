//! Policies (SPEC §7): named sets of login settings attached to groups with a
//! priority. A user's effective settings are the `[auth]` configuration, overlaid with
//! the `default` policy, overlaid with the attached policy of highest priority among
//! the user's groups (ties: the lower policy name).
//!
//! Installation-wide, not per policy: the grid shape (patterns are cell indices of one
//! grid, and the login page draws the grid before anyone is known), the challenge
//! lifetime, canvas-only grids, rate limits (they guard the door per address and ID
//! before any user is looked up), shared-terminal profiles and first-login mail.
//! `user set-pattern` (an administrator's override) checks the built-in rules.

pub mod access_rules;
mod administration;
mod keys;
mod resolution;
pub mod settings;

pub use administration::*;
pub use keys::*;
pub use resolution::*;
pub use settings::{AuthSettings, LockoutRule, LoginMethod, RadiusMode, Rate};

use crate::store::StoreError;

/// The policy that applies to every user without a group policy.
pub const DEFAULT_POLICY: &str = "default";

/// Why a policy change or lookup failed. Messages name the key.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown policy key {0:?} (see `passgrid policy show default` for the keys)")]
    UnknownKey(String),
    #[error("{key}: {reason}")]
    BadValue { key: String, reason: String },
    #[error("{0:?} is not key=value")]
    NotAnAssignment(String),
    #[error("a policy name is 1 to 64 characters: letters, digits and . _ - only")]
    BadName,
    #[error("no policy named {0:?}")]
    NoSuchPolicy(String),
    #[error("no group named {0:?}")]
    NoSuchGroup(String),
    #[error("group {group:?} already has policy {policy:?}; detach it first")]
    GroupTaken { group: String, policy: String },
    #[error("policy {policy:?} is not attached to group {group:?}")]
    NotAttached { policy: String, group: String },
    #[error("the default policy applies to everyone: it cannot be attached to a group or deleted")]
    DefaultIsImplicit,
    #[error("priority {0} is out of range (-1000000 to 1000000)")]
    BadPriority(i64),
    /// A stored policy that no longer reads (changed by hand, or a newer version's key).
    #[error("stored policy {0:?} is unreadable")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PolicyError {
    /// Whether the caller's input was at fault (400) rather than the server (500).
    pub fn is_input(&self) -> bool {
        !matches!(self, PolicyError::Corrupt(_) | PolicyError::Store(_))
    }
}

#[cfg(test)]
mod tests;
