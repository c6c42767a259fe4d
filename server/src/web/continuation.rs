//! "Sign in, then continue to X": an OpenID Connect authorization or a forward-auth
//! sign-in sends the browser to `/login/continue?to=LOCAL-PATH`; the path is kept in a
//! short cookie through the sign-in (and its first-login steps) and followed after.
//! Only local paths are taken, so it can never be an open redirect.

use axum::{
    extract::Query,
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use serde::Deserialize;

use crate::http::{flow::with_cookie, middleware::cookie};

const CONTINUE_COOKIE: &str = "passgrid_continue";
const MAX_PATH: usize = 4096;

/// A path on this server: `/…` but not `//host` or `/\host` (which browsers read as
/// another host), printable, bounded.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && p.len() <= MAX_PATH
        && p.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(Deserialize)]
pub struct ContinueQuery {
    #[serde(default)]
    to: String,
}

/// GET /login/continue?to=PATH: remember PATH, then sign in.
pub async fn start(Query(q): Query<ContinueQuery>) -> Response {
    if !is_local_path(&q.to) {
        return Redirect::to("/login").into_response();
    }
    with_cookie(
        Redirect::to("/login").into_response(),
        &format!(
            "{CONTINUE_COOKIE}={}; Path=/; Max-Age=1800; Secure; HttpOnly; SameSite=Lax",
            B64.encode(q.to.as_bytes())
        ),
    )
}

/// The pending continuation of the request, if any.
pub fn pending(headers: &HeaderMap) -> Option<String> {
    let raw = cookie(headers, CONTINUE_COOKIE)?;
    let path = String::from_utf8(B64.decode(raw).ok()?).ok()?;
    is_local_path(&path).then_some(path)
}

/// Follows the pending continuation, if any, and forgets it: a page that moves on by
/// itself (see `oauth::continue_page` for why not a redirect).
pub fn follow(headers: &HeaderMap, res_cookie: Option<&str>) -> Option<Response> {
    let path = pending(headers)?;
    let mut res = crate::http::error::oauth::continue_page(&path);
    if let Some(c) = res_cookie {
        res = with_cookie(res, c);
    }
    Some(with_cookie(
        res,
        &format!("{CONTINUE_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths() {
        assert!(is_local_path("/oidc/authorize?client_id=x"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("/\\evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/a b"));
        assert!(!is_local_path(""));
    }
}
