//! RADIUS packet framing (RFC 2865 §3, RFC 2866 §3, RFC 5997): the header, the
//! length rules and the ordered attribute list. Parsing is strict and never panics:
//! every malformed datagram becomes a [`PacketError`].

use std::fmt;

/// Octets in the fixed header: Code, Identifier, Length, Authenticator.
pub const HEADER_LEN: usize = 20;
/// Largest packet RFC 2865 §3 allows.
pub const MAX_PACKET_LEN: usize = 4096;
/// Octets in the Request/Response Authenticator.
pub const AUTHENTICATOR_LEN: usize = 16;
/// Largest attribute value (the length octet counts type and length too).
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 253;

/// The packet codes this crate speaks; anything else is [`PacketError::UnknownCode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// RFC 2865 §4.1.
    AccessRequest,
    /// RFC 2865 §4.2.
    AccessAccept,
    /// RFC 2865 §4.3.
    AccessReject,
    /// RFC 2866 §4.1.
    AccountingRequest,
    /// RFC 2866 §4.2.
    AccountingResponse,
    /// RFC 2865 §4.4.
    AccessChallenge,
    /// RFC 5997.
    StatusServer,
}

impl Code {
    /// The code's number on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            Code::AccessRequest => 1,
            Code::AccessAccept => 2,
            Code::AccessReject => 3,
            Code::AccountingRequest => 4,
            Code::AccountingResponse => 5,
            Code::AccessChallenge => 11,
            Code::StatusServer => 12,
        }
    }

    /// The code for a number on the wire, if this crate knows it.
    pub fn from_u8(value: u8) -> Option<Code> {
        Some(match value {
            1 => Code::AccessRequest,
            2 => Code::AccessAccept,
            3 => Code::AccessReject,
            4 => Code::AccountingRequest,
            5 => Code::AccountingResponse,
            11 => Code::AccessChallenge,
            12 => Code::StatusServer,
            _ => return None,
        })
    }

    /// True for the codes a client sends to a server.
    pub fn is_request(self) -> bool {
        matches!(
            self,
            Code::AccessRequest | Code::AccountingRequest | Code::StatusServer
        )
    }
}

/// Why a datagram is not a RADIUS packet (or a packet cannot be encoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Fewer octets than the 20-octet header.
    #[error("datagram of {0} octets is shorter than the RADIUS header")]
    TooShort(usize),
    /// The Length field is outside 20..=4096 (RFC 2865 §3).
    #[error("length field {0} is outside 20..=4096")]
    BadLength(usize),
    /// The Length field claims more octets than arrived: RFC 2865 §3 says drop it.
    #[error("length field {length} exceeds the {received} octets received")]
    Truncated {
        /// The Length field.
        length: usize,
        /// Octets in the datagram.
        received: usize,
    },
    /// A code this crate does not handle.
    #[error("unknown packet code {0}")]
    UnknownCode(u8),
    /// An attribute whose length octet is below 2 (RFC 2865 §5).
    #[error("attribute at offset {0} has a length below 2")]
    AttributeTooShort(usize),
    /// An attribute that runs past the end of the packet.
    #[error("attribute at offset {0} overruns the packet")]
    AttributeOverrun(usize),
    /// An attribute value longer than 253 octets cannot be encoded.
    #[error("attribute value of {0} octets exceeds 253")]
    AttributeTooLong(usize),
    /// The encoded packet would exceed 4096 octets.
    #[error("encoded packet of {0} octets exceeds 4096")]
    PacketTooLong(usize),
}

/// One attribute: its type number and raw value, in packet order.
#[derive(Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute type (RFC 2865 §5); see [`crate::attributes::kind`].
    pub kind: u8,
    /// The value octets (at most 253 to be encodable).
    pub value: Vec<u8>,
}

impl Attribute {
    /// An attribute of any type with the given value.
    pub fn new(kind: u8, value: impl Into<Vec<u8>>) -> Attribute {
        Attribute {
            kind,
            value: value.into(),
        }
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // User-Password and Vendor-Specific (MPPE keys) must never reach a log.
        if self.kind == crate::attributes::kind::USER_PASSWORD
            || self.kind == crate::attributes::kind::VENDOR_SPECIFIC
        {
            write!(f, "Attribute({}, [redacted])", self.kind)
        } else {
            write!(f, "Attribute({}, {:02x?})", self.kind, self.value)
        }
    }
}

