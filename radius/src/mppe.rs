//! MPPE session keys: derived from MS-CHAPv2 (RFC 3079 §3.4) and carried to the
//! NAS in MS-MPPE-Send-Key / MS-MPPE-Recv-Key, encrypted with a salt and an MD5
//! chain over the shared secret and the Request Authenticator (RFC 2548 §2.4.2).

use std::fmt;

use md5::Md5;
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::attributes::microsoft;
use crate::authenticator::EncodeError;
use crate::packet::{Attribute, AUTHENTICATOR_LEN};
use crate::secret::{random_bytes, Secret};

const MASTER_MAGIC: &[u8; 27] = b"This is the MPPE Master Key";
/// RFC 3079 §3.4 Magic2: the server's receive key.
const SERVER_RECEIVE_MAGIC: &[u8; 84] =
    b"On the client side, this is the send key; on the server side, it is the receive key.";
/// RFC 3079 §3.4 Magic3: the server's send key.
const SERVER_SEND_MAGIC: &[u8; 84] =
    b"On the client side, this is the receive key; on the server side, it is the send key.";
const SHS_PAD1: [u8; 40] = [0x00; 40];
const SHS_PAD2: [u8; 40] = [0xf2; 40];

/// The server's 128-bit MPPE keys; zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MppeKeys {
    /// Goes in MS-MPPE-Send-Key (the NAS encrypts towards the peer with it).
    pub send: [u8; 16],
    /// Goes in MS-MPPE-Recv-Key.
    pub recv: [u8; 16],
}

impl fmt::Debug for MppeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MppeKeys([redacted])")
    }
}

/// GetMasterKey (RFC 3079 §3.4).
pub fn master_key(password_hash_hash: &[u8; 16], nt_response: &[u8; 24]) -> Zeroizing<[u8; 16]> {
    let mut sha = Sha1::new();
    sha.update(password_hash_hash);
    sha.update(nt_response);
    sha.update(MASTER_MAGIC);
    first16(&sha.finalize())
}

fn first16(digest: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut out = Zeroizing::new([0u8; 16]);
    if let Some(head) = digest.get(..16) {
        out.copy_from_slice(head);
    }
    out
}

/// GetAsymmetricStartKey (RFC 3079 §3.4), 128-bit, from the server's side.
fn start_key(master: &[u8; 16], magic: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut sha = Sha1::new();
    sha.update(master);
    sha.update(SHS_PAD1);
    sha.update(magic);
    sha.update(SHS_PAD2);
    first16(&sha.finalize())
}

/// The server's send and receive keys after an MS-CHAPv2 exchange.
pub fn derive_server_keys(password_hash_hash: &[u8; 16], nt_response: &[u8; 24]) -> MppeKeys {
    let master = master_key(password_hash_hash, nt_response);
    MppeKeys {
        send: *start_key(&master, SERVER_SEND_MAGIC),
        recv: *start_key(&master, SERVER_RECEIVE_MAGIC),
    }
}

fn md5_block(secret: &Secret, parts: &[&[u8]]) -> Zeroizing<[u8; 16]> {
    let mut md5 = Md5::new();
    md5.update(secret.expose());
    for p in parts {
        md5.update(p);
    }
    Zeroizing::new(md5.finalize().into())
}

/// Encrypts a key for MS-MPPE-Send-Key / -Recv-Key (RFC 2548 §2.4.2): value is
/// salt (2 octets, high bit set) then the length-prefixed, zero-padded key XORed with
/// MD5(secret ‖ R ‖ salt), MD5(secret ‖ c(1)), …
pub fn encrypt_mppe_key(
    key: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    salt: [u8; 2],
) -> Result<Vec<u8>, EncodeError> {
    if key.len() > 200 {
        return Err(EncodeError::TooLongToHide);
    }
    let mut plain = Zeroizing::new(Vec::with_capacity(key.len() + 16));
    plain.push(key.len() as u8);
    plain.extend_from_slice(key);
    let padded = plain.len().div_ceil(16) * 16;
    plain.resize(padded, 0);
    let mut out = salt.to_vec();
    let mut previous: Vec<u8> = Vec::new();
    for (i, block) in plain.chunks(16).enumerate() {
        let b = if i == 0 {
            md5_block(secret, &[request_authenticator, &salt])
        } else {
            md5_block(secret, &[&previous])
        };
        let c: Vec<u8> = block.iter().zip(b.iter()).map(|(p, k)| p ^ k).collect();
        out.extend_from_slice(&c);
        previous = c;
    }
    Ok(out)
}

