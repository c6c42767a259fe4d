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

use super::access::Admin;
use crate::{
    accounts::check_user_id,
    audit::{record, Action, AuditEvent, Outcome},
    auth::lockout::{lock_state, unlock as lift_lock, LockState},
    http::{error::AppError, AppState},
    otp::patterns::{generate_initial_pattern, store_pattern},
    store::user_list::UserFilter,
};

const MAX_PAGE: i64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    cert: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

fn bad_query(rejection: QueryRejection) -> AppError {
    AppError::InvalidRequest(rejection.body_text())
}

/// The user list's filters that take fixed values (list, export, bulk jobs).
pub(super) fn check_filter(status: Option<&str>, cert: Option<&str>) -> Result<(), AppError> {
    if status.is_some_and(|s| !matches!(s, "active" | "disabled")) {
        return Err(AppError::BadRequest("invalid_status"));
    }
    if cert.is_some_and(|s| !matches!(s, "valid" | "none")) {
        return Err(AppError::BadRequest("invalid_cert_filter"));
    }
    Ok(())
}

/// The user an address names: a well-formed ID (400 otherwise) of a stored user (404).
pub(super) async fn existing_user(
    state: &AppState,
    id: &str,
) -> Result<crate::store::users::User, AppError> {
    checked_id(id)?;
    state
        .instance
        .store
        .user(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Makes and stores a new initial pattern for `id` under the rules of the user's
/// policy (after the memberships are stored); the answer's `initial_pattern`, shown
/// once.
async fn hand_out_initial_pattern(
    state: &AppState,
    id: &str,
    now: i64,
) -> Result<serde_json::Value, AppError> {
    let settings = state.settings_for(id).await?;
    let cells = generate_initial_pattern(settings.shape, &settings.rules)?;
    store_pattern(
        &state.instance.store,
        &state.instance.master_key,
        id,
        &cells,
        settings.pattern_policy(),
        true,
        now,
    )
    .await?;
    Ok(json!({
        "cells": cells.to_vec(),
        "text": text_form(&cells, settings.shape),
        "rows": settings.shape.rows(),
        "cols": settings.shape.cols(),
    }))
}

pub(super) fn checked_id(id: &str) -> Result<(), AppError> {
    check_user_id(id).map_err(|_| AppError::BadRequest("invalid_user_id"))
}

pub(super) async fn audit_admin(
    state: &AppState,
    admin: &Admin,
    action: Action,
    target: &str,
    reason: &str,
) {
    record(
        &state.instance.store,
        AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action,
            target,
            outcome: Outcome::Success,
            reason,
        },
        state.instance.clock.now(),
    )
    .await;
}

pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(bad_query)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest("invalid_limit"));
    }
    check_filter(q.status.as_deref(), q.cert.as_deref())?;
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
            cert: q.cert,
            now: state.instance.clock.now(),
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
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = existing_user(&state, &id).await?;
    let store = &state.instance.store;
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
    let certificates: Vec<_> = store
        .client_certificates(Some(&id))
        .await?
        .into_iter()
        .map(|c| {
            let state = if c.revoked_at.is_some() {
                "revoked"
            } else if c.not_after <= now {
                "expired"
            } else {
                "valid"
            };
            json!({ "serial": c.serial, "state": state, "not_before": c.not_before,
                    "not_after": c.not_after, "revoked_at": c.revoked_at,
                    "fingerprint_sha256": c.fingerprint_sha256 })
        })
        .collect();
    let initial = store.pattern(&id).await?.map(|p| p.is_initial);
    let policy = crate::policy::effective_policy_for(store, &state.auth, &id).await?;
    Ok(Json(json!({
        "policy": { "name": policy.name, "reason": policy.reason() },
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
    existing_user(&state, &id).await?;
    let store = &state.instance.store;
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
    existing_user(&state, &id).await?;
    let now = state.instance.clock.now();
    let pattern = hand_out_initial_pattern(&state, &id, now).await?;
    audit_admin(
        &state,
        &admin,
        Action::UserInitialPattern,
        &id,
        "new initial pattern handed out",
    )
    .await;
    let res = Json(json!({ "id": id, "initial_pattern": pattern })).into_response();
    Ok(super::no_store(res))
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    checked_id(&id)?;
    if id == admin.id {
        return Err(AppError::BadRequest("cannot_delete_self"));
    }
    if !state.instance.store.delete_user(&id).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::UserDelete, &id, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn groups(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let groups = state.instance.store.groups().await?;
    Ok(Json(json!({ "groups": groups })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    id: String,
    #[serde(default)]
    name: String,
    email: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// `Some(None)` for an explicit `null` (clear), `None` when the field is absent.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchUserBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    status: Option<String>,
    groups: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    name: String,
    #[serde(default)]
    description: String,
}

pub(super) fn bad_json(rejection: axum::extract::rejection::JsonRejection) -> AppError {
    AppError::InvalidRequest(rejection.body_text())
}

async fn check_groups(state: &AppState, groups: &[String]) -> Result<(), AppError> {
    for g in groups {
        crate::accounts::check_group_name(g).map_err(|_| AppError::BadRequest("invalid_group"))?;
    }
    if !state
        .instance
        .store
        .missing_groups(groups)
        .await?
        .is_empty()
    {
        return Err(AppError::BadRequest("unknown_group"));
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: Result<Json<NewUserBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Json(b) = body.map_err(bad_json)?;
    let user = crate::accounts::checked_new_user(&b.id, &b.name, b.email.as_deref(), None, "local")
        .map_err(|e| AppError::BadRequest(e.code()))?;
    check_groups(&state, &b.groups).await?;
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    match store.create_user_in_groups(&user, &b.groups, now).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => {
            return Err(AppError::BadRequest("already_exists"))
        }
        Err(e) => return Err(e.into()),
    }
    // After the memberships are stored: the groups' policy sets the pattern rules.
    let pattern = hand_out_initial_pattern(&state, &b.id, now).await?;
    audit_admin(&state, &admin, Action::UserCreate, &b.id, "").await;
    let res = (
        StatusCode::CREATED,
        Json(json!({ "id": b.id, "initial_pattern": pattern })),
    )
        .into_response();
    Ok(super::no_store(res))
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Json<PatchUserBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    checked_id(&id)?;
    let Json(b) = body.map_err(bad_json)?;
    if let Some(name) = &b.name {
        crate::accounts::check_display_name(name).map_err(|e| AppError::BadRequest(e.code()))?;
    }
    if let Some(Some(email)) = &b.email {
        crate::accounts::check_email(email).map_err(|e| AppError::BadRequest(e.code()))?;
    }
    if b.status
        .as_deref()
        .is_some_and(|s| !matches!(s, "active" | "disabled"))
    {
        return Err(AppError::BadRequest("invalid_status"));
    }
    if let Some(groups) = &b.groups {
        check_groups(&state, groups).await?;
    }
    existing_user(&state, &id).await?;
    let store = &state.instance.store;
    let changed: Vec<&str> = [
        b.name.as_ref().map(|_| "name"),
        b.email.as_ref().map(|_| "email"),
        b.status.as_ref().map(|_| "status"),
        b.groups.as_ref().map(|_| "groups"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let now = state.instance.clock.now();
    store
        .update_user(
            &crate::store::user_import::UserUpdate {
                id: id.clone(),
                display_name: b.name,
                email: b.email,
                status: b.status,
                groups: b.groups,
            },
            now,
        )
        .await?;
    audit_admin(&state, &admin, Action::UserUpdate, &id, &changed.join(", ")).await;
    show(State(state), admin, Path(id)).await
}

pub async fn create_group(
    State(state): State<AppState>,
    admin: Admin,
    body: Result<Json<NewGroupBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Json(b) = body.map_err(bad_json)?;
    crate::accounts::check_group_name(&b.name)
        .map_err(|_| AppError::BadRequest("invalid_group"))?;
    check_description(&b.description)?;
    let now = state.instance.clock.now();
    match state
        .instance
        .store
        .create_group(&b.name, &b.description, now)
        .await
    {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict) => {
            return Err(AppError::BadRequest("already_exists"))
        }
        Err(e) => return Err(e.into()),
    }
    audit_admin(&state, &admin, Action::GroupCreate, &b.name, "").await;
    Ok((StatusCode::CREATED, Json(json!({ "name": b.name }))).into_response())
}

fn check_description(description: &str) -> Result<(), AppError> {
    if description.chars().count() > 256 || description.chars().any(char::is_control) {
        return Err(AppError::BadRequest("invalid_description"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupChange {
    description: String,
}

pub async fn update_group(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    body: Result<Json<GroupChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let Json(b) = body.map_err(bad_json)?;
    check_description(&b.description)?;
    if !state
        .instance
        .store
        .set_group_description(&name, &b.description)
        .await?
    {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::GroupUpdate, &name, &b.description).await;
    Ok(Json(json!({ "name": name, "description": b.description })).into_response())
}

/// Deletes a group: its members stay, they lose the membership (and the group's
/// policy, if it had one).
pub async fn delete_group(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    if !state.instance.store.delete_group(&name).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::GroupDelete, &name, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    encoding: Option<String>,
}

/// CSV import (SPEC §8.1) with the rules of `passgrid user import`: the body is the
/// file; one bad row imports nothing and the answer names its line.
pub async fn import(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(bad_query)?;
    let encoding: crate::user_csv::CsvEncoding =
        q.encoding
            .as_deref()
            .unwrap_or("utf-8")
            .parse()
            .map_err(|_| AppError::BadRequest("invalid_encoding"))?;
    let now = state.instance.clock.now();
    let rows = match crate::user_csv::parse_users_csv(&body, encoding) {
        Ok(rows) => rows,
        Err(e) => {
            let reason = format!("{e}; nothing imported");
            if !q.dry_run {
                refused_import(&state, &admin, &reason).await;
            }
            return Err(AppError::InvalidRequest(reason));
        }
    };
    let report = crate::user_import::import_users(
        &state.instance.store,
        &state.instance.master_key,
        &state.auth,
        &rows,
        &crate::user_import::ImportScope {
            source: "csv",
            whole: None,
            dry_run: q.dry_run,
            now,
        },
    )
    .await;
    let report = match report {
        Ok(report) => report,
        Err(crate::user_import::ImportError::Store(s)) => return Err(AppError::Store(s)),
        Err(crate::user_import::ImportError::Otp(o)) => return Err(AppError::Otp(o)),
        Err(other) => {
            let reason = format!("{other}; nothing imported");
            if !q.dry_run {
                refused_import(&state, &admin, &reason).await;
            }
            return Err(AppError::InvalidRequest(reason));
        }
    };
    if !q.dry_run {
        audit_admin(
            &state,
            &admin,
            Action::UserImport,
            "csv",
            &format!(
                "{} added, {} changed, {} unchanged",
                report.adds.len(),
                report.changes.len(),
                report.unchanged
            ),
        )
        .await;
    }
    Ok(Json(json!({ "report": report })).into_response())
}

/// A refused import is an administrator's action too: audited with its reason.
async fn refused_import(state: &AppState, admin: &Admin, reason: &str) {
    record(
        &state.instance.store,
        AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action: Action::UserImport,
            target: "csv",
            outcome: Outcome::Failure,
            reason,
        },
        state.instance.clock.now(),
    )
    .await;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    cert: Option<String>,
}

/// CSV export (SPEC §8.1) of the users the list's filters select, in the form the
/// import reads back.
pub async fn export(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(bad_query)?;
    check_filter(q.status.as_deref(), q.cert.as_deref())?;
    let store = &state.instance.store;
    let users = store
        .all_users_matching(
            &UserFilter {
                q: q.q,
                group: q.group,
                status: q.status,
                source: q.source,
                cert: q.cert,
                now: state.instance.clock.now(),
                after: None,
                limit: MAX_PAGE,
            },
            usize::MAX,
        )
        .await?;
    let groups = store.groups_by_user().await?;
    let empty = Vec::new();
    let rows = users.iter().map(|u| crate::user_csv::ExportRow {
        id: &u.id,
        display_name: &u.display_name,
        email: u.email.as_deref(),
        groups: groups.get(&u.id).unwrap_or(&empty),
        status: &u.status,
        source: &u.source,
    });
    let mut out = Vec::new();
    crate::user_csv::write_users_csv(rows, &mut out)
        .map_err(|e| AppError::InvalidRequest(format!("export: {e}")))?;
    audit_admin(
        &state,
        &admin,
        Action::UserExport,
        "csv",
        &format!("{} users", users.len()),
    )
    .await;
    let mut res = out.into_response();
    let headers = res.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"passgrid-users.csv\""),
    );
    Ok(res)
}
