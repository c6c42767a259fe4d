//! Groups for administrators: list with member counts, create, describe, delete.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, audit_admin};
use crate::{
    audit::Action,
    http::{
        error::{extract::JsonBody, AppError},
        AppState,
    },
};

pub async fn groups(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let groups = state.instance.store.groups().await?;
    Ok(Json(json!({ "groups": groups })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    name: String,
    #[serde(default)]
    description: String,
}

pub(super) async fn check_groups(state: &AppState, groups: &[String]) -> Result<(), AppError> {
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

pub async fn create_group(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewGroupBody>,
) -> Result<Response, AppError> {
    let b = body;
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
    JsonBody(body): JsonBody<GroupChange>,
) -> Result<Response, AppError> {
    let b = body;
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
