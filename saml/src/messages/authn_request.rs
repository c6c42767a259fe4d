//! `samlp:AuthnRequest` (Core §3.4.1; Web Browser SSO profile, Profiles §4.1.4.1).

use jiff::{SignedDuration, Timestamp};
use roxmltree::Node;

use super::{bounded, issuer_of, opt_attr, saml, samlp};
use crate::error::{Result, SamlError};
use crate::keys::IdpSigningKey;
use crate::names::{NS_ASSERTION, NS_PROTOCOL};
use crate::parse::{bool_attr, check_version, children, required_attr, single_child, text_of};
use crate::timestamps::{format_instant, parse_instant};

/// `NameIDPolicy` (Core §3.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameIdPolicy {
    /// Requested NameID format.
    pub format: Option<String>,
    /// Requested `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
    /// Whether the IdP may create a new identifier for the principal.
    pub allow_create: bool,
}

/// `RequestedAuthnContext` (Core §3.3.2.2.1) with class references only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    /// `Comparison`: exact (default), minimum, maximum or better.
    pub comparison: String,
    /// `AuthnContextClassRef` values in order of preference.
    pub class_refs: Vec<String>,
}

/// An authentication request from an SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `ID`: echoed as `InResponseTo`; also the key for replay detection.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: Timestamp,
    /// `Destination`, when the SP set it (must then be the IdP's SSO URL).
    pub destination: Option<String>,
    /// `Issuer`: the SP's entity ID (required by Profiles §4.1.4.1).
    pub issuer: String,
    /// `AssertionConsumerServiceURL`: must match the SP's metadata.
    pub acs_url: Option<String>,
    /// `AssertionConsumerServiceIndex`.
    pub acs_index: Option<u16>,
    /// `ProtocolBinding` for the response.
    pub protocol_binding: Option<String>,
    /// `AttributeConsumingServiceIndex`.
    pub attribute_consuming_service_index: Option<u16>,
    /// `ProviderName`: a human-readable name (informational only).
    pub provider_name: Option<String>,
    /// `NameIDPolicy`.
    pub name_id_policy: Option<NameIdPolicy>,
    /// `ForceAuthn`: authenticate afresh even within an SSO session.
    pub force_authn: bool,
    /// `IsPassive`: do not interact with the user.
    pub is_passive: bool,
    /// `RequestedAuthnContext`.
    pub requested_authn_context: Option<RequestedAuthnContext>,
}

