//! The IdP's signing key: RSA-2048 with a self-signed certificate, sealed under the
//! master key in the database (like the CA key and the OIDC keys), so that every
//! server of a cluster signs with the same key. A rotation keeps the old
//! certificate in the metadata until an administrator drops it: SPs that read the
//! metadata trust both meanwhile (Metadata §2.4.1.1), and those configured by hand
//! (Microsoft 365, Google Workspace) are given the new certificate first.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};

use super::{SamlIdpError, SigningKeys};
use crate::{
    master_key::MasterKey,
    store::{saml_keys::StoredSamlKey, Store, StoreError},
};

/// The purpose the key is sealed for (bound as associated data).
const KEY_PURPOSE: &str = "saml signing key";

/// A new key, sealed for storage.
fn generate(master_key: &MasterKey, now: i64) -> Result<StoredSamlKey, SamlIdpError> {
    let mut kid_bytes = [0u8; 12];
    crate::random::os_random(&mut kid_bytes)?;
    let kid = B64.encode(kid_bytes);
    let (pkcs8, certificate) = crate::ca::saml_signing::new_saml_signing_key(
        &format!("passgrid SAML signing {kid}"),
        now,
    )?;
    Ok(StoredSamlKey {
        kid,
        active: true,
        key_sealed: master_key.seal(&pkcs8, KEY_PURPOSE)?,
        certificate,
        retired_at: None,
        created_at: now,
    })
}

/// Makes sure a signing key exists (several servers starting at once agree through
/// the table's unique constraint).
pub async fn ensure_key(
    store: &Store,
    master_key: &MasterKey,
    now: i64,
) -> Result<(), SamlIdpError> {
    if store.saml_keys().await?.iter().any(|k| k.active) {
        return Ok(());
    }
    let key = generate(master_key, now)?;
    match store.insert_saml_key(&key).await {
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Retires the signing key and makes a new one; returns the new key's ID. The old
/// certificate stays published until [`drop_retired_keys`].
pub async fn rotate_key(
    store: &Store,
    master_key: &MasterKey,
    now: i64,
) -> Result<String, SamlIdpError> {
    let key = generate(master_key, now)?;
    store.rotate_saml_key(&key, now).await?;
    Ok(key.kid)
}

/// Drops the retired keys: their certificates leave the metadata. How many.
pub async fn drop_retired_keys(store: &Store) -> Result<u64, SamlIdpError> {
    Ok(store.drop_retired_saml_keys().await?)
}

/// Opens the signing key and collects the published certificates.
pub async fn load(store: &Store, master_key: &MasterKey) -> Result<SigningKeys, SamlIdpError> {
    let stored = store.saml_keys().await?;
    let active = stored
        .iter()
        .find(|k| k.active)
        .ok_or_else(|| SamlIdpError::Invalid("no SAML signing key: restart passgrid".into()))?;
    let pkcs8 = master_key.open(&active.key_sealed, KEY_PURPOSE)?;
    let key = passgrid_saml::IdpSigningKey::from_pkcs8_der(&pkcs8, active.certificate.clone())?;
    Ok(SigningKeys {
        active: key,
        active_kid: active.kid.clone(),
        certificates: stored.iter().map(|k| k.certificate.clone()).collect(),
    })
}

/// The keys for `passgrid saml key list`: (kid, in use, created, retired, SHA-256 of
/// the certificate).
pub async fn describe_keys(
    store: &Store,
) -> Result<Vec<(String, bool, i64, Option<i64>, String)>, SamlIdpError> {
    use sha2::{Digest, Sha256};
    Ok(store
        .saml_keys()
        .await?
        .into_iter()
        .map(|k| {
            let fingerprint = hex::encode(Sha256::digest(&k.certificate));
            (k.kid, k.active, k.created_at, k.retired_at, fingerprint)
        })
        .collect())
}
