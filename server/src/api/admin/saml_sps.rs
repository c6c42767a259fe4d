//! SAML service providers and the IdP's signing key over the API (SPEC §9.4,
//! §10.4): the same checks as `passgrid saml …` (in `saml_idp`). Administrators (role
//! admin) only. An SP is removed with its application (DELETE /applications/{name}).

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
    saml_idp::{keys, presets, sps},
    sso::clients::AppRules,
    store::saml_sps::SamlSpRow,
};

/// The set-up steps of a preset SP, with passgrid's own facts filled in.
async fn setup_steps(state: &AppState, row: &SamlSpRow) -> Result<Option<String>, AppError> {
    if row.preset.is_none() {
        return Ok(None);
    }
    let k = state.saml.keys(&state.instance).await?;
    let (sso, slo) = (state.saml.sso_url(), state.saml.slo_url());
    let cert = k.active.certificate_base64();
    Ok(presets::setup_steps(
        row,
        &presets::IdpFacts {
            entity_id: &state.saml.entity_id,
            sso_url: &sso,
            slo_url: &slo,
            certificate_b64: &cert,
        },
    ))
}

/// GET /api/v1/admin/saml-sps
pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let list = state.instance.store.saml_sps().await?;
    Ok(Json(json!({
        "sps": list,
        "idp": {"entity_id": state.saml.entity_id, "metadata_url": format!("{}/saml/metadata", state.saml.entity_id)},
    }))
    .into_response())
}

/// GET /api/v1/admin/saml-sps/{name}: the SP, its rules, recent sign-ins, set-up steps.
pub async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let row = store.saml_sp(&name).await?.ok_or(AppError::NotFound)?;
    let app = store.application(&name).await?;
    let recent = crate::sso::recent_sign_ins(store, &name, 20).await?;
    let steps = setup_steps(&state, &row).await?;
    Ok(Json(json!({
        "sp": row, "application": app, "recent_sign_ins": recent, "setup_steps": steps,
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct NewSp {
    name: String,
    #[serde(flatten)]
    settings: sps::SpSettings,
    #[serde(default)]
    rules: AppRules,
}

/// POST /api/v1/admin/saml-sps
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(b): JsonBody<NewSp>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let row = sps::add_sp(
        &state.instance.store,
        &state.sso.backchannel,
        &b.name,
        &b.settings,
        &b.rules,
        now,
    )
    .await?;
    audit_admin(
        &state,
        &admin,
        Action::SamlSpCreate,
        &row.application,
        &row.entity_id,
    )
    .await;
    let steps = setup_steps(&state, &row).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"sp": row, "setup_steps": steps})),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct SpChange {
    #[serde(flatten)]
    settings: sps::SpSettings,
    #[serde(default)]
    rules: AppRules,
}

/// PATCH /api/v1/admin/saml-sps/{name}
pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<SpChange>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let row = sps::update_sp(
        &state.instance.store,
        &state.sso.backchannel,
        &name,
        &b.settings,
        &b.rules,
        now,
    )
    .await?;
    audit_admin(&state, &admin, Action::SamlSpUpdate, &name, "").await;
    Ok(Json(json!({ "sp": row })).into_response())
}

/// POST /api/v1/admin/saml-sps/{name}/refresh: the metadata again from its URL.
pub async fn refresh(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let row =
        sps::refresh_metadata(&state.instance.store, &state.sso.backchannel, &name, now).await?;
    audit_admin(
        &state,
        &admin,
        Action::SamlSpUpdate,
        &name,
        "metadata fetched again",
    )
    .await;
    Ok(Json(json!({ "sp": row })).into_response())
}

/// GET /api/v1/admin/saml-keys
pub async fn list_keys(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let list: Vec<_> = keys::describe_keys(&state.instance.store)
        .await?
        .into_iter()
        .map(|(kid, active, created, retired, fp)| {
            json!({"kid": kid, "signing": active, "created_at": created, "retired_at": retired,
                   "certificate_sha256": fp})
        })
        .collect();
    Ok(Json(json!({ "keys": list })).into_response())
}

/// POST /api/v1/admin/saml-keys/rotate
pub async fn rotate_key(State(state): State<AppState>, admin: Admin) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let kid = keys::rotate_key(&state.instance.store, &state.instance.master_key, now).await?;
    audit_admin(&state, &admin, Action::SamlRotateKey, "saml", &kid).await;
    state.saml.fresh_keys(&state.instance).await?;
    Ok(Json(json!({ "kid": kid })).into_response())
}

/// POST /api/v1/admin/saml-keys/drop-retired
pub async fn drop_retired(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, AppError> {
    let n = keys::drop_retired_keys(&state.instance.store).await?;
    audit_admin(&state, &admin, Action::SamlDropKeys, "saml", &n.to_string()).await;
    state.saml.fresh_keys(&state.instance).await?;
    Ok(Json(json!({ "dropped": n })).into_response())
}
