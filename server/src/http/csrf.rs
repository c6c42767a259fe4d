//! CSRF protection for forms: a double-submit token. Every page gets the token of its
//! cookie (made on first visit); a form post must carry the same value. Cookies are
//! also SameSite=Lax, so this is a second fence, not the only one.
//!
//! Pages show the token masked with fresh random bytes in every response (as Django
//! and Rails do): compressed pages then hold no constant secret that an attacker could
//! recover from their size by mixing in guesses (BREACH). A submitted value may be
//! masked or plain.

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
    let shown = if token.is_empty() {
        String::new()
    } else {
        masked(&token).unwrap_or_default()
    };
    req.extensions_mut().insert(CsrfToken(shown));
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

/// Whether a form's token (masked or plain) matches the request's cookie.
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    let Some(expected) = cookie(headers, CSRF_COOKIE).filter(|v| is_token(v)) else {
        return false;
    };
    let plain = if submitted.len() == expected.len() {
        Some(submitted.as_bytes().to_vec())
    } else {
        unmask(submitted)
    };
    plain.is_some_and(|p| p.len() == expected.len() && bool::from(expected.as_bytes().ct_eq(&p)))
}

/// `hex(mask || token XOR mask)` with a fresh random mask.
fn masked(token: &str) -> Option<String> {
    let mut mask = vec![0u8; token.len()];
    crate::random::os_random(&mut mask).ok()?;
    let xored: Vec<u8> = token.bytes().zip(&mask).map(|(t, m)| t ^ m).collect();
    Some(format!("{}{}", hex::encode(&mask), hex::encode(xored)))
}

/// The token inside a masked value, if it is one.
fn unmask(value: &str) -> Option<Vec<u8>> {
    let bytes = hex::decode(value).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (mask, xored) = bytes.split_at(bytes.len() / 2);
    Some(xored.iter().zip(mask).map(|(x, m)| x ^ m).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let cookie = format!("{CSRF_COOKIE}={token}");
        h.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        h
    }

    #[test]
    fn masked_tokens_differ_each_time_and_still_match() {
        let token = "A".repeat(21) + &"b".repeat(22);
        let (one, two) = (masked(&token).unwrap(), masked(&token).unwrap());
        assert_ne!(one, two);
        assert!(!one.contains(&token));
        let h = headers_with(&token);
        assert!(csrf_ok(&h, &one) && csrf_ok(&h, &two) && csrf_ok(&h, &token));
        let other = masked(&("c".repeat(43))).unwrap();
        assert!(!csrf_ok(&h, &other));
        assert!(!csrf_ok(&h, ""));
        assert!(!csrf_ok(&h, "zz"));
    }
}
