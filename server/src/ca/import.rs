//! Importing an existing CA (SPEC §2.1): its certificate and private key in PEM replace
//! the CA passgrid made. Everything is checked before anything changes.

use rcgen::{KeyPair, PublicKeyData};
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use super::{root::pem_to_der, CaError, CertificateAuthority, CA_KEY_PURPOSE};
use crate::{master_key::MasterKey, store::Store};

/// A CA checked for use: its certificate (PEM) and key (PKCS#8 DER).
pub struct CheckedCa {
    pub cert_pem: String,
    pub key_der: Zeroizing<Vec<u8>>,
    pub subject: String,
}

fn bad(reason: impl Into<String>) -> CaError {
    CaError::BadImport(reason.into())
}

/// Checks that `cert_pem` is a CA certificate valid `now`, allowed to sign
/// certificates and CRLs, and that `key_pem` is its private key in a form we can sign
/// with.
pub fn check(cert_pem: &str, key_pem: &str, now: i64) -> Result<CheckedCa, CaError> {
    let der = pem_to_der(cert_pem)
        .map_err(|_| bad("the certificate file holds no CERTIFICATE PEM block"))?;
    let (rest, cert) = X509Certificate::from_der(&der)
        .map_err(|e| bad(format!("the certificate does not parse: {e}")))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes after the certificate"));
    }
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(bad(
            "the certificate is not a CA certificate (basicConstraints CA:TRUE missing)",
        ));
    }
    let usage = cert.key_usage().ok().flatten().map(|ku| ku.value);
    if let Some(ku) = usage {
        if !ku.key_cert_sign() || !ku.crl_sign() {
            return Err(bad("the CA's keyUsage must allow keyCertSign and cRLSign"));
        }
    }
    let validity = cert.validity();
    if validity.not_before.timestamp() > now || validity.not_after.timestamp() <= now {
        return Err(bad("the CA certificate is not valid now"));
    }
    let key_der = key_from_pem(key_pem)?;
    let key = KeyPair::try_from(key_der.as_slice())
        .map_err(|e| bad(format!("unsupported private key: {e}")))?;
    if key.subject_public_key_info() != cert.public_key().raw {
        return Err(bad("the private key does not belong to the certificate"));
    }
    Ok(CheckedCa {
        cert_pem: certificate_pem(&der),
        key_der,
        subject: cert.subject().to_string(),
    })
}

fn key_from_pem(key_pem: &str) -> Result<Zeroizing<Vec<u8>>, CaError> {
    use rustls_pki_types::{pem::PemObject, PrivateKeyDer};
    if key_pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(bad(
            "the key is encrypted; decrypt it first (openssl pkcs8 -in KEY -out plain.key)",
        ));
    }
    match PrivateKeyDer::from_pem_slice(key_pem.as_bytes()) {
        Ok(PrivateKeyDer::Pkcs8(k)) => Ok(Zeroizing::new(k.secret_pkcs8_der().to_vec())),
        Ok(_) => Err(bad(
            "the key is in the SEC1 or PKCS#1 form; convert it to PKCS#8 first \
             (openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem)",
        )),
        Err(_) => Err(bad("the key file holds no private key PEM block")),
    }
}

/// The one certificate, as PEM (whatever else the file held is dropped).
fn certificate_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

impl CertificateAuthority {
    /// Makes the checked CA the active one. Certificates of the former CA stop
    /// working, so while valid client certificates exist this needs `force`.
    pub async fn import(
        store: &Store,
        master_key: &MasterKey,
        ca: &CheckedCa,
        force: bool,
        now: i64,
    ) -> Result<CertificateAuthority, CaError> {
        let valid = store.valid_certificate_total(now).await?;
        if valid > 0 && !force {
            return Err(CaError::LimitReached(format!(
                "{valid} valid client certificate(s) of the current CA would stop working; \
                 repeat with --force to replace it anyway"
            )));
        }
        let sealed = master_key.seal(&ca.key_der, CA_KEY_PURPOSE)?;
        store.replace_active_ca(&ca.cert_pem, &sealed, now).await?;
        CertificateAuthority::from_stored(&ca.cert_pem, &sealed, master_key)
    }
}
