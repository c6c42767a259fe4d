//! TOTP tokens for administrators (SPEC §4, §9.1): the list, importing a vendor's seed
//! file, assigning a hardware token to a user, and resetting a user's token.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, audit_admin, checked_id, existing_user};
use crate::{
    audit::Action,
    http::error::{
        extract::{JsonBody, Params},
        AppError,
    },
    http::AppState,
    otp::tokens::{assign_token, import_token_file},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    user: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Params(query): Params<ListQuery>,
) -> Result<Response, AppError> {
    let q = query;
    if let Some(user) = &q.user {
        checked_id(user)?;
    }
    let tokens = state.instance.store.tokens(q.user.as_deref()).await?;
    Ok(Json(json!({ "tokens": tokens })).into_response())
}

/// The body is the vendor's file (CSV or PSKC); an encrypted PSKC file's pre-shared
/// key comes in `X-PSKC-Key` (hex), never in the address, which may be logged.
pub async fn import(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let key = headers
        .get("x-pskc-key")
        .map(|v| v.to_str().map_err(|_| AppError::BadRequest("invalid_key")))
        .transpose()?;
    let now = state.instance.clock.now();
    let serials = import_token_file(
        &state.instance.store,
        &state.instance.master_key,
        &body,
        key,
        now,
    )
    .await?;
    audit_admin(
        &state,
        &admin,
        Action::TokenImport,
        &format!("{} tokens", serials.len()),
        &serials.join(" "),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "imported": serials }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    user: String,
}

pub async fn assign(
    State(state): State<AppState>,
    admin: Admin,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Response, AppError> {
    checked_id(&body.user)?;
    // The account named in the body, like one named in a path: below the caller's role.
    if let Some(role) = super::access::account_role(&state, &body.user).await? {
        if !admin.role.may_act_on(role) {
            return Err(AppError::Forbidden);
        }
    }
    let now = state.instance.clock.now();
    assign_token(&state.instance.store, &serial, &body.user, now).await?;
    audit_admin(
        &state,
        &admin,
        Action::TokenAssign,
        &body.user,
        &format!("serial {serial}"),
    )
    .await;
    Ok(Json(json!({ "serial": serial, "user": body.user })).into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    existing_user(&state, &id).await?;
    let had = state.instance.store.reset_user_token(&id).await?;
    audit_admin(
        &state,
        &admin,
        Action::TokenReset,
        &id,
        if had {
            "token taken away"
        } else {
            "had no token"
        },
    )
    .await;
    Ok(Json(json!({ "id": id, "reset": had })).into_response())
}
