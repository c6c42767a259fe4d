//! Receiving a message from an SP by either binding: decode, parse with the
//! hardened parser, check the root, check the signature as the SP's metadata
//! demands, then read the message from the same (verified) root.

use roxmltree::Node;

use crate::bindings::post::decode_post_field;
use crate::bindings::redirect::RedirectMessage;
use crate::bindings::{check_relay_state, Binding, MessageKind};
use crate::dsig_verify::{signatures, verify_enveloped};
use crate::error::{Result, SamlError, SignatureError};
use crate::keys::SpCertificate;
use crate::messages::authn_request::AuthnRequest;
use crate::messages::logout::{LogoutRequest, LogoutResponse};
use crate::names::NS_PROTOCOL;
use crate::parse::{expect_root, parse_document, Limits};

/// What signature the SP's metadata demands and which keys may check it.
#[derive(Debug, Clone, Copy)]
pub struct SignaturePolicy<'a> {
    /// The SP's signing certificates (several during a rollover).
    pub certificates: &'a [SpCertificate],
    /// Refuse an unsigned message (`AuthnRequestsSigned`, or the IdP's
    /// `WantAuthnRequestsSigned`).
    pub required: bool,
    /// Accept RSA-SHA1 and SHA-1 digests (legacy SPs only).
    pub allow_sha1: bool,
}

/// A message read from an SP, and whether its signature was verified.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The message.
    pub message: T,
    /// True when a signature was present and verified with the SP's key; false
    /// when unsigned (allowed by the policy) or signed with no key to check.
    pub signature_verified: bool,
}

/// A SAML message as received, not yet trusted.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    binding: Binding,
    kind: MessageKind,
    xml: String,
    relay_state: Option<String>,
    redirect: Option<RedirectMessage>,
}

impl InboundMessage {
    /// From the raw query string of an HTTP-Redirect GET (as received, so the
    /// query signature can be checked over the original octets).
    pub fn from_redirect_query(raw_query: &str) -> Result<Self> {
        let msg = RedirectMessage::decode(raw_query)?;
        Ok(InboundMessage {
            binding: Binding::Redirect,
            kind: msg.kind,
            xml: msg.xml.clone(),
            relay_state: msg.relay_state.clone(),
            redirect: Some(msg),
        })
    }

    /// From the form fields of an HTTP-POST (`SAMLRequest` or `SAMLResponse`,
    /// already form-decoded, and `RelayState`).
    pub fn from_post_form(
        kind: MessageKind,
        field_value: &str,
        relay_state: Option<&str>,
    ) -> Result<Self> {
        if let Some(rs) = relay_state {
            check_relay_state(rs)?;
        }
        Ok(InboundMessage {
            binding: Binding::Post,
            kind,
            xml: decode_post_field(field_value)?,
            relay_state: relay_state.map(str::to_owned),
            redirect: None,
        })
    }

    /// The binding it came by.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// `SAMLRequest` or `SAMLResponse`.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// RelayState, to be returned unchanged with the answer.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }

    /// The decoded XML (for an audit excerpt; do not parse it yourself).
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The unverified `Issuer`, to find the SP whose metadata gives the policy.
    /// Nothing else may be taken from the message before a typed read.
    pub fn peek_issuer(&self) -> Result<String> {
        let doc = parse_document(&self.xml, &Limits::REQUEST)?;
        crate::messages::issuer_of(doc.root_element())?.ok_or(SamlError::Missing {
            element: "message",
            what: "Issuer",
        })
    }

    /// Reads an AuthnRequest (a `SAMLRequest`) under `policy`.
    pub fn authn_request(&self, policy: &SignaturePolicy<'_>) -> Result<Verified<AuthnRequest>> {
        self.read(
            policy,
            MessageKind::Request,
            "AuthnRequest",
            AuthnRequest::from_root,
        )
    }

    /// Reads a LogoutRequest (a `SAMLRequest`) under `policy`.
    pub fn logout_request(&self, policy: &SignaturePolicy<'_>) -> Result<Verified<LogoutRequest>> {
        self.read(
            policy,
            MessageKind::Request,
            "LogoutRequest",
            LogoutRequest::from_root,
        )
    }

    /// Reads a LogoutResponse (a `SAMLResponse`) under `policy`.
    pub fn logout_response(
        &self,
        policy: &SignaturePolicy<'_>,
    ) -> Result<Verified<LogoutResponse>> {
        self.read(
            policy,
            MessageKind::Response,
            "LogoutResponse",
            LogoutResponse::from_root,
        )
    }

    fn read<T>(
        &self,
        policy: &SignaturePolicy<'_>,
        kind: MessageKind,
        local: &'static str,
        parse: fn(Node<'_, '_>) -> Result<T>,
    ) -> Result<Verified<T>> {
        if self.kind != kind {
            return Err(SamlError::Invalid {
                what: "message parameter (SAMLRequest/SAMLResponse) for this message",
            });
        }
        let doc = parse_document(&self.xml, &Limits::REQUEST)?;
        let root = expect_root(&doc, NS_PROTOCOL, local, local)?;
        let signed = match &self.redirect {
            Some(redirect) => {
                // Bindings §3.4.4.1: the XML signature is removed before DEFLATE;
                // one left in is refused rather than half-trusted.
                if !signatures(&doc).is_empty() {
                    return Err(SignatureError::EmbeddedInRedirect.into());
                }
                decide(policy, redirect.is_signed(), || {
                    redirect.verify(policy.certificates, policy.allow_sha1)
                })?
            }
            None => decide(policy, !signatures(&doc).is_empty(), || {
                verify_enveloped(&doc, policy.certificates, policy.allow_sha1)
            })?,
        };
        Ok(Verified {
            message: parse(root)?,
            signature_verified: signed,
        })
    }
}

/// Applies the policy: a present signature is always checked when there is a
/// key; an absent one is refused only when required.
fn decide(
    policy: &SignaturePolicy<'_>,
    present: bool,
    verify: impl FnOnce() -> Result<(), SignatureError>,
) -> Result<bool> {
    match (present, policy.certificates.is_empty(), policy.required) {
        (false, _, true) => Err(SignatureError::Missing.into()),
        (false, _, false) => Ok(false),
        (true, true, true) => Err(SignatureError::NoKey.into()),
        (true, true, false) => Ok(false),
        (true, false, _) => verify().map(|_| true).map_err(Into::into),
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
