//! `GET /api/v1/admin/user-counts`: how many users the user list's filters match, how
//! many of them are administrators, and whether the caller is one of them — what the
//! console says before a bulk action on "all users matching the filter".

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{access::Admin, check_filter};
use crate::{
    http::{
        error::{extract::Params, AppError},
        AppState,
    },
    store::user_list::UserFilter,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    source: Option<String>,
    cert: Option<String>,
}

pub async fn count(
    State(state): State<AppState>,
    admin: Admin,
    Params(q): Params<CountQuery>,
) -> Result<Response, AppError> {
    check_filter(q.status.as_deref(), q.cert.as_deref())?;
    if q.q.as_deref().is_some_and(|s| s.len() > 128) {
        return Err(AppError::BadRequest("invalid_search"));
    }
    let filter = UserFilter {
        q: q.q,
        group: q.group,
        status: q.status,
        source: q.source,
        cert: q.cert,
        now: state.instance.clock.now(),
        after: None,
        limit: 0,
    };
    let counts = state.instance.store.count_users(&filter, &admin.id).await?;
    Ok(Json(counts).into_response())
}
