//! MS-CHAPv2 (RFC 2759 §8): NtPasswordHash, ChallengeHash, GenerateNTResponse and
//! GenerateAuthenticatorResponse, and a verifier for a server that knows the one
//! password (here: the expected one-time password) it should accept.

use des::cipher::{BlockCipherEncrypt, KeyInit};
use des::Des;
use md4::Md4;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::mppe::{self, MppeKeys};

/// The two magic strings of RFC 2759 §8.7.
const MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
const MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";

/// NtPasswordHash (RFC 2759 §8.3): MD4 of the password in UTF-16LE.
/// `None` when the octets are not UTF-8 (a password has to be text to be typed).
pub fn nt_password_hash(password: &[u8]) -> Option<Zeroizing<[u8; 16]>> {
    let text = std::str::from_utf8(password).ok()?;
    let mut unicode: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut md4 = Md4::new();
    md4.update(&unicode);
    unicode.zeroize();
    Some(Zeroizing::new(md4.finalize().into()))
}

/// HashNtPasswordHash (RFC 2759 §8.4): MD4 of the hash.
pub fn hash_nt_password_hash(hash: &[u8; 16]) -> Zeroizing<[u8; 16]> {
    let mut md4 = Md4::new();
    md4.update(hash);
    Zeroizing::new(md4.finalize().into())
}

/// The user name that enters ChallengeHash: any "DOMAIN\" prefix removed (RFC 2759 §8.2).
fn strip_domain(user_name: &[u8]) -> &[u8] {
    match user_name.iter().rposition(|&b| b == b'\\') {
        Some(p) => user_name.get(p + 1..).unwrap_or_default(),
        None => user_name,
    }
}

/// ChallengeHash (RFC 2759 §8.2): first 8 octets of SHA-1(peer ‖ authenticator ‖ name).
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> [u8; 8] {
    let mut sha = Sha1::new();
    sha.update(peer_challenge);
    sha.update(authenticator_challenge);
    sha.update(strip_domain(user_name));
    let digest = sha.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
    out
}

/// Spreads 7 key octets over 8 with odd parity in the low bit (RFC 2759 §8.6 DesEncrypt).
fn des_key(seven: &[u8]) -> [u8; 8] {
    let mut k = [0u8; 7];
    for (dst, src) in k.iter_mut().zip(seven) {
        *dst = *src;
    }
    let bits = u64::from_be_bytes([0, k[0], k[1], k[2], k[3], k[4], k[5], k[6]]);
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        let seven_bits = ((bits >> (49 - 7 * i)) & 0x7f) as u8;
        let b = seven_bits << 1;
        *byte = b | u8::from(b.count_ones().is_multiple_of(2));
    }
    k.zeroize();
    out
}

/// ChallengeResponse (RFC 2759 §8.5): the 8-octet challenge DES-encrypted under the
/// three 7-octet thirds of the zero-padded 21-octet password hash.
pub fn challenge_response(challenge: &[u8; 8], password_hash: &[u8; 16]) -> [u8; 24] {
    let mut z = [0u8; 21];
    z[..16].copy_from_slice(password_hash);
    let mut out = [0u8; 24];
    for (third, chunk) in z.chunks(7).zip(out.chunks_mut(8)) {
        let mut key = des_key(third);
        let cipher = Des::new(&key.into());
        let mut block = (*challenge).into();
        cipher.encrypt_block(&mut block);
        let block: [u8; 8] = block.into();
        chunk.copy_from_slice(&block);
        key.zeroize();
    }
    z.zeroize();
    out
}

/// GenerateNTResponse (RFC 2759 §8.1). `None` if the password is not UTF-8.
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user_name: &[u8],
    password: &[u8],
) -> Option<[u8; 24]> {
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let hash = nt_password_hash(password)?;
    Some(challenge_response(&challenge, &hash))
}

