//! Packet authentication: Request and Response Authenticators (RFC 2865 §3),
//! the Accounting-Request authenticator (RFC 2866 §3) and Message-Authenticator
//! (RFC 3579 §3.2). All checks compare in constant time.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use crate::attributes::kind;
use crate::packet::{
    Attribute, AttributeSpans, Code, Packet, PacketError, AUTHENTICATOR_LEN, HEADER_LEN,
};
use crate::secret::{random_bytes, RandomError, Secret};

type HmacMd5 = Hmac<Md5>;

/// Octets of a Message-Authenticator value.
const MESSAGE_AUTHENTICATOR_LEN: usize = 16;

/// What a packet's Message-Authenticator says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAuthenticatorCheck {
    /// No Message-Authenticator attribute.
    Missing,
    /// Present but wrong: bad HMAC, bad length, or more than one (RFC 3579 §3.2).
    Wrong,
    /// Present once and correct.
    Valid,
}

/// Why a packet could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The packet does not fit RADIUS framing.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// No randomness for an authenticator or a salt.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A reply code that does not answer this request code.
    #[error("a {reply:?} cannot answer a {request:?}")]
    CodeMismatch {
        /// The request's code.
        request: Code,
        /// The reply's code.
        reply: Code,
    },
    /// A value to hide is too long (User-Password over 128 octets).
    #[error("value too long to hide")]
    TooLongToHide,
}

/// A fresh random Request Authenticator for an Access-Request (RFC 2865 §3).
pub fn new_request_authenticator() -> Result<[u8; AUTHENTICATOR_LEN], RandomError> {
    random_bytes()
}

/// MD5 over the packet as it stands, then the secret: the Response Authenticator
/// (RFC 2865 §3) when the field holds the Request Authenticator, the
/// Accounting-Request authenticator (RFC 2866 §3) when it holds zeros.
fn md5_with_secret(packet: &[u8], secret: &Secret) -> [u8; AUTHENTICATOR_LEN] {
    let mut md5 = Md5::new();
    md5.update(packet);
    md5.update(secret.expose());
    md5.finalize().into()
}

fn set_authenticator_field(packet: &mut [u8], value: &[u8; AUTHENTICATOR_LEN]) {
    if let Some(field) = packet.get_mut(4..HEADER_LEN) {
        field.copy_from_slice(value);
    }
}

fn authenticator_field(packet: &[u8]) -> [u8; AUTHENTICATOR_LEN] {
    let mut out = [0u8; AUTHENTICATOR_LEN];
    if let Some(field) = packet.get(4..HEADER_LEN) {
        out.copy_from_slice(field);
    }
    out
}

/// Offsets (in the whole packet) of every Message-Authenticator value, or `None`
/// if the attribute area is malformed.
fn message_authenticator_offsets(packet: &[u8]) -> Option<Vec<(usize, usize)>> {
    let area = packet.get(HEADER_LEN..)?;
    let mut found = Vec::new();
    for span in AttributeSpans::new(area) {
        let (offset, kind, value) = span.ok()?;
        if kind == kind::MESSAGE_AUTHENTICATOR {
            found.push((HEADER_LEN + offset + 2, value.len()));
        }
    }
    Some(found)
}

fn hmac_md5(packet: &[u8], secret: &Secret) -> [u8; MESSAGE_AUTHENTICATOR_LEN] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = match HmacMd5::new_from_slice(secret.expose()) {
        Ok(mac) => mac,
        Err(_) => return [0u8; MESSAGE_AUTHENTICATOR_LEN],
    };
    mac.update(packet);
    mac.finalize().into_bytes().into()
}

/// Checks the Message-Authenticator of a framed packet (RFC 3579 §3.2): HMAC-MD5
/// keyed with the secret over the packet with the attribute's value zeroed and the
/// authenticator field set to `authenticator_in_hmac` — the packet's own field for
/// Access-Request and Status-Server, the request's for a reply, zeros for an
/// Accounting-Request.
pub fn check_message_authenticator(
    packet: &[u8],
    authenticator_in_hmac: &[u8; AUTHENTICATOR_LEN],
    secret: &Secret,
) -> MessageAuthenticatorCheck {
    let Some(offsets) = message_authenticator_offsets(packet) else {
        return MessageAuthenticatorCheck::Wrong;
    };
    let (offset, len) = match offsets.as_slice() {
        [] => return MessageAuthenticatorCheck::Missing,
        [one] => *one,
        _ => return MessageAuthenticatorCheck::Wrong,
    };
    if len != MESSAGE_AUTHENTICATOR_LEN {
        return MessageAuthenticatorCheck::Wrong;
    }
    let mut copy = packet.to_vec();
    let Some(value) = copy.get_mut(offset..offset + len) else {
        return MessageAuthenticatorCheck::Wrong;
    };
    let received: [u8; MESSAGE_AUTHENTICATOR_LEN] = {
        let mut r = [0u8; MESSAGE_AUTHENTICATOR_LEN];
        r.copy_from_slice(value);
        r
    };
    value.fill(0);
    set_authenticator_field(&mut copy, authenticator_in_hmac);
    let expected = hmac_md5(&copy, secret);
    if bool::from(expected.ct_eq(&received)) {
        MessageAuthenticatorCheck::Valid
    } else {
        MessageAuthenticatorCheck::Wrong
    }
}

