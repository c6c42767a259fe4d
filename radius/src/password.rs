//! User-Password hiding (RFC 2865 §5.2): the password padded to a multiple of 16
//! octets (at most 128), XORed with an MD5 chain seeded by the shared secret and
//! the Request Authenticator.

use md5::{Digest, Md5};
use zeroize::Zeroize;

use crate::attributes::kind;
use crate::packet::{Attribute, Packet, AUTHENTICATOR_LEN};
use crate::secret::Secret;

/// Longest password RFC 2865 §5.2 can carry.
pub const MAX_PASSWORD_LEN: usize = 128;

/// Why a User-Password could not be hidden or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Over 128 octets (when hiding) or not 16..=128 in steps of 16 (when unhiding).
    #[error("User-Password has an invalid length")]
    BadLength,
}

fn xor_chain(
    input: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    hiding: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut previous: [u8; 16] = *request_authenticator;
    for block in input.chunks(16) {
        let mut md5 = Md5::new();
        md5.update(secret.expose());
        md5.update(previous);
        let mut b: [u8; 16] = md5.finalize().into();
        let mut cipher = [0u8; 16];
        for (i, (x, k)) in block.iter().zip(b.iter()).enumerate() {
            let y = x ^ k;
            out.push(y);
            // The chain continues from the ciphertext block, whichever way we go.
            if let Some(c) = cipher.get_mut(i) {
                *c = if hiding { y } else { *x };
            }
        }
        b.zeroize();
        previous = cipher;
    }
    out
}

/// Hides a password for the User-Password attribute of a request.
pub fn hide_user_password(
    password: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Result<Vec<u8>, PasswordError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::BadLength);
    }
    let padded_len = password.len().div_ceil(16).max(1) * 16;
    let mut padded = password.to_vec();
    padded.resize(padded_len, 0);
    let hidden = xor_chain(&padded, secret, request_authenticator, true);
    padded.zeroize();
    Ok(hidden)
}

/// Recovers the password from a hidden User-Password, trailing NUL padding removed.
pub fn unhide_user_password(
    hidden: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Result<Secret, PasswordError> {
    if hidden.is_empty() || hidden.len() > MAX_PASSWORD_LEN || !hidden.len().is_multiple_of(16) {
        return Err(PasswordError::BadLength);
    }
    let mut plain = xor_chain(hidden, secret, request_authenticator, false);
    let end = plain.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let password = Secret::new(plain.get(..end).unwrap_or_default().to_vec());
    plain.zeroize();
    Ok(password)
}

impl Packet {
    /// Sets User-Password, hidden with this packet's Request Authenticator.
    pub fn set_user_password(
        &mut self,
        password: &[u8],
        secret: &Secret,
    ) -> Result<(), PasswordError> {
        let hidden = hide_user_password(password, secret, &self.authenticator)?;
        self.remove_all(kind::USER_PASSWORD);
        self.push(Attribute::new(kind::USER_PASSWORD, hidden));
        Ok(())
    }

    /// The User-Password in clear, if the packet has one.
    pub fn user_password(&self, secret: &Secret) -> Option<Result<Secret, PasswordError>> {
        let hidden = self.hidden_user_password()?;
        Some(unhide_user_password(hidden, secret, &self.authenticator))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hide_then_unhide_round_trips_all_lengths() {
        let secret = Secret::from("xyzzy5461");
        let ra = [7u8; 16];
        for len in 0..=128usize {
            let pw: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let hidden = hide_user_password(&pw, &secret, &ra).unwrap();
            assert_eq!(hidden.len(), len.div_ceil(16).max(1) * 16);
            assert_eq!(
                unhide_user_password(&hidden, &secret, &ra)
                    .unwrap()
                    .expose(),
                &pw[..]
            );
        }
        assert!(hide_user_password(&[1; 129], &secret, &ra).is_err());
        assert!(unhide_user_password(&[1; 15], &secret, &ra).is_err());
        assert!(unhide_user_password(&[], &secret, &ra).is_err());
        assert!(unhide_user_password(&[1; 144], &secret, &ra).is_err());
    }

    #[test]
    fn rfc2865_section_7_1_example() {
        // RFC 2865 §7.1: user "nemo", password "arctangent", secret "xyzzy5461".
        let ra = [
            0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4,
            0x22, 0x7a,
        ];
        let hidden = [
            0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a,
            0x0a, 0xee,
        ];
        let secret = Secret::from("xyzzy5461");
        assert_eq!(
            hide_user_password(b"arctangent", &secret, &ra).unwrap(),
            hidden
        );
        assert_eq!(
            unhide_user_password(&hidden, &secret, &ra)
                .unwrap()
                .expose(),
            b"arctangent"
        );
    }

    #[test]
    fn packet_helpers() {
        let secret = Secret::from("s");
        let mut p = Packet::new(crate::packet::Code::AccessRequest, 1, [3; 16]);
        assert!(p.user_password(&secret).is_none());
        p.set_user_password(b"pw", &secret).unwrap();
        assert_eq!(p.user_password(&secret).unwrap().unwrap().expose(), b"pw");
    }
}
