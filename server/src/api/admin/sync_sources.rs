//! Sync sources for administrators (issue #7): list them with their last runs, and
//! start a run (the console's "Run now").

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::access::Admin;
use crate::{
    audit::{record, Action, Outcome},
    http::error::{
        extract::{JsonBody, Params},
        AppError,
    },
    http::AppState,
    sync::{run_source, SyncError},
};

/// Runs shown per source.
const RUNS_SHOWN: i64 = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    #[serde(default)]
    dry_run: bool,
}

pub async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
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
    Params(query): Params<RunQuery>,
) -> Result<Response, AppError> {
    let q = query;
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
    record(
        &state.instance.store,
        crate::audit::AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action: Action::SyncStart,
            target: &name,
            outcome: if result.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
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

/// A new source, as the console's form sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    name: String,
    /// "ldap" or "csv".
    kind: String,
    /// e.g. "15m" (default 15m for LDAP, 5m for a CSV folder).
    interval: Option<String>,
    // LDAP
    url: Option<String>,
    #[serde(default)]
    starttls: bool,
    ca_pem: Option<String>,
    bind_dn: Option<String>,
    bind_password: Option<String>,
    base: Option<String>,
    filter: Option<String>,
    /// `id=ATTR,name=ATTR,email=ATTR`
    map: Option<String>,
    group_attr: Option<String>,
    // CSV folder
    folder: Option<String>,
    encoding: Option<String>,
}

fn required(value: Option<String>, field: &str) -> Result<String, AppError> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            AppError::InvalidRequest(format!("{field} is required for this kind of source"))
        })
}

/// Adds a source (the same checks as `passgrid sync add-ldap / add-csv`); the bind
/// password is sealed at once and never shown again.
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewSource>,
) -> Result<Response, AppError> {
    use crate::sync::{add_csv_source, add_ldap_source, ldap::AttributeMap, parse_interval};
    let b = body;
    let now = state.instance.clock.now();
    let default_interval = if b.kind == "csv" {
        crate::sync::DEFAULT_CSV_INTERVAL
    } else {
        crate::sync::DEFAULT_LDAP_INTERVAL
    };
    let interval_secs = parse_interval(b.interval.as_deref().unwrap_or(default_interval))?;
    let result = match b.kind.as_str() {
        "ldap" => {
            let map = AttributeMap::parse(b.map.as_deref().unwrap_or_default())?;
            let settings = crate::sync::LdapSourceSettings {
                url: required(b.url, "url")?,
                starttls: b.starttls,
                ca_pem: b.ca_pem.filter(|p| !p.trim().is_empty()),
                bind_dn: required(b.bind_dn, "bind_dn")?,
                base: required(b.base, "base")?,
                filter: b
                    .filter
                    .filter(|f| !f.trim().is_empty())
                    .unwrap_or_else(|| crate::sync::DEFAULT_LDAP_FILTER.into()),
                map_id: map.id,
                map_name: map.name,
                map_email: map.email,
                map_extra: map.extra,
                group_attr: b.group_attr.filter(|g| !g.trim().is_empty()),
                timeout_secs: crate::sync::DEFAULT_LDAP_TIMEOUT_SECS,
            };
            let password = zeroize::Zeroizing::new(required(b.bind_password, "bind_password")?);
            add_ldap_source(
                &state.instance,
                &b.name,
                &settings,
                &password,
                interval_secs,
                now,
            )
            .await
        }
        "csv" => {
            let settings = crate::sync::CsvSourceSettings {
                folder: required(b.folder, "folder")?,
                encoding: b.encoding.unwrap_or_else(|| "utf-8".into()),
            };
            add_csv_source(&state.instance, &b.name, &settings, interval_secs, now).await
        }
        _ => return Err(AppError::BadRequest("invalid_kind")),
    };
    result?;
    super::audit_admin(&state, &admin, Action::SyncAdd, &b.name, &b.kind).await;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({ "name": b.name, "kind": b.kind, "interval_secs": interval_secs })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceChange {
    filter: Option<String>,
    base: Option<String>,
    interval: Option<String>,
    max_disable_percent: Option<i64>,
}

/// Changes a source's filter or base (LDAP), interval or disable limit.
pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<SourceChange>,
) -> Result<Response, AppError> {
    let b = body;
    let changes = crate::sync::SourceChanges {
        filter: b.filter,
        base: b.base,
        interval_secs: b
            .interval
            .as_deref()
            .map(crate::sync::parse_interval)
            .transpose()?,
        max_disable_percent: b.max_disable_percent,
    };
    match crate::sync::update_source(&state.instance, &name, &changes).await {
        Ok(()) => {}
        Err(SyncError::NoSuchSource(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    }
    super::audit_admin(&state, &admin, Action::SyncSet, &name, "").await;
    Ok(Json(json!({ "name": name })).into_response())
}
