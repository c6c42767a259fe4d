//! The IdP's signing key and the SPs' certificates. Only the caller's key bytes come
//! in; the private key lives in `rsa::RsaPrivateKey`, which zeroizes on drop, and
//! its `Debug` is redacted.

use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use zeroize::Zeroizing;

use crate::error::{Result, SamlError};

/// Smallest RSA modulus accepted for signing and verification (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;

/// Signature algorithms the crate signs or verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaSha256,
    /// RSA PKCS#1 v1.5 with SHA-1: verification only, and only when a caller allows it.
    RsaSha1,
}

impl SignatureAlgorithm {
    /// The algorithm's URI (XML-DSig / RFC 6931), also the `SigAlg` of HTTP-Redirect.
    pub fn uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaSha256 => crate::names::ALG_RSA_SHA256,
            SignatureAlgorithm::RsaSha1 => crate::names::ALG_RSA_SHA1,
        }
    }

    /// The algorithm for `uri`, if it is allowed (`allow_sha1` for RSA-SHA1).
    pub fn from_uri(uri: &str, allow_sha1: bool) -> Result<Self> {
        match uri {
            crate::names::ALG_RSA_SHA256 => Ok(SignatureAlgorithm::RsaSha256),
            crate::names::ALG_RSA_SHA1 if allow_sha1 => Ok(SignatureAlgorithm::RsaSha1),
            crate::names::ALG_RSA_SHA1 => Err(crate::SignatureError::Algorithm("rsa-sha1").into()),
            _ => Err(crate::SignatureError::Algorithm("unknown signature method").into()),
        }
    }
}

/// The IdP's RSA signing key with its X.509 certificate.
///
/// Signing is done by ring, not by the `rsa` crate: ring's RSA private-key
/// operation is constant-time (rsa 0.9 carries RUSTSEC-2023-0071, a timing
/// side channel) and about three times faster, which the ≥ 1,000 signed
/// Responses per second of issue #19 needs. ring is already in the workspace
/// (rustls, rcgen). It does not zeroize its key on drop; neither do the TLS keys
/// rustls holds, so this matches the rest of passgrid.
pub struct IdpSigningKey {
    key_pair: ring::signature::RsaKeyPair,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for IdpSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdpSigningKey([redacted])")
    }
}

impl IdpSigningKey {
    /// Loads a PKCS#8 DER RSA private key and the DER certificate that carries its
    /// public key; refuses a mismatch or a key under [`MIN_RSA_BITS`].
    pub fn from_pkcs8_der(pkcs8_der: &[u8], certificate_der: Vec<u8>) -> Result<Self> {
        let key_pair = ring::signature::RsaKeyPair::from_pkcs8(pkcs8_der)
            .map_err(|_| SamlError::Key("not a usable PKCS#8 RSA private key"))?;
        if key_pair.public().modulus_len() * 8 < MIN_RSA_BITS {
            return Err(SamlError::Key("RSA key shorter than 2048 bits"));
        }
        let cert = SpCertificate::from_der(&certificate_der)?;
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key_pair.public());
        let same = public.n == cert.key.n().to_bytes_be() && public.e == cert.key.e().to_bytes_be();
        if !same {
            return Err(SamlError::Key(
                "the certificate does not carry the signing key's public key",
            ));
        }
        Ok(IdpSigningKey {
            key_pair,
            certificate_der,
        })
    }

    /// The certificate in DER, as published in metadata and `ds:KeyInfo`.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The certificate as base64 (no line breaks), for `ds:X509Certificate`.
    pub fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.certificate_der)
    }

    /// RSA PKCS#1 v1.5 SHA-256 signature of `data`.
    pub(crate) fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut sig = vec![0u8; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                data,
                &mut sig,
            )
            .map_err(|_| SamlError::Key("RSA signing failed"))?;
        Ok(sig)
    }
}

/// A peer's X.509 certificate (SP signing or encryption certificate from its
/// metadata) with its RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct SpCertificate {
    der: Vec<u8>,
    key: RsaPublicKey,
}

impl std::fmt::Debug for SpCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpCertificate({} bytes)", self.der.len())
    }
}

