//! The first administrator: a one-time link printed at first start, and the form
//! behind it. Only the SHA-256 of a link's token is stored.

use axum::{
    extract::{ConnectInfo, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, TryRngCore};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use zeroize::Zeroizing;

use crate::{
    accounts::checked_new_user,
    audit::{record, Action, AuditEvent, Outcome},
    http::{error::AppError, AppState},
    store::{setup_tokens::SetupOutcome, Store, StoreError},
};

/// How long a printed set-up link works.
const SETUP_LINK_LIFETIME_SECS: i64 = 24 * 3600;

/// When no administrator exists, makes a fresh one-time token (replacing any earlier
/// one) and returns it; `None` once an administrator exists.
pub async fn issue_setup_token(
    store: &Store,
    now: i64,
) -> Result<Option<Zeroizing<String>>, StoreError> {
    if store.count_admins().await? > 0 {
        return Ok(None);
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    if OsRng.try_fill_bytes(bytes.as_mut_slice()).is_err() {
        return Err(StoreError::Database(sqlx::Error::Protocol(
            "OS random generator failed".into(),
        )));
    }
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_slice()));
    store
        .replace_setup_token(&token_hash(&token), now + SETUP_LINK_LIFETIME_SECS, now)
        .await?;
    Ok(Some(token))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A token as printed is 43 base64url characters; anything else is refused before
/// it reaches the database or a redirect URL.
fn token_is_well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    user_id: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
}

/// `POST /setup`: consumes the token and creates the administrator, or goes back to
/// the form with an error code.
pub async fn create_first_admin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    let source = peer.ip().to_string();
    if !token_is_well_formed(&form.token) {
        return Ok(back_to_form("invalid", "invalid_token"));
    }
    let user_id = form.user_id.trim();
    let admin = match checked_new_user(
        user_id,
        &form.display_name,
        Some(&form.email),
        Some("admin"),
        "local",
    ) {
        Ok(admin) => admin,
        Err(err) => return Ok(back_to_form(&form.token, err.code())),
    };
    let outcome = store
        .create_first_admin(&token_hash(&form.token), &admin, now)
        .await?;
    let (result, reason, response) = match outcome {
        SetupOutcome::Created => (
            Outcome::Success,
            "",
            Redirect::to("/setup/done").into_response(),
        ),
        SetupOutcome::InvalidToken => (
            Outcome::Failure,
            "invalid or used set-up token",
            back_to_form(&form.token, "invalid_token"),
        ),
        SetupOutcome::UserExists => (
            Outcome::Failure,
            "user exists",
            back_to_form(&form.token, "already_exists"),
        ),
    };
    record(
        store,
        AuditEvent {
            actor: "setup-link",
            source: &source,
            action: Action::AdminCreateFirst,
            target: user_id,
            outcome: result,
            reason,
        },
        now,
    )
    .await;
    Ok(response)
}

fn back_to_form(token: &str, error: &str) -> Response {
    let mut res = Redirect::to(&format!("/setup/{token}?error={error}")).into_response();
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_shape() {
        assert!(super::token_is_well_formed(&"a".repeat(43)));
        assert!(!super::token_is_well_formed(&"a".repeat(42)));
        assert!(!super::token_is_well_formed(&format!(
            "{}\r",
            "a".repeat(42)
        )));
    }
}
