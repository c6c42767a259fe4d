//! Bulk certificate work for administrators (SPEC §2.9): start a job for chosen users
//! or for every user a filter matches, watch its progress, take its download.

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use super::{access::Admin, audit_admin, check_filter, checked_id};
use crate::{
    bulk_certificates::{Action, Actor, JobContext, MAX_USERS},
    ca::pkcs12::P12Encoding,
    http::error::{extract::JsonBody, AppError},
    http::AppState,
    store::user_list::UserFilter,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobBody {
    action: Action,
    /// These users…
    users: Option<Vec<String>>,
    /// …or every user this filter matches (the user list's filters).
    filter: Option<FilterBody>,
    /// PKCS#12 encoding of an issue job: modern or legacy (default: each user's policy's).
    encoding: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    cert: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<JobBody>,
) -> Result<Response, AppError> {
    // Without a choice, each user's policy picks (SPEC §2.3).
    let encoding = match body.encoding.as_deref() {
        None => None,
        Some("modern") => Some(P12Encoding::Modern),
        Some("legacy") => Some(P12Encoding::Legacy),
        Some(_) => return Err(AppError::BadRequest("invalid_encoding")),
    };
    let users = match (body.users, body.filter) {
        (Some(users), None) => {
            let mut seen = std::collections::HashSet::new();
            for id in &users {
                checked_id(id)?;
                if !seen.insert(id.as_str()) {
                    return Err(AppError::InvalidRequest(format!(
                        "user {id} is listed twice"
                    )));
                }
            }
            users
        }
        (None, Some(filter)) => matching(&state, filter).await?,
        _ => {
            return Err(AppError::InvalidRequest(
                "give either users or filter".into(),
            ))
        }
    };
    let count = users.len();
    let action = body.action;
    let id = state
        .bulk_jobs
        .start(
            JobContext {
                instance: state.instance.clone(),
                settings: state.auth.clone(),
                mailer: state.mailer.clone(),
                public_url: state.public_url.clone(),
                encoding,
            },
            Actor {
                id: admin.id.clone(),
                source: admin.source.clone(),
                role: admin.role,
            },
            action,
            users,
        )
        .await?;
    audit_admin(
        &state,
        &admin,
        crate::audit::Action::CertBulk,
        &format!("{count} users"),
        &format!("{} job {id} started", action_name(action)),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": id, "total": count })),
    )
        .into_response())
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Issue => "issue",
        Action::Revoke => "revoke",
        Action::Delete => "delete",
        Action::Mail => "mail",
        Action::Print => "print",
    }
}

/// Every user the filter matches (at most `MAX_USERS`).
async fn matching(state: &AppState, f: FilterBody) -> Result<Vec<String>, AppError> {
    check_filter(f.status.as_deref(), f.cert.as_deref())?;
    let users = state
        .instance
        .store
        .all_users_matching(
            &UserFilter {
                q: f.q,
                group: f.group,
                status: f.status,
                source: f.source,
                cert: f.cert,
                now: state.instance.clock.now(),
                after: None,
                limit: 0,
            },
            MAX_USERS,
        )
        .await?;
    if users.len() > MAX_USERS {
        return Err(AppError::BadRequest("too_many_users"));
    }
    Ok(users.into_iter().map(|u| u.id).collect())
}

pub async fn progress(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    // Any server of a cluster answers: the job is in the database.
    let view = state
        .bulk_jobs
        .view(&state.instance, &id, &admin.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(view).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let file = state
        .bulk_jobs
        .download(&state.instance, &id, &admin.id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit_admin(
        &state,
        &admin,
        crate::audit::Action::CertBulkDownload,
        &format!("job {id}"),
        &file.name,
    )
    .await;
    let mut res = file.bytes.as_slice().to_vec().into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Revokes one certificate (the user detail page's button) and publishes the CRL.
pub async fn revoke_one(
    State(state): State<AppState>,
    admin: Admin,
    Path(serial): Path<String>,
) -> Result<Response, AppError> {
    let serial = crate::ca::crl::normalize_serial(&serial)
        .map_err(|_| AppError::BadRequest("invalid_serial"))?;
    let now = state.instance.clock.now();
    let record = state
        .instance
        .ca
        .revoke(&state.instance.store, &serial, "unspecified", now)
        .await?;
    audit_admin(
        &state,
        &admin,
        crate::audit::Action::CertRevoke,
        &record.owner(),
        &format!("serial {serial}"),
    )
    .await;
    Ok(
        Json(json!({ "serial": serial, "user": record.user_id, "revoked_at": record.revoked_at }))
            .into_response(),
    )
}
