//! SAML protocol messages (SAML Core 2.0 §3): what SPs send, parsed from trusted
//! roots, and what the IdP sends, built as canonical XML and signed.

pub mod assertion;
pub mod authn_request;
pub mod logout;
pub mod response;
pub mod status;

use roxmltree::Node;

use crate::error::{Result, SamlError};
use crate::names::NS_ASSERTION;
use crate::parse::{child, text_of};
use crate::writer::El;

pub use status::{Status, StatusCode, SubStatusCode};

/// Longest text value (NameID, Issuer, URLs) accepted from a peer.
pub(crate) const MAX_VALUE: usize = 1024;

/// A `saml:NameID` (Core §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameId {
    /// The identifier itself.
    pub value: String,
    /// `Format` URI (see [`crate::names::nameid`]); absent means unspecified.
    pub format: Option<String>,
    /// `NameQualifier` (the IdP's entity ID for persistent/transient IDs).
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier` (the SP's entity ID for persistent/transient IDs).
    pub sp_name_qualifier: Option<String>,
}

impl NameId {
    /// A NameID with a value and a format.
    pub fn new(value: impl Into<String>, format: &str) -> Self {
        NameId {
            value: value.into(),
            format: Some(format.to_owned()),
            ..NameId::default()
        }
    }

    pub(crate) fn to_el(&self) -> El {
        saml("NameID")
            .attr_opt("Format", self.format.clone())
            .attr_opt("NameQualifier", self.name_qualifier.clone())
            .attr_opt("SPNameQualifier", self.sp_name_qualifier.clone())
            .text(self.value.clone())
    }

    pub(crate) fn from_node(node: Node<'_, '_>) -> Result<Self> {
        Ok(NameId {
            // All text descendants: a comment cannot cut the value short.
            value: bounded(text_of(node), "NameID")?,
            format: node.attribute("Format").map(str::to_owned),
            name_qualifier: node.attribute("NameQualifier").map(str::to_owned),
            sp_name_qualifier: node.attribute("SPNameQualifier").map(str::to_owned),
        })
    }
}

/// A `saml:` element.
pub(crate) fn saml(local: &'static str) -> El {
    El::new("saml", NS_ASSERTION, local)
}

/// A `samlp:` element.
pub(crate) fn samlp(local: &'static str) -> El {
    El::new("samlp", crate::names::NS_PROTOCOL, local)
}

/// The `saml:Issuer` text of a message root, if present.
pub(crate) fn issuer_of(root: Node<'_, '_>) -> Result<Option<String>> {
    match child(root, NS_ASSERTION, "Issuer") {
        Some(n) => {
            if let Some(f) = n.attribute("Format") {
                // Core §2.2.5: an Issuer's format, when given, is the entity format.
                if f != crate::names::nameid::ENTITY {
                    return Err(SamlError::Invalid {
                        what: "Issuer Format (must be entity)",
                    });
                }
            }
            Ok(Some(bounded(text_of(n), "Issuer")?))
        }
        None => Ok(None),
    }
}

/// Refuses an over-long or empty value from a peer.
pub(crate) fn bounded(value: String, what: &'static str) -> Result<String> {
    if value.is_empty() || value.len() > MAX_VALUE {
        return Err(SamlError::Invalid { what });
    }
    Ok(value)
}

/// An optional attribute, bounded in length.
pub(crate) fn opt_attr(
    node: &Node<'_, '_>,
    name: &str,
    what: &'static str,
) -> Result<Option<String>> {
    node.attribute(name)
        .map(|v| bounded(v.to_owned(), what))
        .transpose()
}

/// Checks a message's `Destination`, when present, is the endpoint it arrived at
/// (Core §3.2.1: a recipient MUST refuse one that differs). Signed messages carry
/// it so a message meant for another IdP cannot be replayed here.
pub fn check_destination(destination: Option<&str>, endpoint: &str) -> Result<()> {
    match destination {
        Some(d) if d != endpoint => Err(SamlError::Invalid {
            what: "Destination (not this endpoint)",
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn destination_must_match_when_present() {
        assert!(super::check_destination(None, "https://idp/sso").is_ok());
        assert!(super::check_destination(Some("https://idp/sso"), "https://idp/sso").is_ok());
        assert!(super::check_destination(Some("https://other/sso"), "https://idp/sso").is_err());
    }
}
