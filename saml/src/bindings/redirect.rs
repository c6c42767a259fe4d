//! HTTP-Redirect binding (Bindings §3.4): raw DEFLATE, base64, URL encoding, and
//! the query-string signature of §3.4.4.1 computed over the octets as received.

use std::io::{Read, Write};

use base64::Engine;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{check_relay_state, MessageKind};
use crate::error::{Result, SamlError, SignatureError};
use crate::keys::{IdpSigningKey, SignatureAlgorithm, SpCertificate};
use crate::parse::Limits;

/// Longest raw query string accepted (browsers cap URLs near this anyway).
pub const MAX_QUERY: usize = 64 * 1024;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A message received by HTTP-Redirect, decoded but not yet trusted.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    /// `SAMLRequest` or `SAMLResponse`.
    pub kind: MessageKind,
    /// The inflated XML.
    pub xml: String,
    /// RelayState, URL-decoded.
    pub relay_state: Option<String>,
    signature: Option<QuerySignature>,
}

#[derive(Debug, Clone)]
struct QuerySignature {
    sig_alg: String,
    value: Vec<u8>,
    /// `SAMLRequest=…&RelayState=…&SigAlg=…` from the raw query (Bindings §3.4.4.1).
    signed_octets: String,
}

impl RedirectMessage {
    /// Decodes the raw query string as received (not re-encoded by a framework),
    /// inflating at most [`Limits::REQUEST`] bytes.
    pub fn decode(raw_query: &str) -> Result<Self> {
        if raw_query.len() > MAX_QUERY {
            return Err(SamlError::TooLarge {
                size: raw_query.len(),
                limit: MAX_QUERY,
            });
        }
        let mut message: Option<(MessageKind, &str)> = None;
        let mut relay_state = None;
        let mut sig_alg = None;
        let mut signature = None;
        for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "SAMLRequest" | "SAMLResponse" => {
                    if message.is_some() {
                        return Err(SamlError::Invalid {
                            what: "query (more than one SAML message)",
                        });
                    }
                    let kind = if name == "SAMLRequest" {
                        MessageKind::Request
                    } else {
                        MessageKind::Response
                    };
                    message = Some((kind, value));
                    continue;
                }
                "RelayState" => &mut relay_state,
                "SigAlg" => &mut sig_alg,
                "Signature" => &mut signature,
                // Other parameters are allowed and not signed (Bindings §3.4.4.1).
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(SamlError::Invalid {
                    what: "query (a repeated parameter)",
                });
            }
        }
        let (kind, raw_message) = message.ok_or(SamlError::Missing {
            element: "query",
            what: "SAMLRequest or SAMLResponse",
        })?;

        let deflated = super::post::decode_base64_field(&percent_decode(raw_message)?)?;
        let xml = inflate(&deflated, Limits::REQUEST.max_bytes)?;
        let relay = match relay_state {
            // RelayState is form data: '+' stands for a space.
            Some(raw) => {
                let decoded = percent_decode(&raw.replace('+', " "))?;
                check_relay_state(&decoded)?;
                Some(decoded)
            }
            None => None,
        };
        let signature = match (sig_alg, signature) {
            (None, None) => None,
            (Some(alg), Some(sig)) => {
                let mut signed_octets = format!("{}={raw_message}", kind.parameter());
                if let Some(rs) = relay_state {
                    signed_octets.push_str("&RelayState=");
                    signed_octets.push_str(rs);
                }
                signed_octets.push_str("&SigAlg=");
                signed_octets.push_str(alg);
                Some(QuerySignature {
                    sig_alg: percent_decode(alg)?,
                    value: super::post::decode_base64_field(&percent_decode(sig)?)?.to_vec(),
                    signed_octets,
                })
            }
            _ => {
                return Err(SamlError::Invalid {
                    what: "query (SigAlg and Signature must come together)",
                })
            }
        };
        Ok(RedirectMessage {
            kind,
            xml,
            relay_state: relay,
            signature,
        })
    }

    /// Whether the query carried `SigAlg` and `Signature`.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Verifies the query signature with any of `certs`; RSA-SHA1 only if allowed.
    pub fn verify(&self, certs: &[SpCertificate], allow_sha1: bool) -> Result<(), SignatureError> {
        let sig = self.signature.as_ref().ok_or(SignatureError::Missing)?;
        if certs.is_empty() {
            return Err(SignatureError::NoKey);
        }
        let alg = SignatureAlgorithm::from_uri(&sig.sig_alg, allow_sha1)
            .map_err(|_| SignatureError::Algorithm("SigAlg"))?;
        if certs
            .iter()
            .any(|c| c.verify(alg, sig.signed_octets.as_bytes(), &sig.value))
        {
            Ok(())
        } else {
            Err(SignatureError::Value)
        }
    }
}

fn percent_decode(raw: &str) -> Result<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| SamlError::Encoding("URL encoding is not UTF-8"))
}

/// Inflates raw DEFLATE (RFC 1951, no zlib header) up to `limit` bytes of output.
pub(crate) fn inflate(deflated: &[u8], limit: usize) -> Result<String> {
    let mut out = Vec::new();
    let limit_plus_one = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    DeflateDecoder::new(deflated)
        .take(limit_plus_one)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Encoding("invalid DEFLATE data"))?;
    if out.len() > limit {
        return Err(SamlError::TooLarge {
            size: out.len(),
            limit,
        });
    }
    String::from_utf8(out).map_err(|_| SamlError::Encoding("message is not UTF-8"))
}