impl AuthnRequest {
    /// Reads an AuthnRequest from a root already checked (name, signature).
    pub(crate) fn from_root(root: Node<'_, '_>) -> Result<Self> {
        const E: &str = "AuthnRequest";
        check_version(&root, E)?;
        let id = bounded(required_attr(&root, "ID", E, "ID")?.to_owned(), "ID")?;
        let issue_instant = parse_instant(
            required_attr(&root, "IssueInstant", E, "IssueInstant")?,
            "IssueInstant",
        )?;
        let issuer = issuer_of(root)?.ok_or(SamlError::Missing {
            element: E,
            what: "Issuer",
        })?;
        let acs_index = u16_attr(&root, "AssertionConsumerServiceIndex")?;
        let acs_url = opt_attr(
            &root,
            "AssertionConsumerServiceURL",
            "AssertionConsumerServiceURL",
        )?;
        let protocol_binding = opt_attr(&root, "ProtocolBinding", "ProtocolBinding")?;
        // Core §3.4.1: the index is mutually exclusive with URL and binding.
        if acs_index.is_some() && (acs_url.is_some() || protocol_binding.is_some()) {
            return Err(SamlError::Invalid {
                what: "AssertionConsumerServiceIndex together with a URL or ProtocolBinding",
            });
        }
        let name_id_policy =
            single_child(root, NS_PROTOCOL, "NameIDPolicy", "NameIDPolicy (repeated)")?
                .map(|p| -> Result<NameIdPolicy> {
                    Ok(NameIdPolicy {
                        format: opt_attr(&p, "Format", "NameIDPolicy Format")?,
                        sp_name_qualifier: opt_attr(&p, "SPNameQualifier", "SPNameQualifier")?,
                        allow_create: bool_attr(&p, "AllowCreate", "AllowCreate", false)?,
                    })
                })
                .transpose()?;
        let requested_authn_context = single_child(
            root,
            NS_PROTOCOL,
            "RequestedAuthnContext",
            "RequestedAuthnContext (repeated)",
        )?
        .map(|r| -> Result<RequestedAuthnContext> {
            let comparison = r.attribute("Comparison").unwrap_or("exact");
            if !matches!(comparison, "exact" | "minimum" | "maximum" | "better") {
                return Err(SamlError::Invalid { what: "Comparison" });
            }
            let class_refs = children(r, NS_ASSERTION, "AuthnContextClassRef")
                .map(|c| bounded(text_of(c), "AuthnContextClassRef"))
                .collect::<Result<Vec<_>>>()?;
            Ok(RequestedAuthnContext {
                comparison: comparison.to_owned(),
                class_refs,
            })
        })
        .transpose()?;
        Ok(AuthnRequest {
            id,
            issue_instant,
            destination: opt_attr(&root, "Destination", "Destination")?,
            issuer,
            acs_url,
            acs_index,
            protocol_binding,
            attribute_consuming_service_index: u16_attr(&root, "AttributeConsumingServiceIndex")?,
            provider_name: opt_attr(&root, "ProviderName", "ProviderName")?,
            name_id_policy,
            force_authn: bool_attr(&root, "ForceAuthn", "ForceAuthn", false)?,
            is_passive: bool_attr(&root, "IsPassive", "IsPassive", false)?,
            requested_authn_context,
        })
    }

    /// Checks `IssueInstant` is no older than `max_age` and not in the future,
    /// allowing `skew` either way; replay of the ID is the caller's to track.
    pub fn check_issue_instant(
        &self,
        now: Timestamp,
        max_age: SignedDuration,
        skew: SignedDuration,
    ) -> Result<()> {
        let oldest = self
            .issue_instant
            .saturating_add(max_age)
            .map_err(|_| SamlError::Time("overflow"))?;
        crate::timestamps::check_window(now, Some(self.issue_instant), Some(oldest), skew)
            .map_err(|_| SamlError::Time("IssueInstant outside the accepted window"))
    }

    /// The request as XML, as an SP sends it; signed (enveloped) when `key` is
    /// given. The IdP does not send AuthnRequests; this serves tests and tools.
    pub fn to_xml(&self, key: Option<&IdpSigningKey>) -> Result<String> {
        let flag = |b: bool| if b { Some("true") } else { None };
        let mut el = samlp("AuthnRequest")
            .attr("ID", self.id.clone())
            .attr("Version", crate::names::SAML_VERSION)
            .attr("IssueInstant", format_instant(self.issue_instant))
            .attr_opt("Destination", self.destination.clone())
            .attr_opt("AssertionConsumerServiceURL", self.acs_url.clone())
            .attr_opt(
                "AssertionConsumerServiceIndex",
                self.acs_index.map(|i| i.to_string()),
            )
            .attr_opt("ProtocolBinding", self.protocol_binding.clone())
            .attr_opt(
                "AttributeConsumingServiceIndex",
                self.attribute_consuming_service_index
                    .map(|i| i.to_string()),
            )
            .attr_opt("ProviderName", self.provider_name.clone())
            .attr_opt("ForceAuthn", flag(self.force_authn))
            .attr_opt("IsPassive", flag(self.is_passive))
            .child(saml("Issuer").text(self.issuer.clone()));
        if let Some(p) = &self.name_id_policy {
            el.push(
                samlp("NameIDPolicy")
                    .attr_opt("Format", p.format.clone())
                    .attr_opt("SPNameQualifier", p.sp_name_qualifier.clone())
                    .attr("AllowCreate", if p.allow_create { "true" } else { "false" }),
            );
        }
        if let Some(r) = &self.requested_authn_context {
            let mut rac = samlp("RequestedAuthnContext").attr("Comparison", r.comparison.clone());
            for c in &r.class_refs {
                rac.push(saml("AuthnContextClassRef").text(c.clone()));
            }
            el.push(rac);
        }
        if let Some(key) = key {
            crate::dsig_sign::sign_enveloped(&mut el, key)?;
        }
        Ok(el.render())
    }
}

