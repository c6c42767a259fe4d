//! The site embedded in the binary (`passgrid-site`): `/pkg/…` (WASM, JS, CSS) and the
//! public files, with the gzip copy to browsers that accept it, an ETag and 304s.
//! Used unless `--site-root` (or `[serve] site_root`) asks for a directory, or the
//! binary was built without a site.

use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};

use crate::http::AppState;

/// Whether pages should take their files from the binary.
pub fn use_embedded(site_root_given: bool) -> bool {
    !site_root_given && passgrid_site::is_embedded()
}

/// `GET /pkg/{path}`.
pub async fn pkg(Path(path): Path<String>, headers: HeaderMap) -> Response {
    embedded(&format!("pkg/{path}"), &headers)
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// Anything no route took: an embedded public file (robots.txt, images), else the
/// app's own answer (its 404 page).
pub async fn fallback(State(state): State<AppState>, uri: Uri, req: Request) -> Response {
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty() && !path.starts_with("pkg/") {
        if let Some(res) = embedded(path, req.headers()) {
            return res;
        }
    }
    leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, State(state), req).await
}

fn accepts(headers: &HeaderMap, coding_name: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            // "gzip;q=0" refuses it.
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case(coding_name) && !refused
        })
}

fn embedded(path: &str, headers: &HeaderMap) -> Option<Response> {
    // rust-embed looks names up in its table; ".." never reaches the file system.
    let plain = passgrid_site::file(path)?;
    let content_type = plain.content_type.clone();
    // The copies the build made beside each file: brotli, else gzip, if accepted.
    let compressed = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(coding, _)| accepts(headers, coding))
        .find_map(|(coding, ext)| {
            passgrid_site::file(&format!("{path}.{ext}")).map(|f| (f, coding))
        });
    let (file, encoding) = match compressed {
        Some((f, coding)) => (f, Some(coding)),
        None => (plain, None),
    };
    let etag = format!("\"{}\"", file.etag);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.bytes.into_owned()))
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(coding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts(&h, "gzip"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip, deflate"),
        );
        assert!(accepts(&h, "gzip") && accepts(&h, "br"));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts(&h, "gzip") && accepts(&h, "br"));
    }
}
