//! The master key: 32 random bytes kept outside the database (a 0600 file in the data
//! directory, or `PASSGRID_MASTER_KEY`), under which every secret at rest is sealed
//! with XChaCha20-Poly1305. Each sealed value names its key id so keys can be rotated.

use std::{
    fmt,
    fs::{self, OpenOptions},
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::{rngs::OsRng, TryRngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const MAGIC: &[u8; 3] = b"PG1";
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("PASSGRID_MASTER_KEY must be 64 hexadecimal characters (32 bytes)")]
    BadEnvKey,
    #[error("sealed value was made under key {found}, but the master key is {expected}")]
    WrongKey { found: String, expected: String },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value failed authentication (tampered, or another key)")]
    Authentication,
    #[error("the operating system's random generator failed")]
    Random,
}

/// The key that seals secrets at rest. Zeroized on drop; never printed.
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    id: [u8; KEY_ID_LEN],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey {{ id: {}, key: [redacted] }}", self.id_hex())
    }
}

impl MasterKey {
    fn from_bytes(key: Zeroizing<[u8; 32]>) -> MasterKey {
        let mut h = Sha256::new();
        h.update(b"passgrid master key id\0");
        h.update(key.as_slice());
        let digest = h.finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        MasterKey { key, id }
    }

    /// The key id recorded in every sealed value (not secret).
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// Takes the key from `env_hex` when given, else reads `path`, else creates `path`
    /// (mode 0600). Returns whether a new key file was created.
    pub fn load_or_create(
        path: &Path,
        env_hex: Option<&str>,
    ) -> Result<(MasterKey, bool), SealError> {
        if let Some(hex_key) = env_hex {
            return Ok((
                MasterKey::from_bytes(parse_hex_key(hex_key).ok_or(SealError::BadEnvKey)?),
                false,
            ));
        }
        let file_err = |reason: String| SealError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match fs::metadata(path) {
            Ok(meta) => {
                // Like ssh with private keys: a key others can read is refused, not used.
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(file_err(format!(
                        "permissions {:o} are too open; run chmod 600 on it",
                        meta.permissions().mode() & 0o777
                    )));
                }
                let text =
                    Zeroizing::new(fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?);
                let key = parse_hex_key(&text)
                    .ok_or_else(|| file_err("does not hold 64 hexadecimal characters".into()))?;
                Ok((MasterKey::from_bytes(key), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; 32]);
                OsRng
                    .try_fill_bytes(key.as_mut_slice())
                    .map_err(|_| SealError::Random)?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| file_err(e.to_string()))?;
                let text = Zeroizing::new(format!("{}\n", hex::encode(key.as_slice())));
                file.write_all(text.as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| file_err(e.to_string()))?;
                Ok((MasterKey::from_bytes(key), true))
            }
            Err(e) => Err(file_err(e.to_string())),
        }
    }

    /// A key for `purpose` derived from the master key (HMAC-SHA256, RFC 2104 as a
    /// PRF): keys that must stay outside the database, like the audit chain's MAC key,
    /// without a second key file.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        use hmac::{Hmac, Mac};
        // HMAC takes a key of any length; this cannot fail for a 32-byte key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(b"passgrid derived key\0");
        mac.update(purpose.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// Seals `plaintext`; `purpose` is bound as associated data, so a value sealed for
    /// one purpose (say, the CA key) cannot be passed off as another.
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Result<Vec<u8>, SealError> {
        let cipher = XChaCha20Poly1305::new(self.key.as_slice().into());
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let aad = self.aad(purpose);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Authentication)?;
        let mut out = Vec::with_capacity(MAGIC.len() + KEY_ID_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a value made by [`MasterKey::seal`] with the same `purpose`.
    pub fn open(&self, sealed: &[u8], purpose: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let header = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;
        if sealed.len() < header + 16 || &sealed[..MAGIC.len()] != MAGIC {
            return Err(SealError::Malformed);
        }
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        if id != self.id {
            return Err(SealError::WrongKey {
                found: hex::encode(id),
                expected: self.id_hex(),
            });
        }
        let nonce = XNonce::from_slice(&sealed[MAGIC.len() + KEY_ID_LEN..header]);
        let cipher = XChaCha20Poly1305::new(self.key.as_slice().into());
        let aad = self.aad(purpose);
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[header..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Authentication)
    }

    fn aad(&self, purpose: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(MAGIC.len() + KEY_ID_LEN + purpose.len());
        aad.extend_from_slice(MAGIC);
        aad.extend_from_slice(&self.id);
        aad.extend_from_slice(purpose.as_bytes());
        aad
    }
}

fn parse_hex_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut_slice()).ok()?;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> std::path::PathBuf {
        let mut bytes = [0u8; 8];
        OsRng.try_fill_bytes(&mut bytes).unwrap();
        let dir = std::env::temp_dir().join(format!("passgrid-mk-{}", hex::encode(bytes)));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn creates_0600_file_and_reloads_same_key() {
        let dir = temp_dir();
        let path = dir.join("master.key");
        let (k1, created) = MasterKey::load_or_create(&path, None).unwrap();
        assert!(created);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (k2, created) = MasterKey::load_or_create(&path, None).unwrap();
        assert!(!created);
        let sealed = k1.seal(b"secret", "test").unwrap();
        assert_eq!(k2.open(&sealed, "test").unwrap().as_slice(), b"secret");
        assert!(!format!("{k1:?}").contains(&hex::encode(k1.key.as_slice())));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_world_readable_key_file() {
        let dir = temp_dir();
        let path = dir.join("master.key");
        MasterKey::load_or_create(&path, None).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load_or_create(&path, None).unwrap_err();
        assert!(err.to_string().contains("too open"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tampering_wrong_purpose_and_wrong_key_fail() {
        let k = MasterKey::from_bytes(Zeroizing::new([1u8; 32]));
        let other = MasterKey::from_bytes(Zeroizing::new([2u8; 32]));
        let sealed = k.seal(b"ca private key", "ca-key").unwrap();
        assert!(matches!(
            k.open(&sealed, "pattern"),
            Err(SealError::Authentication)
        ));
        assert!(matches!(
            other.open(&sealed, "ca-key"),
            Err(SealError::WrongKey { .. })
        ));
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(
            k.open(&bad, "ca-key"),
            Err(SealError::Authentication)
        ));
        assert!(matches!(
            k.open(&sealed[..10], "ca-key"),
            Err(SealError::Malformed)
        ));
        // Two seals of the same plaintext differ (fresh nonce each time).
        assert_ne!(k.seal(b"x", "p").unwrap(), k.seal(b"x", "p").unwrap());
    }

    #[test]
    fn env_key_must_be_hex() {
        let p = Path::new("/nonexistent/ignored");
        assert!(matches!(
            MasterKey::load_or_create(p, Some("zz")),
            Err(SealError::BadEnvKey)
        ));
        let (k, created) = MasterKey::load_or_create(p, Some(&"ab".repeat(32))).unwrap();
        assert!(!created);
        assert_eq!(k.id_hex().len(), 8);
    }
}