/// Reverses [`encrypt_mppe_key`] (what a NAS does); `None` if malformed.
pub fn decrypt_mppe_key(
    value: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Option<Zeroizing<Vec<u8>>> {
    let salt = value.get(..2)?;
    let cipher = value.get(2..)?;
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return None;
    }
    let mut plain = Zeroizing::new(Vec::with_capacity(cipher.len()));
    let mut previous: &[u8] = &[];
    for (i, block) in cipher.chunks(16).enumerate() {
        let b = if i == 0 {
            md5_block(secret, &[request_authenticator, salt])
        } else {
            md5_block(secret, &[previous])
        };
        plain.extend(block.iter().zip(b.iter()).map(|(c, k)| c ^ k));
        previous = block;
    }
    let len = usize::from(*plain.first()?);
    Some(Zeroizing::new(plain.get(1..1 + len)?.to_vec()))
}

/// A fresh salt: random with the high bit set (RFC 2548 §2.4.2). The two keys of
/// one reply get different salts because the low bit is forced apart.
pub fn fresh_salts() -> Result<([u8; 2], [u8; 2]), EncodeError> {
    let [a, b]: [u8; 2] = random_bytes()?;
    Ok(([a | 0x80, b & 0xfe], [a | 0x80, b | 0x01]))
}

/// The two MS-MPPE key attributes of an Access-Accept.
pub fn mppe_key_attributes(
    keys: &MppeKeys,
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Result<[Attribute; 2], EncodeError> {
    let (send_salt, recv_salt) = fresh_salts()?;
    let send = encrypt_mppe_key(&keys.send, secret, request_authenticator, send_salt)?;
    let recv = encrypt_mppe_key(&keys.recv, secret, request_authenticator, recv_salt)?;
    Ok([
        Attribute::vendor_specific(microsoft::VENDOR_ID, microsoft::MS_MPPE_SEND_KEY, &send)?,
        Attribute::vendor_specific(microsoft::VENDOR_ID, microsoft::MS_MPPE_RECV_KEY, &recv)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mschapv2::tests::NT_RESPONSE;
    use crate::mschapv2::{hash_nt_password_hash, nt_password_hash};

    #[test]
    fn rfc3079_section_3_5_vectors() {
        let hash = nt_password_hash(b"clientPass").unwrap();
        let hash_hash = hash_nt_password_hash(&hash);
        let master = master_key(&hash_hash, &NT_RESPONSE);
        assert_eq!(
            *master,
            [
                0xFD, 0xEC, 0xE3, 0x71, 0x7A, 0x8C, 0x83, 0x8C, 0xB3, 0x88, 0xE5, 0x27, 0xAE, 0x3C,
                0xDD, 0x31
            ]
        );
        // RFC 3079 §3.5.3 lists the server's send key (Magic3).
        let keys = derive_server_keys(&hash_hash, &NT_RESPONSE);
        assert_eq!(
            keys.send,
            [
                0x8B, 0x7C, 0xDC, 0x14, 0x9B, 0x99, 0x3A, 0x1B, 0xA1, 0x18, 0xCB, 0x15, 0x3F, 0x56,
                0xDC, 0xCB
            ]
        );
        assert_ne!(keys.send, keys.recv);
        assert_eq!(format!("{keys:?}"), "MppeKeys([redacted])");
    }

    #[test]
    fn key_encryption_round_trips() {
        let secret = Secret::from("testing123");
        let ra = [9u8; 16];
        let key = [0x5a; 16];
        let value = encrypt_mppe_key(&key, &secret, &ra, [0x81, 0x02]).unwrap();
        assert_eq!(value.len(), 2 + 32);
        assert_eq!(&value[..2], &[0x81, 0x02]);
        assert_eq!(&*decrypt_mppe_key(&value, &secret, &ra).unwrap(), &key);
        assert!(decrypt_mppe_key(&value, &"other".into(), &ra).is_none_or(|k| *k != key));
        assert!(decrypt_mppe_key(&value[..10], &secret, &ra).is_none());
        let (a, b) = fresh_salts().unwrap();
        assert!(a[0] & 0x80 != 0 && a != b);
    }
}
