//! Users in and out as CSV files: import (all rows or none, the bad line named) and
//! export (in the form the import reads back).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, audit_admin, check_filter, users::MAX_PAGE};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    http::{
        error::{extract::Params, AppError},
        AppState,
    },
    store::user_list::UserFilter,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    encoding: Option<String>,
}

/// CSV import (SPEC §8.1) with the rules of `passgrid user import`: the body is the
/// file; one bad row imports nothing and the answer names its line.
pub async fn import(
    State(state): State<AppState>,
    admin: Admin,
    Params(query): Params<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let q = query;
    let encoding: crate::user_csv::CsvEncoding =
        q.encoding
            .as_deref()
            .unwrap_or("utf-8")
            .parse()
            .map_err(|_| AppError::BadRequest("invalid_encoding"))?;
    let now = state.instance.clock.now();
    let rows = match crate::user_csv::parse_users_csv(&body, encoding) {
        Ok(rows) => rows,
        Err(e) => {
            let reason = format!("{e}; nothing imported");
            if !q.dry_run {
                refused_import(&state, &admin, &reason).await;
            }
            return Err(AppError::InvalidRequest(reason));
        }
    };
    let report = crate::user_import::import_users(
        &state.instance.store,
        &state.instance.master_key,
        &state.auth,
        &rows,
        &crate::user_import::ImportScope {
            source: "csv",
            whole: None,
            dry_run: q.dry_run,
            now,
        },
    )
    .await;
    let report = match report {
        Ok(report) => report,
        Err(crate::user_import::ImportError::Store(s)) => return Err(AppError::Store(s)),
        Err(crate::user_import::ImportError::Otp(o)) => return Err(AppError::Otp(o)),
        Err(other) => {
            let reason = format!("{other}; nothing imported");
            if !q.dry_run {
                refused_import(&state, &admin, &reason).await;
            }
            return Err(AppError::InvalidRequest(reason));
        }
    };
    if !q.dry_run {
        audit_admin(
            &state,
            &admin,
            Action::UserImport,
            "csv",
            &format!(
                "{} added, {} changed, {} unchanged",
                report.adds.len(),
                report.changes.len(),
                report.unchanged
            ),
        )
        .await;
    }
    Ok(Json(json!({ "report": report })).into_response())
}

/// A refused import is an administrator's action too: audited with its reason.
async fn refused_import(state: &AppState, admin: &Admin, reason: &str) {
    record(
        &state.instance.store,
        AuditEvent {
            actor: &admin.id,
            source: &admin.source,
            action: Action::UserImport,
            target: "csv",
            outcome: Outcome::Failure,
            reason,
        },
        state.instance.clock.now(),
    )
    .await;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    cert: Option<String>,
}

/// CSV export (SPEC §8.1) of the users the list's filters select, in the form the
/// import reads back.
pub async fn export(
    State(state): State<AppState>,
    admin: Admin,
    Params(query): Params<ExportQuery>,
) -> Result<Response, AppError> {
    let q = query;
    check_filter(q.status.as_deref(), q.cert.as_deref())?;
    let store = &state.instance.store;
    let users = store
        .all_users_matching(
            &UserFilter {
                q: q.q,
                group: q.group,
                status: q.status,
                source: q.source,
                cert: q.cert,
                now: state.instance.clock.now(),
                after: None,
                limit: MAX_PAGE,
            },
            usize::MAX,
        )
        .await?;
    // Accounts at or above the caller's role stay out of the file (counted in a header).
    let matched = users.len();
    let users: Vec<_> = users
        .into_iter()
        .filter(|u| {
            let role = u
                .admin_role
                .as_deref()
                .and_then(crate::accounts::Role::parse);
            admin.role.may_act_on(role)
        })
        .collect();
    let skipped = matched - users.len();
    let groups = store.groups_by_user().await?;
    let empty = Vec::new();
    let rows = users.iter().map(|u| crate::user_csv::ExportRow {
        id: &u.id,
        display_name: &u.display_name,
        email: u.email.as_deref(),
        groups: groups.get(&u.id).unwrap_or(&empty),
        status: &u.status,
        source: &u.source,
    });
    let mut out = Vec::new();
    crate::user_csv::write_users_csv(rows, &mut out)
        .map_err(|e| AppError::InvalidRequest(format!("export: {e}")))?;
    audit_admin(
        &state,
        &admin,
        Action::UserExport,
        "csv",
        &format!(
            "{} users ({skipped} above the caller's role left out)",
            users.len()
        ),
    )
    .await;
    let mut res = out.into_response();
    let headers = res.headers_mut();
    headers.insert("x-passgrid-skipped", skipped.into());
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"passgrid-users.csv\""),
    );
    Ok(res)
}
