//! Server-side sessions (SPEC §5.3): created at a successful login, looked up on each
//! request, with idle and absolute lifetimes.

use zeroize::Zeroizing;

use super::AuthError;
use crate::{
    policy::AuthSettings,
    random::{is_token, new_token, token_hash},
    store::Store,
};

/// Touch the idle timer at most this often, so reading pages does not write every time.
const TOUCH_EVERY_SECS: i64 = 60;

/// Creates a session and returns the cookie token.
pub async fn create_session(
    store: &Store,
    settings: &AuthSettings,
    user_id: &str,
    now: i64,
) -> Result<Zeroizing<String>, AuthError> {
    let token = new_token()?;
    store
        .insert_session(
            &token_hash(&token),
            user_id,
            settings.session_idle_secs,
            settings.session_absolute_secs,
            now,
        )
        .await?;
    Ok(token)
}

/// The user of a live session, refreshing its idle timer (by the idle lifetime the
/// session was created with, from its user's policy).
pub async fn session_user(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<String>, AuthError> {
    if !is_token(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(session) = store.live_session(&hash, now).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY_SECS {
        store.touch_session(&hash, now).await?;
    }
    Ok(Some(session.user_id))
}

pub async fn end_session(store: &Store, token: &str) -> Result<(), AuthError> {
    if is_token(token) {
        store.delete_session(&token_hash(token)).await?;
    }
    Ok(())
}