/// GenerateAuthenticatorResponse (RFC 2759 §8.7): "S=" and 40 upper-case hex digits.
pub fn generate_authenticator_response(
    password_hash_hash: &[u8; 16],
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user_name: &[u8],
) -> String {
    let mut sha = Sha1::new();
    sha.update(password_hash_hash);
    sha.update(nt_response);
    sha.update(MAGIC1);
    let digest = sha.finalize();
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let mut sha = Sha1::new();
    sha.update(digest);
    sha.update(challenge);
    sha.update(MAGIC2);
    let digest = sha.finalize();
    let mut out = String::from("S=");
    for b in digest {
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// What a matching MS-CHAPv2 response yields: the string for the peer to check the
/// server with, and the MPPE keys of RFC 3079 §3 (server's send and receive keys).
#[derive(Debug)]
pub struct MschapV2Success {
    /// "S=…" for MS-CHAP2-Success or the EAP-MSCHAPv2 Success-Request.
    pub authenticator_response: String,
    /// The session keys for MS-MPPE-Send-Key / MS-MPPE-Recv-Key.
    pub keys: MppeKeys,
}

/// Checks an MS-CHAPv2 NT-Response against one password candidate (e.g. the OTP the
/// server expects), comparing in constant time. `user_name` is the name the peer
/// put in its response. Returns the authenticator response and MPPE keys on a match.
pub fn verify_mschapv2(
    password_candidate: &[u8],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    nt_response: &[u8; 24],
    user_name: &[u8],
) -> Option<MschapV2Success> {
    let hash = nt_password_hash(password_candidate)?;
    let challenge = challenge_hash(peer_challenge, authenticator_challenge, user_name);
    let expected = challenge_response(&challenge, &hash);
    if !bool::from(expected.ct_eq(nt_response)) {
        return None;
    }
    let hash_hash = hash_nt_password_hash(&hash);
    let authenticator_response = generate_authenticator_response(
        &hash_hash,
        nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    );
    let keys = mppe::derive_server_keys(&hash_hash, nt_response);
    Some(MschapV2Success {
        authenticator_response,
        keys,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// RFC 2759 §9.2 values (also RFC 3079 §3.5).
    pub(crate) const AUTH_CHALLENGE: [u8; 16] = [
        0x5B, 0x5D, 0x7C, 0x7D, 0x7B, 0x3F, 0x2F, 0x3E, 0x3C, 0x2C, 0x60, 0x21, 0x32, 0x26, 0x26,
        0x28,
    ];
    pub(crate) const PEER_CHALLENGE: [u8; 16] = [
        0x21, 0x40, 0x23, 0x24, 0x25, 0x5E, 0x26, 0x2A, 0x28, 0x29, 0x5F, 0x2B, 0x3A, 0x33, 0x7C,
        0x7E,
    ];
    pub(crate) const NT_RESPONSE: [u8; 24] = [
        0x82, 0x30, 0x9E, 0xCD, 0x8D, 0x70, 0x8B, 0x5E, 0xA0, 0x8F, 0xAA, 0x39, 0x81, 0xCD, 0x83,
        0x54, 0x42, 0x33, 0x11, 0x4A, 0x3D, 0x85, 0xD6, 0xDF,
    ];

    #[test]
    fn rfc2759_section_9_2_vectors() {
        let hash = nt_password_hash(b"clientPass").unwrap();
        assert_eq!(
            *hash,
            [
                0x44, 0xEB, 0xBA, 0x8D, 0x53, 0x12, 0xB8, 0xD6, 0x11, 0x47, 0x44, 0x11, 0xF5, 0x69,
                0x89, 0xAE
            ]
        );
        assert_eq!(
            challenge_hash(&PEER_CHALLENGE, &AUTH_CHALLENGE, b"User"),
            [0xD0, 0x2E, 0x43, 0x86, 0xBC, 0xE9, 0x12, 0x26]
        );
        assert_eq!(
            generate_nt_response(&AUTH_CHALLENGE, &PEER_CHALLENGE, b"User", b"clientPass"),
            Some(NT_RESPONSE)
        );
        let hash_hash = hash_nt_password_hash(&hash);
        assert_eq!(
            *hash_hash,
            [
                0x41, 0xC0, 0x0C, 0x58, 0x4B, 0xD2, 0xD9, 0x1C, 0x40, 0x17, 0xA2, 0xA1, 0x2F, 0xA5,
                0x9F, 0x3F
            ]
        );
        assert_eq!(
            generate_authenticator_response(
                &hash_hash,
                &NT_RESPONSE,
                &PEER_CHALLENGE,
                &AUTH_CHALLENGE,
                b"User"
            ),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
    }

    #[test]
    fn verify_accepts_only_the_right_password() {
        let ok = verify_mschapv2(
            b"clientPass",
            &PEER_CHALLENGE,
            &AUTH_CHALLENGE,
            &NT_RESPONSE,
            b"User",
        )
        .unwrap();
        assert_eq!(
            ok.authenticator_response,
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
        // A domain prefix is not part of the challenge hash (RFC 2759 §8.2).
        assert!(verify_mschapv2(
            b"clientPass",
            &PEER_CHALLENGE,
            &AUTH_CHALLENGE,
            &NT_RESPONSE,
            b"CORP\\User"
        )
        .is_some());
        assert!(verify_mschapv2(
            b"clientPasS",
            &PEER_CHALLENGE,
            &AUTH_CHALLENGE,
            &NT_RESPONSE,
            b"User"
        )
        .is_none());
        assert!(verify_mschapv2(
            &[0xff],
            &PEER_CHALLENGE,
            &AUTH_CHALLENGE,
            &NT_RESPONSE,
            b"User"
        )
        .is_none());
    }

    #[test]
    fn des_key_has_odd_parity() {
        for b in des_key(&[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]) {
            assert_eq!(b.count_ones() % 2, 1);
        }
    }
}
