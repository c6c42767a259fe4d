//! JSON Web Tokens signed by passgrid (RFC 7515, RFC 7519): the OpenID Connect
//! provider's signing keys — ES256 by default, RS256 for clients that ask for it —
//! sealed under the master key in the database, published as a JWKS (RFC 7517), and
//! rotated with the old key kept published until what it signed has expired.
//!
//! ring signs and verifies (it is already passgrid's TLS crypto); the `rsa` crate only
//! generates RSA keys, which ring cannot. Verification accepts only the algorithms of
//! passgrid's own keys, looked up by `kid`, so `alg: none` and HS256 tokens (signed
//! with a client secret) are never valid here (RFC 8725 §3.1).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use ring::{
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair},
};
use serde_json::{json, Value};

use crate::{
    master_key::{MasterKey, SealError},
    store::{oidc_keys::StoredSigningKey, Store, StoreError},
};

const KEY_PURPOSE: &str = "passgrid oidc signing key v1";

/// The algorithms passgrid signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Rs256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
        }
    }

    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "ES256" => Some(Alg::Es256),
            "RS256" => Some(Alg::Rs256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("signing key: {0}")]
    Key(String),
    #[error("signing failed")]
    Sign,
    /// A token that is not one of ours, or not intact.
    #[error("invalid token")]
    Invalid,
}

enum Signer {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// One opened key.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    /// Still signs (a retired key is only published and verified against).
    pub active: bool,
    signer: Signer,
    public_jwk: Value,
}

/// The keys of the installation, opened.
pub struct KeyRing {
    keys: Vec<SigningKey>,
}

fn key_error(e: impl std::fmt::Display) -> JwtError {
    JwtError::Key(e.to_string())
}

/// A new key of `alg`, sealed for storage.
fn generate(master_key: &MasterKey, alg: Alg, now: i64) -> Result<StoredSigningKey, JwtError> {
    let rng = SystemRandom::new();
    let pkcs8: Vec<u8> = match alg {
        Alg::Es256 => {
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(key_error)?
                .as_ref()
                .to_vec()
        }
        Alg::Rs256 => {
            use rsa::pkcs8::EncodePrivateKey;
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(key_error)?
                .to_pkcs8_der()
                .map_err(key_error)?
                .as_bytes()
                .to_vec()
        }
    };
    let zeroized = zeroize::Zeroizing::new(pkcs8);
    let mut kid_bytes = [0u8; 12];
    crate::random::os_random(&mut kid_bytes).map_err(key_error)?;
    let kid = B64.encode(kid_bytes);
    let signer = open_signer(alg, &zeroized)?;
    Ok(StoredSigningKey {
        public_jwk: public_jwk(&kid, alg, &signer).to_string(),
        kid,
        alg: alg.as_str().into(),
        active: true,
        key_sealed: master_key.seal(&zeroized, KEY_PURPOSE)?,
        retired_at: None,
        created_at: now,
    })
}

fn open_signer(alg: Alg, pkcs8: &[u8]) -> Result<Signer, JwtError> {
    Ok(match alg {
        Alg::Es256 => Signer::Ecdsa(
            EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8,
                &SystemRandom::new(),
            )
            .map_err(key_error)?,
        ),
        Alg::Rs256 => Signer::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(key_error)?),
    })
}

fn public_jwk(kid: &str, alg: Alg, signer: &Signer) -> Value {
    match signer {
        Signer::Ecdsa(k) => {
            // Uncompressed point: 0x04 || x || y (SEC 1 §2.3.3).
            let point = k.public_key().as_ref();
            json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": alg.as_str(), "kid": kid,
                   "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
        }
        Signer::Rsa(k) => {
            let public: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
            json!({"kty": "RSA", "use": "sig", "alg": alg.as_str(), "kid": kid,
                   "n": B64.encode(&public.n), "e": B64.encode(&public.e)})
        }
    }
}

