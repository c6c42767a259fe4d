//! Typed access to the attributes passgrid needs (RFC 2865 §5, RFC 2866 §5,
//! RFC 3579 §3, RFC 2548), on top of the raw ordered list in [`Packet`].

use std::net::Ipv4Addr;

use crate::packet::{Attribute, Packet, PacketError, MAX_ATTRIBUTE_VALUE_LEN};

/// Attribute type numbers.
pub mod kind {
    /// RFC 2865 §5.1.
    pub const USER_NAME: u8 = 1;
    /// RFC 2865 §5.2 (hidden with the shared secret, see [`crate::password`]).
    pub const USER_PASSWORD: u8 = 2;
    /// RFC 2865 §5.4.
    pub const NAS_IP_ADDRESS: u8 = 4;
    /// RFC 2865 §5.11.
    pub const FILTER_ID: u8 = 11;
    /// RFC 2865 §5.18.
    pub const REPLY_MESSAGE: u8 = 18;
    /// RFC 2865 §5.24.
    pub const STATE: u8 = 24;
    /// RFC 2865 §5.25.
    pub const CLASS: u8 = 25;
    /// RFC 2865 §5.26.
    pub const VENDOR_SPECIFIC: u8 = 26;
    /// RFC 2865 §5.27.
    pub const SESSION_TIMEOUT: u8 = 27;
    /// RFC 2865 §5.31.
    pub const CALLING_STATION_ID: u8 = 31;
    /// RFC 2865 §5.32.
    pub const NAS_IDENTIFIER: u8 = 32;
    /// RFC 2865 §5.33.
    pub const PROXY_STATE: u8 = 33;
    /// RFC 2866 §5.1.
    pub const ACCT_STATUS_TYPE: u8 = 40;
    /// RFC 2866 §5.5.
    pub const ACCT_SESSION_ID: u8 = 44;
    /// RFC 3579 §3.1.
    pub const EAP_MESSAGE: u8 = 79;
    /// RFC 3579 §3.2.
    pub const MESSAGE_AUTHENTICATOR: u8 = 80;
}

/// Microsoft's vendor number and its attribute types (RFC 2548).
pub mod microsoft {
    /// SMI network management private enterprise code of Microsoft.
    pub const VENDOR_ID: u32 = 311;
    /// RFC 2548 §2.1.7 (MS-CHAP-Error is 2; not used here).
    pub const MS_CHAP_CHALLENGE: u8 = 11;
    /// RFC 2548 §2.4.2.
    pub const MS_MPPE_SEND_KEY: u8 = 16;
    /// RFC 2548 §2.4.3.
    pub const MS_MPPE_RECV_KEY: u8 = 17;
    /// RFC 2548 §2.3.2.
    pub const MS_CHAP2_RESPONSE: u8 = 25;
    /// RFC 2548 §2.3.3.
    pub const MS_CHAP2_SUCCESS: u8 = 26;
}

/// One sub-attribute of a Vendor-Specific attribute in the RFC 2865 §5.26 format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorAttribute<'a> {
    /// The vendor's enterprise number.
    pub vendor_id: u32,
    /// The vendor's attribute type.
    pub vendor_type: u8,
    /// The value.
    pub value: &'a [u8],
}

/// Splits a Vendor-Specific value into its sub-attributes; `None` when it does not
/// follow the recommended format (RFC 2865 §5.26 only recommends it).
pub fn parse_vendor_specific(value: &[u8]) -> Option<Vec<VendorAttribute<'_>>> {
    let id = value.get(..4)?;
    let vendor_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    let mut rest = value.get(4..)?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let vendor_type = *rest.first()?;
        let len = usize::from(*rest.get(1)?);
        if len < 2 {
            return None;
        }
        out.push(VendorAttribute {
            vendor_id,
            vendor_type,
            value: rest.get(2..len)?,
        });
        rest = rest.get(len..)?;
    }
    Some(out)
}

fn split_values(kind: u8, bytes: &[u8]) -> Vec<Attribute> {
    bytes
        .chunks(MAX_ATTRIBUTE_VALUE_LEN)
        .map(|c| Attribute::new(kind, c.to_vec()))
        .collect()
}

