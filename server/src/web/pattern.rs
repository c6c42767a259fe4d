//! The form side of pattern registration: draw → confirm on two grids → saved.

use axum::{
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use serde::Deserialize;
use std::net::SocketAddr;

use crate::{
    auth::{
        registration::{begin_registration, confirm_registration, RegistrationStep},
        AuthError,
    },
    http::{
        cookies,
        csrf::csrf_ok,
        error::AppError,
        flow::{
            cert_fingerprint, flow_token_or_new, is_challenge_id, normalised_otp,
            request_flow_hash, with_cookie,
        },
        AppState, SignedIn,
    },
    otp::{challenge::Binding, OtpError},
    tls::ConnectionInfo,
};

#[derive(Deserialize)]
pub struct DrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cells: String,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    otp: String,
}

fn back_to_editor(code: &str) -> Response {
    Redirect::to(&format!("/me/pattern?error={code}")).into_response()
}

/// Parses "3,17,22" into cells; `None` for anything else (or more than 64 cells).
fn parse_cells(text: &str) -> Option<Vec<u16>> {
    let cells: Option<Vec<u16>> = text
        .split(',')
        .map(|c| c.trim().parse::<u16>().ok())
        .collect();
    cells.filter(|c| !c.is_empty() && c.len() <= 64)
}

pub async fn draw(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Form(form): Form<DrawForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(back_to_editor("csrf"));
    }
    if let Some(reauth) = super::login::unless_freshly_proved(&user, state.instance.clock.now()) {
        return Ok(reauth);
    }
    let Some(cells) = parse_cells(&form.cells) else {
        return Ok(back_to_editor("too_short"));
    };
    let (flow, fresh) = flow_token_or_new(&headers)?;
    let cert = cert_fingerprint(&conn);
    let binding = Binding {
        flow_hash: &crate::random::token_hash(&flow),
        cert_fingerprint: cert.as_deref(),
    };
    match begin_registration(&state, &user.user_id, &cells, &binding).await {
        Ok(challenge) => {
            let res = Redirect::to(&format!("/me/pattern/confirm?c={}&step=1", challenge.id))
                .into_response();
            Ok(if fresh {
                with_cookie(res, &cookies::flow_cookie(&flow))
            } else {
                res
            })
        }
        // The first refused rule, as the editor would have shown it.
        Err(AuthError::Otp(OtpError::Rules(codes))) => Ok(back_to_editor(
            codes.split(", ").next().unwrap_or("refused"),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(back_to_editor("csrf"));
    }
    let challenge = form.challenge.trim().to_ascii_lowercase();
    if !is_challenge_id(&challenge) {
        return Ok(back_to_editor("confirm_failed"));
    }
    let otp = normalised_otp(&form.otp);
    let flow_hash = request_flow_hash(&headers);
    let cert = cert_fingerprint(&conn);
    let binding = Binding {
        flow_hash: &flow_hash,
        cert_fingerprint: cert.as_deref(),
    };
    let step = confirm_registration(
        &state,
        &user.user_id,
        &challenge,
        &otp,
        &binding,
        &peer.ip().to_string(),
    )
    .await?;
    Ok(match step {
        RegistrationStep::Next { challenge, done } => Redirect::to(&format!(
            "/me/pattern/confirm?c={}&step={}",
            challenge.id,
            done + 1
        ))
        .into_response(),
        RegistrationStep::Saved => Redirect::to("/me?changed=1").into_response(),
        RegistrationStep::Failed => back_to_editor("confirm_failed"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_parse_strictly() {
        assert_eq!(super::parse_cells("3, 17,22"), Some(vec![3, 17, 22]));
        assert_eq!(super::parse_cells(""), None);
        assert_eq!(super::parse_cells("1,,2"), None);
        assert_eq!(super::parse_cells("1,-2"), None);
        assert_eq!(super::parse_cells(&"1,".repeat(70)), None);
    }
}
