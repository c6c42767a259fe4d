//! The Single Logout endpoint (Profiles §4.4): an SP's LogoutRequest or its
//! LogoutResponse to passgrid's, by either binding; and the chain that takes the
//! browser to every SP of the ended session in turn. The chain's handle travels in a
//! short cookie scoped to the chain's path.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Extension,
};
use passgrid_saml::{InboundMessage, MessageKind};

use super::{see_other, sso::read_form, transport};
use crate::{
    http::{
        cookies::SESSION_COOKIE, error::saml as pages, error::AppError, flow::with_cookie,
        middleware::cookie, AppState,
    },
    random::{is_token, token_hash},
    saml_idp::{
        logout::{next_step, start_chain, take_logout_request, take_logout_response, LogoutStep},
        sign_in::{audit_refusal, Refusal},
    },
    sso::sid_of,
    store::saml_requests::SamlLogoutChain,
    tls::ConnectionInfo,
};

const CHAIN_COOKIE: &str = "passgrid_saml_logout";
const CHAIN_PATH: &str = "/saml/logout/continue";

fn chain_cookie(handle: &str) -> String {
    format!(
        "{CHAIN_COOKIE}={handle}; Path=/saml/logout; Max-Age={}; Secure; HttpOnly; SameSite=Lax",
        crate::saml_idp::LOGOUT_SECS
    )
}

fn chain_cookie_gone() -> String {
    format!("{CHAIN_COOKIE}=; Path=/saml/logout; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// The answer to a logout step.
fn respond(step: LogoutStep) -> Response {
    match step {
        LogoutStep::Redirect(url) => see_other(&url),
        LogoutStep::Post {
            action,
            kind,
            xml,
            relay_state,
        } => pages::post_page(&action, kind, &xml, relay_state.as_deref()),
        LogoutStep::Continue { handle } => {
            with_cookie(see_other(CHAIN_PATH), &chain_cookie(&handle))
        }
        LogoutStep::Done => {
            with_cookie(Redirect::to("/login").into_response(), &chain_cookie_gone())
        }
        LogoutStep::Refused { reason } => pages::error_page(Refusal::BadRequest, &reason),
    }
}

async fn take(
    state: &AppState,
    inbound: Result<InboundMessage, passgrid_saml::SamlError>,
    headers: &HeaderMap,
    conn: &Option<Extension<ConnectionInfo>>,
    peer: SocketAddr,
) -> Result<Response, AppError> {
    let t = transport(conn, peer);
    let inbound = match inbound {
        Ok(m) => m,
        Err(e) => {
            let reason = format!("logout message: {e}");
            audit_refusal(state, "-", t.client(&[]).source, "-", &reason).await;
            return Ok(pages::error_page(Refusal::BadRequest, &reason));
        }
    };
    match inbound.kind() {
        MessageKind::Request => {
            let browser_sid = cookie(headers, SESSION_COOKIE)
                .filter(|t| is_token(t))
                .map(|t| sid_of(&token_hash(t)));
            let step = take_logout_request(
                state,
                &state.sso,
                &state.saml,
                &inbound,
                browser_sid.as_deref(),
                t.client(&[]).source,
            )
            .await?;
            Ok(respond(step))
        }
        MessageKind::Response => {
            take_logout_response(state, &state.saml, &inbound, t.client(&[]).source).await?;
            // The chain goes on (its cookie came along with this navigation).
            Ok(see_other(CHAIN_PATH))
        }
    }
}

/// GET /saml/slo (HTTP-Redirect binding).
pub async fn redirect_binding(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let inbound = InboundMessage::from_redirect_query(query.as_deref().unwrap_or(""));
    take(&state, inbound, &headers, &conn, peer).await
}

/// POST /saml/slo (HTTP-POST binding).
pub async fn post_binding(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let inbound = match read_form(&body) {
        Some((kind, value, relay_state)) => {
            InboundMessage::from_post_form(kind, &value, relay_state.as_deref())
        }
        None => Err(passgrid_saml::SamlError::Missing {
            element: "form",
            what: "SAMLRequest or SAMLResponse",
        }),
    };
    take(&state, inbound, &headers, &conn, peer).await
}

/// GET /saml/logout/continue: the chain's next step.
pub async fn continue_chain(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(handle) = cookie(&headers, CHAIN_COOKIE).filter(|h| is_token(h)) else {
        return Ok(respond(LogoutStep::Done));
    };
    let step = next_step(&state, &state.saml, handle, &peer.ip().to_string()).await?;
    Ok(respond(step))
}

/// After passgrid's own logout of session `sid` (user `user_id`): the chain through
/// the SPs it signed in to that have a SingleLogoutService, if any.
pub async fn after_passgrid_logout(
    state: &AppState,
    sid: &str,
    user_id: &str,
) -> Result<Option<Response>, AppError> {
    let chain = SamlLogoutChain {
        sid: sid.to_string(),
        user_id: user_id.to_string(),
        reply_application: None,
        reply_request_id: None,
        reply_relay_state: None,
    };
    Ok(start_chain(state, &state.saml, &chain)
        .await?
        .map(|handle| respond(LogoutStep::Continue { handle })))
}
