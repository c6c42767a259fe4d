//! Login protect (SPEC §1.10): a signed-in device opens a short window in which its
//! user may sign in elsewhere; outside one, logins for that user are refused before
//! any OTP is checked (see `login::refusal_for`).

use super::Authenticator;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    store::StoreError,
};

/// How long a window stays open.
pub const WINDOW_SECS: i64 = 60;

/// Opens the window of `user_id` for [`WINDOW_SECS`]; returns until when.
pub async fn open_window(
    authn: &Authenticator,
    user_id: &str,
    source: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let until = now + WINDOW_SECS;
    let result = authn
        .instance
        .store
        .open_login_window(user_id, until, now)
        .await;
    let (outcome, reason) = match &result {
        Ok(()) => (Outcome::Success, format!("open until {until}")),
        Err(_) => (Outcome::Failure, "database error".to_string()),
    };
    record(
        &authn.instance.store,
        AuditEvent {
            actor: user_id,
            source,
            action: Action::AuthLoginWindow,
            target: user_id,
            outcome,
            reason: &reason,
        },
        now,
    )
    .await;
    result.map(|()| until)
}
