//! The OpenID Connect provider's HTTP side (OIDC Core 1.0, Discovery 1.0, RFC 6749,
//! 7009, 7636, 7662; RP-Initiated and Back-Channel Logout 1.0). The decisions are in
//! `sso`; this module reads requests and writes the RFCs' answers.

pub mod authorize;
pub mod logout;
pub mod token;

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::{
    http::{error::AppError, AppState},
    sso::clients::KNOWN_SCOPES,
};

/// The provider's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/authorize", get(authorize::authorize))
        .route("/oidc/token", axum::routing::post(token::token))
        .route("/oidc/revoke", axum::routing::post(token::revoke))
        .route("/oidc/introspect", axum::routing::post(token::introspect))
        .route("/oidc/userinfo", get(token::userinfo).post(token::userinfo))
        .route(
            "/oidc/logout",
            get(logout::end_session).post(logout::end_session_confirmed),
        )
}

/// OpenID Connect Discovery 1.0 §3.
async fn discovery(State(state): State<AppState>) -> Response {
    let iss = &state.sso.issuer;
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oidc/authorize"),
        "token_endpoint": format!("{iss}/oidc/token"),
        "userinfo_endpoint": format!("{iss}/oidc/userinfo"),
        "jwks_uri": format!("{iss}/oidc/jwks"),
        "revocation_endpoint": format!("{iss}/oidc/revoke"),
        "introspection_endpoint": format!("{iss}/oidc/introspect"),
        "end_session_endpoint": format!("{iss}/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": KNOWN_SCOPES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr",
                             "sid", "azp", "preferred_username", "name", "email", "groups"],
        "acr_values_supported": ["urn:passgrid:acr:grid", "urn:passgrid:acr:grid+device"],
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
    }))
    .into_response()
}

/// The JWKS (RFC 7517): keys in use and retired keys whose tokens may still be live.
async fn jwks(State(state): State<AppState>, _h: HeaderMap) -> Result<Response, AppError> {
    let ring = state.sso.fresh_keys(&state.instance).await?;
    let mut res = Json(ring.jwks()).into_response();
    // Short, so that a rotation reaches relying parties soon.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}
