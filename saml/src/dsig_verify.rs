//! XML-DSig verification of enveloped signatures on what SPs POST (signed
//! AuthnRequest, LogoutRequest, LogoutResponse), shaped against signature wrapping:
//! the one accepted form is a single `ds:Signature`, a direct child of the root,
//! whose one `Reference` is `#<root ID>`, with transforms exactly
//! enveloped-signature then exc-c14n (SAML Core §5.4.1–5.4.4). Anything else is
//! refused, so what the caller reads from the root afterwards is what was signed.
//! `ds:KeyInfo` is ignored: keys come only from the SP's metadata.

use std::collections::HashSet;

use base64::Engine;
use roxmltree::{Document, Node};
use sha2::Digest;
use subtle::ConstantTimeEq;

use crate::c14n::canonicalize;
use crate::error::SignatureError;
use crate::keys::{SignatureAlgorithm, SpCertificate};
use crate::names::{ALG_ENVELOPED, ALG_EXC_C14N, ALG_SHA1, ALG_SHA256, NS_DSIG};
use crate::parse::{child_elements, is_element};

type Outcome<T> = std::result::Result<T, SignatureError>;

/// The `ds:Signature` elements anywhere in the document.
pub(crate) fn signatures<'a, 'i>(doc: &'a Document<'i>) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| is_element(n, NS_DSIG, "Signature"))
        .collect()
}

/// Verifies the enveloped signature on the root element of `doc` with any of
/// `certs` (several during an SP's key rollover). SHA-1 digests and RSA-SHA1 are
/// refused unless `allow_sha1`.
pub fn verify_enveloped(
    doc: &Document<'_>,
    certs: &[SpCertificate],
    allow_sha1: bool,
) -> Outcome<()> {
    let root = doc.root_element();
    refuse_wrapping(doc, root)?;
    let root_id = root
        .attribute("ID")
        .ok_or(SignatureError::Malformed("the root element has no ID"))?;

    let sigs = signatures(doc);
    let signature = match sigs.as_slice() {
        [] => return Err(SignatureError::Missing),
        [one] if one.parent() == Some(root) => *one,
        _ => return Err(SignatureError::Placement),
    };
    if certs.is_empty() {
        return Err(SignatureError::NoKey);
    }

    let parts = SignatureParts::read(signature, root_id, allow_sha1)?;

    // Reference digest: the root with this signature removed (enveloped-signature,
    // XML-DSig §6.6.4), then exc-c14n with the transform's PrefixList.
    let prefixes: Vec<&str> = parts.reference_prefixes.split_whitespace().collect();
    let canonical = canonicalize(root, Some(signature), &prefixes)
        .map_err(|_| SignatureError::Malformed("canonicalization failed"))?;
    let digest = match parts.digest_sha1 {
        false => sha2::Sha256::digest(canonical.as_bytes()).to_vec(),
        true => sha1::Sha1::digest(canonical.as_bytes()).to_vec(),
    };
    if digest.len() != parts.digest_value.len() || !bool::from(digest.ct_eq(&parts.digest_value)) {
        return Err(SignatureError::Digest);
    }

    // SignatureValue over canonical SignedInfo (XML-DSig §3.2.2).
    let si_prefixes: Vec<&str> = parts.signed_info_prefixes.split_whitespace().collect();
    let signed_info = canonicalize(parts.signed_info, None, &si_prefixes)
        .map_err(|_| SignatureError::Malformed("canonicalization failed"))?;
    if certs.iter().any(|c| {
        c.verify(
            parts.algorithm,
            signed_info.as_bytes(),
            &parts.signature_value,
        )
    }) {
        Ok(())
    } else {
        Err(SignatureError::Value)
    }
}

/// Refuses a second element named like the root anywhere, and any repeated ID
/// value: the two ways a wrapped copy makes a reference ambiguous.
fn refuse_wrapping(doc: &Document<'_>, root: Node<'_, '_>) -> Outcome<()> {
    let root_name = root.tag_name();
    let mut ids = HashSet::new();
    for node in doc.descendants().filter(Node::is_element) {
        if node != root && node.tag_name() == root_name {
            return Err(SignatureError::Wrapping(
                "a second element named like the root",
            ));
        }
        for attr in node.attributes() {
            // SAML's ID, XML-DSig's Id, SAML 1's AssertionID and xml:id are all IDs
            // some implementation resolves; none may repeat.
            let is_id = matches!(attr.name(), "ID" | "Id" | "id" | "AssertionID")
                && (attr.namespace().is_none()
                    || attr.namespace() == Some("http://www.w3.org/XML/1998/namespace"));
            if is_id && !ids.insert(attr.value()) {
                return Err(SignatureError::Wrapping("a repeated ID value"));
            }
        }
    }
    Ok(())
}

/// What a well-formed `ds:Signature` of the one accepted shape holds.
struct SignatureParts<'a, 'i> {
    signed_info: Node<'a, 'i>,
    signed_info_prefixes: &'a str,
    algorithm: SignatureAlgorithm,
    reference_prefixes: &'a str,
    digest_sha1: bool,
    digest_value: Vec<u8>,
    signature_value: Vec<u8>,
}

