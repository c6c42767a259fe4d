//! Client certificates with passgrid's profile (SPEC §2.2), issued either from a
//! PKCS#10 request, so the private key never leaves the device (the request's
//! signature is checked, weak keys are refused, and its subject and extensions are
//! ignored — the profile decides them), or for a key made here and delivered once as
//! PKCS#12.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType, SubjectPublicKeyInfo, PKCS_ECDSA_P256_SHA256,
};
use sha2::{Digest, Sha256};
use x509_parser::{
    certification_request::X509CertificationRequest, prelude::FromDer, public_key::PublicKey,
};
use zeroize::Zeroizing;

use super::{backdated, random_serial, CaError, CertificateAuthority};
use crate::store::{client_certs::ClientCertRecord, Store};

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";

/// Validity of a client certificate (SPEC §2.2 default); policies may set another.
pub const DEFAULT_VALIDITY_DAYS: i64 = 365;

/// The key a certificate delivered as PKCS#12 gets (SPEC §2.2: P-256 by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    #[default]
    P256,
    Rsa2048,
    Rsa3072,
}

impl KeyType {
    /// A new key as PKCS#8, from the OS random generator.
    fn generate(self) -> Result<Zeroizing<Vec<u8>>, CaError> {
        let bits = match self {
            KeyType::P256 => {
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                return Ok(Zeroizing::new(key.serialize_der()));
            }
            KeyType::Rsa2048 => 2048,
            KeyType::Rsa3072 => 3072,
        };
        use rsa::pkcs8::EncodePrivateKey;
        // ring signs with RSA keys but cannot make them; the `rsa` crate does.
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
            .map_err(|e| CaError::Corrupt(format!("RSA key generation: {e}")))?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| CaError::Corrupt(format!("RSA key encoding: {e}")))?;
        Ok(Zeroizing::new(der.as_bytes().to_vec()))
    }
}

/// Who a client certificate is for and for how long.
pub struct ClientProfile<'a> {
    /// The user ID — or, with `shared`, the shared-terminal profile — the certificate
    /// names (its CN).
    pub user_id: &'a str,
    /// A shared-terminal certificate (SPEC §2.5) for the profile `user_id`.
    pub shared: bool,
    pub email: Option<&'a str>,
    pub validity_days: i64,
    /// Valid certificates the user may hold at once, this one included.
    pub max_valid: u32,
    /// The key made for a PKCS#12 delivery (a CSR brings its own).
    pub key: KeyType,
}

/// A certificate just issued and recorded.
pub struct IssuedCertificate {
    pub record: ClientCertRecord,
    pub cert_pem: String,
}

/// A certificate issued together with a key made here (for PKCS#12 delivery).
pub struct IssuedWithKey {
    pub issued: IssuedCertificate,
    pub cert_der: Vec<u8>,
    /// PKCS#8, wiped when dropped.
    pub key_der: Zeroizing<Vec<u8>>,
}

impl CertificateAuthority {
    /// Issues a client certificate for the key in `csr` (PEM or DER) and records it.
    pub async fn issue_client_certificate_from_csr(
        &self,
        store: &Store,
        csr: &[u8],
        profile: &ClientProfile<'_>,
        now: i64,
    ) -> Result<IssuedCertificate, CaError> {
        let spki = checked_request_key(csr)?;
        let (issued, _) = self.sign_client(store, &spki, profile, now).await?;
        Ok(issued)
    }

    /// Makes a key of the profile's type (OS randomness) and issues a certificate for
    /// it. The key is returned for packaging and is never stored here.
    pub async fn issue_client_certificate_with_key(
        &self,
        store: &Store,
        profile: &ClientProfile<'_>,
        now: i64,
    ) -> Result<IssuedWithKey, CaError> {
        let key_der = profile.key.generate()?;
        let key = KeyPair::try_from(key_der.as_slice())?;
        let (issued, cert_der) = self.sign_client(store, &key, profile, now).await?;
        Ok(IssuedWithKey {
            issued,
            cert_der,
            key_der,
        })
    }

