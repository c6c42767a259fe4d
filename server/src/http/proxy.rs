//! Client certificates forwarded by a TLS-terminating proxy (SPEC §3.2). The header is
//! read only from the configured proxy addresses, and the certificate in it is checked
//! here against passgrid's CA (issuer, signature, validity, client-auth use) — a proxy
//! that forwards anything must not let a forged or foreign certificate in. Revocation
//! is checked where every login checks it, in the database. A header from any other
//! address is dropped and audited.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
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

/// Where forwarded certificates may come from, and in which header.
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

/// Takes the client certificate from the proxy's header (only from trusted proxies).
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
    fn header_values_decode_in_every_accepted_form() {
        assert_eq!(percent_decode("a%2Fb%0A").as_deref(), Some("a/b\n"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(header_der(b"AQID"), Some(vec![1, 2, 3]));
        assert_eq!(header_der(b"not base64!"), None);
    }
}
