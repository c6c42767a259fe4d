//! Sync sources for administrators (issue #7): list them with their last runs, and
//! start a run (the console's "Run now").

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, permission_of};
use crate::{
    error::AppError,
    sync::{run_source, SyncError},
    web::AppState,
};

/// Runs shown per source.
const RUNS_SHOWN: i64 = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    #[serde(default)]
    dry_run: bool,
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, AppError> {
    admin.require(permission_of("get", "/api/v1/admin/sync"))?;
    let store = &state.instance.store;
    let mut sources = Vec::new();
    for s in store.sync_sources().await? {
        let runs = store.sync_runs(&s.name, RUNS_SHOWN).await?;
        // The settings without secrets (the bind password is sealed apart).
        let settings: serde_json::Value =
            serde_json::from_str(&s.settings).unwrap_or(serde_json::Value::Null);
        sources.push(json!({
            "name": s.name,
            "kind": s.kind,
            "settings": settings,
            "interval_secs": s.interval_secs,
            "max_disable_percent": s.max_disable_percent,
            "runs": runs,
        }));
    }
    Ok(Json(json!({ "sources": sources })).into_response())
}

pub async fn run(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    admin.require(permission_of("post", "/api/v1/admin/sync/{name}/run"))?;
    let Query(q) = query.map_err(|r| AppError::InvalidRequest(r.body_text()))?;
    let lock = state
        .instance
        .store
        .try_job_lock(&format!("sync {name}"))
        .await?
        .ok_or(AppError::BadRequest("sync_running"))?;
    let notices = state.sync_notices();
    let result = run_source(
        &state.instance,
        &state.auth,
        &name,
        q.dry_run,
        notices.as_ref(),
    )
    .await;
    lock.release().await;
    crate::accounts::audit(
        &state.instance.store,
        crate::store::audit::AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action: "sync.start",
            target: &name,
            outcome: if result.is_ok() { "success" } else { "failure" },
            reason: if q.dry_run { "dry run" } else { "" },
        },
        state.instance.clock.now(),
    )
    .await;
    match result {
        Ok((run, report)) => Ok(Json(json!({
            "run": run,
            "added": report.adds,
            "changed": report.changes,
            "disabled": report.disables,
            "enabled": report.enables,
        }))
        .into_response()),
        Err(SyncError::NoSuchSource(_)) => Err(AppError::NotFound),
        // The run is recorded (and audited) with its reason; the caller gets it too.
        Err(e) => Err(AppError::InvalidRequest(e.to_string())),
    }
}
