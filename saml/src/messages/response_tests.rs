use super::*;
use crate::c14n::canonicalize;
use crate::dsig_verify::verify_enveloped;
use crate::keys::test_keys::{certificate, idp_key};
use crate::messages::assertion::Attribute;
use crate::messages::{NameId, StatusCode, SubStatusCode};
use crate::names::{attrname, authn_context, nameid};
use crate::parse::{parse_document, Limits};

pub(crate) fn content() -> AssertionContent {
    AssertionContent {
        idp_entity_id: "https://idp.example".into(),
        audience: "https://sp.example/metadata".into(),
        recipient: "https://sp.example/acs".into(),
        in_response_to: Some("_req".into()),
        name_id: NameId {
            sp_name_qualifier: Some("https://sp.example/metadata".into()),
            ..NameId::new("AbC+/123==", nameid::PERSISTENT)
        },
        session_index: "_session1".into(),
        authn_instant: Timestamp::from_second(1_900_000_000).unwrap(),
        authn_context_class_ref: authn_context::PASSWORD_PROTECTED_TRANSPORT.into(),
        session_not_on_or_after: None,
        attributes: vec![
            Attribute::new(
                "IDPEmail",
                attrname::UNSPECIFIED,
                vec!["a@example.com".into()],
            ),
            Attribute::new(
                "groups",
                attrname::BASIC,
                vec!["staff".into(), "R&D <lab>".into()],
            ),
        ],
    }
}

pub(crate) fn options(sign: SignParts) -> ResponseOptions<'static> {
    ResponseOptions {
        now: Timestamp::from_second(1_900_000_010).unwrap(),
        lifetime: SignedDuration::from_mins(5),
        not_before_skew: SignedDuration::from_secs(30),
        sign,
        encryption: None,
    }
}

fn assertion_xml(xml: &str) -> &str {
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    &xml[start..end]
}

#[test]
fn every_sign_choice_verifies_and_is_canonical() {
    let key = idp_key(0);
    for sign in [SignParts::Assertion, SignParts::Response, SignParts::Both] {
        let built = build_response(&content(), &options(sign), &key).unwrap();
        let doc = parse_document(&built.xml, &Limits::REQUEST).unwrap();
        assert_eq!(
            canonicalize(doc.root_element(), None, &[]).unwrap(),
            built.xml
        );
        let assertion = assertion_xml(&built.xml);
        let node = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Assertion")
            .unwrap();
        assert_eq!(canonicalize(node, None, &[]).unwrap(), assertion);

        let response_signed = verify_enveloped(&doc, &[certificate(0)], false);
        let assertion_doc = parse_document(assertion, &Limits::REQUEST).unwrap();
        let assertion_signed = verify_enveloped(&assertion_doc, &[certificate(0)], false);
        match sign {
            SignParts::Assertion => {
                assert_eq!(assertion_signed, Ok(()));
                assert!(response_signed.is_err());
            }
            SignParts::Response => {
                assert_eq!(response_signed, Ok(()));
                assert!(assertion_signed.is_err());
            }
            SignParts::Both => {
                // The verifier is built for SP requests and allows one signature in
                // the whole document; xmlsec1 checks the outer one (tests/xmlsec1.rs).
                assert_eq!(response_signed, Err(crate::SignatureError::Placement));
                assert_eq!(assertion_signed, Ok(()));
            }
        }
    }
}

#[test]
fn fields_are_where_sps_look() {
    let built = build_response(&content(), &options(SignParts::Assertion), &idp_key(0)).unwrap();
    let x = &built.xml;
    for needle in [
        "Destination=\"https://sp.example/acs\"",
        "InResponseTo=\"_req\"",
        "<saml:Audience>https://sp.example/metadata</saml:Audience>",
        "Recipient=\"https://sp.example/acs\"",
        "NotBefore=\"2030-03-17T17:46:20Z\"",
        "NotOnOrAfter=\"2030-03-17T17:51:50Z\"",
        "SessionIndex=\"_session1\"",
        "Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"",
        "<saml:AttributeValue>R&amp;D &lt;lab&gt;</saml:AttributeValue>",
        "SPNameQualifier=\"https://sp.example/metadata\"",
        "urn:oasis:names:tc:SAML:2.0:status:Success",
    ] {
        assert!(x.contains(needle), "missing {needle} in {x}");
    }
    // Signature right after the assertion's Issuer (schema order).
    let a = assertion_xml(x);
    let issuer_end = a.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    assert!(a[issuer_end..].starts_with("<ds:Signature"));
    assert_eq!(built.response_id.len(), 33);
    assert_ne!(built.response_id, built.assertion_id);
}

#[test]
fn no_attributes_means_no_attribute_statement() {
    let mut c = content();
    c.attributes.clear();
    c.in_response_to = None;
    let built = build_response(&c, &options(SignParts::Assertion), &idp_key(0)).unwrap();
    assert!(!built.xml.contains("AttributeStatement"));
    assert!(!built.xml.contains("InResponseTo"));
}

#[test]
fn error_response_carries_the_status() {
    let status = Status::error(StatusCode::Requester, SubStatusCode::RequestDenied);
    let built = build_error_response(
        "https://idp.example",
        "https://sp.example/acs",
        Some("_req"),
        &status,
        Timestamp::from_second(1_900_000_000).unwrap(),
        Some(&idp_key(0)),
    )
    .unwrap();
    assert!(!built.xml.contains("Assertion"));
    let doc = parse_document(&built.xml, &Limits::REQUEST).unwrap();
    assert_eq!(verify_enveloped(&doc, &[certificate(0)], false), Ok(()));
    let status_node =
        crate::parse::child(doc.root_element(), crate::names::NS_PROTOCOL, "Status").unwrap();
    assert_eq!(Status::from_node(status_node).unwrap(), status);
    assert!(build_error_response(
        "i",
        "d",
        None,
        &Status::success(),
        Timestamp::UNIX_EPOCH,
        None
    )
    .is_err());
}

#[test]
fn encrypted_assertion_decrypts_to_the_signed_assertion() {
    let cert = certificate(2);
    let mut opts = options(SignParts::Assertion);
    opts.encryption = Some(Encryption {
        certificate: &cert,
        method: crate::encrypt::ContentCipher::Aes256Gcm,
    });
    let built = build_response(&content(), &opts, &idp_key(0)).unwrap();
    assert!(!built.xml.contains("<saml:Assertion"));
    let start = built.xml.find("<saml:EncryptedAssertion").unwrap();
    let end = built.xml.find("</saml:EncryptedAssertion>").unwrap() + 26;
    let plain = crate::encrypt::tests::decrypt(&built.xml[start..end], 2);
    let doc = parse_document(&plain, &Limits::REQUEST).unwrap();
    assert_eq!(verify_enveloped(&doc, &[certificate(0)], false), Ok(()));
}