fn ds_children<'a, 'i>(node: Node<'a, 'i>) -> Outcome<Vec<Node<'a, 'i>>> {
    let kids: Vec<_> = child_elements(node).collect();
    if kids
        .iter()
        .any(|k| k.tag_name().namespace() != Some(NS_DSIG))
    {
        return Err(SignatureError::Malformed(
            "an element outside the ds namespace",
        ));
    }
    Ok(kids)
}

fn name_is(node: &Node<'_, '_>, local: &str) -> bool {
    node.tag_name().name() == local
}

fn decode(text: &str, what: &'static str) -> Outcome<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| SignatureError::Malformed(what))
}

fn text(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// The PrefixList of an exc-c14n method element's `InclusiveNamespaces` child
/// ("" when none); any other child is refused.
fn exc_c14n_prefixes<'a>(method: Node<'a, '_>) -> Outcome<&'a str> {
    if method.attribute("Algorithm") != Some(ALG_EXC_C14N) {
        return Err(SignatureError::Algorithm(
            "canonicalization other than exc-c14n",
        ));
    }
    let kids: Vec<_> = child_elements(method).collect();
    match kids.as_slice() {
        [] => Ok(""),
        [inc] if is_element(inc, ALG_EXC_C14N, "InclusiveNamespaces") => {
            Ok(inc.attribute("PrefixList").unwrap_or(""))
        }
        _ => Err(SignatureError::Malformed(
            "unexpected child of a c14n method",
        )),
    }
}

impl<'a, 'i> SignatureParts<'a, 'i> {
    fn read(signature: Node<'a, 'i>, root_id: &str, allow_sha1: bool) -> Outcome<Self> {
        // Signature = SignedInfo, SignatureValue, KeyInfo? — no Object, whose
        // content a reference could otherwise smuggle in (XML-DSig §4.1).
        let kids = ds_children(signature)?;
        let (signed_info, signature_value) = match kids.as_slice() {
            [si, sv] | [si, sv, _]
                if name_is(si, "SignedInfo")
                    && name_is(sv, "SignatureValue")
                    && kids.get(2).is_none_or(|k| name_is(k, "KeyInfo")) =>
            {
                (*si, *sv)
            }
            _ => return Err(SignatureError::Malformed("Signature children")),
        };
        let si = ds_children(signed_info)?;
        let (c14n, method, reference) = match si.as_slice() {
            [c, m, r]
                if name_is(c, "CanonicalizationMethod")
                    && name_is(m, "SignatureMethod")
                    && name_is(r, "Reference") =>
            {
                (*c, *m, *r)
            }
            [_, _, r, more, ..] if name_is(r, "Reference") && name_is(more, "Reference") => {
                return Err(SignatureError::Reference)
            }
            _ => return Err(SignatureError::Malformed("SignedInfo children")),
        };
        let signed_info_prefixes = exc_c14n_prefixes(c14n)?;
        if child_elements(method).next().is_some() {
            // HMACOutputLength and friends have no place with RSA.
            return Err(SignatureError::Malformed("SignatureMethod children"));
        }
        let algorithm =
            SignatureAlgorithm::from_uri(method.attribute("Algorithm").unwrap_or(""), allow_sha1)
                .map_err(|_| SignatureError::Algorithm("signature method"))?;

        let expected_uri = format!("#{root_id}");
        if reference.attribute("URI") != Some(expected_uri.as_str()) {
            return Err(SignatureError::Reference);
        }
        let rk = ds_children(reference)?;
        let (transforms, digest_method, digest_value) = match rk.as_slice() {
            [t, m, v]
                if name_is(t, "Transforms")
                    && name_is(m, "DigestMethod")
                    && name_is(v, "DigestValue") =>
            {
                (*t, *m, *v)
            }
            _ => return Err(SignatureError::Transforms),
        };
        let tk = ds_children(transforms)?;
        let reference_prefixes = match tk.as_slice() {
            [env, exc]
                if name_is(env, "Transform")
                    && name_is(exc, "Transform")
                    && env.attribute("Algorithm") == Some(ALG_ENVELOPED)
                    && child_elements(*env).next().is_none() =>
            {
                exc_c14n_prefixes(*exc).map_err(|_| SignatureError::Transforms)?
            }
            _ => return Err(SignatureError::Transforms),
        };
        let digest_sha1 = match digest_method.attribute("Algorithm") {
            Some(ALG_SHA256) => false,
            Some(ALG_SHA1) if allow_sha1 => true,
            _ => return Err(SignatureError::Algorithm("digest method")),
        };
        Ok(SignatureParts {
            signed_info,
            signed_info_prefixes,
            algorithm,
            reference_prefixes,
            digest_sha1,
            digest_value: decode(&text(digest_value), "DigestValue base64")?,
            signature_value: decode(&text(signature_value), "SignatureValue base64")?,
        })
    }
}

#[cfg(test)]
#[path = "dsig_verify_tests.rs"]
mod tests;
