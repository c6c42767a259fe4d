//! Policies for administrators (SPEC §7, §9.4): list, show, set, delete, attach to and
//! detach from groups, and a user's effective policy. The rules live in `crate::policy`.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::Admin;
use crate::{
    http::error::{extract::JsonBody, AppError},
    http::AppState,
    policy::{self, Actor, PolicyError},
};

fn actor(admin: &Admin) -> Actor<'_> {
    Actor {
        id: &admin.id,
        source: &admin.source,
    }
}

/// A name from the path: a policy name is plain, so anything else is not one.
fn checked_name(name: &str) -> Result<(), AppError> {
    policy::check_name(name).map_err(AppError::from)
}

pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let list = policy::list_policies(&state.instance.store).await?;
    Ok(Json(json!({ "policies": list })).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    checked_name(&name)?;
    let view = policy::show_policy(&state.instance.store, &state.auth, &name).await?;
    Ok(Json(json!(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    /// key -> value (a string, number or boolean), or null to unset.
    settings: serde_json::Map<String, Value>,
}

pub async fn set(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<SetBody>,
) -> Result<Response, AppError> {
    checked_name(&name)?;
    let changes = body
        .settings
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Null => None,
                Value::String(s) => Some(s),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => {
                    return Err(PolicyError::BadValue {
                        key,
                        reason: "give a string, number, boolean or null".into(),
                    })
                }
            };
            Ok((key, value))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = state.instance.clock.now();
    let saved = policy::set_policy(
        &state.instance.store,
        &state.auth,
        &name,
        &changes,
        &actor(&admin),
        now,
    )
    .await?;
    Ok(Json(json!({ "name": name, "settings": saved.to_map() })).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    checked_name(&name)?;
    let now = state.instance.clock.now();
    if !policy::delete_policy(&state.instance.store, &name, &actor(&admin), now).await? {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({ "name": name, "deleted": true })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachBody {
    priority: i64,
}

pub async fn attach(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, group)): Path<(String, String)>,
    JsonBody(body): JsonBody<AttachBody>,
) -> Result<Response, AppError> {
    checked_name(&name)?;
    crate::accounts::check_group_name(&group).map_err(|_| AppError::BadRequest("invalid_group"))?;
    let now = state.instance.clock.now();
    policy::attach_policy(
        &state.instance.store,
        &name,
        &group,
        body.priority,
        &actor(&admin),
        now,
    )
    .await?;
    Ok(Json(json!({ "name": name, "group": group, "priority": body.priority })).into_response())
}

pub async fn detach(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, group)): Path<(String, String)>,
) -> Result<Response, AppError> {
    checked_name(&name)?;
    crate::accounts::check_group_name(&group).map_err(|_| AppError::BadRequest("invalid_group"))?;
    let now = state.instance.clock.now();
    match policy::detach_policy(&state.instance.store, &name, &group, &actor(&admin), now).await {
        Ok(()) => {}
        Err(PolicyError::NotAttached { .. }) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    }
    Ok(Json(json!({ "name": name, "group": group, "detached": true })).into_response())
}

/// The policy that applies to a user, why, and every setting it gives.
pub async fn for_user(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    super::existing_user(&state, &id).await?;
    let store = &state.instance.store;
    let effective = policy::effective_policy_for(store, &state.auth, &id).await?;
    Ok(Json(json!({
        "user": id,
        "policy": effective.name,
        "reason": effective.reason(),
        "group": effective.via,
        "settings": policy::settings_map(&effective.settings),
    }))
    .into_response())
}