/// A parsed RADIUS packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// What kind of packet this is.
    pub code: Code,
    /// Matches requests and replies (RFC 2865 §3).
    pub identifier: u8,
    /// Request or Response Authenticator, as on the wire.
    pub authenticator: [u8; AUTHENTICATOR_LEN],
    /// Attributes in packet order (order matters for Proxy-State and EAP-Message).
    pub attributes: Vec<Attribute>,
}

impl Packet {
    /// A packet with no attributes yet.
    pub fn new(code: Code, identifier: u8, authenticator: [u8; AUTHENTICATOR_LEN]) -> Packet {
        Packet {
            code,
            identifier,
            authenticator,
            attributes: Vec::new(),
        }
    }

    /// The Length field of a datagram's header, validated to 20..=4096, without
    /// parsing the rest (RadSec uses it to delimit packets in a stream, RFC 6614 §2.3).
    pub fn declared_length(header: &[u8]) -> Result<usize, PacketError> {
        let (Some(&hi), Some(&lo)) = (header.get(2), header.get(3)) else {
            return Err(PacketError::TooShort(header.len()));
        };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&length) {
            return Err(PacketError::BadLength(length));
        }
        Ok(length)
    }

    /// The octets of the packet proper: the datagram cut to its Length field.
    /// Octets past the Length are padding to ignore (RFC 2865 §3); fewer is an error.
    pub fn framed(datagram: &[u8]) -> Result<&[u8], PacketError> {
        if datagram.len() < HEADER_LEN {
            return Err(PacketError::TooShort(datagram.len()));
        }
        let length = Packet::declared_length(datagram)?;
        datagram.get(..length).ok_or(PacketError::Truncated {
            length,
            received: datagram.len(),
        })
    }

    /// Parses a datagram strictly (RFC 2865 §3 and §5).
    pub fn parse(datagram: &[u8]) -> Result<Packet, PacketError> {
        let bytes = Packet::framed(datagram)?;
        let (header, body) = bytes.split_at(HEADER_LEN);
        let code_octet = header.first().copied().unwrap_or_default();
        let code = Code::from_u8(code_octet).ok_or(PacketError::UnknownCode(code_octet))?;
        let identifier = header.get(1).copied().unwrap_or_default();
        let mut authenticator = [0u8; AUTHENTICATOR_LEN];
        authenticator.copy_from_slice(header.get(4..HEADER_LEN).unwrap_or(&[0u8; 16]));
        let mut attributes = Vec::new();
        for attribute in AttributeSpans::new(body) {
            let (_, kind, value) = attribute?;
            attributes.push(Attribute::new(kind, value));
        }
        Ok(Packet {
            code,
            identifier,
            authenticator,
            attributes,
        })
    }

    /// Encodes the packet as is (authenticator field included unchanged). The
    /// authenticator functions in [`crate::authenticator`] fill in the real values.
    pub fn encode(&self) -> Result<Vec<u8>, PacketError> {
        let mut out = Vec::with_capacity(HEADER_LEN + 64);
        out.push(self.code.to_u8());
        out.push(self.identifier);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.authenticator);
        for attribute in &self.attributes {
            let len = attribute.value.len();
            if len > MAX_ATTRIBUTE_VALUE_LEN {
                return Err(PacketError::AttributeTooLong(len));
            }
            out.push(attribute.kind);
            // len <= 253, so len + 2 fits in one octet.
            out.push((len + 2) as u8);
            out.extend_from_slice(&attribute.value);
        }
        if out.len() > MAX_PACKET_LEN {
            return Err(PacketError::PacketTooLong(out.len()));
        }
        let length = (out.len() as u16).to_be_bytes();
        out[2..4].copy_from_slice(&length);
        Ok(out)
    }

    /// The value of the first attribute of a type.
    pub fn first(&self, kind: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    /// The values of every attribute of a type, in order.
    pub fn all(&self, kind: u8) -> impl Iterator<Item = &[u8]> + '_ {
        self.attributes
            .iter()
            .filter(move |a| a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    /// Appends an attribute.
    pub fn push(&mut self, attribute: Attribute) {
        self.attributes.push(attribute);
    }

    /// Removes every attribute of a type.
    pub fn remove_all(&mut self, kind: u8) {
        self.attributes.retain(|a| a.kind != kind);
    }
}

/// Walks the attribute area of a packet: yields (offset in the area, type, value)
/// or the first framing error (RFC 2865 §5: length below 2 or past the end).
pub(crate) struct AttributeSpans<'a> {
    area: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> AttributeSpans<'a> {
    pub(crate) fn new(area: &'a [u8]) -> Self {
        AttributeSpans {
            area,
            offset: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for AttributeSpans<'a> {
    type Item = Result<(usize, u8, &'a [u8]), PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.area.len() {
            return None;
        }
        let offset = self.offset;
        let result = (|| {
            let kind = *self.area.get(offset)?;
            let len = usize::from(*self.area.get(offset + 1)?);
            Some((kind, len))
        })();
        let Some((kind, len)) = result else {
            self.failed = true;
            return Some(Err(PacketError::AttributeOverrun(offset)));
        };
        if len < 2 {
            self.failed = true;
            return Some(Err(PacketError::AttributeTooShort(offset)));
        }
        let Some(value) = self.area.get(offset + 2..offset + len) else {
            self.failed = true;
            return Some(Err(PacketError::AttributeOverrun(offset)));
        };
        self.offset = offset + len;
        Some(Ok((offset, kind, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Packet {
        let mut p = Packet::new(Code::AccessRequest, 7, [1; 16]);
        p.push(Attribute::new(1, b"alice".to_vec()));
        p.push(Attribute::new(24, vec![9; 10]));
        p
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let p = sample();
        let bytes = p.encode().unwrap();
        assert_eq!(bytes.len(), 20 + 7 + 12);
        assert_eq!(Packet::parse(&bytes).unwrap(), p);
    }

    #[test]
    fn trailing_octets_past_length_are_ignored() {
        let mut bytes = sample().encode().unwrap();
        bytes.extend_from_slice(&[0xff; 9]);
        assert_eq!(Packet::parse(&bytes).unwrap(), sample());
    }

    #[test]
    fn shorter_datagram_than_length_is_an_error() {
        let bytes = sample().encode().unwrap();
        let cut = &bytes[..bytes.len() - 1];
        assert!(matches!(
            Packet::parse(cut),
            Err(PacketError::Truncated { .. })
        ));
        assert_eq!(Packet::parse(&bytes[..5]), Err(PacketError::TooShort(5)));
        assert_eq!(Packet::parse(&[]), Err(PacketError::TooShort(0)));
    }

    #[test]
    fn length_outside_bounds_is_an_error() {
        let mut bytes = sample().encode().unwrap();
        bytes[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::parse(&bytes), Err(PacketError::BadLength(19)));
        let mut big = vec![0u8; 5000];
        big[0] = 1;
        big[2..4].copy_from_slice(&4097u16.to_be_bytes());
        assert_eq!(Packet::parse(&big), Err(PacketError::BadLength(4097)));
        big[2..4].copy_from_slice(&4096u16.to_be_bytes());
        // 4096 of zeros after the header: type 0 length 0 attribute.
        assert_eq!(Packet::parse(&big), Err(PacketError::AttributeTooShort(0)));
    }

    #[test]
    fn unknown_code_is_typed() {
        let mut bytes = sample().encode().unwrap();
        bytes[0] = 40;
        assert_eq!(Packet::parse(&bytes), Err(PacketError::UnknownCode(40)));
    }

    #[test]
    fn bad_attributes_are_typed() {
        let mut bytes = sample().encode().unwrap();
        bytes[21] = 1; // User-Name length 1
        assert_eq!(
            Packet::parse(&bytes),
            Err(PacketError::AttributeTooShort(0))
        );
        let mut bytes = sample().encode().unwrap();
        bytes[21] = 60; // runs past the end
        assert_eq!(Packet::parse(&bytes), Err(PacketError::AttributeOverrun(0)));
        // A lone type octet at the end of the packet.
        let mut bytes = sample().encode().unwrap();
        bytes.push(5);
        let len = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(
            Packet::parse(&bytes),
            Err(PacketError::AttributeOverrun(19))
        );
    }

    #[test]
    fn encode_refuses_oversized_values() {
        let mut p = sample();
        p.push(Attribute::new(18, vec![b'a'; 254]));
        assert_eq!(p.encode(), Err(PacketError::AttributeTooLong(254)));
        let mut p = sample();
        for _ in 0..20 {
            p.push(Attribute::new(18, vec![b'a'; 253]));
        }
        assert!(matches!(p.encode(), Err(PacketError::PacketTooLong(_))));
    }

    #[test]
    fn all_codes_round_trip() {
        for n in 0..=255u8 {
            if let Some(code) = Code::from_u8(n) {
                assert_eq!(code.to_u8(), n);
            }
        }
        assert!(Code::StatusServer.is_request());
        assert!(!Code::AccessChallenge.is_request());
    }
}
