//! Server-side sessions (SPEC §5.3): created at a successful login, looked up on each
//! request, with idle and absolute lifetimes.

use zeroize::Zeroizing;

use super::AuthError;
use crate::{
    policy::AuthSettings,
    random::{is_token, new_token, token_hash},
    store::{sessions::SessionRow, Store},
};

/// Touch the idle timer at most this often, so reading pages does not write every time.
const TOUCH_EVERY_SECS: i64 = 60;

/// Creates a session and returns the cookie token.
/// `cert_fingerprint`: the client certificate of the connection that signed in; the
/// session then works on connections presenting that certificate only.
pub async fn create_session(
    store: &Store,
    settings: &AuthSettings,
    user_id: &str,
    cert_fingerprint: Option<&str>,
    now: i64,
) -> Result<Zeroizing<String>, AuthError> {
    let token = new_token()?;
    store
        .insert_session(SessionRow {
            id_hash: token_hash(&token),
            user_id: user_id.to_owned(),
            created_at: now,
            idle_expires_at: now + settings.session_idle_secs,
            absolute_expires_at: now + settings.session_absolute_secs,
            cert_fingerprint: cert_fingerprint.map(str::to_owned),
        })
        .await?;
    Ok(token)
}

/// A live session as a request sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub user_id: String,
    /// When its user last proved who they are (signed in).
    pub proved_at: i64,
}

/// How long a sign-in counts as a fresh proof, for changes that need one (a new
/// pattern, token, phrase or certificate).
pub const FRESH_PROOF_SECS: i64 = 10 * 60;

impl LiveSession {
    pub fn freshly_proved(&self, now: i64) -> bool {
        now - self.proved_at <= FRESH_PROOF_SECS
    }
}

/// The live session of `token` on a connection presenting `cert_fingerprint`,
/// refreshing its idle timer (by the idle lifetime the session was created with, from
/// its user's policy). A session made with a client certificate is no session on a
/// connection without that certificate.
pub async fn session_user(
    store: &Store,
    token: &str,
    cert_fingerprint: Option<&str>,
    now: i64,
) -> Result<Option<LiveSession>, AuthError> {
    if !is_token(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(session) = store.live_session(&hash, now).await? else {
        return Ok(None);
    };
    if session
        .cert_fingerprint
        .as_deref()
        .is_some_and(|bound| Some(bound) != cert_fingerprint)
    {
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_SECS {
        store.touch_session(&hash, now).await?;
    }
    Ok(Some(LiveSession {
        user_id: session.user_id,
        proved_at: session.proved_at,
    }))
}

pub async fn end_session(store: &Store, token: &str) -> Result<(), AuthError> {
    if is_token(token) {
        store.delete_session(&token_hash(token)).await?;
    }
    Ok(())
}

/// A step of the first sign-in a user has not finished; until they do, their session
/// serves that step only (no portal, no console, no admin API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
    /// Signed in with the initial pattern: register one's own.
    Pattern,
    /// The policy wants an additional phrase and none is set.
    Phrase,
    /// The policy wants a TOTP token and none is enrolled.
    Token,
}

impl Unfinished {
    /// The page that finishes it.
    pub fn page(self) -> &'static str {
        match self {
            Unfinished::Pattern => "/me/pattern",
            Unfinished::Phrase => "/me/phrase",
            Unfinished::Token => "/me/token",
        }
    }
}

/// What `user_id` must still do before their session serves anything else, in the
/// order the sign-in asks for it.
pub async fn unfinished_step(
    store: &Store,
    settings: &AuthSettings,
    user_id: &str,
) -> Result<Option<Unfinished>, AuthError> {
    if store.pattern(user_id).await?.is_some_and(|p| p.is_initial) {
        return Ok(Some(Unfinished::Pattern));
    }
    if settings.phrase.mode != crate::otp::phrase::PhraseMode::Off
        && store.user_phrase(user_id).await?.is_none()
    {
        return Ok(Some(Unfinished::Phrase));
    }
    if settings.method != crate::policy::LoginMethod::Grid
        && store.user_token(user_id).await?.is_none()
    {
        return Ok(Some(Unfinished::Token));
    }
    Ok(None)
}
