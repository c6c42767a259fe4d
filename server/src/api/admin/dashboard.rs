//! The dashboard's figures (SPEC §9.2): logins and failures per hour over the last
//! day, locked users, certificates expiring in 30 days.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::access::Admin;
use crate::{http::error::AppError, http::AppState};

pub async fn figures(State(state): State<AppState>, _admin: Admin) -> Result<Response, AppError> {
    let store = &state.instance.store;
    let now = state.instance.clock.now();
    let hours = store.hourly_logins(now - 24 * 3600).await?;
    let locked = store.locked_logins(now).await?;
    let (expiring, soonest) = store
        .expiring_certificates(now, now + 30 * 86_400, 50)
        .await?;
    Ok(Json(json!({
        "logins_per_hour": hours,
        "locked_users": locked,
        "certificates_expiring_in_30_days": { "count": expiring, "soonest": soonest },
        "at": now,
    }))
    .into_response())
}
