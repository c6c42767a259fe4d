//! SAML bindings (SAML Bindings 2.0): how messages travel in HTTP.

pub mod post;
pub mod redirect;

/// Whether a message is a request (`SAMLRequest`) or a response (`SAMLResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `SAMLRequest`: AuthnRequest, LogoutRequest.
    Request,
    /// `SAMLResponse`: Response, LogoutResponse.
    Response,
}

impl MessageKind {
    /// The form or query parameter name (Bindings §3.4.4, §3.5.4).
    pub fn parameter(self) -> &'static str {
        match self {
            MessageKind::Request => "SAMLRequest",
            MessageKind::Response => "SAMLResponse",
        }
    }
}

/// The binding a message arrived by or leaves by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// HTTP-Redirect (Bindings §3.4).
    Redirect,
    /// HTTP-POST (Bindings §3.5).
    Post,
}

impl Binding {
    /// The binding's URI, as metadata names it.
    pub fn uri(self) -> &'static str {
        match self {
            Binding::Redirect => crate::names::BINDING_REDIRECT,
            Binding::Post => crate::names::BINDING_POST,
        }
    }

    /// The binding for a metadata `Binding` URI, if it is one of the two supported.
    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            crate::names::BINDING_REDIRECT => Some(Binding::Redirect),
            crate::names::BINDING_POST => Some(Binding::Post),
            _ => None,
        }
    }
}

/// Longest RelayState accepted. Bindings §3.4.3 caps what a sender sends at 80
/// bytes, but deployed SPs send more; this bounds it without breaking them.
pub const MAX_RELAY_STATE: usize = 1024;

pub(crate) fn check_relay_state(rs: &str) -> crate::Result<()> {
    if rs.len() > MAX_RELAY_STATE {
        return Err(crate::SamlError::TooLarge {
            size: rs.len(),
            limit: MAX_RELAY_STATE,
        });
    }
    Ok(())
}