/// Checks a request's Message-Authenticator with the right authenticator in place
/// for its code (zeros for Accounting-Request, as FreeRADIUS and RFC 5176 do).
pub fn check_request_message_authenticator(
    packet: &[u8],
    code: Code,
    secret: &Secret,
) -> MessageAuthenticatorCheck {
    let field = if code == Code::AccountingRequest {
        [0u8; AUTHENTICATOR_LEN]
    } else {
        authenticator_field(packet)
    };
    check_message_authenticator(packet, &field, secret)
}

/// True if a framed Accounting-Request carries the authenticator RFC 2866 §3
/// prescribes: MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret).
pub fn verify_accounting_request(packet: &[u8], secret: &Secret) -> bool {
    let received = authenticator_field(packet);
    let mut copy = packet.to_vec();
    set_authenticator_field(&mut copy, &[0u8; AUTHENTICATOR_LEN]);
    let expected = md5_with_secret(&copy, secret);
    bool::from(expected.ct_eq(&received))
}

/// True if a framed reply carries the right Response Authenticator for the
/// request it answers (RFC 2865 §3); what a client checks.
pub fn verify_response_authenticator(
    reply: &[u8],
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    secret: &Secret,
) -> bool {
    let received = authenticator_field(reply);
    let mut copy = reply.to_vec();
    set_authenticator_field(&mut copy, request_authenticator);
    let expected = md5_with_secret(&copy, secret);
    bool::from(expected.ct_eq(&received))
}

/// Writes the HMAC into the (zeroed) Message-Authenticator of an encoded packet,
/// computed with `authenticator_in_hmac` in the header, then restores the header.
fn sign_message_authenticator(
    packet: &mut [u8],
    authenticator_in_hmac: &[u8; AUTHENTICATOR_LEN],
    secret: &Secret,
) {
    let Some(offsets) = message_authenticator_offsets(packet) else {
        return;
    };
    let Some(&(offset, len)) = offsets.first() else {
        return;
    };
    let saved = authenticator_field(packet);
    set_authenticator_field(packet, authenticator_in_hmac);
    let mac = hmac_md5(packet, secret);
    set_authenticator_field(packet, &saved);
    if let Some(value) = packet.get_mut(offset..offset + len) {
        value.copy_from_slice(&mac);
    }
}

/// Puts one zeroed Message-Authenticator first: the Blast-RADIUS advice
/// (CVE-2024-3596) is to lead with it so a forged prefix cannot precede it.
fn lead_with_message_authenticator(packet: &mut Packet) {
    packet.remove_all(kind::MESSAGE_AUTHENTICATOR);
    packet.attributes.insert(
        0,
        Attribute::new(
            kind::MESSAGE_AUTHENTICATOR,
            vec![0u8; MESSAGE_AUTHENTICATOR_LEN],
        ),
    );
}

/// Encodes a request as a client would: Access-Request and Status-Server get a
/// Message-Authenticator over their own (random) authenticator; an
/// Accounting-Request gets the RFC 2866 §3 authenticator. User-Password must
/// already be hidden with the same authenticator ([`crate::password`]).
pub fn encode_request(packet: &Packet, secret: &Secret) -> Result<Vec<u8>, EncodeError> {
    let mut packet = packet.clone();
    match packet.code {
        Code::AccessRequest | Code::StatusServer => {
            lead_with_message_authenticator(&mut packet);
            let mut bytes = packet.encode()?;
            let own = packet.authenticator;
            sign_message_authenticator(&mut bytes, &own, secret);
            Ok(bytes)
        }
        Code::AccountingRequest => {
            packet.authenticator = [0u8; AUTHENTICATOR_LEN];
            let mut bytes = packet.encode()?;
            if packet.message_authenticator().is_some() {
                sign_message_authenticator(&mut bytes, &[0u8; AUTHENTICATOR_LEN], secret);
            }
            let auth = md5_with_secret(&bytes, secret);
            set_authenticator_field(&mut bytes, &auth);
            Ok(bytes)
        }
        other => Err(EncodeError::CodeMismatch {
            request: other,
            reply: other,
        }),
    }
}

