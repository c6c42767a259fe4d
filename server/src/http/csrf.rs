//! CSRF protection for forms: a double-submit token. Every page gets the token of its
//! cookie (made on first visit); a form post must carry the same value. Cookies are
//! also SameSite=Lax, so this is a second fence, not the only one.

use app::context::{CsrfToken, CSRF_COOKIE};
use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};
use subtle::ConstantTimeEq;

use super::middleware::cookie;
use crate::random::{is_token, new_token};

pub async fn issue_csrf_token(mut req: Request, next: Next) -> Response {
    // JSON routes take no forms: a cross-site page cannot send them a JSON body
    // without a CORS preflight, which is never granted.
    if req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let existing = cookie(req.headers(), CSRF_COOKIE)
        .filter(|v| is_token(v))
        .map(str::to_string);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => match new_token() {
            Ok(t) => (t.to_string(), true),
            Err(_) => (String::new(), false),
        },
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax"
        )) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Whether a form's token matches the request's cookie.
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    match cookie(headers, CSRF_COOKIE).filter(|v| is_token(v)) {
        Some(expected) => {
            submitted.len() == expected.len()
                && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
        }
        None => false,
    }
}
