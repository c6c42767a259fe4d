//! RADIUS clients (NAS devices) and reply attributes over the API (SPEC §9.4, §10.4):
//! the same checks as `passgrid radius …` (in `radius_clients`). Administrators
//! (role admin) only. A shared secret goes in once and never comes back out.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{access::Admin, audit_admin, no_store};
use crate::{
    audit::Action,
    http::{error::extract::JsonBody, error::AppError, AppState},
    radius_clients::{self, replies::set_group_replies, NewRadiusClient},
    sso::clients::AppRules,
};

/// GET /api/v1/admin/radius/clients
pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let clients = radius_clients::clients(&state.instance.store).await?;
    let replies = state.instance.store.radius_group_replies().await?;
    Ok(Json(json!({ "clients": clients, "group_replies": replies })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    name: String,
    address: String,
    /// Absent: RadSec only.
    #[serde(default)]
    secret: Option<Zeroizing<String>>,
    #[serde(default = "yes")]
    require_message_authenticator: bool,
    #[serde(default)]
    allowed_groups: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
}

fn yes() -> bool {
    true
}

/// POST /api/v1/admin/radius/clients: the secret is sealed at once.
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(b): JsonBody<NewClient>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let rules = AppRules {
        description: b.description,
        allowed_groups: b.allowed_groups,
        ..AppRules::default()
    };
    let view = radius_clients::add_client(
        &state.instance,
        &NewRadiusClient {
            name: &b.name,
            address: &b.address,
            secret: b.secret.as_deref().map(|s| s.as_bytes()),
            require_message_authenticator: b.require_message_authenticator,
            rules: &rules,
        },
        now,
    )
    .await?;
    audit_admin(&state, &admin, Action::RadiusClientCreate, &b.name, "").await;
    Ok((StatusCode::CREATED, Json(json!({ "client": view }))).into_response())
}

/// DELETE /api/v1/admin/radius/clients/{name}: its RadSec certificates are revoked.
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    radius_clients::remove_client(&state.instance, &name, now).await?;
    audit_admin(&state, &admin, Action::RadiusClientDelete, &name, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// A PKCS#10 request in PEM: the key stays on the NAS.
    csr: String,
    #[serde(default)]
    days: Option<i64>,
}

/// POST /api/v1/admin/radius/clients/{name}/certificate
pub async fn certificate(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<CertificateRequest>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let (serial, pem) = radius_clients::issue_certificate(
        &state.instance,
        &name,
        b.csr.as_bytes(),
        b.days.unwrap_or(365),
        now,
    )
    .await?;
    audit_admin(
        &state,
        &admin,
        Action::RadiusClientCert,
        &name,
        &format!("serial {serial}"),
    )
    .await;
    Ok(no_store(
        (
            StatusCode::CREATED,
            Json(json!({ "serial": serial, "certificate": pem.as_str() })),
        )
            .into_response(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replies {
    attributes: Vec<String>,
}

/// PUT /api/v1/admin/radius/replies/{group}
pub async fn set_replies(
    State(state): State<AppState>,
    admin: Admin,
    Path(group): Path<String>,
    JsonBody(b): JsonBody<Replies>,
) -> Result<Response, AppError> {
    let list = set_group_replies(&state.instance.store, &group, &b.attributes).await?;
    audit_admin(
        &state,
        &admin,
        Action::RadiusReplySet,
        &group,
        &list.join("; "),
    )
    .await;
    Ok(Json(json!({ "group": group, "attributes": list })).into_response())
}
