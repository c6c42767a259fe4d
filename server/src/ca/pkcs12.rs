//! PKCS#12 packaging of a client certificate and its key (SPEC §2.3), protected by a
//! random certificate password that is shown once and never stored.

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
    PrivateKeyChain,
};
use rand::{rngs::OsRng, TryRngCore};
use sha2::Digest;
use zeroize::Zeroizing;

use super::CaError;

/// Which encryption the file uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum P12Encoding {
    #[default]
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), HMAC-SHA256 MAC.
    Modern,
    /// PKCS#12 PBE with 3-key 3DES, HMAC-SHA1 MAC: for old Windows, macOS and Android
    /// importers (`openssl pkcs12 -legacy`).
    Legacy,
}

impl P12Encoding {
    pub fn name(self) -> &'static str {
        match self {
            P12Encoding::Modern => "modern",
            P12Encoding::Legacy => "legacy",
        }
    }
}

/// Key-derivation iterations, as OpenSSL's default (PKCS12_DEFAULT_ITER). The
/// password has about 79 bits of entropy, so the count does not carry its strength;
/// more would only slow bulk issuance.
const ITERATIONS: u32 = 2048;

/// Letters and digits that cannot be mistaken for each other when read off a screen
/// or a printed sheet (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 4;

/// A new certificate password: four groups of four, e.g. `k7qm-2xfa-…` (31^16 ≈ 2^79).
pub fn new_password() -> Result<Zeroizing<String>, CaError> {
    let mut out = Zeroizing::new(String::with_capacity(GROUPS * (GROUP_LEN + 1)));
    let mut byte = [0u8; 1];
    for group in 0..GROUPS {
        if group > 0 {
            out.push('-');
        }
        let mut taken = 0;
        while taken < GROUP_LEN {
            OsRng
                .try_fill_bytes(&mut byte)
                .map_err(|_| CaError::Random)?;
            // Rejection sampling: 248 = 8 × 31, so every letter is equally likely.
            if usize::from(byte[0]) < 248 {
                out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
                taken += 1;
            }
        }
    }
    Ok(out)
}

/// The PKCS#12 file: the key, the certificate and the CA certificate (so importers
/// see the whole chain), under `password`.
pub fn build(
    key_pkcs8: &[u8],
    cert_der: &[u8],
    ca_der: &[u8],
    friendly_name: &str,
    password: &str,
    encoding: P12Encoding,
) -> Result<Vec<u8>, CaError> {
    let bad = |what: &str, e: p12_keystore::error::Error| {
        CaError::Corrupt(format!("PKCS#12 {what}: {e}"))
    };
    let key = PrivateKey::from_der(key_pkcs8).map_err(|e| bad("key", e))?;
    let leaf = Certificate::from_der(cert_der).map_err(|e| bad("certificate", e))?;
    let ca = Certificate::from_der(ca_der).map_err(|e| bad("CA certificate", e))?;
    // The local key ID ties the key bag to its certificate bag (any octets will do;
    // OpenSSL happens to use SHA-1, the certificate's SHA-256 serves as well).
    let key_id = sha2::Sha256::digest(cert_der).to_vec();
    let chain = PrivateKeyChain::new(key_id, key, [leaf, ca]);
    let mut store = KeyStore::new();
    store.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    let (encryption, mac) = match encoding {
        P12Encoding::Modern => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        P12Encoding::Legacy => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    store
        .writer(password)
        .encryption_algorithm(encryption)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(mac)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(|e| bad("encoding", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p12_keystore::Pkcs12ImportPolicy;
    use rcgen::{CertificateParams, KeyPair};

    #[test]
    fn passwords_are_four_groups_from_the_unambiguous_alphabet_and_differ() {
        let a = new_password().unwrap();
        let b = new_password().unwrap();
        assert_ne!(*a, *b);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.len(), 4);
        for g in groups {
            assert_eq!(g.len(), 4);
            assert!(g.bytes().all(|c| ALPHABET.contains(&c)), "{g}");
        }
    }

    #[test]
    fn both_encodings_open_with_the_password_and_only_with_it() {
        let ca_key = KeyPair::generate().unwrap();
        let ca = CertificateParams::new(vec![])
            .unwrap()
            .self_signed(&ca_key)
            .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["alice".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        for encoding in [P12Encoding::Modern, P12Encoding::Legacy] {
            let p12 = build(
                &key.serialize_der(),
                cert.der(),
                ca.der(),
                "alice",
                "pw-1234",
                encoding,
            )
            .unwrap();
            let opened =
                KeyStore::from_pkcs12(&p12, "pw-1234", Pkcs12ImportPolicy::Relaxed).unwrap();
            let (_, chain) = opened.private_key_chain().expect("key chain");
            assert_eq!(chain.key().as_der(), key.serialize_der().as_slice());
            assert_eq!(chain.certs()[0].as_der(), cert.der().as_ref());
            assert!(KeyStore::from_pkcs12(&p12, "wrong", Pkcs12ImportPolicy::Relaxed).is_err());
        }
    }
}
