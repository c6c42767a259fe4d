//! `/lang/{code}?next=/path`: remembers the language in a cookie and goes back.

use app::i18n::{Lang, LANG_COOKIE};
use axum::{
    extract::{Path, Query},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::http::error::AppError;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn switch_language(
    Path(code): Path<String>,
    Query(q): Query<Next>,
) -> Result<Response, AppError> {
    let lang = Lang::from_code(&code).ok_or(AppError::BadRequest("unknown_language"))?;
    let next = q
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into());
    let location = HeaderValue::from_str(&next).map_err(|_| AppError::BadRequest("bad_next"))?;
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; Secure; SameSite=Lax",
        lang.code()
    );
    let cookie = HeaderValue::from_str(&cookie).map_err(|_| AppError::BadRequest("bad_cookie"))?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location), (header::SET_COOKIE, cookie)],
    )
        .into_response())
}

/// Only paths on this site: no scheme, no `//host`, no backslash tricks (open redirect).
fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_must_be_local() {
        assert!(super::is_local_path("/setup/abc"));
        assert!(!super::is_local_path("//evil.example/"));
        assert!(!super::is_local_path("https://evil.example/"));
        assert!(!super::is_local_path("/\\evil.example"));
    }
}
