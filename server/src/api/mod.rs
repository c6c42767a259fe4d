//! JSON and file routes for programs (SPEC §14).

pub mod admin;
pub mod auth;
pub mod ca_files;
pub mod health;
pub mod vpn_grid;
pub mod whoami;

use axum::{
    routing::{get, post},
    Router,
};

use crate::{http::error::AppError, http::AppState};

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/ca/ca.pem", get(ca_files::ca_pem))
        .route("/ca/crl.der", get(ca_files::crl_der))
        .route("/api/v1/whoami", get(whoami::whoami))
        .route("/api/v1/auth/start", post(auth::start))
        .route("/api/v1/auth/verify", post(auth::verify))
        .route("/api/v1/me/vpn-grid", post(vpn_grid::vpn_grid_json))
        .merge(admin::routes(state))
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async { AppError::NotFound }),
        )
}