/// Finishes an encoded reply whose header holds the Request Authenticator and
/// whose first attribute is a zeroed Message-Authenticator: the HMAC first (with the
/// request's authenticator in place, RFC 3579 §3.2), then the Response
/// Authenticator over the result (RFC 2865 §3).
pub(crate) fn sign_reply(bytes: &mut [u8], request_authenticator: &[u8; 16], secret: &Secret) {
    sign_message_authenticator(bytes, request_authenticator, secret);
    set_authenticator_field(bytes, request_authenticator);
    let response = md5_with_secret(bytes, secret);
    set_authenticator_field(bytes, &response);
}

/// Prepares a reply packet for [`sign_reply`].
pub(crate) fn prepare_reply(packet: &mut Packet) {
    lead_with_message_authenticator(packet);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from("testing123")
    }

    fn access_request() -> Packet {
        let mut p = Packet::new(Code::AccessRequest, 3, [0x42; 16]);
        p.push(Attribute::user_name(b"alice"));
        p
    }

    #[test]
    fn request_message_authenticator_is_checked() {
        let bytes = encode_request(&access_request(), &secret()).unwrap();
        assert_eq!(
            check_request_message_authenticator(&bytes, Code::AccessRequest, &secret()),
            MessageAuthenticatorCheck::Valid
        );
        assert_eq!(
            check_request_message_authenticator(&bytes, Code::AccessRequest, &"x".into()),
            MessageAuthenticatorCheck::Wrong
        );
        let mut tampered = bytes.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            check_request_message_authenticator(&tampered, Code::AccessRequest, &secret()),
            MessageAuthenticatorCheck::Wrong
        );
        let plain = access_request().encode().unwrap();
        assert_eq!(
            check_request_message_authenticator(&plain, Code::AccessRequest, &secret()),
            MessageAuthenticatorCheck::Missing
        );
    }

    #[test]
    fn two_message_authenticators_or_a_short_one_are_wrong() {
        let mut p = access_request();
        p.push(Attribute::new(kind::MESSAGE_AUTHENTICATOR, vec![0; 16]));
        p.push(Attribute::new(kind::MESSAGE_AUTHENTICATOR, vec![0; 16]));
        let bytes = p.encode().unwrap();
        assert_eq!(
            check_message_authenticator(&bytes, &[0x42; 16], &secret()),
            MessageAuthenticatorCheck::Wrong
        );
        let mut p = access_request();
        p.push(Attribute::new(kind::MESSAGE_AUTHENTICATOR, vec![0; 5]));
        assert_eq!(
            check_message_authenticator(&p.encode().unwrap(), &[0x42; 16], &secret()),
            MessageAuthenticatorCheck::Wrong
        );
    }

    #[test]
    fn accounting_request_authenticator() {
        let mut p = Packet::new(Code::AccountingRequest, 9, [0; 16]);
        p.push(Attribute::acct_status_type(1));
        p.push(Attribute::acct_session_id(b"s1"));
        let bytes = encode_request(&p, &secret()).unwrap();
        assert!(verify_accounting_request(&bytes, &secret()));
        assert!(!verify_accounting_request(&bytes, &"other".into()));
        // Known value: MD5 over the packet with zeros then the secret.
        let mut zeroed = bytes.clone();
        zeroed[4..20].fill(0);
        let mut md5 = Md5::new();
        md5.update(&zeroed);
        md5.update(b"testing123");
        assert_eq!(&bytes[4..20], md5.finalize().as_slice());
    }

    #[test]
    fn reply_is_signed_message_authenticator_first() {
        let request_auth = [0x42; 16];
        let mut reply = Packet::new(Code::AccessAccept, 3, request_auth);
        reply.push(Attribute::class(b"vpn"));
        prepare_reply(&mut reply);
        let mut bytes = reply.encode().unwrap();
        sign_reply(&mut bytes, &request_auth, &secret());
        assert_eq!(bytes[20], kind::MESSAGE_AUTHENTICATOR);
        assert!(verify_response_authenticator(
            &bytes,
            &request_auth,
            &secret()
        ));
        assert!(!verify_response_authenticator(&bytes, &[0; 16], &secret()));
        assert_eq!(
            check_message_authenticator(&bytes, &request_auth, &secret()),
            MessageAuthenticatorCheck::Valid
        );
        // Computed independently: HMAC over the reply with the request authenticator
        // in place and the value zeroed.
        let mut copy = bytes.clone();
        copy[4..20].copy_from_slice(&request_auth);
        copy[22..38].fill(0);
        let mut mac = HmacMd5::new_from_slice(b"testing123").unwrap();
        mac.update(&copy);
        assert_eq!(&bytes[22..38], mac.finalize().into_bytes().as_slice());
    }

    #[test]
    fn malformed_attribute_area_is_wrong_not_a_panic() {
        let mut bytes = access_request().encode().unwrap();
        bytes[21] = 200;
        assert_eq!(
            check_message_authenticator(&bytes, &[0; 16], &secret()),
            MessageAuthenticatorCheck::Wrong
        );
        assert!(!verify_accounting_request(&[1, 2], &secret()));
    }
}
