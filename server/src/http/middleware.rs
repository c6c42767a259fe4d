//! Request middleware: malformed cookies are refused, the page language is chosen,
//! responses are counted and get security headers.

use app::i18n::{Lang, LANG_COOKIE};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::AppState;

const MAX_COOKIE_HEADER: usize = 8 * 1024;

/// Refuses a request whose Cookie header is not a list of `name=value` pairs of
/// printable characters: such a header came from a broken or hostile client.
pub async fn reject_malformed_cookies(req: Request, next: Next) -> Response {
    for value in req.headers().get_all(header::COOKIE) {
        if !cookie_header_is_well_formed(value.as_bytes()) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": "malformed_cookie", "message": "The Cookie header is malformed." })),
            )
                .into_response();
        }
    }
    next.run(req).await
}

fn cookie_header_is_well_formed(bytes: &[u8]) -> bool {
    if bytes.len() > MAX_COOKIE_HEADER {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .all(|pair| {
            matches!(pair.split_once('='), Some((name, value))
            if !name.trim().is_empty()
                && name.chars().all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c))
                && !value.chars().any(char::is_control))
        })
}

/// The value of cookie `name` in the request, if present.
pub fn cookie<'a>(req_headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// Chooses the page language: the remembered choice, else `Accept-Language`.
pub async fn select_language(mut req: Request, next: Next) -> Response {
    let lang = cookie(req.headers(), LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or_default();
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    res
}

/// Headers every response carries. Inline scripts (Leptos's hydration loader) run
/// only with this response's nonce; everything else is same-origin only.
pub async fn security_headers(mut req: Request, next: Next) -> Response {
    // JSON answers run no scripts: a fixed policy and no nonce to draw.
    let nonce = if req.uri().path().starts_with("/api/") {
        None
    } else {
        match crate::random::new_token() {
            Ok(token) => Some(token[..22].to_string()),
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    };
    if let Some(nonce) = &nonce {
        req.extensions_mut()
            .insert(app::context::CspNonce(nonce.clone()));
    }
    let path = req.uri().path();
    let private = ["/me", "/login", "/setup", "/api/"]
        .iter()
        .any(|p| path.starts_with(p));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // A handler that set its own policy keeps it: the SAML form page allows exactly
    // its one script by hash and its form to exactly the SP's endpoint.
    let own_policy = h.contains_key(header::CONTENT_SECURITY_POLICY);
    match nonce {
        _ if own_policy => {}
        Some(nonce) => {
            let csp = format!(
                "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
                 style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
        None => {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages with grids, passwords or personal data are never stored by caches.
        let value = if private { "no-store" } else { "no-cache" };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Counts responses by status class for `/metrics`.
pub async fn count_responses(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    state.metrics.response(res.status().as_u16());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_headers() {
        assert!(cookie_header_is_well_formed(b"a=b; passgrid_lang=ja"));
        assert!(cookie_header_is_well_formed(b"a=; b=c;"));
        assert!(cookie_header_is_well_formed(b"json={\"x\":1}"));
        assert!(!cookie_header_is_well_formed(b"novalue"));
        assert!(!cookie_header_is_well_formed(b"=x"));
        assert!(!cookie_header_is_well_formed(b"a=b\x01"));
        assert!(!cookie_header_is_well_formed(b"a=\xff\xfe"));
        assert!(!cookie_header_is_well_formed(b"bad name=x"));
        assert!(!cookie_header_is_well_formed(&[b'a'; 9000]));
    }

    #[test]
    fn finds_cookie_by_name() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; passgrid_lang=ja"),
        );
        assert_eq!(cookie(&h, "passgrid_lang"), Some("ja"));
        assert_eq!(cookie(&h, "y"), None);
    }
}
