//! XML-DSig enveloped signatures over XML the IdP generated (never over XML that
//! came from outside): RSA-SHA256, SHA-256 digest, transforms enveloped-signature
//! then exc-c14n, the IdP certificate in `ds:KeyInfo/ds:X509Data` (XML-DSig §4,
//! SAML Core §5.4). The element is written in canonical form by [`El`], so its
//! digest is the SHA-256 of its rendering.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Result, SamlError};
use crate::keys::IdpSigningKey;
use crate::names::{ALG_ENVELOPED, ALG_EXC_C14N, ALG_RSA_SHA256, ALG_SHA256, NS_DSIG};
use crate::writer::El;

fn ds(local: &'static str) -> El {
    El::new("ds", NS_DSIG, local)
}

/// Adds an enveloped signature to `el`, referencing its `ID`, placed after its
/// `Issuer` (Core §5.4.1 and the schema's sequence) or first when it has none.
pub(crate) fn sign_enveloped(el: &mut El, key: &IdpSigningKey) -> Result<()> {
    let id = el
        .attribute("ID")
        .ok_or(SamlError::Missing {
            element: "element to sign",
            what: "ID",
        })?
        .to_owned();
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest = Sha256::digest(el.render().as_bytes());
    let signed_info = ds("SignedInfo")
        .child(ds("CanonicalizationMethod").attr("Algorithm", ALG_EXC_C14N))
        .child(ds("SignatureMethod").attr("Algorithm", ALG_RSA_SHA256))
        .child(
            ds("Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    ds("Transforms")
                        .child(ds("Transform").attr("Algorithm", ALG_ENVELOPED))
                        .child(ds("Transform").attr("Algorithm", ALG_EXC_C14N)),
                )
                .child(ds("DigestMethod").attr("Algorithm", ALG_SHA256))
                .child(ds("DigestValue").text(b64.encode(digest))),
        );
    // SignedInfo is canonicalized as its own apex (XML-DSig §4.3.1), which is
    // exactly its rendering: it declares xmlns:ds itself.
    let value = key.sign_sha256(signed_info.render().as_bytes())?;
    let signature = ds("Signature")
        .child(signed_info)
        .child(ds("SignatureValue").text(b64.encode(value)))
        .child(
            ds("KeyInfo")
                .child(ds("X509Data").child(ds("X509Certificate").text(key.certificate_base64()))),
        );
    el.insert_after_issuer(signature);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c14n::canonicalize;
    use crate::keys::test_keys::{certificate, idp_key};
    use crate::names::{NS_ASSERTION, NS_PROTOCOL};
    use crate::parse::{parse_document, Limits};

    #[test]
    fn signed_output_is_canonical_and_verifies() {
        let key = idp_key(0);
        let mut el = El::new("samlp", NS_PROTOCOL, "LogoutResponse")
            .attr("ID", "_abc")
            .attr("Version", "2.0")
            .child(El::new("saml", NS_ASSERTION, "Issuer").text("https://idp.example"))
            .child(El::new("samlp", NS_PROTOCOL, "Status"));
        sign_enveloped(&mut el, &key).unwrap();
        let xml = el.render();
        let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
        // A parser plus our c14n gives back the very bytes we sent.
        assert_eq!(canonicalize(doc.root_element(), None, &[]).unwrap(), xml);
        crate::dsig_verify::verify_enveloped(&doc, &[certificate(0)], false).unwrap();
        // The signature sits right after Issuer.
        let second = doc.root_element().children().nth(1).unwrap();
        assert_eq!(second.tag_name().name(), "Signature");
    }
}
