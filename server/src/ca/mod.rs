//! The certificate authority: the only code that touches private keys. It creates or
//! loads the root CA (key sealed under the master key, stored in the database), issues
//! the TLS server certificate, and issues client certificates.

pub mod client_cert;
pub mod crl;
pub mod import;
pub mod mobileconfig;
pub mod pkcs12;
pub mod root;
pub mod saml_signing;
pub mod server_cert;

pub use root::CertificateAuthority;
pub(crate) use root::CA_KEY_PURPOSE;

/// What can go wrong in the CA.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("stored CA or key is unreadable: {0}")]
    Corrupt(String),
    #[error("the certificate request is not acceptable: {0}")]
    BadRequest(String),
    #[error("the CA is not acceptable: {0}")]
    BadImport(String),
    #[error("no certificate with serial {0}")]
    UnknownCertificate(String),
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("limit reached: {0}")]
    LimitReached(String),
    #[error("the operating system's random generator failed")]
    Random,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Seal(#[from] crate::master_key::SealError),
}

/// A random positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets;
/// CA/B Forum: at least 64 bits from a CSPRNG).
pub(crate) fn random_serial() -> Result<rcgen::SerialNumber, CaError> {
    use rand::{rngs::OsRng, TryRngCore};
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| CaError::Random)?;
    bytes[0] &= 0x7f; // positive in DER
    bytes[0] |= 0x40; // and never shorter than 16 octets
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

/// The subject key identifier of RFC 7093 §2 method 1: the leftmost 160 bits of the
/// SHA-256 of the subjectPublicKey bits (rcgen's own hashes the whole
/// SubjectPublicKeyInfo, which linters cannot tell from a random value).
pub(crate) fn key_id(key: &impl rcgen::PublicKeyData) -> rcgen::KeyIdMethod {
    use sha2::{Digest, Sha256};
    rcgen::KeyIdMethod::PreSpecified(Sha256::digest(key.der_bytes())[..20].to_vec())
}

/// A validity start a few minutes in the past, so clients with a slightly slow
/// clock do not see a certificate that is "not yet valid".
pub(crate) fn backdated(now: i64) -> Result<time::OffsetDateTime, CaError> {
    time::OffsetDateTime::from_unix_timestamp(now - 300)
        .map_err(|e| CaError::Corrupt(e.to_string()))
}

pub(crate) fn at(unix: i64) -> Result<time::OffsetDateTime, CaError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| CaError::Corrupt(e.to_string()))
}
