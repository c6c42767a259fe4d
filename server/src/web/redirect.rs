//! The plain-HTTP listener: it only redirects to HTTPS (SPEC §3.3).

use axum::{
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};

/// A router that answers every request with a permanent redirect to `https_base`'s
/// scheme and port. The host is kept only when it is one of `allowed_hosts`.
pub fn redirect_router(
    https_port: u16,
    allowed_hosts: Vec<String>,
    default_host: String,
) -> Router {
    Router::new().fallback(move |headers: HeaderMap, uri: Uri| {
        let allowed_hosts = allowed_hosts.clone();
        let default_host = default_host.clone();
        async move { redirect(&headers, &uri, https_port, &allowed_hosts, &default_host) }
    })
}

fn redirect(
    headers: &HeaderMap,
    uri: &Uri,
    https_port: u16,
    allowed: &[String],
    default_host: &str,
) -> Response {
    let requested = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(strip_port)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let host = if allowed
        .iter()
        .any(|a| a.trim_matches(['[', ']']) == requested.trim_matches(['[', ']']))
    {
        requested
    } else {
        default_host.to_string()
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let location = format!("https://{host}{port}{path}");
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: &str, uri: &str) -> String {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        let res = redirect(
            &h,
            &uri.parse().unwrap(),
            8443,
            &["localhost".into(), "::1".into()],
            "127.0.0.1",
        );
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn keeps_known_hosts_only() {
        assert_eq!(
            location("localhost:8080", "/x?y=1"),
            "https://localhost:8443/x?y=1"
        );
        assert_eq!(location("evil.example", "/"), "https://127.0.0.1:8443/");
        assert_eq!(location("[::1]:8080", "/"), "https://[::1]:8443/");
    }
}
