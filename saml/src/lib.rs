//! SAML 2.0 protocol and XML-security layer of passgrid's identity provider.
//!
//! It knows nothing of passgrid's sign-in: it parses and checks what service
//! providers send (hardened parser, HTTP-Redirect and HTTP-POST bindings,
//! signature verification resistant to signature wrapping), and builds and signs
//! what the IdP sends (Responses with Assertions, logout messages, metadata).

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

pub use error::{Result, SamlError, SignatureError};
