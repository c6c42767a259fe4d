//! The SAML 2.0 identity provider's HTTP side (SAML Bindings §3.4 HTTP-Redirect and
//! §3.5 HTTP-POST; Metadata §2.4.3). The decisions are in `saml_idp`; this module
//! reads the bindings and writes their answers.

pub mod slo;
pub mod sso;

use std::net::SocketAddr;

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Router,
};

use crate::{
    http::{
        cookies::SESSION_COOKIE, error::AppError, flow::Transport, middleware::cookie, AppState,
    },
    sso::{sso_session, SsoSession},
    tls::ConnectionInfo,
};

/// The IdP's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata", get(metadata))
        .route(
            "/saml/sso",
            get(sso::redirect_binding).post(sso::post_binding),
        )
        .route("/saml/continue/{handle}", get(sso::continue_after_sign_in))
        .route("/saml/start/{name}", get(sso::idp_initiated))
        .route(
            "/saml/slo",
            get(slo::redirect_binding).post(slo::post_binding),
        )
        .route("/saml/logout/continue", get(slo::continue_chain))
}

/// GET /saml/metadata: the IdP's metadata (entity ID, signing certificates — during
/// a rotation the old one too —, SSO and SLO endpoints for both bindings).
async fn metadata(State(state): State<AppState>) -> Result<Response, AppError> {
    let xml = state.saml.metadata_xml(&state.instance).await?;
    let mut res = xml.into_response();
    let h = res.headers_mut();
    // Metadata §4.1.1: the media type of SAML metadata.
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/samlmetadata+xml"),
    );
    // Short, so that a key rotation reaches SPs that poll it soon.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}

/// The browser's SSO session, if its cookie names a live one made on this device.
async fn session_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    conn: &Option<Extension<ConnectionInfo>>,
) -> Result<Option<SsoSession>, AppError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(token) => {
            let fingerprint = crate::http::flow::cert_fingerprint(conn);
            Ok(sso_session(&state.instance, token, fingerprint.as_deref()).await?)
        }
        None => Ok(None),
    }
}

/// The transport of a request (peer, client certificate).
fn transport(conn: &Option<Extension<ConnectionInfo>>, peer: SocketAddr) -> Transport {
    Transport::of(conn, Some(peer.ip()))
}

/// `/login/continue?to=PATH`: sign in, then PATH.
fn sign_in_then(path: &str) -> Response {
    let to: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    see_other(&format!("/login/continue?to={to}"))
}

/// A 303 to `url`.
fn see_other(url: &str) -> Response {
    (
        axum::http::StatusCode::SEE_OTHER,
        [(header::LOCATION, url.to_string())],
    )
        .into_response()
}
