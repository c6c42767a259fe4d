//! Applications (with their OIDC client or SAML SP) and OpenID Connect clients over
//! the API (SPEC §9.4, §10.1): the same
//! checks as `passgrid oidc client …` and `passgrid app …` (in `sso::clients`).
//! Administrators (role admin) only.

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
    http::{error::extract::JsonBody, error::AppError, AppState},
    sso::clients::{self, AppRules, ClientSettings},
    store::oidc_clients::OidcClient,
};

fn client_json(c: &OidcClient) -> serde_json::Value {
    json!({
        "name": c.application, "client_id": c.client_id, "public": c.is_public(),
        "alg": c.id_token_alg, "redirect_uris": c.redirect_uris,
        "post_logout_uris": c.post_logout_uris, "backchannel_logout_uri": c.backchannel_logout_uri,
        "scopes": c.scopes, "access_token_secs": c.access_token_secs,
        "refresh_token_secs": c.refresh_token_secs,
    })
}

/// GET /api/v1/admin/applications: every application with its client, if any.
pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let apps = store.applications().await?;
    let clients = store.oidc_clients().await?;
    let sps = store.saml_sps().await?;
    let list: Vec<_> = apps
        .iter()
        .map(|a| {
            let client = clients
                .iter()
                .find(|c| c.application == a.name)
                .map(client_json);
            let sp = sps.iter().find(|s| s.application == a.name);
            json!({"application": a, "client": client, "sp": sp})
        })
        .collect();
    Ok(Json(json!({ "applications": list })).into_response())
}

/// GET /api/v1/admin/applications/{name}: rules, client and recent sign-ins.
pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let app = store.application(&name).await?.ok_or(AppError::NotFound)?;
    let client = store.oidc_client_of(&name).await?;
    let sp = store.saml_sp(&name).await?;
    let recent = crate::sso::recent_sign_ins(store, &name, 20).await?;
    Ok(Json(json!({
        "application": app, "client": client.as_ref().map(client_json), "sp": sp,
        "recent_sign_ins": recent,
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct NewApp {
    name: String,
    #[serde(flatten)]
    rules: AppRules,
}

/// POST /api/v1/admin/applications: a forward-auth application.
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(b): JsonBody<NewApp>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let app = clients::add_forward_app(&state.instance.store, &b.name, &b.rules, now).await?;
    audit_admin(&state, &admin, Action::AppCreate, &app.name, "forward_auth").await;
    Ok((StatusCode::CREATED, Json(json!({ "application": app }))).into_response())
}

/// PATCH /api/v1/admin/applications/{name}: rules of either kind.
pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(rules): JsonBody<AppRules>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let app = clients::update_app(&state.instance.store, &name, &rules, now).await?;
    audit_admin(&state, &admin, Action::AppUpdate, &name, "").await;
    Ok(Json(json!({ "application": app })).into_response())
}

/// DELETE /api/v1/admin/applications/{name} (an OIDC client goes with its application).
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    if !state.instance.store.delete_application(&name).await? {
        return Err(AppError::NotFound);
    }
    audit_admin(&state, &admin, Action::AppDelete, &name, "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct NewClient {
    name: String,
    #[serde(default)]
    public: bool,
    #[serde(flatten)]
    settings: ClientSettings,
    #[serde(default)]
    rules: AppRules,
}

/// POST /api/v1/admin/oidc-clients: the secret is in the answer, once.
pub async fn create_client(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(b): JsonBody<NewClient>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let made = clients::add_client(
        &state.instance.store,
        &b.name,
        b.public,
        &b.settings,
        &b.rules,
        now,
    )
    .await?;
    audit_admin(&state, &admin, Action::OidcClientCreate, &b.name, "").await;
    let mut v = client_json(&made.client);
    v["client_secret"] = json!(made.secret.as_ref().map(|s| s.as_str()));
    Ok(super::no_store(
        (StatusCode::CREATED, Json(v)).into_response(),
    ))
}

#[derive(Deserialize)]
pub struct ClientChange {
    #[serde(flatten)]
    settings: ClientSettings,
    #[serde(default)]
    rules: AppRules,
}

/// PATCH /api/v1/admin/oidc-clients/{name}
pub async fn update_client(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<ClientChange>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let c =
        clients::update_client(&state.instance.store, &name, &b.settings, &b.rules, now).await?;
    audit_admin(&state, &admin, Action::OidcClientUpdate, &c.application, "").await;
    Ok(Json(client_json(&c)).into_response())
}
