//! Administrators' API tokens (SPEC §9.4) from the console: list (never a token),
//! make one for oneself (shown once), revoke. Administrators (role admin) only.
//! A token acts as its administrator, so making one in another administrator's name
//! would be acting as them: refused. (`passgrid admin token create ID` on the server
//! stays: that is the installation's owner.)

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, audit_admin, checked_id};
use crate::http::error::extract::JsonBody;
use crate::{accounts::create_admin_token, audit::Action, http::error::AppError, http::AppState};

pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let tokens = state.instance.store.admin_tokens().await?;
    Ok(Json(json!({ "tokens": tokens })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The administrator the token acts as: the caller (may be left out).
    admin: Option<String>,
    name: Option<String>,
    days: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<Response, AppError> {
    let b = body;
    if let Some(named) = &b.admin {
        checked_id(named)?;
        if named != &admin.id {
            audit_refusal(
                &state,
                &admin,
                named,
                "a token in another administrator's name: refused",
            )
            .await;
            return Err(AppError::Forbidden);
        }
    }
    let name = b.name.unwrap_or_else(|| "api".into());
    let now = state.instance.clock.now();
    let made = create_admin_token(
        &state.instance.store,
        &admin.id,
        &name,
        b.days.unwrap_or(90),
        now,
    )
    .await?;
    audit_admin(
        &state,
        &admin,
        Action::AdminTokenCreate,
        &made.admin_id,
        &format!("token {} ({name})", made.prefix),
    )
    .await;
    let res = (
        StatusCode::CREATED,
        Json(
            json!({ "token": made.token.as_str(), "prefix": made.prefix, "admin": made.admin_id,
                     "role": made.role, "expires_at": made.expires_at }),
        ),
    )
        .into_response();
    // The token is shown once.
    Ok(super::no_store(res))
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(prefix): Path<String>,
) -> Result<Response, AppError> {
    if prefix.len() > 16 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest("invalid_prefix"));
    }
    if !state.instance.store.revoke_admin_token(&prefix).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::AdminTokenRevoke, &prefix, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn audit_refusal(state: &AppState, admin: &Admin, target: &str, reason: &str) {
    crate::audit::record(
        &state.instance.store,
        crate::audit::AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action: Action::AdminTokenCreate,
            target,
            outcome: crate::audit::Outcome::Failure,
            reason,
        },
        state.instance.clock.now(),
    )
    .await;
}
