//! Who may read `/metrics`: clients on the allowed networks (`[serve] metrics_allow`,
//! loopback only by default) and anyone presenting the bearer token of `[serve]
//! metrics_token_file`. The figures tell an outsider how many sign-ins fail and when
//! the server is busy — not for everyone.

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::proxy::X_FORWARDED_FOR;
use crate::{net::Cidr, tls::ConnectionInfo};

/// The allow-list and the token's hash (the token itself is not kept).
#[derive(Clone, Debug)]
pub struct MetricsAccess {
    pub allow: Vec<Cidr>,
    pub token_sha256: Option<[u8; 32]>,
}

impl Default for MetricsAccess {
    fn default() -> Self {
        MetricsAccess {
            allow: vec![
                "127.0.0.0/8".parse().expect("a CIDR"),
                "::1/128".parse().expect("a CIDR"),
            ],
            token_sha256: None,
        }
    }
}

/// Why `/metrics` was not served.
#[derive(Debug, PartialEq, Eq)]
pub enum MetricsRefusal {
    /// A token is configured and was not presented (or was wrong).
    NeedsToken,
    /// No token is configured and the client is not on an allowed network.
    NotAllowed,
}

impl MetricsAccess {
    /// Whether this request may read the metrics.
    pub fn check(
        &self,
        conn: Option<&ConnectionInfo>,
        headers: &HeaderMap,
    ) -> Result<(), MetricsRefusal> {
        if let (Some(expected), Some(presented)) = (&self.token_sha256, bearer(headers)) {
            // Hashes of equal length, compared in constant time: neither the token's
            // bytes nor its length leak through timing.
            let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
            if bool::from(presented.ct_eq(expected)) {
                return Ok(());
            }
        }
        // A request that names a client through proxy headers which nothing trusted
        // resolved (a proxy on this host that is not in `trusted_proxies`) is not
        // taken for the loopback client it seems to be.
        let unresolved_forward = conn.is_none_or(|c| c.forwarded_by.is_none())
            && (headers.contains_key(X_FORWARDED_FOR) || headers.contains_key(header::FORWARDED));
        let on_allowed_network = conn
            .map(|c| c.peer.ip())
            .is_some_and(|ip| self.allow.iter().any(|n| n.contains(ip)));
        if on_allowed_network && !unresolved_forward {
            return Ok(());
        }
        Err(if self.token_sha256.is_some() {
            MetricsRefusal::NeedsToken
        } else {
            MetricsRefusal::NotAllowed
        })
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn conn(ip: &str) -> ConnectionInfo {
        ConnectionInfo {
            peer: std::net::SocketAddr::new(ip.parse().unwrap(), 1),
            forwarded_by: None,
            client_certificate: None,
            tls_version: "TLSv1.3",
        }
    }

    #[test]
    fn loopback_or_the_token() {
        let open = MetricsAccess::default();
        let none = HeaderMap::new();
        assert_eq!(open.check(Some(&conn("127.0.0.1")), &none), Ok(()));
        assert_eq!(open.check(Some(&conn("::1")), &none), Ok(()));
        assert_eq!(
            open.check(Some(&conn("192.0.2.1")), &none),
            Err(MetricsRefusal::NotAllowed)
        );
        let mut forwarded = HeaderMap::new();
        forwarded.insert(X_FORWARDED_FOR, HeaderValue::from_static("192.0.2.1"));
        assert_eq!(
            open.check(Some(&conn("127.0.0.1")), &forwarded),
            Err(MetricsRefusal::NotAllowed),
            "a local proxy's client is not local"
        );

        let with_token = MetricsAccess {
            allow: vec![],
            token_sha256: Some(Sha256::digest(b"s3cret-token-value").into()),
        };
        let mut good = HeaderMap::new();
        good.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret-token-value"),
        );
        let mut bad = HeaderMap::new();
        bad.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert_eq!(with_token.check(Some(&conn("192.0.2.1")), &good), Ok(()));
        assert_eq!(
            with_token.check(Some(&conn("192.0.2.1")), &bad),
            Err(MetricsRefusal::NeedsToken)
        );
        assert_eq!(
            with_token.check(Some(&conn("127.0.0.1")), &none),
            Err(MetricsRefusal::NeedsToken)
        );
    }
}
