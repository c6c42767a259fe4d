//! Users for administrators: list, show, unlock, new initial pattern, delete.

use app::pattern::text_form;
use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, permission_of};
use crate::{
    accounts::{audit, check_user_id},
    auth::lockout::{lock_state, unlock as lift_lock, LockState},
    error::AppError,
    otp::patterns::{generate_initial_pattern, store_pattern},
    store::{audit::AuditEvent, user_list::UserFilter},
    web::AppState,
};

const MAX_PAGE: i64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

fn bad_query(rejection: QueryRejection) -> AppError {
    AppError::InvalidRequest(rejection.body_text())
}

fn checked_id(id: &str) -> Result<(), AppError> {
    check_user_id(id).map_err(|_| AppError::BadRequest("invalid_user_id"))
}

async fn audit_admin(state: &AppState, admin: &Admin, action: &str, target: &str, reason: &str) {
    audit(
        &state.instance.store,
        AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action,
            target,
            outcome: "success",
            reason,
        },
        state.instance.clock.now(),
    )
    .await;
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    admin.require(permission_of("get", "/api/v1/admin/users"))?;
    let Query(q) = query.map_err(bad_query)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest("invalid_limit"));
    }
    if q.status
        .as_deref()
        .is_some_and(|s| !matches!(s, "active" | "disabled"))
    {
        return Err(AppError::BadRequest("invalid_status"));
    }
    if q.q.as_deref().is_some_and(|s| s.len() > 128) {
        return Err(AppError::BadRequest("invalid_search"));
    }
    let users = state
        .instance
        .store
        .list_users(&UserFilter {
            q: q.q,
            group: q.group,
            status: q.status,
            source: q.source,
            after: q.after,
            limit,
        })
        .await?;
    let next = (users.len() as i64 == limit)
        .then(|| users.last().map(|u| u.id.clone()))
        .flatten();
    Ok(Json(json!({ "users": users, "next": next })).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    admin.require(permission_of("get", "/api/v1/admin/users/{id}"))?;
    checked_id(&id)?;
    let store = &state.instance.store;
    let user = store.user(&id).await?.ok_or(AppError::NotFound)?;
    let now = state.instance.clock.now();
    let lock = match lock_state(store, &id, now).await? {
        LockState::Locked { until } => json!({ "locked": true, "until": until }),
        LockState::Open { .. } => json!({ "locked": false }),
    };
    let groups = store.user_groups(&id).await?;
    let token = store
        .user_token(&id)
        .await?
        .map(|t| json!({ "serial": t.serial, "kind": t.kind }));
    let certificates = store.client_certificates(Some(&id)).await?.len();
    let initial = store.pattern(&id).await?.map(|p| p.is_initial);
    Ok(Json(json!({
        "user": user,
        "groups": groups,
        "lockout": lock,
        "token": token,
        "certificates": certificates,
        "initial_pattern": initial,
    }))
    .into_response())
}

pub async fn unlock(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    admin.require(permission_of("post", "/api/v1/admin/users/{id}/unlock"))?;
    checked_id(&id)?;
    let store = &state.instance.store;
    store.user(&id).await?.ok_or(AppError::NotFound)?;
    let now = state.instance.clock.now();
    let was_locked = matches!(lock_state(store, &id, now).await?, LockState::Locked { .. });
    lift_lock(store, &id, &admin.id, &admin.source, now).await?;
    Ok(Json(json!({ "id": id, "unlocked": was_locked })).into_response())
}

pub async fn new_initial_pattern(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    admin.require(permission_of(
        "post",
        "/api/v1/admin/users/{id}/initial-pattern",
    ))?;
    checked_id(&id)?;
    let store = &state.instance.store;
    store.user(&id).await?.ok_or(AppError::NotFound)?;
    let now = state.instance.clock.now();
    let cells = generate_initial_pattern(state.auth.shape, &state.auth.rules)?;
    store_pattern(
        store,
        &state.instance.master_key,
        &id,
        &cells,
        &state.auth,
        true,
        now,
    )
    .await?;
    audit_admin(
        &state,
        &admin,
        "user.initial_pattern",
        &id,
        "new initial pattern handed out",
    )
    .await;
    let mut res = Json(json!({
        "id": id,
        "initial_pattern": {
            "cells": cells.to_vec(),
            "text": text_form(&cells, state.auth.shape),
            "rows": state.auth.shape.rows(),
            "cols": state.auth.shape.cols(),
        },
    }))
    .into_response();
    // A secret for one reader: never cached on the way.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    admin.require(permission_of("delete", "/api/v1/admin/users/{id}"))?;
    checked_id(&id)?;
    if id == admin.id {
        return Err(AppError::BadRequest("cannot_delete_self"));
    }
    if !state.instance.store.delete_user(&id).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, "user.delete", &id, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn groups(State(state): State<AppState>, admin: Admin) -> Result<Response, AppError> {
    admin.require(permission_of("get", "/api/v1/admin/groups"))?;
    let groups = state.instance.store.groups().await?;
    Ok(Json(json!({ "groups": groups })).into_response())
}
