//! Single Logout messages (Core §3.7; Profiles §4.4): `samlp:LogoutRequest` and
//! `samlp:LogoutResponse`, parsed from SPs and built by the IdP.

use jiff::Timestamp;
use roxmltree::Node;

use super::{bounded, issuer_of, opt_attr, saml, samlp, NameId, Status};
use crate::error::{Result, SamlError};
use crate::keys::IdpSigningKey;
use crate::names::{NS_ASSERTION, NS_PROTOCOL};
use crate::parse::{check_version, children, required_attr, text_of};
use crate::timestamps::{format_instant, parse_instant};
use crate::writer::El;

/// Most `SessionIndex` values accepted in one LogoutRequest.
const MAX_SESSION_INDEXES: usize = 64;

/// A request to end a principal's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `ID`: echoed as the LogoutResponse's `InResponseTo`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: Timestamp,
    /// `Destination`.
    pub destination: Option<String>,
    /// `Issuer`: the sender's entity ID.
    pub issuer: String,
    /// The principal (`NameID`, as the IdP issued it to this SP).
    pub name_id: NameId,
    /// `SessionIndex` values (none means every session of the principal).
    pub session_indexes: Vec<String>,
    /// `NotOnOrAfter`: the request expires then.
    pub not_on_or_after: Option<Timestamp>,
    /// `Reason` URI (e.g. `urn:oasis:names:tc:SAML:2.0:logout:user`).
    pub reason: Option<String>,
}

/// The answer to a LogoutRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponse {
    /// `ID`.
    pub id: String,
    /// `InResponseTo`: the LogoutRequest's ID.
    pub in_response_to: Option<String>,
    /// `IssueInstant`.
    pub issue_instant: Timestamp,
    /// `Destination`.
    pub destination: Option<String>,
    /// `Issuer`.
    pub issuer: String,
    /// `Status`.
    pub status: Status,
}

fn common(root: Node<'_, '_>, e: &'static str) -> Result<(String, Timestamp, String)> {
    check_version(&root, e)?;
    let id = bounded(required_attr(&root, "ID", e, "ID")?.to_owned(), "ID")?;
    let issue_instant = parse_instant(
        required_attr(&root, "IssueInstant", e, "IssueInstant")?,
        "IssueInstant",
    )?;
    // Profiles §4.4.4.1/§4.4.4.2: Issuer MUST be present.
    let issuer = issuer_of(root)?.ok_or(SamlError::Missing {
        element: e,
        what: "Issuer",
    })?;
    Ok((id, issue_instant, issuer))
}

fn sign_and_render(mut el: El, key: Option<&IdpSigningKey>) -> Result<String> {
    if let Some(key) = key {
        crate::dsig_sign::sign_enveloped(&mut el, key)?;
    }
    Ok(el.render())
}

impl LogoutRequest {
    /// Reads a LogoutRequest from a root already checked (name, signature).
    pub(crate) fn from_root(root: Node<'_, '_>) -> Result<Self> {
        const E: &str = "LogoutRequest";
        let (id, issue_instant, issuer) = common(root, E)?;
        let mut ids = children(root, NS_ASSERTION, "NameID");
        let name_id = match (ids.next(), ids.next()) {
            (Some(n), None) => NameId::from_node(n)?,
            (None, _) => {
                // BaseID and EncryptedID are not issued by passgrid, so not accepted.
                return Err(SamlError::Missing {
                    element: E,
                    what: "NameID",
                });
            }
            (Some(_), Some(_)) => {
                return Err(SamlError::Invalid {
                    what: "NameID (repeated)",
                })
            }
        };
        let session_indexes = children(root, NS_PROTOCOL, "SessionIndex")
            .map(|s| bounded(text_of(s), "SessionIndex"))
            .collect::<Result<Vec<_>>>()?;
        if session_indexes.len() > MAX_SESSION_INDEXES {
            return Err(SamlError::Invalid {
                what: "SessionIndex (too many)",
            });
        }
        Ok(LogoutRequest {
            id,
            issue_instant,
            destination: opt_attr(&root, "Destination", "Destination")?,
            issuer,
            name_id,
            session_indexes,
            not_on_or_after: root
                .attribute("NotOnOrAfter")
                .map(|v| parse_instant(v, "NotOnOrAfter"))
                .transpose()?,
            reason: opt_attr(&root, "Reason", "Reason")?,
        })
    }

    /// The request as XML; signed (enveloped, for HTTP-POST) when `key` is given.
    /// For HTTP-Redirect pass no key here and sign the query instead.
    pub fn to_xml(&self, key: Option<&IdpSigningKey>) -> Result<String> {
        let mut el = samlp("LogoutRequest")
            .attr("ID", self.id.clone())
            .attr("Version", crate::names::SAML_VERSION)
            .attr("IssueInstant", format_instant(self.issue_instant))
            .attr_opt("Destination", self.destination.clone())
            .attr_opt("NotOnOrAfter", self.not_on_or_after.map(format_instant))
            .attr_opt("Reason", self.reason.clone())
            .child(saml("Issuer").text(self.issuer.clone()))
            .child(self.name_id.to_el());
        for s in &self.session_indexes {
            el.push(samlp("SessionIndex").text(s.clone()));
        }
        sign_and_render(el, key)
    }

