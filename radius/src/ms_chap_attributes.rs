//! MS-CHAPv2 carried directly in RADIUS attributes (RFC 2548 §2.3): the NAS sends
//! MS-CHAP-Challenge and MS-CHAP2-Response; an Accept carries MS-CHAP2-Success and
//! the MPPE keys. Many VPNs (L2TP, PPTP, some SSL VPNs) use this instead of EAP.

use crate::attributes::microsoft;
use crate::mschapv2::{verify_mschapv2, MschapV2Success};
use crate::packet::{Attribute, Packet, PacketError};
use crate::reply::Reply;

/// The MS-CHAPv2 fields of an Access-Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsChapV2Request {
    /// The MS-CHAP ident, echoed in MS-CHAP2-Success.
    pub ident: u8,
    /// MS-CHAP-Challenge: the NAS's authenticator challenge.
    pub authenticator_challenge: [u8; 16],
    /// From MS-CHAP2-Response.
    pub peer_challenge: [u8; 16],
    /// From MS-CHAP2-Response.
    pub nt_response: [u8; 24],
}

impl MsChapV2Request {
    /// The MS-CHAPv2 fields of a request, if it carries both attributes well formed.
    pub fn from_packet(packet: &Packet) -> Option<MsChapV2Request> {
        let challenge =
            packet.vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_CHAP_CHALLENGE)?;
        let response =
            packet.vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_CHAP2_RESPONSE)?;
        // Ident 1, flags 1, peer challenge 16, reserved 8, NT-Response 24 (RFC 2548 §2.3.2).
        if response.len() != 50 {
            return None;
        }
        Some(MsChapV2Request {
            ident: *response.first()?,
            authenticator_challenge: challenge.try_into().ok()?,
            peer_challenge: response.get(2..18)?.try_into().ok()?,
            nt_response: response.get(26..50)?.try_into().ok()?,
        })
    }

    /// Tries each candidate password for `user_name` (the request's User-Name);
    /// returns the index of the first match and what the Accept needs.
    pub fn verify<P: AsRef<[u8]>>(
        &self,
        user_name: &[u8],
        candidates: &[P],
    ) -> Option<(usize, MschapV2Success)> {
        let mut found = None;
        for (index, candidate) in candidates.iter().enumerate() {
            let result = verify_mschapv2(
                candidate.as_ref(),
                &self.peer_challenge,
                &self.authenticator_challenge,
                &self.nt_response,
                user_name,
            );
            if let (None, Some(success)) = (&found, result) {
                found = Some((index, success));
            }
        }
        found
    }

    /// Access-Accept with MS-CHAP2-Success and the MPPE keys (encrypted on encoding).
    pub fn accept(&self, success: MschapV2Success) -> Result<Reply, PacketError> {
        let attribute = Attribute::ms_chap2_success(self.ident, &success.authenticator_response)?;
        Ok(Reply::accept()
            .with(attribute)
            .with_mppe_keys(success.keys.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mschapv2::tests::{AUTH_CHALLENGE, NT_RESPONSE, PEER_CHALLENGE};
    use crate::packet::Code;

    #[test]
    fn rfc2759_vectors_through_radius_attributes() {
        let mut packet = Packet::new(Code::AccessRequest, 1, [0; 16]);
        packet.push(Attribute::user_name(b"User"));
        packet.push(Attribute::ms_chap_challenge(&AUTH_CHALLENGE).unwrap());
        packet.push(Attribute::ms_chap2_response(9, &PEER_CHALLENGE, &NT_RESPONSE).unwrap());
        let packet = Packet::parse(&packet.encode().unwrap()).unwrap();
        let request = MsChapV2Request::from_packet(&packet).unwrap();
        assert_eq!(request.ident, 9);
        assert!(request.verify(b"User", &["nope"]).is_none());
        let (index, success) = request.verify(b"User", &["nope", "clientPass"]).unwrap();
        assert_eq!(index, 1);
        let reply = request.accept(success).unwrap();
        let mut p = Packet::new(Code::AccessAccept, 1, [0; 16]);
        p.attributes = reply.attributes.clone();
        assert_eq!(
            p.vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_CHAP2_SUCCESS),
            Some(&b"\x09S=407A5589115FD0D6209F510FE9C04566932CDA56"[..])
        );
        assert!(reply.mppe_keys.is_some());
        // Without the attributes there is nothing to verify.
        assert!(
            MsChapV2Request::from_packet(&Packet::new(Code::AccessRequest, 1, [0; 16])).is_none()
        );
    }
}
