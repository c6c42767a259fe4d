//! What the sign-in forms, the pattern forms and the login API share: the flow
//! cookie that binds a challenge to its client, the client certificate's fingerprint,
//! and the shape checks of challenge IDs and typed OTPs.

use axum::{
    http::{header, HeaderMap, HeaderValue},
    response::Response,
    Extension,
};
use zeroize::Zeroizing;

use super::{cookies::FLOW_COOKIE, middleware::cookie};
use crate::{otp::OtpError, tls::ConnectionInfo};

/// The fingerprint of the verified client certificate of the connection, if any.
/// What the transport says about a request's client, owned; `client` lends it out as
/// the `auth::login::Client` of a login step.
pub struct Transport {
    ip: Option<std::net::IpAddr>,
    source: String,
    cert_serial: Option<String>,
    cert_fingerprint: Option<String>,
}

impl Transport {
    /// From the connection (peer address, verified client certificate), falling back
    /// to `peer` for the address.
    pub fn of(conn: &Option<Extension<ConnectionInfo>>, peer: Option<std::net::IpAddr>) -> Self {
        let ip = conn.as_ref().map(|c| c.peer.ip()).or(peer);
        Transport {
            ip,
            source: ip.map(|ip| ip.to_string()).unwrap_or_default(),
            cert_serial: cert_serial(conn),
            cert_fingerprint: cert_fingerprint(conn),
        }
    }

    pub fn client<'a>(&'a self, flow_hash: &'a [u8]) -> crate::auth::login::Client<'a> {
        crate::auth::login::Client {
            source: &self.source,
            ip: self.ip,
            flow_hash,
            cert_serial: self.cert_serial.as_deref(),
            cert_fingerprint: self.cert_fingerprint.as_deref(),
        }
    }

    /// The fingerprint of the connection's verified client certificate, if any.
    pub fn fingerprint(&self) -> Option<&str> {
        self.cert_fingerprint.as_deref()
    }

    pub fn has_certificate(&self) -> bool {
        self.cert_serial.is_some()
    }
}

pub fn cert_serial(conn: &Option<Extension<ConnectionInfo>>) -> Option<String> {
    conn.as_ref()
        .and_then(|c| c.client_certificate.as_ref())
        .map(|c| c.serial.clone())
}

/// The fingerprint of the request's verified client certificate (from the TLS layer,
/// or from a trusted proxy's header once re-verified), if any.
pub fn fingerprint_in(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<ConnectionInfo>()
        .and_then(|c| c.client_certificate.as_ref())
        .map(|c| c.fingerprint_sha256.clone())
}

pub fn cert_fingerprint(conn: &Option<Extension<ConnectionInfo>>) -> Option<String> {
    conn.as_ref()
        .and_then(|c| c.client_certificate.as_ref())
        .map(|c| c.fingerprint_sha256.clone())
}

/// The request's flow token, or a new one; `true` when new (the response must set it).
pub fn flow_token_or_new(headers: &HeaderMap) -> Result<(Zeroizing<String>, bool), OtpError> {
    match cookie(headers, FLOW_COOKIE).filter(|v| crate::random::is_token(v)) {
        Some(existing) => Ok((Zeroizing::new(existing.to_string()), false)),
        None => Ok((crate::random::new_token()?, true)),
    }
}

/// The hash of the request's flow token; empty (matching no challenge) without one.
pub fn request_flow_hash(headers: &HeaderMap) -> Vec<u8> {
    cookie(headers, FLOW_COOKIE)
        .filter(|v| crate::random::is_token(v))
        .map(crate::random::token_hash)
        .unwrap_or_default()
}

/// Adds a Set-Cookie header.
pub fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Challenge IDs are 128 random bits in hex.
pub fn is_challenge_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// People type spaces between groups of digits; they are dropped. Anything else stays
/// (and simply fails), capped at 128 characters (digits and an additional phrase).
pub fn normalised_otp(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_ids_and_otps() {
        assert!(is_challenge_id(&"a1".repeat(16)));
        assert!(!is_challenge_id("a1"));
        assert!(!is_challenge_id(&"zz".repeat(16)));
        assert_eq!(normalised_otp(" 12 34\t56 "), "123456");
        assert_eq!(normalised_otp(&"1".repeat(200)).len(), 128);
    }

    #[test]
    fn flow_hash_is_empty_without_a_well_formed_cookie() {
        let mut h = HeaderMap::new();
        assert!(request_flow_hash(&h).is_empty());
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("passgrid_flow=short"),
        );
        assert!(request_flow_hash(&h).is_empty());
        let (token, fresh) = flow_token_or_new(&h).unwrap();
        assert!(fresh && crate::random::is_token(&token));
    }
}