    /// Checks `NotOnOrAfter`, if any, against `now` with `skew`.
    pub fn check_not_expired(&self, now: Timestamp, skew: jiff::SignedDuration) -> Result<()> {
        crate::timestamps::check_window(now, None, self.not_on_or_after, skew)
    }
}

impl LogoutResponse {
    /// Reads a LogoutResponse from a root already checked (name, signature).
    pub(crate) fn from_root(root: Node<'_, '_>) -> Result<Self> {
        const E: &str = "LogoutResponse";
        let (id, issue_instant, issuer) = common(root, E)?;
        let status_node =
            crate::parse::child(root, NS_PROTOCOL, "Status").ok_or(SamlError::Missing {
                element: E,
                what: "Status",
            })?;
        Ok(LogoutResponse {
            id,
            in_response_to: opt_attr(&root, "InResponseTo", "InResponseTo")?,
            issue_instant,
            destination: opt_attr(&root, "Destination", "Destination")?,
            issuer,
            status: Status::from_node(status_node)?,
        })
    }

    /// The response as XML; signed (enveloped, for HTTP-POST) when `key` is given.
    pub fn to_xml(&self, key: Option<&IdpSigningKey>) -> Result<String> {
        let el = samlp("LogoutResponse")
            .attr("ID", self.id.clone())
            .attr("Version", crate::names::SAML_VERSION)
            .attr("IssueInstant", format_instant(self.issue_instant))
            .attr_opt("Destination", self.destination.clone())
            .attr_opt("InResponseTo", self.in_response_to.clone())
            .child(saml("Issuer").text(self.issuer.clone()))
            .child(self.status.to_el());
        sign_and_render(el, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{expect_root, parse_document, Limits};

    fn request() -> LogoutRequest {
        LogoutRequest {
            id: "_lr1".into(),
            issue_instant: Timestamp::from_second(1_900_000_000).unwrap(),
            destination: Some("https://idp.example/saml/slo".into()),
            issuer: "https://sp.example".into(),
            name_id: NameId::new("user@example.com", crate::names::nameid::EMAIL),
            session_indexes: vec!["_s1".into(), "_s2".into()],
            not_on_or_after: Some(Timestamp::from_second(1_900_000_300).unwrap()),
            reason: Some("urn:oasis:names:tc:SAML:2.0:logout:user".into()),
        }
    }

    #[test]
    fn logout_request_round_trip() {
        let req = request();
        let xml = req.to_xml(None).unwrap();
        let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
        let root = expect_root(&doc, NS_PROTOCOL, "LogoutRequest", "LogoutRequest").unwrap();
        assert_eq!(LogoutRequest::from_root(root).unwrap(), req);
        let at = |s| Timestamp::from_second(s).unwrap();
        let skew = jiff::SignedDuration::from_secs(10);
        assert!(req.check_not_expired(at(1_900_000_100), skew).is_ok());
        assert!(req.check_not_expired(at(1_900_000_400), skew).is_err());
    }

    #[test]
    fn logout_request_needs_one_name_id() {
        let xml = request().to_xml(None).unwrap();
        let start = xml.find("<saml:NameID").unwrap();
        let end = xml.find("</saml:NameID>").unwrap() + "</saml:NameID>".len();
        let none = format!("{}{}", &xml[..start], &xml[end..]);
        let doc = parse_document(&none, &Limits::REQUEST).unwrap();
        assert!(LogoutRequest::from_root(doc.root_element()).is_err());
        let two = format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..]);
        let doc = parse_document(&two, &Limits::REQUEST).unwrap();
        assert!(LogoutRequest::from_root(doc.root_element()).is_err());
    }

    #[test]
    fn logout_response_round_trip_signed() {
        let resp = LogoutResponse {
            id: "_r1".into(),
            in_response_to: Some("_lr1".into()),
            issue_instant: Timestamp::from_second(1_900_000_000).unwrap(),
            destination: Some("https://sp.example/slo".into()),
            issuer: "https://idp.example".into(),
            status: Status::success(),
        };
        let key = crate::keys::test_keys::idp_key(0);
        let xml = resp.to_xml(Some(&key)).unwrap();
        let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
        crate::dsig_verify::verify_enveloped(
            &doc,
            &[crate::keys::test_keys::certificate(0)],
            false,
        )
        .unwrap();
        assert_eq!(LogoutResponse::from_root(doc.root_element()).unwrap(), resp);
    }
}
