//! The first administrator: a one-time link printed at first start, the form behind
//! it, and the page after it that shows the administrator's initial pattern once with
//! how to sign in. Only the SHA-256 of a link's token is stored.

use axum::{
    extract::{ConnectInfo, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use std::net::SocketAddr;
use zeroize::Zeroizing;

use crate::{
    accounts::checked_new_user,
    audit::{record, Action, AuditEvent, Outcome},
    http::{error::AppError, AppState},
    otp::patterns::{new_initial_pattern, open_pattern, INITIAL_PATTERN_DAYS},
    random::{is_token, new_token, token_hash},
    store::{setup_tokens::SetupOutcome, Store, StoreError},
};

/// How long a printed set-up link works.
const SETUP_LINK_LIFETIME_SECS: i64 = 24 * 3600;
/// How long after the administrator was made its initial pattern may be shown (once).
const REVEAL_SECS: i64 = 10 * 60;

/// When no administrator exists, makes a fresh one-time token (replacing any earlier
/// one) and returns it; `None` once an administrator exists.
pub async fn issue_setup_token(
    store: &Store,
    now: i64,
) -> Result<Option<Zeroizing<String>>, StoreError> {
    if store.count_admins().await? > 0 {
        return Ok(None);
    }
    let token = new_token().map_err(|_| {
        StoreError::Database(sqlx::Error::Protocol("OS random generator failed".into()))
    })?;
    store
        .replace_setup_token(&token_hash(&token), now + SETUP_LINK_LIFETIME_SECS, now)
        .await?;
    Ok(Some(token))
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

/// `POST /setup`: consumes the token and creates the administrator with an initial
/// pattern, then shows that pattern once (`/setup/done`); or goes back to the form
/// with an error code.
pub async fn create_first_admin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    let source = peer.ip().to_string();
    // A token as printed; anything else is refused before it reaches the database or
    // a redirect URL.
    if !is_token(&form.token) {
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
    // The pattern follows the policy the administrator will have (the default one: a
    // new administrator is in no group yet).
    let settings = state.settings_for(user_id).await?;
    let (_, pattern) = new_initial_pattern(
        &state.instance.master_key,
        user_id,
        settings.shape,
        &settings.rules,
        now,
    )?;
    let outcome = store
        .create_first_admin(&token_hash(&form.token), &admin, &pattern, now)
        .await?;
    let (result, reason, response) = match outcome {
        SetupOutcome::Created => (
            Outcome::Success,
            "with an initial pattern",
            no_referrer(Redirect::to(&format!("/setup/done?t={}", form.token)).into_response()),
        ),
        SetupOutcome::InvalidToken => (
            Outcome::Failure,
            "invalid or used set-up token",
            back_to_form(&form.token, "invalid_token"),
        ),
        SetupOutcome::AdminExists => (
            Outcome::Failure,
            "an administrator exists already: set-up link retired",
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

/// What the set-up pages show: whether the link of `/setup/TOKEN` still works, and on
/// `/setup/done?t=TOKEN` the new administrator's initial pattern — once, within
/// minutes of its making — with what signing in will ask for.
pub async fn page_context(
    state: &AppState,
    path: &str,
    query_token: Option<&str>,
    extensions: &mut axum::http::Extensions,
) -> Result<(), AppError> {
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    if path == "/setup/done" {
        let Some(token) = query_token else {
            return Ok(());
        };
        let Some(user_id) = store
            .reveal_first_admin(&token_hash(token), now, REVEAL_SECS)
            .await?
        else {
            return Ok(());
        };
        let Some(pattern) = store.pattern(&user_id).await?.filter(|p| p.is_initial) else {
            return Ok(());
        };
        let cells = open_pattern(&state.instance.master_key, &user_id, &pattern.sealed)?;
        let settings = state.settings_for(&user_id).await?;
        extensions.insert(app::context::SetupDone {
            user_id,
            cells: cells.to_vec(),
            blocks_across: settings.shape.blocks_across,
            blocks_down: settings.shape.blocks_down,
            certificate: settings.first_sign_in_certificate().to_string(),
            valid_days: INITIAL_PATTERN_DAYS,
        });
    } else if let Some(token) = path.strip_prefix("/setup/") {
        let valid = is_token(token) && store.setup_token_usable(&token_hash(token), now).await?;
        extensions.insert(app::context::SetupLink { valid });
    }
    Ok(())
}

fn no_referrer(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

fn back_to_form(token: &str, error: &str) -> Response {
    no_referrer(Redirect::to(&format!("/setup/{token}?error={error}")).into_response())
}
