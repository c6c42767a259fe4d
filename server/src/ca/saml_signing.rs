//! The SAML IdP's signing key and its self-signed certificate (SPEC §10.4). SAML
//! trusts the certificate published in the IdP's metadata as it is (Metadata
//! §2.4.1.1: a KeyDescriptor names a key, not a chain), so it is self-signed rather
//! than issued by passgrid's CA; RSA-2048, because XML-DSig RSA-SHA256 is what every
//! SP (Microsoft 365, Google Workspace) verifies.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256};
use rustls_pki_types::PrivatePkcs8KeyDer;
use zeroize::Zeroizing;

use super::{at, backdated, random_serial, CaError};

/// Ten years: SPs pin this certificate, and changing it means changing every SP's
/// configuration, so it is rotated on purpose (`passgrid saml rotate-key`), not by
/// expiry. Most SPs ignore the validity of a metadata certificate anyway.
const VALIDITY_SECS: i64 = 10 * 365 * 24 * 3600;

/// A new RSA-2048 key (PKCS#8) and a self-signed certificate for it (DER) whose
/// subject is `common_name`.
pub fn new_saml_signing_key(
    common_name: &str,
    now: i64,
) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CaError> {
    use rsa::pkcs8::EncodePrivateKey;
    // ring signs with RSA keys but cannot make them; the `rsa` crate does.
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| CaError::Corrupt(format!("RSA key generation: {e}")))?;
    let pkcs8 = Zeroizing::new(
        key.to_pkcs8_der()
            .map_err(|e| CaError::Corrupt(format!("RSA key encoding: {e}")))?
            .as_bytes()
            .to_vec(),
    );
    let key_pair = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        &PKCS_RSA_SHA256,
    )?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "passgrid");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.serial_number = Some(random_serial()?);
    params.not_before = backdated(now)?;
    params.not_after = at(now + VALIDITY_SECS)?;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key_pair)?;
    Ok((pkcs8, cert.der().to_vec()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_and_certificate_match_and_sign() {
        let (pkcs8, cert) =
            super::new_saml_signing_key("passgrid SAML test", 1_900_000_000).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
        assert!(parsed.subject().to_string().contains("passgrid SAML test"));
        // The SAML layer refuses a certificate that does not carry the key.
        passgrid_saml::IdpSigningKey::from_pkcs8_der(&pkcs8, cert).unwrap();
    }
}
