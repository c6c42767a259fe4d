//! SAML 2.0 protocol and XML-security layer of passgrid's identity provider.
//!
//! It knows nothing of passgrid's sign-in: it parses and checks what service
//! providers send (hardened parser, HTTP-Redirect and HTTP-POST bindings,
//! signature verification resistant to signature wrapping), and builds and signs
//! what the IdP sends (Responses with Assertions, logout messages, metadata).
//!
//! The flow for SP-initiated SSO: [`InboundMessage::from_redirect_query`] or
//! [`InboundMessage::from_post_form`], [`InboundMessage::peek_issuer`] to find the
//! SP, [`InboundMessage::authn_request`] with the SP's [`SignaturePolicy`],
//! [`SpMetadata::acs_for`] for the ACS URL, then [`build_response`] and
//! [`post_form_html`].

#![warn(missing_docs)]

pub mod bindings;
pub mod c14n;
mod dsig_sign;
pub mod dsig_verify;
pub mod encrypt;
pub mod error;
pub mod ids;
pub mod inbound;
pub mod keys;
pub mod messages;
pub mod metadata;
pub mod names;
pub mod parse;
pub mod timestamps;
mod writer;

pub use bindings::post::{post_form_html, post_form_script_csp_source, POST_FORM_SCRIPT};
pub use bindings::redirect::encode_redirect;
pub use bindings::{Binding, MessageKind};
pub use encrypt::ContentCipher;
pub use error::{Result, SamlError, SignatureError};
pub use ids::new_id;
pub use inbound::{InboundMessage, SignaturePolicy, Verified};
/// The time types of the API (`Timestamp`, `SignedDuration`).
pub use jiff;
pub use keys::{IdpSigningKey, SpCertificate};
pub use messages::assertion::{AssertionContent, Attribute};
pub use messages::authn_request::{AuthnRequest, NameIdPolicy, RequestedAuthnContext};
pub use messages::logout::{LogoutRequest, LogoutResponse};
pub use messages::response::{
    build_error_response, build_response, BuiltResponse, Encryption, ResponseOptions, SignParts,
};
pub use messages::{check_destination, NameId, Status, StatusCode, SubStatusCode};
pub use metadata::idp::IdpMetadata;
pub use metadata::sp::{Endpoint, IndexedEndpoint, SpMetadata};
