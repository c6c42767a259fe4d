//! What a TLS-terminating proxy tells about its client (SPEC §3.2), believed only from
//! the configured proxy addresses:
//! - the client's address, from `X-Forwarded-For`: the right-most hop that is not a
//!   trusted proxy (hops to its left were written by the client and prove nothing).
//!   It replaces the peer address of the request's `ConnectionInfo` and `ConnectInfo`,
//!   the one place every rate limit, network rule and audit entry reads it from;
//! - the client certificate, from the configured header, checked here against
//!   passgrid's CA (issuer, signature, validity, client-auth use) — a proxy that
//!   forwards anything must not let a forged or foreign certificate in. Revocation is
//!   checked where every login checks it, in the database. A certificate header from
//!   any other address is dropped and audited.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderName,
    middleware::Next,
    response::Response,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::AppState;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    net::Cidr,
    tls::{client_cert::ClientCertificate, ConnectionInfo},
};

/// The header proxies name the client's address in (and the hops before it).
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Where forwarded addresses and certificates may come from, and the certificate's
/// header.
#[derive(Clone, Debug)]
pub struct ProxySettings {
    pub trusted: Vec<Cidr>,
    pub header: HeaderName,
}

/// The header's certificate as DER: nginx's `$ssl_client_escaped_cert` (URL-escaped
/// PEM), plain PEM, or base64 DER.
fn header_der(value: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(value).ok()?.trim();
    let decoded = percent_decode(text)?;
    if decoded.contains("-----BEGIN CERTIFICATE-----") {
        use rustls_pki_types::{pem::PemObject, CertificateDer};
        return CertificateDer::from_pem_slice(decoded.as_bytes())
            .ok()
            .map(|c| c.to_vec());
    }
    base64::engine::general_purpose::STANDARD
        .decode(decoded.replace([' ', '\n', '\r', '\t'], ""))
        .ok()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Why a forwarded certificate was not taken.
fn check_against_ca(der: &[u8], ca_der: &[u8], now: i64) -> Result<(), &'static str> {
    let (_, ca) = X509Certificate::from_der(ca_der).map_err(|_| "the CA does not parse")?;
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|_| "the certificate does not parse")?;
    if !rest.is_empty() {
        return Err("trailing bytes after the certificate");
    }
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err("not issued by passgrid's CA");
    }
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|_| "the signature does not verify against passgrid's CA")?;
    let validity = cert.validity();
    if validity.not_before.timestamp() > now || validity.not_after.timestamp() <= now {
        return Err("not valid now");
    }
    let client_auth = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .is_some_and(|eku| eku.value.client_auth);
    if !client_auth {
        return Err("not a client-authentication certificate");
    }
    Ok(())
}

/// Most `X-Forwarded-For` hops looked at: a chain of trusted proxies is short.
const MAX_HOPS: usize = 32;

/// One hop of `X-Forwarded-For`: an address, possibly with a port (`1.2.3.4:5`,
/// `[2001:db8::1]:443`), as some proxies write it; `None` for anything else
/// (`unknown`, an obfuscated name).
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })?;
    Some(ip.to_canonical())
}

/// The client's address behind trusted proxy `peer`: walking the `X-Forwarded-For`
/// values from the right (the hop `peer` added last), every trusted proxy is skipped
/// and the first address that is not one is the client. A hop that is not an address
/// ends the walk at the last trusted proxy (whoever wrote it could be anyone); a chain
/// of trusted proxies only ends at its left-most address.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let Some(ip) = hop_address(hop) else {
            break;
        };
        client = ip;
        if !trusted.iter().any(|c| c.contains(ip)) {
            break;
        }
    }
    client
}

/// Takes the client's address and certificate from the proxy's headers (only from
/// trusted proxies).
pub async fn forwarded_client_cert(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(proxy) = state.proxy.as_ref() else {
        return next.run(req).await;
    };
    let Some(peer) = req
        .extensions()
        .get::<ConnectionInfo>()
        .map(|c| c.peer.ip())
    else {
        return next.run(req).await;
    };
    let header = req.headers_mut().remove(&proxy.header);
    let trusted = proxy.trusted.iter().any(|c| c.contains(peer));
    if trusted {
        let forwarded: Vec<&str> = req
            .headers()
            .get_all(X_FORWARDED_FOR)
            .iter()
            // A value that is not text is a hop that is not an address: the walk
            // stops there instead of skipping it.
            .map(|v| v.to_str().unwrap_or("-"))
            .collect();
        let client = client_address(peer, &forwarded, &proxy.trusted);
        let client = SocketAddr::new(client, 0);
        if let Some(conn) = req.extensions_mut().get_mut::<ConnectionInfo>() {
            conn.forwarded_by = Some(peer);
            conn.peer = client;
        }
        req.extensions_mut().insert(ConnectInfo(client));
    }
    let now = state.instance.clock.now();
    let mut refused: Option<String> = None;
    if trusted {
        // Behind the proxy the TLS peer is the proxy: only the header speaks for the
        // device.
        let forwarded = header.as_ref().and_then(|value| {
            let Some(der) = header_der(value.as_bytes()) else {
                refused = Some("the certificate header does not decode".into());
                return None;
            };
            match check_against_ca(&der, state.instance.ca.cert_der(), now) {
                Ok(()) => ClientCertificate::from_der(&der).map(Arc::new),
                Err(why) => {
                    refused = Some(format!("forwarded certificate refused: {why}"));
                    None
                }
            }
        });
        if let Some(conn) = req.extensions_mut().get_mut::<ConnectionInfo>() {
            conn.client_certificate = forwarded;
        }
    } else if header.is_some() {
        refused = Some(format!(
            "certificate header from {peer}, which is not a trusted proxy, ignored"
        ));
    }
    if let Some(reason) = refused {
        let source = peer.to_string();
        record(
            &state.instance.store,
            AuditEvent {
                actor: "",
                source: &source,
                action: Action::ProxyClientCert,
                target: "",
                outcome: Outcome::Failure,
                reason: &reason,
            },
            now,
        )
        .await;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy() {
        let trusted: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_address(proxy, &[], &trusted),
            proxy,
            "no header: the proxy"
        );
        assert_eq!(
            client_address(proxy, &["203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
        // A client's own (forged) hops stay on the left.
        assert_eq!(
            client_address(proxy, &["1.1.1.1, 203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
        // Trusted hops (a chain of proxies) are skipped, across header lines too.
        assert_eq!(
            client_address(proxy, &["1.1.1.1, 198.51.100.9", "10.1.2.3"], &trusted),
            ip("198.51.100.9")
        );
        // Ports and brackets as some proxies write them; IPv4-mapped IPv6.
        assert_eq!(
            client_address(proxy, &["198.51.100.9:4711"], &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(proxy, &["[2001:db8::5]:443"], &trusted),
            ip("2001:db8::5")
        );
        assert_eq!(
            client_address(proxy, &["::ffff:198.51.100.9"], &trusted),
            ip("198.51.100.9")
        );
        // Garbage ends the walk at the last trusted hop; an all-trusted chain ends left.
        assert_eq!(
            client_address(proxy, &["1.1.1.1, unknown, 10.0.0.2"], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(proxy, &["10.0.0.3, 10.0.0.2"], &trusted),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn header_values_decode_in_every_accepted_form() {
        assert_eq!(percent_decode("a%2Fb%0A").as_deref(), Some("a/b\n"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(header_der(b"AQID"), Some(vec![1, 2, 3]));
        assert_eq!(header_der(b"not base64!"), None);
    }
}
