//! Login protect (SPEC §1.10): a signed-in device opens a short window in which its
//! user may sign in elsewhere; outside one, logins for that user are refused before
//! any OTP is checked (see `login::refusal_for`).

use crate::{
    accounts::audit,
    store::{audit::AuditEvent, StoreError},
    web::AppState,
};

/// How long a window stays open.
pub const WINDOW_SECS: i64 = 60;

/// Opens the window of `user_id` for [`WINDOW_SECS`]; returns until when.
pub async fn open_window(
    state: &AppState,
    user_id: &str,
    source: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let until = now + WINDOW_SECS;
    let result = state
        .instance
        .store
        .open_login_window(user_id, until, now)
        .await;
    let (outcome, reason) = match &result {
        Ok(()) => ("success", format!("open until {until}")),
        Err(_) => ("failure", "database error".to_string()),
    };
    audit(
        &state.instance.store,
        AuditEvent {
            actor: user_id,
            source,
            action: "auth.login_window",
            target: user_id,
            outcome,
            reason: &reason,
        },
        now,
    )
    .await;
    result.map(|()| until)
}
