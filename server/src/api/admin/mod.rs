//! The administrators' REST API (SPEC §9.4), under `/api/v1/admin/…`, for bearer
//! tokens of administrators (`passgrid admin token create`) and the console's
//! sessions. Every route is declared once in `route_table::ROUTES` with the permission
//! it needs; the route layer (`access::enforce_route_permission`) checks it before any
//! handler runs — a route missing from the table is refused — and the OpenAPI
//! document at `/api/openapi.json` is generated from the same table.

pub mod access;
pub mod api_tokens;
pub mod applications;
pub mod audit_log;
pub mod certificates;
pub mod dashboard;
pub mod groups;
pub mod openapi;
pub mod policies;
pub mod radius_clients;
pub mod route_table;
pub mod saml_sps;
pub mod servers;
pub mod sync_sources;
pub mod tokens;
pub mod user_counts;
pub mod user_files;
pub mod users;

use axum::{
    middleware::from_fn_with_state,
    routing::{get, post, put},
    Router,
};

use app::pattern::text_form;
use serde_json::json;

use crate::{
    accounts::check_user_id,
    audit::{record, Action, AuditEvent, Outcome},
    http::{error::AppError, AppState},
    otp::patterns::{generate_initial_pattern, store_pattern},
};
use access::Admin;

/// The administrators' routes, each behind the permission the table gives it.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(users::list).post(users::create))
        .route(
            "/api/v1/admin/user-imports",
            // The route's own limit is set in `http::body_limit`; the extractor's
            // default (2 MB) must not cut it short.
            post(user_files::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::body_limit::MAX_IMPORT_BYTES,
            )),
        )
        .route("/api/v1/admin/user-exports", get(user_files::export))
        .route("/api/v1/admin/user-counts", get(user_counts::count))
        .route(
            "/api/v1/admin/users/{id}",
            get(users::show).delete(users::delete).patch(users::update),
        )
        .route("/api/v1/admin/users/{id}/unlock", post(users::unlock))
        .route(
            "/api/v1/admin/users/{id}/initial-pattern",
            post(users::new_initial_pattern),
        )
        .route(
            "/api/v1/admin/groups",
            get(groups::groups).post(groups::create_group),
        )
        .route(
            "/api/v1/admin/groups/{group}",
            axum::routing::patch(groups::update_group).delete(groups::delete_group),
        )
        .route("/api/v1/admin/audit", get(audit_log::search))
        .route("/api/v1/admin/dashboard", get(dashboard::figures))
        .route(
            "/api/v1/admin/sync",
            get(sync_sources::list).post(sync_sources::create),
        )
        .route(
            "/api/v1/admin/sync/{name}",
            axum::routing::patch(sync_sources::update),
        )
        .route("/api/v1/admin/sync/{name}/run", post(sync_sources::run))
        .route(
            "/api/v1/admin/api-tokens",
            get(api_tokens::list).post(api_tokens::create),
        )
        .route(
            "/api/v1/admin/api-tokens/{prefix}",
            axum::routing::delete(api_tokens::revoke),
        )
        .route("/api/v1/admin/tokens", get(tokens::list))
        .route(
            "/api/v1/admin/token-imports",
            post(tokens::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::body_limit::MAX_TOKEN_FILE_BYTES,
            )),
        )
        .route("/api/v1/admin/tokens/{serial}/assign", post(tokens::assign))
        .route("/api/v1/admin/users/{id}/token/reset", post(tokens::reset))
        .route("/api/v1/admin/cert-jobs", post(certificates::start))
        .route("/api/v1/admin/cert-jobs/{id}", get(certificates::progress))
        .route(
            "/api/v1/admin/certificates/{serial}/revoke",
            post(certificates::revoke_one),
        )
        .route(
            "/api/v1/admin/cert-jobs/{id}/download",
            get(certificates::download),
        )
        .route("/api/v1/admin/policies", get(policies::list))
        .route(
            "/api/v1/admin/policies/{name}",
            get(policies::show)
                .put(policies::set)
                .delete(policies::delete),
        )
        .route(
            "/api/v1/admin/policies/{name}/groups/{group}",
            put(policies::attach).delete(policies::detach),
        )
        .route("/api/v1/admin/users/{id}/policy", get(policies::for_user))
        .route(
            "/api/v1/admin/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/api/v1/admin/applications/{name}",
            get(applications::show)
                .patch(applications::update)
                .delete(applications::delete),
        )
        .route(
            "/api/v1/admin/oidc-clients",
            post(applications::create_client),
        )
        .route(
            "/api/v1/admin/oidc-clients/{name}",
            axum::routing::patch(applications::update_client),
        )
        .route("/api/v1/admin/servers", get(servers::list))
        .route(
            "/api/v1/admin/radius/clients",
            get(radius_clients::list).post(radius_clients::create),
        )
        .route(
            "/api/v1/admin/radius/clients/{name}",
            axum::routing::delete(radius_clients::delete),
        )
        .route(
            "/api/v1/admin/radius/clients/{name}/certificate",
            post(radius_clients::certificate),
        )
        .route(
            "/api/v1/admin/radius/replies/{group}",
            put(radius_clients::set_replies),
        )
        .route(
            "/api/v1/admin/saml-sps",
            get(saml_sps::list).post(saml_sps::create),
        )
        .route(
            "/api/v1/admin/saml-sps/{name}",
            get(saml_sps::show).patch(saml_sps::update),
        )
        .route(
            "/api/v1/admin/saml-sps/{name}/refresh",
            post(saml_sps::refresh),
        )
        .route("/api/v1/admin/saml-keys", get(saml_sps::list_keys))
        .route("/api/v1/admin/saml-keys/rotate", post(saml_sps::rotate_key))
        .route(
            "/api/v1/admin/saml-keys/drop-retired",
            post(saml_sps::drop_retired),
        )
        .route_layer(from_fn_with_state(
            state.clone(),
            access::enforce_route_permission,
        ))
        // Public: added after the permission layer, which covers the routes above only.
        .route("/api/openapi.json", get(openapi::document))
}

/// An answer that carries a secret for one reader (an initial pattern, a new token, a
/// file of keys): no cache on the way may keep it.
pub(crate) fn no_store(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

// Shared by the handlers of the users, groups, files, tokens and certificates routes.

/// The user list's filters that take fixed values (list, export, bulk jobs).
pub(crate) fn check_filter(status: Option<&str>, cert: Option<&str>) -> Result<(), AppError> {
    if status.is_some_and(|s| !matches!(s, "active" | "disabled")) {
        return Err(AppError::BadRequest("invalid_status"));
    }
    if cert.is_some_and(|s| !matches!(s, "valid" | "none")) {
        return Err(AppError::BadRequest("invalid_cert_filter"));
    }
    Ok(())
}

/// The user an address names: a well-formed ID (400 otherwise) of a stored user (404).
pub(crate) async fn existing_user(
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
pub(crate) async fn hand_out_initial_pattern(
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

pub(crate) fn checked_id(id: &str) -> Result<(), AppError> {
    check_user_id(id).map_err(|_| AppError::BadRequest("invalid_user_id"))
}

pub(crate) async fn audit_admin(
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
