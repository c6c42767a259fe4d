//! Signature-wrapping and tampering variants: each one must fail verification.

use super::*;
use crate::dsig_sign::sign_enveloped;
use crate::keys::test_keys::{certificate, idp_key};
use crate::names::{NS_ASSERTION, NS_PROTOCOL};
use crate::parse::{parse_document, Limits};
use crate::writer::El;

/// An AuthnRequest signed the way an SP would, with test key 1 as the SP's key.
fn signed_request() -> String {
    let mut el = El::new("samlp", NS_PROTOCOL, "AuthnRequest")
        .attr("ID", "_req1")
        .attr("Version", "2.0")
        .attr("IssueInstant", "2030-01-01T00:00:00Z")
        .attr("AssertionConsumerServiceURL", "https://sp.example/acs")
        .child(El::new("saml", NS_ASSERTION, "Issuer").text("https://sp.example"))
        .child(El::new("samlp", NS_PROTOCOL, "NameIDPolicy").attr("AllowCreate", "true"));
    sign_enveloped(&mut el, &idp_key(1)).unwrap();
    el.render()
}

fn verify(xml: &str) -> Outcome<()> {
    let doc = parse_document(xml, &Limits::REQUEST).unwrap();
    verify_enveloped(&doc, &[certificate(1)], false)
}

fn signature_element(xml: &str) -> &str {
    let start = xml.find("<ds:Signature").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    &xml[start..end]
}

#[test]
fn genuine_request_verifies_with_rotated_keys() {
    let xml = signed_request();
    assert_eq!(verify(&xml), Ok(()));
    let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
    // Old and new SP certificates during a rollover: either may match.
    assert_eq!(
        verify_enveloped(&doc, &[certificate(2), certificate(1)], false),
        Ok(())
    );
}

#[test]
fn comments_and_unused_namespaces_do_not_change_the_digest() {
    let xml = signed_request()
        .replace(
            "<samlp:AuthnRequest xmlns:samlp",
            "<samlp:AuthnRequest xmlns:unused=\"urn:unused\" xmlns:samlp",
        )
        .replace(
            "https://sp.example</saml:Issuer>",
            "https://sp.<!-- c -->example</saml:Issuer>",
        );
    assert_eq!(verify(&xml), Ok(()));
}

#[test]
fn tampered_attribute_fails_digest() {
    let xml = signed_request().replace("https://sp.example/acs", "https://evil.example/acs");
    assert_eq!(verify(&xml), Err(SignatureError::Digest));
}

#[test]
fn tampered_signed_info_fails_value() {
    let xml = signed_request();
    let digest_start = xml.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
    let mut bytes = xml.into_bytes();
    // Flip one base64 character of the digest: SignedInfo no longer matches.
    bytes[digest_start] = if bytes[digest_start] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let xml = String::from_utf8(bytes).unwrap();
    let err = verify(&xml).unwrap_err();
    assert!(
        matches!(err, SignatureError::Digest | SignatureError::Value),
        "{err:?}"
    );
}

#[test]
fn other_key_fails() {
    let xml = signed_request();
    let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
    assert_eq!(
        verify_enveloped(&doc, &[certificate(2)], false),
        Err(SignatureError::Value)
    );
    assert_eq!(
        verify_enveloped(&doc, &[], false),
        Err(SignatureError::NoKey)
    );
}

#[test]
fn unsigned_is_missing() {
    let xml = signed_request();
    let unsigned = xml.replace(signature_element(&xml), "");
    assert_eq!(verify(&unsigned), Err(SignatureError::Missing));
}

#[test]
fn second_authn_request_inside_is_wrapping() {
    let xml = signed_request().replace(
        "</samlp:AuthnRequest>",
        "<samlp:Extensions><samlp:AuthnRequest ID=\"_evil\" Version=\"2.0\" \
         AssertionConsumerServiceURL=\"https://evil.example/acs\"/></samlp:Extensions></samlp:AuthnRequest>",
    );
    assert_eq!(
        verify(&xml),
        Err(SignatureError::Wrapping(
            "a second element named like the root"
        ))
    );
}

