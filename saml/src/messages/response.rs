//! `samlp:Response` (Core §3.3.3, Profiles §4.1.4.2): the signed answer to an
//! AuthnRequest (or an IdP-initiated one), and error Responses.

use jiff::{SignedDuration, Timestamp};

use super::assertion::{assertion_el, AssertionContent, Validity};
use super::{saml, samlp, Status};
use crate::dsig_sign::sign_enveloped;
use crate::error::{Result, SamlError};
use crate::ids::new_id;
use crate::keys::{IdpSigningKey, SpCertificate};
use crate::timestamps::format_instant;

/// Which parts to sign, per SP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignParts {
    /// Only the Assertion (the common default; Microsoft 365 accepts it).
    Assertion,
    /// Only the Response.
    Response,
    /// Both: the Assertion first, then the Response around it.
    Both,
}

/// How to encrypt the assertion, when the SP asks for it.
#[derive(Debug, Clone)]
pub struct Encryption<'a> {
    /// The SP's encryption certificate from its metadata.
    pub certificate: &'a SpCertificate,
    /// The content cipher.
    pub method: crate::encrypt::ContentCipher,
}

/// Everything a successful Response needs besides the assertion's content.
#[derive(Debug, Clone)]
pub struct ResponseOptions<'a> {
    /// Now, from the caller's clock.
    pub now: Timestamp,
    /// How long the assertion is valid (e.g. 5 minutes).
    pub lifetime: SignedDuration,
    /// How far `NotBefore` lies before `now`, for SPs whose clocks run behind.
    pub not_before_skew: SignedDuration,
    /// Which parts to sign.
    pub sign: SignParts,
    /// Encrypt the assertion for the SP.
    pub encryption: Option<Encryption<'a>>,
}

/// A built Response and the IDs the caller audits.
#[derive(Debug, Clone)]
pub struct BuiltResponse {
    /// The Response XML, to be sent with the HTTP-POST binding.
    pub xml: String,
    /// The Response's ID.
    pub response_id: String,
    /// The Assertion's ID.
    pub assertion_id: String,
}

/// Builds and signs a successful Response carrying one assertion. `Destination`
/// and `Recipient` are `content.recipient`: the ACS URL the caller took from the
/// SP's metadata (Profiles §4.1.4.5), never one from the request alone.
pub fn build_response(
    content: &AssertionContent,
    options: &ResponseOptions<'_>,
    key: &IdpSigningKey,
) -> Result<BuiltResponse> {
    let validity = Validity {
        issue_instant: options.now,
        not_before: options
            .now
            .checked_sub(options.not_before_skew)
            .map_err(|_| SamlError::Time("NotBefore out of range"))?,
        not_on_or_after: options
            .now
            .checked_add(options.lifetime)
            .map_err(|_| SamlError::Time("NotOnOrAfter out of range"))?,
    };
    let assertion_id = new_id()?;
    let response_id = new_id()?;
    let mut assertion = assertion_el(&assertion_id, content, validity);
    if matches!(options.sign, SignParts::Assertion | SignParts::Both) {
        sign_enveloped(&mut assertion, key)?;
    }
    let carried = match &options.encryption {
        Some(enc) => crate::encrypt::encrypt_assertion(&assertion.render(), enc)?,
        None => assertion,
    };
    let mut response = samlp("Response")
        .attr("ID", response_id.clone())
        .attr("Version", crate::names::SAML_VERSION)
        .attr("IssueInstant", format_instant(options.now))
        .attr("Destination", content.recipient.clone())
        .attr_opt("InResponseTo", content.in_response_to.clone())
        .child(saml("Issuer").text(content.idp_entity_id.clone()))
        .child(Status::success().to_el())
        .child(carried);
    if matches!(options.sign, SignParts::Response | SignParts::Both) {
        sign_enveloped(&mut response, key)?;
    }
    Ok(BuiltResponse {
        xml: response.render(),
        response_id,
        assertion_id,
    })
}

/// An error Response (no assertion), e.g. `Requester`/`RequestDenied` for a user
/// outside the SP's groups or `Responder`/`NoPassive` (Core §3.2.2.2). Signed when
/// `key` is given.
pub fn build_error_response(
    idp_entity_id: &str,
    destination: &str,
    in_response_to: Option<&str>,
    status: &Status,
    now: Timestamp,
    key: Option<&IdpSigningKey>,
) -> Result<BuiltResponse> {
    if status.is_success() {
        return Err(SamlError::Invalid {
            what: "error Response status (Success)",
        });
    }
    let response_id = new_id()?;
    let mut response = samlp("Response")
        .attr("ID", response_id.clone())
        .attr("Version", crate::names::SAML_VERSION)
        .attr("IssueInstant", format_instant(now))
        .attr("Destination", destination)
        .attr_opt("InResponseTo", in_response_to)
        .child(saml("Issuer").text(idp_entity_id))
        .child(status.to_el());
    if let Some(key) = key {
        sign_enveloped(&mut response, key)?;
    }
    Ok(BuiltResponse {
        xml: response.render(),
        response_id,
        assertion_id: String::new(),
    })
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
