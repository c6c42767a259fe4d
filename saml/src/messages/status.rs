//! `samlp:Status` (Core §3.2.2.1–3.2.2.2): top-level and second-level codes.

use roxmltree::Node;

use super::samlp;
use crate::error::{Result, SamlError};
use crate::names::NS_PROTOCOL;
use crate::parse::{child, text_of};
use crate::writer::El;

const PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:status:";

/// Top-level status codes (Core §3.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// The request succeeded.
    Success,
    /// The request could not be performed due to an error on the requester's part.
    Requester,
    /// The request could not be performed due to an error on the responder's part.
    Responder,
    /// The SAML version is not supported.
    VersionMismatch,
}

/// Second-level status codes the IdP uses (Core §3.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatusCode {
    /// The responding provider was unable to authenticate the principal.
    AuthnFailed,
    /// The responding provider does not wish to respond (e.g. access rule).
    RequestDenied,
    /// `IsPassive` was set and the user would have to interact.
    NoPassive,
    /// The requested authentication context cannot be met.
    NoAuthnContext,
    /// The NameID policy cannot be satisfied.
    InvalidNameIdPolicy,
    /// The principal is not known.
    UnknownPrincipal,
    /// Not every session participant could be logged out.
    PartialLogout,
    /// The request is not supported (e.g. an unknown binding).
    RequestUnsupported,
    /// A code this crate does not name.
    Other,
}

impl StatusCode {
    fn name(self) -> &'static str {
        match self {
            StatusCode::Success => "Success",
            StatusCode::Requester => "Requester",
            StatusCode::Responder => "Responder",
            StatusCode::VersionMismatch => "VersionMismatch",
        }
    }
}

impl SubStatusCode {
    fn name(self) -> &'static str {
        match self {
            SubStatusCode::AuthnFailed => "AuthnFailed",
            SubStatusCode::RequestDenied => "RequestDenied",
            SubStatusCode::NoPassive => "NoPassive",
            SubStatusCode::NoAuthnContext => "NoAuthnContext",
            SubStatusCode::InvalidNameIdPolicy => "InvalidNameIDPolicy",
            SubStatusCode::UnknownPrincipal => "UnknownPrincipal",
            SubStatusCode::PartialLogout => "PartialLogout",
            SubStatusCode::RequestUnsupported => "RequestUnsupported",
            SubStatusCode::Other => "Other",
        }
    }
}

/// A status: code, optional second-level code, optional message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Top-level code.
    pub code: StatusCode,
    /// Second-level code.
    pub sub_code: Option<SubStatusCode>,
    /// `StatusMessage` (never put internal details here: the SP shows it).
    pub message: Option<String>,
}

impl Status {
    /// `Success`.
    pub fn success() -> Self {
        Status {
            code: StatusCode::Success,
            sub_code: None,
            message: None,
        }
    }

    /// An error status with a second-level code.
    pub fn error(code: StatusCode, sub_code: SubStatusCode) -> Self {
        Status {
            code,
            sub_code: Some(sub_code),
            message: None,
        }
    }

    /// Whether the top-level code is `Success`.
    pub fn is_success(&self) -> bool {
        self.code == StatusCode::Success
    }

    pub(crate) fn to_el(&self) -> El {
        let mut code = samlp("StatusCode").attr("Value", format!("{PREFIX}{}", self.code.name()));
        if let Some(sub) = self.sub_code.filter(|s| *s != SubStatusCode::Other) {
            code = code.child(samlp("StatusCode").attr("Value", format!("{PREFIX}{}", sub.name())));
        }
        samlp("Status").child(code).child_opt(
            self.message
                .as_ref()
                .map(|m| samlp("StatusMessage").text(m.clone())),
        )
    }

    pub(crate) fn from_node(status: Node<'_, '_>) -> Result<Self> {
        let top = child(status, NS_PROTOCOL, "StatusCode").ok_or(SamlError::Missing {
            element: "Status",
            what: "StatusCode",
        })?;
        let code = match top.attribute("Value").and_then(|v| v.strip_prefix(PREFIX)) {
            Some("Success") => StatusCode::Success,
            Some("Requester") => StatusCode::Requester,
            Some("Responder") => StatusCode::Responder,
            Some("VersionMismatch") => StatusCode::VersionMismatch,
            _ => return Err(SamlError::Invalid { what: "StatusCode" }),
        };
        let sub_code = child(top, NS_PROTOCOL, "StatusCode").map(|s| {
            let name = s.attribute("Value").and_then(|v| v.strip_prefix(PREFIX));
            [
                SubStatusCode::AuthnFailed,
                SubStatusCode::RequestDenied,
                SubStatusCode::NoPassive,
                SubStatusCode::NoAuthnContext,
                SubStatusCode::InvalidNameIdPolicy,
                SubStatusCode::UnknownPrincipal,
                SubStatusCode::PartialLogout,
                SubStatusCode::RequestUnsupported,
            ]
            .into_iter()
            .find(|c| Some(c.name()) == name)
            .unwrap_or(SubStatusCode::Other)
        });
        let message = child(status, NS_PROTOCOL, "StatusMessage")
            .map(text_of)
            .map(|m| crate::error::brief(&m));
        Ok(Status {
            code,
            sub_code,
            message,
        })
    }
}
