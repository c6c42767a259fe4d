//! The token endpoint (RFC 6749 §3.2), revocation (RFC 7009), introspection (RFC
//! 7662) and userinfo (OIDC Core §5.3). Requests are forms; answers JSON, never cached.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde::Deserialize;
use serde_json::json;

use crate::{
    http::{error::oauth, error::AppError, AppState},
    sso::{
        grants::audit_oauth_refusal,
        tokens::{self, authenticate_client, OAuthRefusal, TokenSet},
    },
    store::oidc_clients::OidcClient,
};

/// The fields any of these endpoints reads. A field given twice is refused by the
/// parser (RFC 6749 §3.2: parameters must not repeat).
#[derive(Deserialize, Default)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    #[allow(dead_code)]
    scope: Option<String>,
    access_token: Option<String>,
}

const fn refusal(error: &'static str, description: &'static str) -> OAuthRefusal {
    OAuthRefusal { error, description }
}

/// Percent-decoding of the Basic credentials (RFC 6749 §2.3.1 form-encodes them).
fn form_decode(v: &str) -> String {
    url::form_urlencoded::parse(format!("v={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client's credentials: Basic or the form, never both (RFC 6749 §2.3).
fn credentials(
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<(Option<String>, Option<String>), OAuthRefusal> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(|b| {
            STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .and_then(|s| {
                    s.split_once(':')
                        .map(|(i, p)| (form_decode(i), form_decode(p)))
                })
                .ok_or(refusal("invalid_client", "client authentication failed"))
        })
        .transpose()?;
    match basic {
        Some(_) if form.client_secret.is_some() => Err(refusal(
            "invalid_request",
            "use one client authentication method",
        )),
        Some((id, secret)) => {
            if form.client_id.as_ref().is_some_and(|c| *c != id) {
                return Err(refusal("invalid_client", "client authentication failed"));
            }
            Ok((Some(id), Some(secret)))
        }
        None => Ok((form.client_id.clone(), form.client_secret.clone())),
    }
}

fn parse_form(headers: &HeaderMap, body: &Bytes) -> Result<TokenForm, OAuthRefusal> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type || body.len() > 16 * 1024 {
        return Err(refusal(
            "invalid_request",
            "send a form (application/x-www-form-urlencoded)",
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| refusal("invalid_request", "malformed or repeated parameters"))
}

/// Reads the form and authenticates the client: the client, or the error answer.
async fn client_of(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    source: &str,
) -> Result<Result<(OidcClient, TokenForm), Response>, AppError> {
    let form = match parse_form(headers, body) {
        Ok(f) => f,
        Err(r) => {
            audit_oauth_refusal(state, source, "-", r.description).await;
            return Ok(Err(oauth::token_error(r)));
        }
    };
    let (id, secret) = match credentials(headers, &form) {
        Ok(c) => c,
        Err(r) => {
            audit_oauth_refusal(state, source, "-", r.description).await;
            return Ok(Err(oauth::token_error(r)));
        }
    };
    match authenticate_client(state, id.as_deref(), secret.as_deref()).await? {
        Ok(client) => Ok(Ok((client, form))),
        Err(r) => {
            let target = id
                .as_deref()
                .unwrap_or("-")
                .chars()
                .take(128)
                .collect::<String>();
            audit_oauth_refusal(state, source, &target, "client authentication failed").await;
            Ok(Err(oauth::token_error(r)))
        }
    }
}

fn token_answer(set: TokenSet) -> Response {
    oauth::no_store(
        Json(json!({
            "access_token": set.access_token, "token_type": "Bearer", "expires_in": set.expires_in,
            "refresh_token": set.refresh_token, "id_token": set.id_token, "scope": set.scope,
        }))
        .into_response(),
    )
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let source = peer.ip().to_string();
    let (client, form) = match client_of(&state, &headers, &body, &source).await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let result = match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let Some(code) = form.code.as_deref() else {
                return Ok(oauth::token_error(refusal(
                    "invalid_request",
                    "code is missing",
                )));
            };
            tokens::exchange_code(
                &state,
                &state.sso,
                &client,
                code,
                form.redirect_uri.as_deref(),
                form.code_verifier.as_deref(),
                &source,
            )
            .await?
        }
        Some("refresh_token") => {
            let Some(rt) = form.refresh_token.as_deref() else {
                return Ok(oauth::token_error(refusal(
                    "invalid_request",
                    "refresh_token is missing",
                )));
            };
            tokens::refresh(&state, &state.sso, &client, rt, &source).await?
        }
        Some(_) => Err(refusal(
            "unsupported_grant_type",
            "authorization_code or refresh_token",
        )),
        None => Err(refusal("invalid_request", "grant_type is missing")),
    };
    let event = if form.grant_type.as_deref() == Some("refresh_token") {
        "refresh"
    } else {
        "token"
    };
    Ok(match result {
        Ok(set) => {
            state.metrics.sso_event(&client.application, event);
            token_answer(set)
        }
        Err(r) => {
            state.metrics.sso_event(&client.application, "refused");
            oauth::token_error(r)
        }
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let source = peer.ip().to_string();
    let (client, form) = match client_of(&state, &headers, &body, &source).await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let Some(token) = form.token.as_deref() else {
        return Ok(oauth::token_error(refusal(
            "invalid_request",
            "token is missing",
        )));
    };
    tokens::revoke(&state, &client, token, &source).await?;
    // RFC 7009 §2.2: 200 whether or not the token was known.
    Ok(oauth::no_store(Json(json!({})).into_response()))
}

pub async fn introspect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let source = peer.ip().to_string();
    let (client, form) = match client_of(&state, &headers, &body, &source).await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    // A public client cannot prove who asks (RFC 7662 §2.1 wants authorization).
    if client.is_public() {
        return Ok(oauth::token_error(refusal(
            "invalid_client",
            "client authentication failed",
        )));
    }
    let Some(token) = form.token.as_deref() else {
        return Ok(oauth::token_error(refusal(
            "invalid_request",
            "token is missing",
        )));
    };
    Ok(oauth::no_store(
        Json(tokens::introspect(&state, &client, token).await?).into_response(),
    ))
}

/// OIDC Core §5.3: the claims of the access token's scope. The token comes in the
/// Authorization header (RFC 6750 §2.1) or, on POST, the form (§2.2).
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .or_else(|| {
            serde_urlencoded::from_bytes::<TokenForm>(&body)
                .ok()
                .and_then(|f| f.access_token)
        });
    let Some(bearer) = bearer else {
        return Ok(oauth::invalid_token());
    };
    let Some(token) = tokens::access_token(&state, &bearer).await? else {
        return Ok(oauth::invalid_token());
    };
    match tokens::user_claims(&state, &token.user_id, &token.scope).await? {
        Some(claims) => Ok(oauth::no_store(Json(claims).into_response())),
        None => Ok(oauth::invalid_token()),
    }
}