/// Constructors for the attributes passgrid sends.
impl Attribute {
    /// User-Name.
    pub fn user_name(name: &[u8]) -> Attribute {
        Attribute::new(kind::USER_NAME, name.to_vec())
    }

    /// NAS-IP-Address.
    pub fn nas_ip_address(address: Ipv4Addr) -> Attribute {
        Attribute::new(kind::NAS_IP_ADDRESS, address.octets().to_vec())
    }

    /// NAS-Identifier.
    pub fn nas_identifier(identifier: &[u8]) -> Attribute {
        Attribute::new(kind::NAS_IDENTIFIER, identifier.to_vec())
    }

    /// State (RFC 2865 §5.24): opaque to the NAS, echoed in the next request.
    pub fn state(state: &[u8]) -> Attribute {
        Attribute::new(kind::STATE, state.to_vec())
    }

    /// Class (RFC 2865 §5.25): the NAS echoes it in accounting.
    pub fn class(class: &[u8]) -> Attribute {
        Attribute::new(kind::CLASS, class.to_vec())
    }

    /// Filter-Id (RFC 2865 §5.11): the name of a filter list on the NAS.
    pub fn filter_id(filter: &[u8]) -> Attribute {
        Attribute::new(kind::FILTER_ID, filter.to_vec())
    }

    /// Session-Timeout in seconds.
    pub fn session_timeout(seconds: u32) -> Attribute {
        Attribute::new(kind::SESSION_TIMEOUT, seconds.to_be_bytes().to_vec())
    }

    /// Calling-Station-Id.
    pub fn calling_station_id(id: &[u8]) -> Attribute {
        Attribute::new(kind::CALLING_STATION_ID, id.to_vec())
    }

    /// Acct-Status-Type (1 Start, 2 Stop, 3 Interim-Update, 7 Accounting-On, 8 -Off).
    pub fn acct_status_type(status: u32) -> Attribute {
        Attribute::new(kind::ACCT_STATUS_TYPE, status.to_be_bytes().to_vec())
    }

    /// Acct-Session-Id.
    pub fn acct_session_id(id: &[u8]) -> Attribute {
        Attribute::new(kind::ACCT_SESSION_ID, id.to_vec())
    }

    /// Proxy-State.
    pub fn proxy_state(value: &[u8]) -> Attribute {
        Attribute::new(kind::PROXY_STATE, value.to_vec())
    }

    /// Reply-Message text, split over as many attributes as needed (253 octets each,
    /// never inside a UTF-8 character) — RFC 2865 §5.18 lets the NAS show them in order.
    pub fn reply_messages(text: &str) -> Vec<Attribute> {
        let mut out = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(MAX_ATTRIBUTE_VALUE_LEN);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (head, tail) = rest.split_at(cut);
            out.push(Attribute::new(
                kind::REPLY_MESSAGE,
                head.as_bytes().to_vec(),
            ));
            rest = tail;
        }
        out
    }

    /// EAP-Message attributes carrying one EAP packet, split at 253 octets
    /// (RFC 3579 §3.1: the receiver concatenates them in order).
    pub fn eap_messages(eap_packet: &[u8]) -> Vec<Attribute> {
        split_values(kind::EAP_MESSAGE, eap_packet)
    }

    /// A Vendor-Specific attribute holding one sub-attribute (RFC 2865 §5.26).
    pub fn vendor_specific(
        vendor_id: u32,
        vendor_type: u8,
        value: &[u8],
    ) -> Result<Attribute, PacketError> {
        // 4 octets vendor id + type + length + value must fit in 253.
        if value.len() > MAX_ATTRIBUTE_VALUE_LEN - 6 {
            return Err(PacketError::AttributeTooLong(value.len() + 6));
        }
        let mut v = Vec::with_capacity(value.len() + 6);
        v.extend_from_slice(&vendor_id.to_be_bytes());
        v.push(vendor_type);
        v.push((value.len() + 2) as u8);
        v.extend_from_slice(value);
        Ok(Attribute::new(kind::VENDOR_SPECIFIC, v))
    }

    /// MS-CHAP2-Success (RFC 2548 §2.3.3): the MS-CHAP ident then "S=…".
    pub fn ms_chap2_success(
        ident: u8,
        authenticator_response: &str,
    ) -> Result<Attribute, PacketError> {
        let mut v = vec![ident];
        v.extend_from_slice(authenticator_response.as_bytes());
        Attribute::vendor_specific(microsoft::VENDOR_ID, microsoft::MS_CHAP2_SUCCESS, &v)
    }

    /// MS-CHAP-Challenge (RFC 2548 §2.1.7).
    pub fn ms_chap_challenge(challenge: &[u8; 16]) -> Result<Attribute, PacketError> {
        Attribute::vendor_specific(
            microsoft::VENDOR_ID,
            microsoft::MS_CHAP_CHALLENGE,
            challenge,
        )
    }

    /// MS-CHAP2-Response (RFC 2548 §2.3.2): ident, flags, peer challenge, reserved, NT-Response.
    pub fn ms_chap2_response(
        ident: u8,
        peer_challenge: &[u8; 16],
        nt_response: &[u8; 24],
    ) -> Result<Attribute, PacketError> {
        let mut v = vec![ident, 0];
        v.extend_from_slice(peer_challenge);
        v.extend_from_slice(&[0u8; 8]);
        v.extend_from_slice(nt_response);
        Attribute::vendor_specific(microsoft::VENDOR_ID, microsoft::MS_CHAP2_RESPONSE, &v)
    }
}

