//! The servers of a cluster (SPEC §11): each one's version, start, last heartbeat and
//! the scheduled jobs it runs, and the database host in use.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::access::Admin;
use crate::{cluster::LIVE_SECS, http::error::AppError, http::AppState};

/// Servers seen in the last hour, each marked live or not.
pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    let servers = store.cluster_servers(now - 3600).await?;
    let servers: Vec<_> = servers
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "version": s.version,
                "started_at": s.started_at,
                "last_seen_at": s.last_seen_at,
                "live": s.last_seen_at >= now - LIVE_SECS,
                "jobs": s.jobs,
            })
        })
        .collect();
    Ok(Json(json!({
        "servers": servers,
        "database_host": store.primary_host(),
        "at": now,
    }))
    .into_response())
}
