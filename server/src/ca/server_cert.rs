//! The TLS server certificate: issued by the CA for localhost, 127.0.0.1, ::1 and every
//! configured host name; reused while the names match and it is not close to expiry.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use super::{backdated, random_serial, root::pem_to_der, CaError, CertificateAuthority};
use crate::{
    master_key::MasterKey,
    store::{server_certs::StoredServerCert, Store},
};

const SERVER_KEY_PURPOSE: &str = "tls-server-key";
/// 397 days: the longest validity browsers accept for a server certificate.
const SERVER_VALIDITY_SECS: i64 = 397 * 24 * 3600;
/// Renew when fewer than 30 days remain.
const RENEW_BEFORE_SECS: i64 = 30 * 24 * 3600;

/// The names a server certificate covers: the loopback names plus `hostnames`, sorted
/// and de-duplicated (so the same set always finds the same stored certificate).
pub fn server_names(hostnames: &[String]) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .chain(hostnames.iter().map(|h| h.trim().to_ascii_lowercase()))
        .filter(|h| !h.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The certificate chain and key for the TLS listener.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub issued_now: bool,
}

impl CertificateAuthority {
    /// Loads the server certificate for `names`, or issues and stores a new one.
    pub async fn server_identity(
        &self,
        store: &Store,
        master_key: &MasterKey,
        names: &[String],
        now: i64,
    ) -> Result<ServerIdentity, CaError> {
        let key_name = names.join(",");
        if let Some(stored) = store.server_certificate(&key_name).await? {
            if stored.not_after - now > RENEW_BEFORE_SECS && self.issued(&stored.cert_pem) {
                let key_der = master_key.open(&stored.key_sealed, SERVER_KEY_PURPOSE)?;
                return Ok(ServerIdentity {
                    chain: vec![pem_to_der(&stored.cert_pem)?, self.cert_der().clone()],
                    key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
                    issued_now: false,
                });
            }
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "passgrid");
        let common = names
            .iter()
            .find(|n| n.parse::<std::net::IpAddr>().is_err())
            .cloned();
        dn.push(
            DnType::CommonName,
            common.unwrap_or_else(|| "localhost".into()),
        );
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(n.clone().try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        params.key_identifier_method = super::key_id(&key);
        params.not_before = backdated(now)?;
        let not_after = now + SERVER_VALIDITY_SECS;
        params.not_after = super::at(not_after)?;
        let cert = params.signed_by(&key, &self.issuer()?)?;
        let key_der = Zeroizing::new(key.serialize_der());
        let stored = StoredServerCert {
            cert_pem: cert.pem(),
            key_sealed: master_key.seal(&key_der, SERVER_KEY_PURPOSE)?,
            not_after,
        };
        store
            .put_server_certificate(&key_name, &stored, now)
            .await?;
        Ok(ServerIdentity {
            chain: vec![cert.der().clone(), self.cert_der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
            issued_now: true,
        })
    }

    /// Whether `cert_pem` was issued by this CA (a stored certificate from an earlier,
    /// replaced CA must not be served).
    fn issued(&self, cert_pem: &str) -> bool {
        let Ok(der) = pem_to_der(cert_pem) else {
            return false;
        };
        let (Ok((_, cert)), Ok((_, ca))) = (
            x509_parser::parse_x509_certificate(&der),
            x509_parser::parse_x509_certificate(self.cert_der()),
        ) else {
            return false;
        };
        cert.verify_signature(Some(ca.public_key())).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::server_names;

    #[test]
    fn names_always_include_loopback_and_are_canonical() {
        assert_eq!(server_names(&[]), vec!["127.0.0.1", "::1", "localhost"]);
        assert_eq!(
            server_names(&["Auth.Example.com".into(), "localhost".into(), " ".into()]),
            vec!["127.0.0.1", "::1", "auth.example.com", "localhost"]
        );
    }
}
