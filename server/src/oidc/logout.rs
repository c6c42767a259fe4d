//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): with an ID token
//! of this session as hint the session ends at once; without one the user confirms
//! (a cross-site link must not log anybody out). Ending it ends it everywhere
//! (`sso::logout`). The browser is sent back only to a registered post-logout URI.

use std::net::SocketAddr;

use app::context::CsrfToken;
use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    Extension,
};
use serde::Deserialize;

use super::authorize::{found, with_query};
use crate::{
    http::{
        cookies::{expired_session_cookie, SESSION_COOKIE},
        csrf::csrf_ok,
        error::{oauth, AppError},
        flow::with_cookie,
        middleware::cookie,
        AppState,
    },
    sso::{logout::end_sso_session, sso_session},
};

#[derive(Deserialize, Default)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// The checked request: where to go afterwards, and whose ID token came as a hint.
struct Checked {
    redirect: Option<String>,
    hint_sub: Option<String>,
}

async fn check(state: &AppState, p: &LogoutParams) -> Result<Result<Checked, Response>, AppError> {
    let mut client_id = p.client_id.clone();
    let mut hint_sub = None;
    if let Some(hint) = &p.id_token_hint {
        let keys = state.sso.keys(&state.instance).await?;
        // Our signature and issuer; an expired hint is still a hint (§2).
        let Ok(claims) = keys.verify(hint) else {
            return Ok(Err(oauth::error_page(
                "invalid_request",
                "the id_token_hint is not an ID token of this provider",
            )));
        };
        if claims["iss"].as_str() != Some(state.sso.issuer.as_str()) {
            return Ok(Err(oauth::error_page(
                "invalid_request",
                "the id_token_hint is not an ID token of this provider",
            )));
        }
        let aud = claims["aud"].as_str().map(str::to_string);
        if client_id.is_some() && client_id != aud {
            return Ok(Err(oauth::error_page(
                "invalid_request",
                "client_id does not match the id_token_hint",
            )));
        }
        client_id = aud;
        hint_sub = claims["sub"].as_str().map(str::to_string);
    }
    let mut redirect = None;
    if let Some(uri) = &p.post_logout_redirect_uri {
        let client = match &client_id {
            Some(id) => state.instance.store.oidc_client(id).await?,
            None => None,
        };
        // Registered URIs only, matched exactly (§3): never an open redirect.
        if !client.is_some_and(|c| c.post_logout_uris.iter().any(|u| u == uri)) {
            return Ok(Err(oauth::error_page(
                "invalid_request",
                "the post_logout_redirect_uri is not registered for this client",
            )));
        }
        let mut pairs = vec![];
        if let Some(s) = &p.state {
            pairs.push(("state", s.as_str()));
        }
        redirect = Some(with_query(uri, &pairs));
    }
    Ok(Ok(Checked { redirect, hint_sub }))
}

/// Signed out: back to the client's registered URI, or a page saying so. After the
/// confirmation form the way back is a page that moves on by itself: the form's
/// `form-action 'self'` would also bind a redirect to another origin.
fn done(redirect: Option<String>, after_form: bool) -> Response {
    let res = match redirect {
        Some(url) if after_form => oauth::continue_page(&url),
        Some(url) => found(&url),
        None => Html(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>\
             <body><main><h1 id=\"signed-out\">You are signed out / サインアウトしました</h1>\
             <p><a href=\"/login\">Sign in / サインイン</a></p></main></body></html>",
        )
        .into_response(),
    };
    with_cookie(res, &expired_session_cookie())
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

pub async fn end_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    csrf: Option<Extension<CsrfToken>>,
    conn: Option<Extension<crate::tls::ConnectionInfo>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = uri.query().unwrap_or("");
    let Ok(p) = serde_urlencoded::from_str::<LogoutParams>(query) else {
        return Ok(oauth::error_page(
            "invalid_request",
            "malformed request parameters",
        ));
    };
    if query.len() > 8192 {
        return Ok(oauth::error_page(
            "invalid_request",
            "the request is too long",
        ));
    }
    let checked = match check(&state, &p).await? {
        Ok(c) => c,
        Err(page) => return Ok(page),
    };
    let token = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    let session = match &token {
        Some(t) => {
            let fingerprint = crate::http::flow::cert_fingerprint(&conn);
            sso_session(&state.instance, t, fingerprint.as_deref()).await?
        }
        None => None,
    };
    let Some(session) = session else {
        // Nobody signed in here: nothing to end.
        return Ok(done(checked.redirect, false));
    };
    if checked.hint_sub.as_deref() == Some(session.user_id.as_str()) {
        if let Some(t) = &token {
            end_sso_session(&state, &state.sso, t, &peer.ip().to_string()).await?;
        }
        return Ok(done(checked.redirect, false));
    }
    // No hint of this user: ask (a form with the CSRF token, posted back here).
    let csrf = csrf.map(|Extension(c)| c.0).unwrap_or_default();
    let hidden: String = [
        ("id_token_hint", &p.id_token_hint),
        ("post_logout_redirect_uri", &p.post_logout_redirect_uri),
        ("state", &p.state),
        ("client_id", &p.client_id),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_ref().map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign out</title></head>\
         <body><main><h1>Sign out of passgrid and its applications? / サインアウトしますか？</h1>\
         <form method=\"post\" action=\"/oidc/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{hidden}\
         <button id=\"confirm-logout\" type=\"submit\">Sign out / サインアウト</button></form></main></body></html>",
        escape(&csrf)
    );
    Ok(oauth::no_store(
        (StatusCode::OK, Html(body)).into_response(),
    ))
}

pub async fn end_session_confirmed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(p): axum::Form<LogoutParams>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &p.csrf) {
        return Ok(oauth::error_page(
            "invalid_request",
            "the form expired; try again",
        ));
    }
    let checked = match check(&state, &p).await? {
        Ok(c) => c,
        Err(page) => return Ok(page),
    };
    if let Some(t) = cookie(&headers, SESSION_COOKIE) {
        end_sso_session(&state, &state.sso, t, &peer.ip().to_string()).await?;
    }
    Ok(done(checked.redirect, true))
}
