//! The authenticator page's forms: start an enrolment, confirm it with a code.

use app::context::TokenState;
use axum::{
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use serde::Deserialize;
use std::net::SocketAddr;

use super::login::CsrfForm;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    http::{csrf::csrf_ok, error::AppError, AppState, SignedIn},
    otp::tokens::{begin_enrolment, confirm_enrolment, current_enrolment},
    policy::LoginMethod,
};

/// The name authenticator apps show next to the account.
const ISSUER: &str = "passgrid";

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// What the authenticator page shows for `user_id`.
pub async fn token_state(
    state: &AppState,
    user_id: &str,
    now: i64,
) -> Result<TokenState, AppError> {
    let store = &state.instance.store;
    let token = store.user_token(user_id).await?;
    let pending = current_enrolment(store, &state.instance.master_key, user_id, ISSUER, now)
        .await?
        .map(|v| (v.qr_svg, v.secret_base32.to_string()));
    Ok(TokenState {
        required: token.is_none() && state.settings_for(user_id).await?.method != LoginMethod::Grid,
        token: token.map(|t| (t.serial, t.kind)),
        pending,
    })
}

pub async fn start(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, form.csrf()) {
        return Ok(Redirect::to("/me/token?error=csrf").into_response());
    }
    let now = state.instance.clock.now();
    if let Some(reauth) = super::login::unless_freshly_proved(&user, now) {
        return Ok(reauth);
    }
    begin_enrolment(
        &state.instance.store,
        &state.instance.master_key,
        &user.user_id,
        ISSUER,
        now,
    )
    .await?;
    Ok(Redirect::to("/me/token").into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(Redirect::to("/me/token?error=csrf").into_response());
    }
    let now = state.instance.clock.now();
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let confirmed = confirm_enrolment(
        &state.instance.store,
        &state.instance.master_key,
        &user.user_id,
        &code,
        now,
    )
    .await?;
    record(
        &state.instance.store,
        AuditEvent {
            actor: &user.user_id,
            source: &peer.ip().to_string(),
            action: Action::TokenEnrol,
            target: &user.user_id,
            outcome: if confirmed {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            reason: if confirmed {
                "software token"
            } else {
                "wrong code"
            },
        },
        now,
    )
    .await;
    Ok(Redirect::to(if confirmed {
        "/me/token?saved=1"
    } else {
        "/me/token?error=token_code"
    })
    .into_response())
}
