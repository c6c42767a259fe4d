//! `POST /api/v1/auth/start` and `POST /api/v1/auth/verify` (SPEC §14).

use app::grid::digits_from_seed;
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::Deserialize;
use serde_json::json;

use crate::http::error::extract::JsonBody;
use crate::{
    auth::login::{
        finish_login_with_session, prepare_verify, start_login, LoginOutcome, SessionWanted,
        Started,
    },
    http::{
        cookies,
        error::AppError,
        flow::{flow_token_or_new, is_challenge_id, request_flow_hash, Transport},
        AppState,
    },
    otp::phrase::{phrase_char, PhraseMode},
    tls::ConnectionInfo,
};

/// Longest user ID accepted at the door (real IDs are at most 64 characters).
const MAX_USER_LEN: usize = 256;
/// Longest OTP accepted (16 cells plus room; a phrase comes later).
const MAX_OTP_LEN: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    challenge: String,
    otp: String,
    /// The TOTP code, where the login asks for the grid and a code.
    #[serde(default)]
    totp: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    conn: Option<Extension<ConnectionInfo>>,
    JsonBody(payload): JsonBody<StartRequest>,
) -> Result<Response, AppError> {
    let req = payload;
    let user = req.user.trim();
    if user.is_empty() || user.len() > MAX_USER_LEN || user.chars().any(char::is_control) {
        return Err(AppError::BadRequest("invalid_user"));
    }
    let (flow, is_new) = flow_token_or_new(&headers)?;
    let flow_hash = crate::random::token_hash(&flow);
    let transport = Transport::of(&conn, None);
    let started = start_login(&state, user, &transport.client(&flow_hash)).await?;
    let issued = match started {
        Started::Grid(issued) => issued,
        Started::DeviceNotRegistered => return Ok(device_not_registered()),
        Started::Refused(refusal) => return Err(AppError::Refused(refusal)),
    };
    // Every start carries a grid, whatever the method: a user the policy asks for a
    // code who has no token yet answers with the grid (then enrols), and the answer
    // must not tell such a user from one with a token, or from an unknown ID.
    let digits: String = digits_from_seed(&issued.seed, issued.shape)
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let mut body = json!({
        "challenge": issued.id,
        "method": if issued.purpose.has_grid() { "grid" } else { "totp" },
        "grid": {
            "rows": issued.shape.rows(),
            "cols": issued.shape.cols(),
            "seed": hex::encode(issued.seed),
            "digits": digits,
        },
        "expires_at": issued.expires_at,
    });
    if issued.purpose.has_grid() && issued.purpose.has_totp() {
        // Both: the grid's digits in "otp", the token's code in "totp".
        body["totp"] = json!(true);
    }
    let mut res = Json(body).into_response();
    if is_new {
        let value = HeaderValue::from_str(&cookies::flow_cookie(&flow))
            .map_err(|_| AppError::BadRequest("cookie"))?;
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    conn: Option<Extension<ConnectionInfo>>,
    JsonBody(payload): JsonBody<VerifyRequest>,
) -> Result<Response, AppError> {
    let req = payload;
    if !is_challenge_id(&req.challenge) {
        return Err(AppError::BadRequest("invalid_challenge"));
    }
    let challenge = req.challenge.to_ascii_lowercase();
    // The policy of the challenge's user decides whether a phrase comes with the OTP.
    let verification = prepare_verify(&state, &challenge).await?;
    let settings = verification.settings.clone();
    let digits_only =
        |s: &str| !s.is_empty() && s.len() <= MAX_OTP_LEN && s.bytes().all(|b| b.is_ascii_digit());
    // With an additional phrase the field also holds the phrase's characters.
    let otp_ok = if settings.phrase.mode == PhraseMode::Off {
        digits_only(&req.otp)
    } else {
        !req.otp.is_empty() && req.otp.len() <= 2 * MAX_OTP_LEN && req.otp.bytes().all(phrase_char)
    };
    if !otp_ok {
        return Err(AppError::BadRequest("invalid_otp"));
    }
    if req.totp.as_deref().is_some_and(|t| !digits_only(t)) {
        return Err(AppError::BadRequest("invalid_totp"));
    }
    // Without the flow cookie of the start request the challenge is not this client's.
    let flow_hash = request_flow_hash(&headers);
    let transport = Transport::of(&conn, None);
    let (outcome, token) = finish_login_with_session(
        &state,
        &verification,
        &challenge,
        &req.otp,
        req.totp.as_deref(),
        &transport.client(&flow_hash),
        Some(SessionWanted { replaces: None }),
    )
    .await?;
    let failed = |code: &str| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "ok": false, "error": code })),
        )
            .into_response()
    };
    Ok(match outcome {
        LoginOutcome::Success {
            user_id,
            must_change_pattern,
            must_enrol_token,
            must_set_phrase,
        } => {
            let token = token.ok_or(AppError::BadRequest("session"))?;
            let mut res = Json(json!({
                "ok": true,
                "user": user_id,
                "must_change_pattern": must_change_pattern,
                "must_enrol_token": must_enrol_token,
                "must_set_phrase": must_set_phrase,
            }))
            .into_response();
            let value = HeaderValue::from_str(&cookies::session_cookie(&token))
                .map_err(|_| AppError::BadRequest("cookie"))?;
            res.headers_mut().append(header::SET_COOKIE, value);
            res
        }
        LoginOutcome::Failed => failed("authentication_failed"),
        LoginOutcome::ChallengeExpired => failed("challenge_expired"),
        LoginOutcome::ChallengeInvalid => failed("challenge_invalid"),
        LoginOutcome::DeviceNotRegistered => device_not_registered(),
        LoginOutcome::Refused(refusal) => AppError::Refused(refusal).into_response(),
    })
}

/// SPEC §14: the policy needs a certificate the request lacks. No challenge.
fn device_not_registered() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "error": "device_not_registered" })),
    )
        .into_response()
}
