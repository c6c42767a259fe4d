//! SAML 2.0 metadata (SAML Metadata 2.0): the IdP's own, built; the SPs', parsed.

pub mod idp;
pub mod sp;

use crate::names::NS_METADATA;
use crate::writer::El;

/// An `md:` element.
pub(crate) fn md(local: &'static str) -> El {
    El::new("md", NS_METADATA, local)
}

/// `md:KeyDescriptor` with one certificate (Metadata §2.4.1.1).
pub(crate) fn key_descriptor(usage: &'static str, certificate_base64: String) -> El {
    let ds = |local| El::new("ds", crate::names::NS_DSIG, local);
    md("KeyDescriptor").attr("use", usage).child(
        ds("KeyInfo").child(ds("X509Data").child(ds("X509Certificate").text(certificate_base64))),
    )
}