#[test]
fn signed_request_wrapped_in_an_unsigned_root_is_wrapping() {
    let inner = signed_request();
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{NS_PROTOCOL}\" ID=\"_evil\" Version=\"2.0\" \
         AssertionConsumerServiceURL=\"https://evil.example/acs\"><samlp:Extensions>{inner}\
         </samlp:Extensions></samlp:AuthnRequest>"
    );
    assert!(matches!(verify(&xml), Err(SignatureError::Wrapping(_))));
}

#[test]
fn evil_root_with_the_genuine_signature_moved_in() {
    // The signature is lifted onto an attacker root that reuses the signed ID while
    // the genuine request hides below: duplicate names and IDs.
    let genuine = signed_request();
    let sig = signature_element(&genuine).to_owned();
    let hidden = genuine.replace(&sig, "");
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{NS_PROTOCOL}\" ID=\"_req1\" Version=\"2.0\">{sig}\
         <samlp:Extensions>{hidden}</samlp:Extensions></samlp:AuthnRequest>"
    );
    assert!(matches!(verify(&xml), Err(SignatureError::Wrapping(_))));
}

#[test]
fn reference_to_another_element_is_refused() {
    let xml = signed_request()
        .replace("URI=\"#_req1\"", "URI=\"#_other\"")
        .replace("<samlp:NameIDPolicy ", "<samlp:NameIDPolicy ID=\"_other\" ");
    assert_eq!(verify(&xml), Err(SignatureError::Reference));
    let empty = signed_request().replace("URI=\"#_req1\"", "URI=\"\"");
    assert_eq!(verify(&empty), Err(SignatureError::Reference));
}

#[test]
fn two_signatures_are_refused() {
    let xml = signed_request();
    let sig = signature_element(&xml).to_owned();
    let doubled = xml.replace(&sig, &format!("{sig}{sig}"));
    assert_eq!(verify(&doubled), Err(SignatureError::Placement));
}

#[test]
fn signature_not_a_child_of_root_is_refused() {
    let xml = signed_request();
    let sig = signature_element(&xml).to_owned();
    let moved = xml.replace(&sig, "").replace(
        "</samlp:AuthnRequest>",
        &format!("<samlp:Extensions>{sig}</samlp:Extensions></samlp:AuthnRequest>"),
    );
    assert_eq!(verify(&moved), Err(SignatureError::Placement));
}

#[test]
fn duplicate_ids_are_refused() {
    let xml = signed_request().replace("<samlp:NameIDPolicy ", "<samlp:NameIDPolicy ID=\"_req1\" ");
    assert_eq!(
        verify(&xml),
        Err(SignatureError::Wrapping("a repeated ID value"))
    );
}

#[test]
fn unknown_or_extra_transforms_are_refused() {
    let xpath = signed_request().replace(
        ALG_ENVELOPED,
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
    );
    assert_eq!(verify(&xpath), Err(SignatureError::Transforms));
    let extra = signed_request().replace(
        "</ds:Transforms>",
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:Transform></ds:Transforms>",
    );
    assert_eq!(verify(&extra), Err(SignatureError::Transforms));
    let inclusive = signed_request().replace(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\">",
    );
    assert_eq!(verify(&inclusive), Err(SignatureError::Transforms));
}

#[test]
fn sha1_digest_only_when_allowed() {
    let xml = signed_request().replace(ALG_SHA256, ALG_SHA1);
    assert_eq!(
        verify(&xml),
        Err(SignatureError::Algorithm("digest method"))
    );
    let doc = parse_document(&xml, &Limits::REQUEST).unwrap();
    // Allowed, the structure passes and the (now wrong) signature is what fails.
    assert!(matches!(
        verify_enveloped(&doc, &[certificate(1)], true),
        Err(SignatureError::Digest)
    ));
}

#[test]
fn object_in_signature_is_refused() {
    let xml = signed_request().replace(
        "</ds:Signature>",
        "<ds:Object><x ID=\"_o\"/></ds:Object></ds:Signature>",
    );
    assert_eq!(
        verify(&xml),
        Err(SignatureError::Malformed("Signature children"))
    );
}

#[test]
fn two_references_are_refused() {
    let xml = signed_request();
    let start = xml.find("<ds:Reference").unwrap();
    let end = xml.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
    let reference = &xml[start..end];
    let doubled = xml.replace(reference, &format!("{reference}{reference}"));
    assert_eq!(verify(&doubled), Err(SignatureError::Reference));
}
