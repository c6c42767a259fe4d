//! The audit log for administrators (SPEC §12): filters, paging, CSV export.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::access::Admin;
use crate::http::error::extract::Params;
use crate::{http::error::AppError, http::AppState, store::audit::AuditFilter};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
    format: Option<String>,
}

/// A CSV cell a spreadsheet will not run (OWASP CSV injection): quoted, and a
/// leading `=`, `+`, `-`, `@`, tab or CR made text with `'`.
fn csv_cell(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if risky {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

pub async fn search(
    State(state): State<AppState>,
    _admin: Admin,
    Params(query): Params<AuditQuery>,
) -> Result<Response, AppError> {
    let q = query;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::BadRequest("invalid_format")),
    };
    let max = if csv { 100_000 } else { 1000 };
    let limit = q.limit.unwrap_or(if csv { max } else { 100 });
    if !(1..=max).contains(&limit) {
        return Err(AppError::BadRequest("invalid_limit"));
    }
    if q.outcome
        .as_deref()
        .is_some_and(|o| !matches!(o, "success" | "failure"))
    {
        return Err(AppError::BadRequest("invalid_outcome"));
    }
    let entries = state
        .instance
        .store
        .search_audit(&AuditFilter {
            actor: q.actor,
            action: q.action,
            target: q.target,
            outcome: q.outcome,
            since: q.since,
            until: q.until,
            before_id: q.before,
            limit,
        })
        .await?;
    if csv {
        let mut out = String::from(
            "\u{feff}id,at,actor,source,action,target,outcome,reason,chain_position\r\n",
        );
        for e in &entries {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\r\n",
                e.id,
                e.at,
                csv_cell(&e.actor),
                csv_cell(&e.source),
                csv_cell(&e.action),
                csv_cell(&e.target),
                csv_cell(&e.outcome),
                csv_cell(&e.reason),
                e.chain_seq.map(|s| s.to_string()).unwrap_or_default()
            ));
        }
        let mut res = out.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        res.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"passgrid-audit.csv\""),
        );
        return Ok(res);
    }
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({ "entries": entries, "next": next })).into_response())
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_text() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("alice"), "\"alice\"");
    }
}
