//! The forms of the self-service reset (SPEC §9.3); the logic is in `auth::reset`.

use axum::{
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use std::net::SocketAddr;

use crate::{
    auth::{
        rate_limit::Decision,
        reset::{perform_reset, request_reset},
    },
    http::{csrf::csrf_ok, error::AppError, AppState},
    random::is_token,
};

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_id: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    t: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(Redirect::to("/login/forgot?error=csrf").into_response());
    }
    let user = form.user_id.trim();
    if user.is_empty() || user.len() > 256 || user.chars().any(char::is_control) {
        return Ok(Redirect::to("/login/forgot?error=invalid_user_id").into_response());
    }
    // The same budget as sign-in starts: nobody mails a user a thousand links.
    if let Decision::Limited { .. } =
        state
            .guards
            .rate_limits
            .check(peer.ip(), user, state.instance.clock.now_ms())
    {
        return Ok(Redirect::to("/login/forgot?error=rate_limited").into_response());
    }
    let now = state.instance.clock.now();
    request_reset(&state, user, &peer.ip().to_string(), now).await?;
    Ok(Redirect::to("/login/forgot?sent=1").into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &form.csrf) || !is_token(&form.t) {
        return Ok(Redirect::to("/login/reset?error=csrf").into_response());
    }
    let now = state.instance.clock.now();
    Ok(
        match perform_reset(&state, &form.t, &peer.ip().to_string(), now).await? {
            Some(_) => Redirect::to(&format!("/login/reset/done?t={}", form.t)).into_response(),
            None => Redirect::to("/login/reset").into_response(),
        },
    )
}