fn u32_value(value: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = value.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// Typed readers for the attributes passgrid needs.
impl Packet {
    /// User-Name.
    pub fn user_name(&self) -> Option<&[u8]> {
        self.first(kind::USER_NAME)
    }

    /// The hidden User-Password as on the wire; see [`crate::password::unhide_user_password`].
    pub fn hidden_user_password(&self) -> Option<&[u8]> {
        self.first(kind::USER_PASSWORD)
    }

    /// NAS-IP-Address, if present and four octets.
    pub fn nas_ip_address(&self) -> Option<Ipv4Addr> {
        let bytes: [u8; 4] = self.first(kind::NAS_IP_ADDRESS)?.try_into().ok()?;
        Some(Ipv4Addr::from(bytes))
    }

    /// NAS-Identifier.
    pub fn nas_identifier(&self) -> Option<&[u8]> {
        self.first(kind::NAS_IDENTIFIER)
    }

    /// State.
    pub fn state(&self) -> Option<&[u8]> {
        self.first(kind::STATE)
    }

    /// Every Reply-Message concatenated in order.
    pub fn reply_message(&self) -> Option<Vec<u8>> {
        concat(self.all(kind::REPLY_MESSAGE))
    }

    /// Class attributes (there may be several).
    pub fn classes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.all(kind::CLASS)
    }

    /// Filter-Id.
    pub fn filter_id(&self) -> Option<&[u8]> {
        self.first(kind::FILTER_ID)
    }

    /// Session-Timeout, if present and four octets.
    pub fn session_timeout(&self) -> Option<u32> {
        u32_value(self.first(kind::SESSION_TIMEOUT)?)
    }

    /// Calling-Station-Id.
    pub fn calling_station_id(&self) -> Option<&[u8]> {
        self.first(kind::CALLING_STATION_ID)
    }

    /// Acct-Status-Type, if present and four octets.
    pub fn acct_status_type(&self) -> Option<u32> {
        u32_value(self.first(kind::ACCT_STATUS_TYPE)?)
    }

    /// Acct-Session-Id.
    pub fn acct_session_id(&self) -> Option<&[u8]> {
        self.first(kind::ACCT_SESSION_ID)
    }

    /// Proxy-State values in order (to echo unmodified, RFC 2865 §5.33).
    pub fn proxy_states(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.all(kind::PROXY_STATE)
    }

    /// The EAP packet carried in all EAP-Message attributes, concatenated (RFC 3579 §3.1).
    pub fn eap_message(&self) -> Option<Vec<u8>> {
        concat(self.all(kind::EAP_MESSAGE))
    }

    /// Message-Authenticator value.
    pub fn message_authenticator(&self) -> Option<&[u8]> {
        self.first(kind::MESSAGE_AUTHENTICATOR)
    }

    /// The first vendor sub-attribute with this vendor and type.
    pub fn vendor_attribute(&self, vendor_id: u32, vendor_type: u8) -> Option<&[u8]> {
        self.all(kind::VENDOR_SPECIFIC)
            .filter_map(parse_vendor_specific)
            .flatten()
            .find(|v| v.vendor_id == vendor_id && v.vendor_type == vendor_type)
            .map(|v| v.value)
    }
}

