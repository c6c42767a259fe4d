//! Turning search result entries into directory entries by the attribute map.

use ldap3::asn1::{StructureTag, PL};
use ldap3::ResultEntry;

use super::client::CheckedSettings;
use super::*;

/// A search result entry as DN and attributes: values as text (those that are not
/// UTF-8 are dropped here) and as they came (for binary extra attributes).
struct RawEntry {
    dn: String,
    attrs: Vec<(String, Vec<String>)>,
    raw: Vec<(String, Vec<Vec<u8>>)>,
}

/// Decodes an entry without panicking (ldap3's `SearchEntry::construct` would).
fn decode_entry(entry: ResultEntry) -> Result<RawEntry, LdapError> {
    let malformed = |what: &str| LdapError::MalformedEntry(what.to_string());
    let mut parts = entry
        .0
        .match_id(4)
        .and_then(StructureTag::expect_constructed)
        .ok_or_else(|| malformed("not a search result entry"))?
        .into_iter();
    let dn = parts
        .next()
        .and_then(StructureTag::expect_primitive)
        .and_then(|dn| String::from_utf8(dn).ok())
        .ok_or_else(|| malformed("no DN"))?;
    let attr_list = parts
        .next()
        .and_then(StructureTag::expect_constructed)
        .ok_or_else(|| LdapError::MalformedEntry(format!("{dn}: no attribute list")))?;
    let mut attrs = Vec::with_capacity(attr_list.len());
    let mut raw = Vec::with_capacity(attr_list.len());
    for attr in attr_list {
        let bad = || LdapError::MalformedEntry(format!("{dn}: malformed attribute"));
        let mut pair = attr.expect_constructed().ok_or_else(bad)?.into_iter();
        let name = pair
            .next()
            .and_then(StructureTag::expect_primitive)
            .and_then(|n| String::from_utf8(n).ok())
            .ok_or_else(bad)?;
        let values = match pair.next().map(|set| set.payload) {
            Some(PL::C(values)) => values,
            _ => return Err(bad()),
        };
        let bytes: Vec<Vec<u8>> = values
            .into_iter()
            .filter_map(StructureTag::expect_primitive)
            .collect();
        let text = bytes
            .iter()
            .filter_map(|v| String::from_utf8(v.clone()).ok())
            .collect();
        attrs.push((name.clone(), text));
        raw.push((name, bytes));
    }
    Ok(RawEntry { dn, attrs, raw })
}

impl RawEntry {
    /// The values of the first of `names` the entry has (names compare
    /// case-insensitively, as LDAP's do).
    fn first_present(&self, names: &[String]) -> Result<Option<&[String]>, LdapError> {
        for name in names {
            if let Some(values) = self.values(name)? {
                if values.iter().any(|v| !v.trim().is_empty()) {
                    return Ok(Some(values));
                }
            }
        }
        Ok(None)
    }

    fn values(&self, name: &str) -> Result<Option<&[String]>, LdapError> {
        for (attr, values) in &self.attrs {
            if attr.eq_ignore_ascii_case(name) {
                return Ok(Some(values));
            }
            // AD sends `member;range=0-1499` when an attribute has too many values.
            let ranged = attr
                .split_once(';')
                .filter(|(base, option)| {
                    base.eq_ignore_ascii_case(name)
                        && option
                            .get(..6)
                            .is_some_and(|o| o.eq_ignore_ascii_case("range="))
                })
                .is_some();
            if ranged {
                return Err(LdapError::RangedAttribute {
                    dn: self.dn.clone(),
                    attr: name.to_string(),
                });
            }
        }
        Ok(None)
    }
}

/// The first value of an extra attribute: base64 (RFC 4648 §4) when the attribute is
/// binary or the value is not UTF-8 text, else the text trimmed; empty when absent.
fn extra_value(raw: &RawEntry, extra: &ExtraAttribute) -> String {
    use base64::Engine;
    let Some(value) = raw
        .raw
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&extra.attr))
        .and_then(|(_, values)| values.first())
    else {
        return String::new();
    };
    match std::str::from_utf8(value) {
        Ok(text) if !extra.binary => text.trim().to_string(),
        _ => base64::engine::general_purpose::STANDARD.encode(value),
    }
}

fn first_value(values: Option<&[String]>) -> Option<String> {
    values?
        .iter()
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

pub(super) fn map_entry(
    settings: &CheckedSettings,
    raw: ResultEntry,
) -> Result<DirectoryEntry, LdapError> {
    let raw = decode_entry(raw)?;
    let id =
        first_value(raw.first_present(&settings.map.id)?).ok_or_else(|| LdapError::MissingId {
            dn: raw.dn.clone(),
            attrs: settings.map.id.clone(),
        })?;
    let display_name =
        first_value(raw.first_present(&settings.map.name)?).unwrap_or_else(|| id.clone());
    let email = first_value(raw.first_present(&settings.map.email)?);
    let mut groups: Vec<String> = match &settings.group_attr {
        Some(attr) => raw
            .values(attr)?
            .unwrap_or_default()
            .iter()
            .map(|v| group_name(v))
            .filter(|g| !g.is_empty())
            .collect(),
        None => Vec::new(),
    };
    groups.sort();
    groups.dedup();
    let attributes = settings
        .map
        .extra
        .iter()
        .map(|e| (e.name.clone(), extra_value(&raw, e)))
        .collect();
    Ok(DirectoryEntry {
        dn: raw.dn,
        id,
        display_name,
        email,
        groups,
        attributes,
    })
}