fn deflate(xml: &str) -> Result<Vec<u8>> {
    let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes())
        .and_then(|_| enc.finish())
        .map_err(|_| SamlError::Encoding("DEFLATE failed"))
}

/// The URL that sends `xml` to `endpoint` by HTTP-Redirect, signed with RSA-SHA256
/// when `key` is given (Bindings §3.4.4.1: the XML itself carries no signature).
pub fn encode_redirect(
    endpoint: &str,
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&IdpSigningKey>,
) -> Result<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut query = format!(
        "{}={}",
        kind.parameter(),
        utf8_percent_encode(&b64.encode(deflate(xml)?), QUERY_VALUE)
    );
    if let Some(rs) = relay_state {
        check_relay_state(rs)?;
        query.push_str("&RelayState=");
        query.extend(utf8_percent_encode(rs, QUERY_VALUE));
    }
    if let Some(key) = key {
        query.push_str("&SigAlg=");
        query.extend(utf8_percent_encode(
            crate::names::ALG_RSA_SHA256,
            QUERY_VALUE,
        ));
        let sig = key.sign_sha256(query.as_bytes())?;
        query.push_str("&Signature=");
        query.extend(utf8_percent_encode(&b64.encode(sig), QUERY_VALUE));
    }
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{endpoint}{separator}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::{certificate, idp_key};

    fn query_of(url: &str) -> &str {
        url.split_once('?').unwrap().1
    }

    #[test]
    fn round_trip_signed_with_relay_state() {
        let xml = "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>";
        let url = encode_redirect(
            "https://sp.example/slo",
            MessageKind::Request,
            xml,
            Some("state 1/2+3"),
            Some(&idp_key(0)),
        )
        .unwrap();
        let msg = RedirectMessage::decode(query_of(&url)).unwrap();
        assert_eq!(msg.kind, MessageKind::Request);
        assert_eq!(msg.xml, xml);
        assert_eq!(msg.relay_state.as_deref(), Some("state 1/2+3"));
        assert!(msg.is_signed());
        assert_eq!(msg.verify(&[certificate(0)], false), Ok(()));
        assert_eq!(
            msg.verify(&[certificate(1)], false),
            Err(SignatureError::Value)
        );
    }

    #[test]
    fn signature_covers_relay_state_and_message() {
        let url = encode_redirect(
            "https://sp.example/slo?x=1",
            MessageKind::Response,
            "<a/>",
            Some("s"),
            Some(&idp_key(0)),
        )
        .unwrap();
        assert!(url.starts_with("https://sp.example/slo?x=1&SAMLResponse="));
        let tampered = query_of(&url).replace("RelayState=s", "RelayState=t");
        let msg = RedirectMessage::decode(&tampered).unwrap();
        assert_eq!(
            msg.verify(&[certificate(0)], false),
            Err(SignatureError::Value)
        );
        // Dropping RelayState changes the signed octets too.
        let dropped = query_of(&url).replace("&RelayState=s", "");
        let msg = RedirectMessage::decode(&dropped).unwrap();
        assert_eq!(
            msg.verify(&[certificate(0)], false),
            Err(SignatureError::Value)
        );
    }

    #[test]
    fn sha1_sigalg_needs_permission_and_unsigned_is_missing() {
        let url =
            encode_redirect("https://sp/x", MessageKind::Request, "<a/>", None, None).unwrap();
        let msg = RedirectMessage::decode(query_of(&url)).unwrap();
        assert!(!msg.is_signed());
        assert_eq!(
            msg.verify(&[certificate(0)], false),
            Err(SignatureError::Missing)
        );
        let q = format!(
            "{}&SigAlg={}&Signature=AAAA",
            query_of(&url),
            utf8_percent_encode(crate::names::ALG_RSA_SHA1, QUERY_VALUE)
        );
        let msg = RedirectMessage::decode(&q).unwrap();
        assert_eq!(
            msg.verify(&[certificate(0)], false),
            Err(SignatureError::Algorithm("SigAlg"))
        );
        assert_eq!(
            msg.verify(&[certificate(0)], true),
            Err(SignatureError::Value)
        );
    }

    #[test]
    fn inflate_limit_stops_a_deflate_bomb() {
        let huge = "a".repeat(Limits::REQUEST.max_bytes + 10);
        let b64 = base64::engine::general_purpose::STANDARD.encode(deflate(&huge).unwrap());
        let q = format!("SAMLRequest={}", utf8_percent_encode(&b64, QUERY_VALUE));
        assert!(q.len() < 2000);
        assert!(matches!(
            RedirectMessage::decode(&q),
            Err(SamlError::TooLarge { .. })
        ));
    }

    #[test]
    fn repeated_or_missing_parameters_are_refused() {
        assert!(RedirectMessage::decode("RelayState=x").is_err());
        assert!(RedirectMessage::decode("SAMLRequest=AA&SAMLRequest=AA").is_err());
        assert!(RedirectMessage::decode("SAMLRequest=AA&SAMLResponse=AA").is_err());
        let url =
            encode_redirect("https://sp/x", MessageKind::Request, "<a/>", None, None).unwrap();
        let q = format!("{}&SigAlg=x", query_of(&url));
        assert!(RedirectMessage::decode(&q).is_err());
        assert!(RedirectMessage::decode("SAMLRequest=%%%").is_err());
    }
}