fn concat<'a>(parts: impl Iterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for part in parts {
        out.get_or_insert_with(Vec::new).extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Code;

    #[test]
    fn long_reply_message_is_split_on_char_boundaries() {
        let text = "é".repeat(300); // 600 octets, two octets per char
        let attrs = Attribute::reply_messages(&text);
        assert_eq!(attrs.len(), 3);
        assert!(attrs.iter().all(|a| a.value.len() <= 253));
        assert_eq!(attrs[0].value.len(), 252);
        let mut p = Packet::new(Code::AccessChallenge, 1, [0; 16]);
        p.attributes.extend(attrs);
        let back = Packet::parse(&p.encode().unwrap()).unwrap();
        assert_eq!(back.reply_message().unwrap(), text.as_bytes());
    }

    #[test]
    fn eap_message_splits_and_concatenates() {
        let eap: Vec<u8> = (0..600u32).map(|n| n as u8).collect();
        let attrs = Attribute::eap_messages(&eap);
        assert_eq!(
            attrs.iter().map(|a| a.value.len()).collect::<Vec<_>>(),
            [253, 253, 94]
        );
        let mut p = Packet::new(Code::AccessRequest, 1, [0; 16]);
        p.push(Attribute::user_name(b"bob"));
        p.attributes.extend(attrs);
        let back = Packet::parse(&p.encode().unwrap()).unwrap();
        assert_eq!(back.eap_message().unwrap(), eap);
        assert_eq!(back.user_name(), Some(&b"bob"[..]));
    }

    #[test]
    fn vendor_specific_round_trips() {
        let mut p = Packet::new(Code::AccessAccept, 1, [0; 16]);
        p.push(Attribute::ms_chap2_success(7, "S=0123").unwrap());
        p.push(Attribute::ms_chap_challenge(&[3; 16]).unwrap());
        let back = Packet::parse(&p.encode().unwrap()).unwrap();
        assert_eq!(
            back.vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_CHAP2_SUCCESS),
            Some(&b"\x07S=0123"[..])
        );
        assert_eq!(
            back.vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_CHAP_CHALLENGE),
            Some(&[3u8; 16][..])
        );
        assert_eq!(back.vendor_attribute(9, microsoft::MS_CHAP_CHALLENGE), None);
        assert!(Attribute::vendor_specific(311, 1, &[0; 248]).is_err());
        // Malformed sub-attributes are skipped, not a panic.
        assert!(parse_vendor_specific(&[0, 0, 1, 55, 1, 1]).is_none());
        assert!(parse_vendor_specific(&[0, 0, 1, 55, 1, 9, 0]).is_none());
        assert!(parse_vendor_specific(&[0, 0]).is_none());
    }

    #[test]
    fn typed_numbers_and_addresses() {
        let mut p = Packet::new(Code::AccountingRequest, 1, [0; 16]);
        p.push(Attribute::acct_status_type(1));
        p.push(Attribute::session_timeout(300));
        p.push(Attribute::nas_ip_address(Ipv4Addr::new(10, 0, 0, 1)));
        p.push(Attribute::acct_session_id(b"abc"));
        p.push(Attribute::new(kind::CALLING_STATION_ID, b"00-11".to_vec()));
        p.push(Attribute::proxy_state(b"p1"));
        p.push(Attribute::proxy_state(b"p2"));
        assert_eq!(p.acct_status_type(), Some(1));
        assert_eq!(p.session_timeout(), Some(300));
        assert_eq!(p.nas_ip_address(), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(p.acct_session_id(), Some(&b"abc"[..]));
        assert_eq!(p.calling_station_id(), Some(&b"00-11"[..]));
        assert_eq!(p.proxy_states().collect::<Vec<_>>(), [b"p1", b"p2"]);
        p.push(Attribute::new(kind::ACCT_STATUS_TYPE, vec![1]));
        p.remove_all(kind::ACCT_STATUS_TYPE);
        p.push(Attribute::new(kind::ACCT_STATUS_TYPE, vec![1]));
        assert_eq!(p.acct_status_type(), None);
    }
}
