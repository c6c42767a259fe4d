//! `saml:Assertion` for the Web Browser SSO profile (Core §2.3–2.7, Profiles
//! §4.1.4.2): bearer subject confirmation, audience, authentication statement and
//! attributes.

use jiff::Timestamp;

use super::{saml, NameId};
use crate::names::CM_BEARER;
use crate::timestamps::format_instant;
use crate::writer::El;

/// A `saml:Attribute` with one or more values (Core §2.7.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`, e.g. `IDPEmail`, `mail` or `urn:oid:0.9.2342.19200300.100.1.3`.
    pub name: String,
    /// `NameFormat` (see [`crate::names::attrname`]); absent means unspecified.
    pub name_format: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// The values, each an `AttributeValue` (untyped text).
    pub values: Vec<String>,
}

impl Attribute {
    /// An attribute with a name, a NameFormat and values.
    pub fn new(name: impl Into<String>, name_format: &str, values: Vec<String>) -> Self {
        Attribute {
            name: name.into(),
            name_format: Some(name_format.to_owned()),
            friendly_name: None,
            values,
        }
    }

    fn to_el(&self) -> El {
        let mut el = saml("Attribute")
            .attr("Name", self.name.clone())
            .attr_opt("NameFormat", self.name_format.clone())
            .attr_opt("FriendlyName", self.friendly_name.clone());
        // Untyped values: `xsi:type="xs:string"` would name a prefix only inside an
        // attribute value, which exc-c14n does not see as used (exc-c14n §3).
        for v in &self.values {
            el.push(saml("AttributeValue").text(v.clone()));
        }
        el
    }
}

/// What goes into one assertion about the signed-in user.
#[derive(Debug, Clone)]
pub struct AssertionContent {
    /// The IdP's entity ID (`Issuer`).
    pub idp_entity_id: String,
    /// The SP's entity ID (`Audience`).
    pub audience: String,
    /// The ACS URL from the SP's metadata (`Recipient`).
    pub recipient: String,
    /// The AuthnRequest's ID (`InResponseTo`); `None` for IdP-initiated SSO.
    pub in_response_to: Option<String>,
    /// The subject.
    pub name_id: NameId,
    /// `SessionIndex` of the IdP's SSO session (used again in logout).
    pub session_index: String,
    /// When the user authenticated (`AuthnInstant`).
    pub authn_instant: Timestamp,
    /// `AuthnContextClassRef`.
    pub authn_context_class_ref: String,
    /// `SessionNotOnOrAfter`: when the SP should end its session, if set.
    pub session_not_on_or_after: Option<Timestamp>,
    /// Attributes; an empty list leaves out the AttributeStatement.
    pub attributes: Vec<Attribute>,
}

/// The times an assertion carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validity {
    pub issue_instant: Timestamp,
    pub not_before: Timestamp,
    pub not_on_or_after: Timestamp,
}

/// Builds the (unsigned) assertion element with the schema's child order: Issuer,
/// [Signature], Subject, Conditions, AuthnStatement, AttributeStatement.
pub(crate) fn assertion_el(id: &str, content: &AssertionContent, v: Validity) -> El {
    let confirmation_data = saml("SubjectConfirmationData")
        .attr_opt("InResponseTo", content.in_response_to.clone())
        .attr("NotOnOrAfter", format_instant(v.not_on_or_after))
        .attr("Recipient", content.recipient.clone());
    let subject = saml("Subject").child(content.name_id.to_el()).child(
        saml("SubjectConfirmation")
            .attr("Method", CM_BEARER)
            .child(confirmation_data),
    );
    let conditions = saml("Conditions")
        .attr("NotBefore", format_instant(v.not_before))
        .attr("NotOnOrAfter", format_instant(v.not_on_or_after))
        .child(saml("AudienceRestriction").child(saml("Audience").text(content.audience.clone())));
    let authn = saml("AuthnStatement")
        .attr("AuthnInstant", format_instant(content.authn_instant))
        .attr("SessionIndex", content.session_index.clone())
        .attr_opt(
            "SessionNotOnOrAfter",
            content.session_not_on_or_after.map(format_instant),
        )
        .child(
            saml("AuthnContext")
                .child(saml("AuthnContextClassRef").text(content.authn_context_class_ref.clone())),
        );
    let mut assertion = saml("Assertion")
        .attr("ID", id)
        .attr("Version", crate::names::SAML_VERSION)
        .attr("IssueInstant", format_instant(v.issue_instant))
        .child(saml("Issuer").text(content.idp_entity_id.clone()))
        .child(subject)
        .child(conditions)
        .child(authn);
    if !content.attributes.is_empty() {
        let mut statement = saml("AttributeStatement");
        for a in &content.attributes {
            statement.push(a.to_el());
        }
        assertion.push(statement);
    }
    assertion
}