impl SpCertificate {
    /// Parses a DER certificate and takes its RSA public key.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| SamlError::Key("not a DER X.509 certificate"))?;
        if !rest.is_empty() {
            return Err(SamlError::Key("trailing bytes after the certificate"));
        }
        let key = RsaPublicKey::from_public_key_der(cert.public_key().raw)
            .map_err(|_| SamlError::Key("the certificate's key is not RSA"))?;
        if key.size() * 8 < MIN_RSA_BITS {
            return Err(SamlError::Key("RSA key shorter than 2048 bits"));
        }
        Ok(SpCertificate {
            der: der.to_vec(),
            key,
        })
    }

    /// Parses the base64 content of `ds:X509Certificate` (whitespace allowed).
    pub fn from_base64(b64: &str) -> Result<Self> {
        let der = decode_base64(b64, 64 * 1024)?;
        Self::from_der(&der)
    }

    /// The certificate in DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn public_key(&self) -> &RsaPublicKey {
        &self.key
    }

    /// Checks an RSA PKCS#1 v1.5 signature over `data`.
    pub(crate) fn verify(&self, alg: SignatureAlgorithm, data: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::try_from(sig) else {
            return false;
        };
        match alg {
            SignatureAlgorithm::RsaSha256 => VerifyingKey::<sha2::Sha256>::new(self.key.clone())
                .verify(data, &sig)
                .is_ok(),
            SignatureAlgorithm::RsaSha1 => VerifyingKey::<sha1::Sha1>::new(self.key.clone())
                .verify(data, &sig)
                .is_ok(),
        }
    }
}

/// Decodes base64 that may hold whitespace (XML content, form fields), refusing
/// more than `max_decoded` bytes before decoding.
pub(crate) fn decode_base64(b64: &str, max_decoded: usize) -> Result<Zeroizing<Vec<u8>>> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() / 4 * 3 > max_decoded {
        return Err(SamlError::TooLarge {
            size: compact.len() / 4 * 3,
            limit: max_decoded,
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| SamlError::Encoding("invalid base64"))
}

#[cfg(test)]
pub(crate) mod test_keys {
    //! An RSA-2048 key and self-signed certificate made once per test run.
    use std::sync::OnceLock;

    use rsa::pkcs8::EncodePrivateKey;
    use rsa::RsaPrivateKey;

    use super::*;

    /// (PKCS#8 DER, certificate DER)
    pub(crate) fn key_material(n: usize) -> &'static (Vec<u8>, Vec<u8>) {
        static KEYS: [OnceLock<(Vec<u8>, Vec<u8>)>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        KEYS[n].get_or_init(|| {
            let mut rng = rsa::rand_core::OsRng;
            let key = RsaPrivateKey::new(&mut rng, 2048).unwrap();
            let pkcs8 = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
            let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
                &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.clone()),
                &rcgen::PKCS_RSA_SHA256,
            )
            .unwrap();
            let params = rcgen::CertificateParams::new(vec![format!("test{n}.example")]).unwrap();
            let cert = params.self_signed(&kp).unwrap();
            (pkcs8, cert.der().to_vec())
        })
    }

    /// The IdP signing key number `n` (0..3).
    pub(crate) fn idp_key(n: usize) -> IdpSigningKey {
        let (pkcs8, cert) = key_material(n);
        IdpSigningKey::from_pkcs8_der(pkcs8, cert.clone()).unwrap()
    }

    /// The private key `n`, for decrypting what was encrypted to certificate `n`.
    pub(crate) fn private_key(n: usize) -> RsaPrivateKey {
        use rsa::pkcs8::DecodePrivateKey;
        RsaPrivateKey::from_pkcs8_der(&key_material(n).0).unwrap()
    }

    /// The certificate of key `n`, as an SP certificate.
    pub(crate) fn certificate(n: usize) -> SpCertificate {
        SpCertificate::from_der(&key_material(n).1).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_keys::*;
    use super::*;

    #[test]
    fn sign_and_verify_and_mismatch() {
        let key = idp_key(0);
        let sig = key.sign_sha256(b"hello").unwrap();
        assert!(certificate(0).verify(SignatureAlgorithm::RsaSha256, b"hello", &sig));
        assert!(!certificate(0).verify(SignatureAlgorithm::RsaSha256, b"hellO", &sig));
        assert!(!certificate(1).verify(SignatureAlgorithm::RsaSha256, b"hello", &sig));
        let (pkcs8, _) = key_material(0);
        let other_cert = key_material(1).1.clone();
        assert!(IdpSigningKey::from_pkcs8_der(pkcs8, other_cert).is_err());
        assert_eq!(format!("{key:?}"), "IdpSigningKey([redacted])");
    }

    #[test]
    fn sha1_only_when_allowed() {
        assert!(SignatureAlgorithm::from_uri(crate::names::ALG_RSA_SHA1, false).is_err());
        assert!(SignatureAlgorithm::from_uri(crate::names::ALG_RSA_SHA1, true).is_ok());
        assert!(SignatureAlgorithm::from_uri("urn:x", true).is_err());
    }
}