/// Makes sure one signing key per algorithm is in use (several servers starting at
/// once agree through the table's unique constraint).
pub async fn ensure_keys(store: &Store, master_key: &MasterKey, now: i64) -> Result<(), JwtError> {
    let existing = store.oidc_keys(now).await?;
    for alg in [Alg::Es256, Alg::Rs256] {
        if existing.iter().any(|k| k.active && k.alg == alg.as_str()) {
            continue;
        }
        let key = generate(master_key, alg, now)?;
        match store.insert_oidc_key(&key).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Retires the keys in use and makes new ones; the old stay published for `keep`
/// seconds (the longest lifetime of what they signed).
pub async fn rotate_keys(
    store: &Store,
    master_key: &MasterKey,
    now: i64,
) -> Result<Vec<String>, JwtError> {
    let new = [
        generate(master_key, Alg::Es256, now)?,
        generate(master_key, Alg::Rs256, now)?,
    ];
    store.rotate_oidc_keys(&new, now).await?;
    Ok(new.iter().map(|k| k.kid.clone()).collect())
}

impl KeyRing {
    /// Opens the keys in use and those retired less than `keep` seconds ago.
    pub async fn load(
        store: &Store,
        master_key: &MasterKey,
        now: i64,
        keep: i64,
    ) -> Result<KeyRing, JwtError> {
        let mut keys = Vec::new();
        for stored in store.oidc_keys(now - keep).await? {
            let Some(alg) = Alg::parse(&stored.alg) else {
                continue;
            };
            let pkcs8 = master_key.open(&stored.key_sealed, KEY_PURPOSE)?;
            let signer = open_signer(alg, &pkcs8)?;
            keys.push(SigningKey {
                public_jwk: public_jwk(&stored.kid, alg, &signer),
                kid: stored.kid,
                alg,
                active: stored.active,
                signer,
            });
        }
        Ok(KeyRing { keys })
    }

    /// The JWKS document (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() })
    }

    /// Signs `claims` as a compact JWS with the key in use for `alg`.
    pub fn sign(&self, alg: Alg, typ: &str, claims: &Value) -> Result<String, JwtError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.active && k.alg == alg)
            .ok_or_else(|| JwtError::Key(format!("no {} key in use", alg.as_str())))?;
        let header = json!({"alg": alg.as_str(), "kid": key.kid, "typ": typ});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match &key.signer {
            Signer::Ecdsa(k) => k
                .sign(&rng, input.as_bytes())
                .map_err(|_| JwtError::Sign)?
                .as_ref()
                .to_vec(),
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| JwtError::Sign)?;
                sig
            }
        };
        Ok(format!("{input}.{}", B64.encode(sig)))
    }

    /// The claims of a token passgrid signed, if its signature holds. Only the header's
    /// `kid` chooses the key, and the header's `alg` must be that key's own.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        if token.len() > 16 * 1024 {
            return Err(JwtError::Invalid);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Invalid);
        };
        let header: Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JwtError::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| header["kid"].as_str() == Some(k.kid.as_str()))
            .ok_or(JwtError::Invalid)?;
        if header["alg"].as_str() != Some(key.alg.as_str()) {
            return Err(JwtError::Invalid);
        }
        let sig = B64.decode(s).map_err(|_| JwtError::Invalid)?;
        let input = &token.as_bytes()[..h.len() + 1 + c.len()];
        let ok = match &key.signer {
            Signer::Ecdsa(k) => signature::UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                k.public_key().as_ref(),
            )
            .verify(input, &sig)
            .is_ok(),
            Signer::Rsa(k) => signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public())
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, &sig)
                .is_ok(),
        };
        if !ok {
            return Err(JwtError::Invalid);
        }
        B64.decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JwtError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_of(algs: &[Alg]) -> KeyRing {
        let (mk, _) =
            MasterKey::load_or_create(std::path::Path::new("/nonexistent"), Some(&"07".repeat(32)))
                .unwrap();
        let keys = algs
            .iter()
            .map(|&alg| {
                let stored = generate(&mk, alg, 1).unwrap();
                let pkcs8 = mk.open(&stored.key_sealed, KEY_PURPOSE).unwrap();
                let signer = open_signer(alg, &pkcs8).unwrap();
                SigningKey {
                    public_jwk: public_jwk(&stored.kid, alg, &signer),
                    kid: stored.kid,
                    alg,
                    active: true,
                    signer,
                }
            })
            .collect();
        KeyRing { keys }
    }

    #[test]
    fn signs_and_verifies_es256_and_rs256() {
        let ring = ring_of(&[Alg::Es256, Alg::Rs256]);
        for alg in [Alg::Es256, Alg::Rs256] {
            let t = ring.sign(alg, "JWT", &json!({"sub": "ann"})).unwrap();
            assert_eq!(ring.verify(&t).unwrap()["sub"], "ann");
            // One changed character of the payload breaks it.
            let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
            parts[1] = B64.encode(json!({"sub": "bob"}).to_string());
            assert!(ring.verify(&parts.join(".")).is_err());
        }
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn refuses_alg_none_hs256_and_a_swapped_alg() {
        let ring = ring_of(&[Alg::Es256]);
        let t = ring
            .sign(Alg::Es256, "JWT", &json!({"sub": "ann"}))
            .unwrap();
        let kid = ring.keys[0].kid.clone();
        let body = t.split('.').nth(1).unwrap().to_string();
        for alg in ["none", "HS256", "RS256"] {
            let h = B64.encode(json!({"alg": alg, "kid": kid}).to_string());
            assert!(ring.verify(&format!("{h}.{body}.")).is_err(), "{alg}");
            assert!(ring
                .verify(&format!("{h}.{body}.{}", t.split('.').nth(2).unwrap()))
                .is_err());
        }
        assert!(ring.verify("a.b").is_err());
    }
}
