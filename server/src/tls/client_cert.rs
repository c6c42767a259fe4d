//! The client certificate that rustls verified, parsed once per connection.

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::{extensions::GeneralName, prelude::X509Certificate};

/// What handlers know about the verified client certificate of the connection.
#[derive(Clone, Debug, Serialize)]
pub struct ClientCertificate {
    /// Lower-case hex, no separators, as passgrid stores serials.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub subject_alt_names: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub fingerprint_sha256: String,
}

impl ClientCertificate {
    /// Parses a DER certificate; `None` if it cannot be parsed (rustls verified it
    /// already, so this only fails for certificates x509-parser cannot read).
    pub fn from_der(der: &[u8]) -> Option<ClientCertificate> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        Some(ClientCertificate {
            serial: hex::encode(cert.raw_serial())
                .trim_start_matches("00")
                .to_string(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            common_name,
            subject_alt_names: sans(&cert),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            fingerprint_sha256: hex::encode(Sha256::digest(der)),
        })
    }
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::RFC822Name(m) => format!("email:{m}"),
            GeneralName::DNSName(d) => format!("dns:{d}"),
            GeneralName::URI(u) => format!("uri:{u}"),
            GeneralName::IPAddress(ip) => match ip.len() {
                4 => format!(
                    "ip:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).unwrap_or_default())
                ),
                16 => format!(
                    "ip:{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).unwrap_or_default())
                ),
                _ => "ip:?".to_string(),
            },
            other => format!("{other}"),
        })
        .collect()
}
