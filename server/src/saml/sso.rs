//! The SSO endpoint (Profiles §4.1.4.1): AuthnRequests by HTTP-Redirect (GET, the
//! query signature checked over the raw query as received) and HTTP-POST; the
//! continuation after passgrid's sign-in; IdP-initiated sign-ins from the portal.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, Path, RawQuery, State},
    http::HeaderMap,
    response::Response,
    Extension,
};
use passgrid_saml::{InboundMessage, MessageKind};

use super::{see_other, session_of, sign_in_then, transport};
use crate::{
    http::{error::saml as pages, error::AppError, AppState},
    saml_idp::sign_in::{
        audit_refusal, continue_request, idp_initiated as start, take_authn_request, Refusal,
        SsoAnswer,
    },
    tls::ConnectionInfo,
};

/// The form fields of an HTTP-POST message (Bindings §3.5.4).
#[derive(serde::Deserialize)]
pub(super) struct SamlForm {
    #[serde(rename = "SAMLRequest")]
    pub request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    pub response: Option<String>,
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

/// Reads an HTTP-POST body; `None` when it is not a SAML form.
pub(super) fn read_form(body: &[u8]) -> Option<(MessageKind, String, Option<String>)> {
    let form: SamlForm = serde_urlencoded::from_bytes(body).ok()?;
    match (form.request, form.response) {
        (Some(r), None) => Some((MessageKind::Request, r, form.relay_state)),
        (None, Some(r)) => Some((MessageKind::Response, r, form.relay_state)),
        _ => None,
    }
}

/// The front end's answer to a decision.
fn respond(state: &AppState, answer: SsoAnswer) -> Response {
    match answer {
        SsoAnswer::Post {
            application,
            acs,
            xml,
            relay_state,
        } => {
            state.metrics.sso_event(&application, "saml_response");
            pages::post_page(&acs, MessageKind::Response, &xml, relay_state.as_deref())
        }
        // First to the continuation (a GET: the session cookie, SameSite=Lax, comes
        // along even when the SP posted from another site); it sends to the sign-in.
        SsoAnswer::SignIn { continue_to } => see_other(&continue_to),
        SsoAnswer::Refused { kind, reason } => pages::error_page(kind, &reason),
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
        Ok(m) if m.kind() == MessageKind::Request => m,
        Ok(_) => {
            let reason = "a SAMLResponse at the SSO endpoint";
            audit_refusal(state, "-", t.client(&[]).source, "-", reason).await;
            return Ok(pages::error_page(Refusal::BadRequest, reason));
        }
        Err(e) => {
            // Hardened parsing refused it: a DTD, an entity, a bomb, bad encoding.
            let reason = format!("AuthnRequest: {e}");
            audit_refusal(state, "-", t.client(&[]).source, "-", &reason).await;
            return Ok(pages::error_page(Refusal::BadRequest, &reason));
        }
    };
    let session = session_of(state, headers, conn).await?;
    let answer = take_authn_request(
        state,
        &state.saml,
        &inbound,
        session.as_ref(),
        &t.client(&[]),
    )
    .await?;
    Ok(respond(state, answer))
}

/// GET /saml/sso (HTTP-Redirect binding).
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

/// POST /saml/sso (HTTP-POST binding).
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
            what: "SAMLRequest",
        }),
    };
    take(&state, inbound, &headers, &conn, peer).await
}

/// GET /saml/continue/{handle}: the waiting request, answered once the browser has
/// a usable SSO session.
pub async fn continue_after_sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Response, AppError> {
    let t = transport(&conn, peer);
    if !crate::random::is_token(&handle) {
        return Ok(pages::error_page(Refusal::Stale, "no such sign-in request"));
    }
    let session = session_of(&state, &headers, &conn).await?;
    let answer = continue_request(
        &state,
        &state.saml,
        &handle,
        session.as_ref(),
        &t.client(&[]),
    )
    .await?;
    Ok(match answer {
        SsoAnswer::SignIn { continue_to } => sign_in_then(&continue_to),
        other => respond(&state, other),
    })
}

#[derive(serde::Deserialize)]
pub struct StartQuery {
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// GET /saml/start/{name}?RelayState=…: an IdP-initiated sign-in (the portal's tile).
pub async fn idp_initiated(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let t = transport(&conn, peer);
    let Ok(q) = serde_urlencoded::from_str::<StartQuery>(query.as_deref().unwrap_or("")) else {
        return Ok(pages::error_page(
            Refusal::BadRequest,
            "malformed parameters",
        ));
    };
    if q.relay_state
        .as_ref()
        .is_some_and(|r| r.len() > passgrid_saml::bindings::MAX_RELAY_STATE)
    {
        return Ok(pages::error_page(
            Refusal::BadRequest,
            "the RelayState is too long",
        ));
    }
    let session = session_of(&state, &headers, &conn).await?;
    let answer = start(
        &state,
        &state.saml,
        &name,
        q.relay_state.as_deref(),
        session.as_ref(),
        &t.client(&[]),
    )
    .await?;
    Ok(match answer {
        SsoAnswer::SignIn { continue_to } => sign_in_then(&continue_to),
        other => respond(&state, other),
    })
}
