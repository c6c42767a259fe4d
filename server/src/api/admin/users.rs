//! Users for administrators: list, show, create, change, unlock, new initial
//! pattern, delete.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{
    access::Admin, audit_admin, check_filter, checked_id, existing_user, groups::check_groups,
    hand_out_initial_pattern,
};
use crate::{
    audit::Action,
    auth::lockout::{lock_state, unlock as lift_lock, LockState},
    http::{
        error::{
            extract::{JsonBody, Params},
            AppError,
        },
        AppState,
    },
    store::user_list::UserFilter,
};

pub(super) const MAX_PAGE: i64 = 500;

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

pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    Params(query): Params<ListQuery>,
) -> Result<Response, AppError> {
    let q = query;
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
    keeps_a_way_in(&state, &admin, &id).await?;
    if !state.instance.store.delete_user(&id).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::UserDelete, &id, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
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
    /// Adopt the account into a source (`csv`, `ldap:NAME`, …) or back to `local`:
    /// administrators only.
    source: Option<String>,
}

/// Refuses what would leave nobody to administer: the last active `admin` disabled or
/// deleted, or an administrator switching off their own account.
async fn keeps_a_way_in(state: &AppState, admin: &Admin, target: &str) -> Result<(), AppError> {
    if target == admin.id {
        return Err(AppError::BadRequest("own_account"));
    }
    let user = state.instance.store.user(target).await?;
    let is_active_admin = user
        .as_ref()
        .is_some_and(|u| u.admin_role.as_deref() == Some("admin") && u.status == "active");
    if is_active_admin && state.instance.store.active_admin_count().await? <= 1 {
        return Err(AppError::BadRequest("last_administrator"));
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<Response, AppError> {
    let b = body;
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
    JsonBody(body): JsonBody<PatchUserBody>,
) -> Result<Response, AppError> {
    checked_id(&id)?;
    let b = body;
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
    if b.status.as_deref() == Some("disabled") {
        keeps_a_way_in(&state, &admin, &id).await?;
    }
    if let Some(source) = &b.source {
        if admin.role != crate::accounts::Role::Admin {
            return Err(AppError::Forbidden);
        }
        if !crate::accounts::is_source_name(source) {
            return Err(AppError::BadRequest("invalid_source"));
        }
    }
    existing_user(&state, &id).await?;
    let store = &state.instance.store;
    let changed: Vec<&str> = [
        b.name.as_ref().map(|_| "name"),
        b.email.as_ref().map(|_| "email"),
        b.status.as_ref().map(|_| "status"),
        b.groups.as_ref().map(|_| "groups"),
        b.source.as_ref().map(|_| "source"),
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
                source: b.source,
            },
            now,
        )
        .await?;
    audit_admin(&state, &admin, Action::UserUpdate, &id, &changed.join(", ")).await;
    show(State(state), admin, Path(id)).await
}
