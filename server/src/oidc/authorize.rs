//! GET /oidc/authorize (OIDC Core §3.1.2): the request is decided by
//! `sso::grants::authorize` on the SSO session; without one (or when a fresh grid is
//! asked for) the browser goes through passgrid's own sign-in and comes back here.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Extension,
};

use crate::{
    http::{
        cookies::SESSION_COOKIE, error::oauth, error::AppError, flow::Transport,
        middleware::cookie, AppState,
    },
    sso::{
        grants::{audit_oauth_refusal, authorize as decide, Authorization, AuthorizeParams},
        sso_session,
    },
    tls::ConnectionInfo,
};

/// Longest authorization request taken (a request longer than this is not a real
/// client's).
const MAX_QUERY: usize = 8 * 1024;

/// A 302 to `url`.
pub fn found(url: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// `base` with the pairs appended to its query.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_string(),
    }
}

/// Where the sign-in returns to: this request again, with the time after which the
/// session must have started (for prompt=login, max_age and the application's rule).
fn continuation(query: &str, after: Option<i64>) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "pg_after")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(after) = after {
        pairs.push(("pg_after".into(), after.to_string()));
    }
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let to = format!("/oidc/authorize?{q}");
    format!(
        "/login/continue?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("to", &to)
            .finish()
    )
}

pub async fn authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = uri.query().unwrap_or("");
    let source = peer.ip().to_string();
    if query.len() > MAX_QUERY {
        audit_oauth_refusal(&state, &source, "-", "request too long").await;
        return Ok(oauth::error_page(
            "invalid_request",
            "the request is too long",
        ));
    }
    // Duplicated parameters are refused (RFC 6749 §3.1): the parser rejects them.
    let params: AuthorizeParams = match serde_urlencoded::from_str(query) {
        Ok(p) => p,
        Err(_) => {
            audit_oauth_refusal(&state, &source, "-", "malformed request parameters").await;
            return Ok(oauth::error_page(
                "invalid_request",
                "malformed request parameters",
            ));
        }
    };
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => {
            let fingerprint = crate::http::flow::cert_fingerprint(&conn);
            sso_session(&state.instance, token, fingerprint.as_deref()).await?
        }
        None => None,
    };
    let transport = Transport::of(&conn, Some(peer.ip()));
    let (decision, client) =
        decide(&state, &params, session.as_ref(), &transport.client(&[])).await?;
    let app = client
        .as_ref()
        .map(|c| c.application.as_str())
        .unwrap_or("-");
    Ok(match decision {
        Authorization::ErrorPage { error, description } => {
            state.metrics.sso_event(app, "refused");
            // Audited here, once for every refused request (RFC 6749 §4.1.2.1 cases).
            let target = client.as_ref().map(|c| c.application.as_str());
            let target = target.or(params.client_id.as_deref()).unwrap_or("-");
            let target: String = target.chars().take(128).collect();
            audit_oauth_refusal(&state, &source, &target, &description).await;
            oauth::error_page(error, &description)
        }
        Authorization::ErrorRedirect {
            redirect_uri,
            error,
            description,
            state: st,
        } => {
            state.metrics.sso_event(app, "refused");
            audit_oauth_refusal(&state, &source, app, description).await;
            let mut pairs = vec![("error", error), ("error_description", description)];
            if let Some(s) = &st {
                pairs.push(("state", s));
            }
            pairs.push(("iss", &state.sso.issuer));
            found(&with_query(&redirect_uri, &pairs))
        }
        Authorization::SignIn { after } => found(&continuation(query, after)),
        Authorization::Code {
            redirect_uri,
            code,
            state: st,
        } => {
            state.metrics.sso_event(app, "authorize");
            let mut pairs = vec![("code", code.as_str())];
            if let Some(s) = &st {
                pairs.push(("state", s));
            }
            // RFC 9207: the issuer, so the client can tell which provider answered.
            pairs.push(("iss", &state.sso.issuer));
            oauth::no_store(found(&with_query(&redirect_uri, &pairs)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_keeps_the_request_and_sets_the_time() {
        let c = continuation("client_id=a&prompt=login&pg_after=1&state=x%26y", Some(42));
        assert!(
            c.starts_with("/login/continue?to=%2Foidc%2Fauthorize%3F"),
            "{c}"
        );
        let to: String = url::form_urlencoded::parse(c.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "to")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(
            to,
            "/oidc/authorize?client_id=a&prompt=login&state=x%26y&pg_after=42"
        );
    }
}
