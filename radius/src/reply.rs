//! Replies a handler returns, and their encoding: identifier copied from the
//! request, Proxy-State echoed (RFC 2865 §5.33), MPPE keys encrypted (RFC 2548),
//! Message-Authenticator first (RFC 3579 §3.2), then the Response Authenticator.

use crate::attributes::kind;
use crate::authenticator::{prepare_reply, sign_reply, EncodeError};
use crate::mppe::{mppe_key_attributes, MppeKeys};
use crate::packet::{Attribute, Code, Packet};
use crate::secret::Secret;

/// A reply before encoding: no identifier, no authenticators, no Proxy-State —
/// the transport adds those from the request and the client's secret.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Access-Accept/Reject/Challenge or Accounting-Response.
    pub code: Code,
    /// Attributes in order (Message-Authenticator and Proxy-State are added on encoding).
    pub attributes: Vec<Attribute>,
    /// MPPE keys to send encrypted in MS-MPPE-Send-Key / MS-MPPE-Recv-Key.
    pub mppe_keys: Option<MppeKeys>,
}

impl Reply {
    /// An empty reply of a code.
    pub fn new(code: Code) -> Reply {
        Reply {
            code,
            attributes: Vec::new(),
            mppe_keys: None,
        }
    }

    /// Access-Accept.
    pub fn accept() -> Reply {
        Reply::new(Code::AccessAccept)
    }

    /// Access-Reject.
    pub fn reject() -> Reply {
        Reply::new(Code::AccessReject)
    }

    /// Access-Challenge carrying a State (RFC 2865 §4.4) and a prompt split over
    /// Reply-Message attributes.
    pub fn challenge(state: &[u8], prompt: &str) -> Reply {
        Reply::new(Code::AccessChallenge)
            .with(Attribute::state(state))
            .with_reply_message(prompt)
    }

    /// Accounting-Response (RFC 2866 §4.2).
    pub fn accounting_response() -> Reply {
        Reply::new(Code::AccountingResponse)
    }

    /// Adds an attribute.
    pub fn with(mut self, attribute: Attribute) -> Reply {
        self.attributes.push(attribute);
        self
    }

    /// Adds text as Reply-Message attributes (split at 253 octets).
    pub fn with_reply_message(mut self, text: &str) -> Reply {
        self.attributes.extend(Attribute::reply_messages(text));
        self
    }

    /// Adds MPPE keys (encrypted when encoded).
    pub fn with_mppe_keys(mut self, keys: MppeKeys) -> Reply {
        self.mppe_keys = Some(keys);
        self
    }
}

/// True if `reply` may answer `request` (RFC 2865 §4, RFC 2866 §4, RFC 5997 §3).
pub fn answers(request: Code, reply: Code) -> bool {
    match request {
        Code::AccessRequest => matches!(
            reply,
            Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
        ),
        Code::AccountingRequest => reply == Code::AccountingResponse,
        // Status-Server on the authentication port is answered by Access-Accept.
        Code::StatusServer => matches!(reply, Code::AccessAccept | Code::AccountingResponse),
        _ => false,
    }
}

/// Encodes and signs a reply to `request` with the client's secret.
pub fn encode_reply(
    reply: &Reply,
    request: &Packet,
    secret: &Secret,
) -> Result<Vec<u8>, EncodeError> {
    if !answers(request.code, reply.code) {
        return Err(EncodeError::CodeMismatch {
            request: request.code,
            reply: reply.code,
        });
    }
    let mut packet = Packet::new(reply.code, request.identifier, request.authenticator);
    packet.attributes = reply
        .attributes
        .iter()
        .filter(|a| a.kind != kind::PROXY_STATE && a.kind != kind::MESSAGE_AUTHENTICATOR)
        .cloned()
        .collect();
    if let Some(keys) = &reply.mppe_keys {
        packet
            .attributes
            .extend(mppe_key_attributes(keys, secret, &request.authenticator)?);
    }
    // Proxy-State: unmodified and in order, last (RFC 2865 §5.33).
    packet
        .attributes
        .extend(request.proxy_states().map(Attribute::proxy_state));
    prepare_reply(&mut packet);
    let mut bytes = packet.encode()?;
    sign_reply(&mut bytes, &request.authenticator, secret);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::microsoft;
    use crate::authenticator::{
        check_message_authenticator, verify_response_authenticator, MessageAuthenticatorCheck,
    };
    use crate::mppe::decrypt_mppe_key;

    #[test]
    fn reply_echoes_proxy_state_and_is_signed() {
        let secret = Secret::from("testing123");
        let mut request = Packet::new(Code::AccessRequest, 42, [5; 16]);
        request.push(Attribute::proxy_state(b"first"));
        request.push(Attribute::user_name(b"carol"));
        request.push(Attribute::proxy_state(b"second"));
        let keys = MppeKeys {
            send: [1; 16],
            recv: [2; 16],
        };
        let reply = Reply::challenge(b"st", &"x".repeat(300))
            .with(Attribute::proxy_state(b"caller's own is dropped"))
            .with_mppe_keys(keys);
        let bytes = encode_reply(&reply, &request, &secret).unwrap();
        assert!(verify_response_authenticator(&bytes, &[5; 16], &secret));
        assert_eq!(
            check_message_authenticator(&bytes, &[5; 16], &secret),
            MessageAuthenticatorCheck::Valid
        );
        let parsed = Packet::parse(&bytes).unwrap();
        assert_eq!(parsed.identifier, 42);
        assert_eq!(parsed.code, Code::AccessChallenge);
        assert_eq!(parsed.state(), Some(&b"st"[..]));
        assert_eq!(parsed.reply_message().unwrap().len(), 300);
        assert_eq!(
            parsed.proxy_states().collect::<Vec<_>>(),
            [&b"first"[..], &b"second"[..]]
        );
        let send = parsed
            .vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_MPPE_SEND_KEY)
            .unwrap();
        let recv = parsed
            .vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_MPPE_RECV_KEY)
            .unwrap();
        assert_eq!(
            &*decrypt_mppe_key(send, &secret, &[5; 16]).unwrap(),
            &[1; 16]
        );
        assert_eq!(
            &*decrypt_mppe_key(recv, &secret, &[5; 16]).unwrap(),
            &[2; 16]
        );
        assert_ne!(send[..2], recv[..2]);
    }

    #[test]
    fn wrong_reply_code_is_refused() {
        let request = Packet::new(Code::AccountingRequest, 1, [0; 16]);
        assert!(matches!(
            encode_reply(&Reply::accept(), &request, &"s".into()),
            Err(EncodeError::CodeMismatch { .. })
        ));
        assert!(encode_reply(&Reply::accounting_response(), &request, &"s".into()).is_ok());
    }
}
