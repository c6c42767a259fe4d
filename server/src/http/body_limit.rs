//! How large a request body may be: small everywhere (`[serve] max_body_bytes`,
//! 1 MiB by default) except for the routes that take files, so a 100,000-user CSV
//! import works while a login form cannot be made to buffer megabytes. A body
//! announced too large is refused at once with a reason; one that only turns out too
//! large while streaming is cut off at the limit (413 from the extractor).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// The largest CSV file an import takes (the same as `passgrid user import`).
pub const MAX_IMPORT_BYTES: usize = 50 * 1024 * 1024;

/// The largest token seed file (CSV or PSKC) an import takes: tens of thousands of
/// tokens.
pub const MAX_TOKEN_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Routes that take files, and their limits.
const FILE_ROUTES: &[(&str, usize)] = &[
    ("/api/v1/admin/user-imports", MAX_IMPORT_BYTES),
    ("/api/v1/admin/token-imports", MAX_TOKEN_FILE_BYTES),
];

#[derive(Clone, Copy)]
pub struct BodyLimits {
    pub default: usize,
}

impl BodyLimits {
    pub fn for_path(&self, path: &str) -> usize {
        FILE_ROUTES
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(self.default, |(_, max)| *max)
    }
}

pub async fn limit_request_body(
    State(limits): State<BodyLimits>,
    req: Request,
    next: Next,
) -> Response {
    let max = limits.for_path(req.uri().path());
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > max as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({
                "error": "too_large",
                "message": format!("The request body is larger than {} bytes; nothing was changed.", max),
            })),
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, max));
    next.run(Request::from_parts(parts, limited)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_routes_get_their_own_limit() {
        let limits = BodyLimits { default: 1024 };
        assert_eq!(limits.for_path("/login/start"), 1024);
        assert_eq!(
            limits.for_path("/api/v1/admin/user-imports"),
            MAX_IMPORT_BYTES
        );
        assert_eq!(limits.for_path("/api/v1/admin/user-imports/x"), 1024);
    }
}
