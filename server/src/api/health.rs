//! Liveness, readiness and metrics.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde_json::json;

use crate::{
    http::{error::AppError, AppState},
    tls::ConnectionInfo,
};

/// The process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The database answers: this server can take logins.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.instance.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database" })),
            )
        }
    }
}

/// Prometheus text format, for the allowed networks or the bearer token only.
pub async fn metrics(
    State(state): State<AppState>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    state
        .metrics_access
        .check(conn.as_ref().map(|c| &c.0), &headers)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response())
}
