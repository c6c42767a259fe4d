//! The root CA's lifecycle: created at first start, loaded on every later start.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::CertificateDer;
use zeroize::Zeroizing;

use super::{backdated, random_serial, CaError};
use crate::{master_key::MasterKey, store::Store};

/// Purpose string bound to the sealed CA key.
pub(crate) const CA_KEY_PURPOSE: &str = "ca-private-key";
/// Ten years: a private root is replaced deliberately, not by surprise.
const CA_VALIDITY_SECS: i64 = 10 * 365 * 24 * 3600;

/// The loaded CA: its certificate and its signing key.
pub struct CertificateAuthority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateAuthority { key: [redacted] }")
    }
}

impl CertificateAuthority {
    /// Loads the active CA, or creates one (ECDSA P-256) when the database has none.
    /// Returns whether it was created now.
    pub async fn load_or_create(
        store: &Store,
        master_key: &MasterKey,
        now: i64,
    ) -> Result<(CertificateAuthority, bool), CaError> {
        if let Some(stored) = store.active_ca().await? {
            return Ok((
                Self::from_stored(&stored.cert_pem, &stored.key_sealed, master_key)?,
                false,
            ));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "passgrid");
        // A random suffix tells two installations' CAs apart in a trust store.
        let suffix = hex::encode(&random_serial()?.to_bytes()[..4]);
        dn.push(DnType::CommonName, format!("passgrid CA {suffix}"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial()?);
        params.key_identifier_method = super::key_id(&key);
        params.not_before = backdated(now)?;
        params.not_after = super::at(now + CA_VALIDITY_SECS)?;
        let cert = params.self_signed(&key)?;
        let key_der = Zeroizing::new(key.serialize_der());
        let sealed = master_key.seal(&key_der, CA_KEY_PURPOSE)?;
        if store.insert_active_ca(&cert.pem(), &sealed, now).await? {
            return Ok((Self::from_stored(&cert.pem(), &sealed, master_key)?, true));
        }
        // Another server created the CA between our read and our insert: use theirs.
        let stored = store
            .active_ca()
            .await?
            .ok_or_else(|| CaError::Corrupt("CA vanished during creation".into()))?;
        Ok((
            Self::from_stored(&stored.cert_pem, &stored.key_sealed, master_key)?,
            false,
        ))
    }

    pub(crate) fn from_stored(
        cert_pem: &str,
        key_sealed: &[u8],
        master_key: &MasterKey,
    ) -> Result<Self, CaError> {
        let key_der = master_key.open(key_sealed, CA_KEY_PURPOSE)?;
        let key =
            KeyPair::try_from(key_der.as_slice()).map_err(|e| CaError::Corrupt(e.to_string()))?;
        let cert_der = pem_to_der(cert_pem)?;
        Ok(CertificateAuthority {
            cert_pem: cert_pem.to_string(),
            cert_der,
            key,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The issuer handle used to sign certificates; borrows the key.
    pub(crate) fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, CaError> {
        Ok(Issuer::from_ca_cert_der(&self.cert_der, &self.key)?)
    }

    /// The subjectKeyIdentifier of the CA certificate, if it has one.
    pub(crate) fn subject_key_id(&self) -> Option<Vec<u8>> {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.cert_der).ok()?;
        cert.extensions()
            .iter()
            .find_map(|ext| match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(kid) => {
                    Some(kid.0.to_vec())
                }
                _ => None,
            })
    }

    /// The subject of the CA certificate (for display).
    pub fn subject(&self) -> String {
        x509_parser::parse_x509_certificate(&self.cert_der)
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_default()
    }
}

pub(crate) fn pem_to_der(pem_text: &str) -> Result<CertificateDer<'static>, CaError> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem_text.as_bytes())
        .map_err(|e| CaError::Corrupt(format!("certificate PEM: {e:?}")))
}