    /// Signs the profile's certificate for `key` and records it; returns it and its DER.
    async fn sign_client(
        &self,
        store: &Store,
        key: &impl PublicKeyData,
        profile: &ClientProfile<'_>,
        now: i64,
    ) -> Result<(IssuedCertificate, Vec<u8>), CaError> {
        // Checked before signing (cheap) and again, atomically, with the insert.
        let held = store
            .valid_certificate_count(profile.user_id, profile.shared, now)
            .await?;
        if held >= i64::from(profile.max_valid) {
            return Err(limit_reached(profile));
        }
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, profile.user_id);
        params.distinguished_name = dn;
        if let Some(email) = profile.email {
            params.subject_alt_names =
                vec![SanType::Rfc822Name(email.to_string().try_into().map_err(
                    |_| CaError::BadRequest("the mail address is not ASCII".into()),
                )?)];
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let serial = random_serial()?;
        params.serial_number = Some(serial.clone());
        params.key_identifier_method = super::key_id(key);
        params.not_before = backdated(now)?;
        let not_after = now + profile.validity_days * 24 * 3600;
        params.not_after = super::at(not_after)?;
        let cert = params.signed_by(key, &self.issuer()?)?;
        let record = ClientCertRecord {
            serial: hex::encode(serial.to_bytes()),
            user_id: (!profile.shared).then(|| profile.user_id.to_string()),
            shared_profile: profile.shared.then(|| profile.user_id.to_string()),
            subject: format!("CN={}", profile.user_id),
            fingerprint_sha256: hex::encode(Sha256::digest(cert.der())),
            not_before: now - 300,
            not_after,
            revoked_at: None,
        };
        if !store
            .insert_client_certificate_within(&record, &cert.pem(), profile.max_valid, now)
            .await?
        {
            return Err(limit_reached(profile));
        }
        Ok((
            IssuedCertificate {
                record,
                cert_pem: cert.pem(),
            },
            cert.der().to_vec(),
        ))
    }
}

fn limit_reached(profile: &ClientProfile<'_>) -> CaError {
    CaError::LimitReached(format!(
        "{} already holds {} valid certificate(s), the most allowed; revoke one first",
        profile.user_id, profile.max_valid
    ))
}

/// Parses a CSR, checks its self-signature and its key, and returns the key.
fn checked_request_key(csr: &[u8]) -> Result<SubjectPublicKeyInfo, CaError> {
    let der = if csr.trim_ascii_start().starts_with(b"-----BEGIN") {
        use rustls_pki_types::{pem::PemObject, CertificateSigningRequestDer};
        CertificateSigningRequestDer::from_pem_slice(csr)
            .map_err(|e| CaError::BadRequest(format!("no CERTIFICATE REQUEST PEM block: {e:?}")))?
            .as_ref()
            .to_vec()
    } else {
        csr.to_vec()
    };
    let (rest, req) = X509CertificationRequest::from_der(&der)
        .map_err(|e| CaError::BadRequest(format!("not a PKCS#10 request: {e}")))?;
    if !rest.is_empty() {
        return Err(CaError::BadRequest(
            "trailing bytes after the request".into(),
        ));
    }
    let pki = &req.certification_request_info.subject_pki;
    match pki.parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= 2048 => {}
        Ok(PublicKey::RSA(rsa)) => {
            return Err(CaError::BadRequest(format!(
                "RSA key of {} bits is too weak (2048 or more)",
                rsa.key_size()
            )))
        }
        Ok(PublicKey::EC(_)) => {
            let curve = pki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            if curve != OID_P256 && curve != OID_P384 {
                return Err(CaError::BadRequest(format!(
                    "elliptic curve {curve} is not accepted (P-256 or P-384)"
                )));
            }
        }
        _ if pki.algorithm.algorithm.to_id_string() == OID_ED25519 => {}
        _ => {
            return Err(CaError::BadRequest(
                "unsupported key type (RSA ≥ 2048, P-256, P-384, Ed25519)".into(),
            ))
        }
    }
    // After the key check: ring cannot verify signatures of weak RSA keys at all, and
    // "too weak" is the useful answer for those.
    req.verify_signature()
        .map_err(|_| CaError::BadRequest("the request's signature does not verify".into()))?;
    SubjectPublicKeyInfo::from_der(pki.raw)
        .map_err(|e| CaError::BadRequest(format!("unsupported key: {e}")))
}
