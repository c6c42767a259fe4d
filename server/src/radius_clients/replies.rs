//! Reply attributes an administrator configures per group, as text: `NAME=VALUE`
//! with the names VPN vendors document (RFC 2865 §5 for the standard ones,
//! Vendor-Specific RFC 2865 §5.26 for the rest), so a VPN maps groups to profiles.

use passgrid_radius::{attributes::kind, Attribute};

/// Attributes with a text value: (name, type).
const TEXT: &[(&str, u8)] = &[
    ("Filter-Id", kind::FILTER_ID),
    ("Class", kind::CLASS),
    ("Reply-Message", kind::REPLY_MESSAGE),
    // RFC 2869 §5.18.
    ("Framed-Pool", 88),
];

/// Attributes with a 32-bit integer value (RFC 2865 §5.27, §5.28).
const INTEGER: &[(&str, u8)] = &[
    ("Session-Timeout", kind::SESSION_TIMEOUT),
    ("Idle-Timeout", 28),
];

/// Vendor attributes with a text value: (name, vendor ID, vendor type), from the
/// vendors' dictionaries as FreeRADIUS ships them.
const VENDOR_TEXT: &[(&str, u32, u8)] = &[
    ("Cisco-AVPair", 9, 1),
    ("Fortinet-Group-Name", 12356, 1),
    ("PaloAlto-User-Group", 25461, 5),
    ("Juniper-Local-User-Name", 2636, 1),
];

/// Why a configured attribute is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyAttributeError {
    #[error("{0:?}: expected NAME=VALUE")]
    Shape(String),
    #[error(
        "{0:?} is not a known reply attribute (Filter-Id, Class, Reply-Message, Framed-Pool, \
         Session-Timeout, Idle-Timeout, Cisco-AVPair, Fortinet-Group-Name, PaloAlto-User-Group, \
         Juniper-Local-User-Name, or Vendor-Specific=VENDOR-ID:TYPE:TEXT)"
    )]
    Unknown(String),
    #[error("{0}: the value is empty, too long (247 octets at most) or holds control characters")]
    Value(String),
    #[error("{0}: not a number from 0 to 4294967295")]
    Number(String),
}

/// Parses one configured attribute into what the Access-Accept carries.
pub fn parse_reply_attribute(text: &str) -> Result<Attribute, ReplyAttributeError> {
    let (name, value) = text
        .split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| ReplyAttributeError::Shape(text.to_string()))?;
    let checked = |v: &str, max: usize| {
        if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
            Err(ReplyAttributeError::Value(name.to_string()))
        } else {
            Ok(v.as_bytes().to_vec())
        }
    };
    let find = |list: &[(&str, u8)]| {
        list.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    };
    if let Some(k) = find(TEXT) {
        return Ok(Attribute::new(k, checked(value, 253)?));
    }
    if let Some(k) = find(INTEGER) {
        let n: u32 = value
            .parse()
            .map_err(|_| ReplyAttributeError::Number(name.to_string()))?;
        return Ok(Attribute::new(k, n.to_be_bytes().to_vec()));
    }
    let vendor = |id: u32, ty: u8, v: &str| {
        Attribute::vendor_specific(id, ty, &checked(v, 247)?)
            .map_err(|_| ReplyAttributeError::Value(name.to_string()))
    };
    if let Some((_, id, ty)) = VENDOR_TEXT
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    {
        return vendor(*id, *ty, value);
    }
    if name.eq_ignore_ascii_case("Vendor-Specific") {
        let mut parts = value.splitn(3, ':');
        let (Some(id), Some(ty), Some(v)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ReplyAttributeError::Shape(text.to_string()));
        };
        let id: u32 = id
            .trim()
            .parse()
            .map_err(|_| ReplyAttributeError::Number(name.to_string()))?;
        let ty: u8 = ty
            .trim()
            .parse()
            .map_err(|_| ReplyAttributeError::Number(name.to_string()))?;
        return vendor(id, ty, v);
    }
    Err(ReplyAttributeError::Unknown(name.to_string()))
}

/// Sets the reply attributes of `group` (each checked; the first bad one is the error
/// and nothing changes).
pub async fn set_group_replies(
    store: &crate::store::Store,
    group: &str,
    attributes: &[String],
) -> Result<Vec<String>, super::RadiusClientError> {
    if !store.missing_groups(&[group.to_string()]).await?.is_empty() {
        return Err(super::RadiusClientError::Invalid(format!(
            "no such group: {group}"
        )));
    }
    if attributes.len() > 32 {
        return Err(super::RadiusClientError::Invalid(
            "at most 32 reply attributes per group".into(),
        ));
    }
    let normalised = attributes
        .iter()
        .map(|a| normalise_reply_attribute(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| super::RadiusClientError::Invalid(e.to_string()))?;
    store.set_radius_group_replies(group, &normalised).await?;
    Ok(normalised)
}

/// The stored form of a configured attribute (the name as the table spells it).
pub fn normalise_reply_attribute(text: &str) -> Result<String, ReplyAttributeError> {
    parse_reply_attribute(text)?;
    let (name, value) = text.split_once('=').unwrap_or_default();
    let name = name.trim();
    let canonical = TEXT
        .iter()
        .chain(INTEGER)
        .map(|(n, _)| *n)
        .chain(VENDOR_TEXT.iter().map(|(n, _, _)| *n))
        .chain(["Vendor-Specific"])
        .find(|n| n.eq_ignore_ascii_case(name))
        .unwrap_or(name);
    Ok(format!("{canonical}={}", value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_vendor_attributes_parse_to_their_octets() {
        let a = parse_reply_attribute("Filter-Id=vpn-staff").unwrap();
        assert_eq!((a.kind, a.value.as_slice()), (11, &b"vpn-staff"[..]));
        let a = parse_reply_attribute("session-timeout = 3600").unwrap();
        assert_eq!((a.kind, a.value), (27, 3600u32.to_be_bytes().to_vec()));
        let a = parse_reply_attribute("Cisco-AVPair=shell:priv-lvl=15").unwrap();
        // Vendor 9, type 1, length 2 + value (RFC 2865 §5.26).
        assert_eq!(a.kind, 26);
        assert_eq!(&a.value[..6], &[0, 0, 0, 9, 1, 2 + 17]);
        assert_eq!(&a.value[6..], b"shell:priv-lvl=15");
        let a = parse_reply_attribute("Vendor-Specific=12356:1:staff").unwrap();
        assert_eq!(&a.value[..6], &[0, 0, 0x30, 0x44, 1, 7]);
        assert_eq!(
            normalise_reply_attribute("filter-id = x").unwrap(),
            "Filter-Id=x"
        );
    }

    #[test]
    fn unknown_names_and_bad_values_are_refused() {
        assert!(matches!(
            parse_reply_attribute("Framed-IP-Address=10.0.0.1"),
            Err(ReplyAttributeError::Unknown(_))
        ));
        assert!(parse_reply_attribute("Filter-Id").is_err());
        assert!(parse_reply_attribute("Filter-Id=").is_err());
        assert!(parse_reply_attribute("Filter-Id=a\nb").is_err());
        assert!(parse_reply_attribute(&format!("Cisco-AVPair={}", "x".repeat(248))).is_err());
        assert!(parse_reply_attribute("Session-Timeout=-1").is_err());
        assert!(parse_reply_attribute("Vendor-Specific=9:x:y").is_err());
    }
}