fn u16_attr(node: &Node<'_, '_>, name: &'static str) -> Result<Option<u16>> {
    node.attribute(name)
        .map(|v| {
            v.trim()
                .parse::<u16>()
                .map_err(|_| SamlError::Invalid { what: name })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{expect_root, parse_document, Limits};

    pub(crate) fn sample() -> AuthnRequest {
        AuthnRequest {
            id: "_0123456789abcdef0123456789abcdef".into(),
            issue_instant: Timestamp::from_second(1_900_000_000).unwrap(),
            destination: Some("https://idp.example/saml/sso".into()),
            issuer: "https://sp.example/metadata".into(),
            acs_url: Some("https://sp.example/acs".into()),
            acs_index: None,
            protocol_binding: Some(crate::names::BINDING_POST.into()),
            attribute_consuming_service_index: None,
            provider_name: Some("Example & Co".into()),
            name_id_policy: Some(NameIdPolicy {
                format: Some(crate::names::nameid::PERSISTENT.into()),
                sp_name_qualifier: None,
                allow_create: true,
            }),
            force_authn: true,
            is_passive: false,
            requested_authn_context: Some(RequestedAuthnContext {
                comparison: "minimum".into(),
                class_refs: vec![crate::names::authn_context::PASSWORD_PROTECTED_TRANSPORT.into()],
            }),
        }
    }

    fn parse(xml: &str) -> Result<AuthnRequest> {
        let doc = parse_document(xml, &Limits::REQUEST)?;
        AuthnRequest::from_root(expect_root(
            &doc,
            NS_PROTOCOL,
            "AuthnRequest",
            "AuthnRequest",
        )?)
    }

    #[test]
    fn build_then_parse_gives_back_every_field() {
        let req = sample();
        assert_eq!(parse(&req.to_xml(None).unwrap()).unwrap(), req);
    }

    #[test]
    fn index_and_url_together_are_refused() {
        let mut req = sample();
        req.acs_index = Some(1);
        assert!(matches!(
            parse(&req.to_xml(None).unwrap()),
            Err(SamlError::Invalid { .. })
        ));
    }

    #[test]
    fn missing_issuer_or_bad_version_is_refused() {
        let xml = sample().to_xml(None).unwrap();
        let start = xml.find("<saml:Issuer").unwrap();
        let end = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
        let no_issuer = format!("{}{}", &xml[..start], &xml[end..]);
        assert!(matches!(
            parse(&no_issuer),
            Err(SamlError::Missing { what: "Issuer", .. })
        ));
        let v1 = xml.replace("Version=\"2.0\"", "Version=\"1.1\"");
        assert!(parse(&v1).is_err());
    }

    #[test]
    fn issue_instant_window() {
        let req = sample();
        let at = |s: i64| Timestamp::from_second(1_900_000_000 + s).unwrap();
        let five_min = SignedDuration::from_mins(5);
        let skew = SignedDuration::from_secs(30);
        assert!(req.check_issue_instant(at(60), five_min, skew).is_ok());
        assert!(req.check_issue_instant(at(-20), five_min, skew).is_ok());
        assert!(req.check_issue_instant(at(-60), five_min, skew).is_err());
        assert!(req.check_issue_instant(at(400), five_min, skew).is_err());
    }
}
