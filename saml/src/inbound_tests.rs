use jiff::Timestamp;

use super::*;
use crate::bindings::post::encode_post_field;
use crate::bindings::redirect::encode_redirect;
use crate::keys::test_keys::{certificate, idp_key};
use crate::messages::authn_request::AuthnRequest;

fn request() -> AuthnRequest {
    AuthnRequest {
        id: "_r".into(),
        issue_instant: Timestamp::from_second(1_900_000_000).unwrap(),
        destination: None,
        issuer: "https://sp.example".into(),
        acs_url: Some("https://sp.example/acs".into()),
        acs_index: None,
        protocol_binding: None,
        attribute_consuming_service_index: None,
        provider_name: None,
        name_id_policy: None,
        force_authn: false,
        is_passive: true,
        requested_authn_context: None,
    }
}

fn policy(certs: &[SpCertificate], required: bool) -> SignaturePolicy<'_> {
    SignaturePolicy {
        certificates: certs,
        required,
        allow_sha1: false,
    }
}

fn query(url: &str) -> &str {
    url.split_once('?').unwrap().1
}

#[test]
fn post_signed_request_verifies_and_reads() {
    let xml = request().to_xml(Some(&idp_key(1))).unwrap();
    let msg =
        InboundMessage::from_post_form(MessageKind::Request, &encode_post_field(&xml), Some("rs"))
            .unwrap();
    assert_eq!(msg.peek_issuer().unwrap(), "https://sp.example");
    let certs = [certificate(1)];
    let v = msg.authn_request(&policy(&certs, true)).unwrap();
    assert!(v.signature_verified);
    assert_eq!(v.message, request());
    assert_eq!(msg.relay_state(), Some("rs"));
    // A wrong key refuses, required or not.
    let wrong = [certificate(2)];
    assert!(msg.authn_request(&policy(&wrong, false)).is_err());
}

#[test]
fn post_unsigned_request_only_when_not_required() {
    let xml = request().to_xml(None).unwrap();
    let msg = InboundMessage::from_post_form(MessageKind::Request, &encode_post_field(&xml), None)
        .unwrap();
    let certs = [certificate(1)];
    assert!(
        !msg.authn_request(&policy(&certs, false))
            .unwrap()
            .signature_verified
    );
    assert!(matches!(
        msg.authn_request(&policy(&certs, true)),
        Err(SamlError::Signature(SignatureError::Missing))
    ));
}

#[test]
fn redirect_signed_query_verifies() {
    let xml = request().to_xml(None).unwrap();
    let url = encode_redirect(
        "https://idp.example/sso",
        MessageKind::Request,
        &xml,
        Some("r"),
        Some(&idp_key(1)),
    )
    .unwrap();
    let msg = InboundMessage::from_redirect_query(query(&url)).unwrap();
    let certs = [certificate(1)];
    let v = msg.authn_request(&policy(&certs, true)).unwrap();
    assert!(v.signature_verified);
    assert_eq!(msg.binding(), Binding::Redirect);
    let other = [certificate(0)];
    assert!(msg.authn_request(&policy(&other, true)).is_err());
}

#[test]
fn redirect_with_embedded_signature_is_refused() {
    let xml = request().to_xml(Some(&idp_key(1))).unwrap();
    let url = encode_redirect("https://idp/sso", MessageKind::Request, &xml, None, None).unwrap();
    let msg = InboundMessage::from_redirect_query(query(&url)).unwrap();
    let certs = [certificate(1)];
    assert!(matches!(
        msg.authn_request(&policy(&certs, false)),
        Err(SamlError::Signature(SignatureError::EmbeddedInRedirect))
    ));
}

#[test]
fn wrong_message_type_or_parameter_is_refused() {
    let xml = request().to_xml(None).unwrap();
    let msg = InboundMessage::from_post_form(MessageKind::Request, &encode_post_field(&xml), None)
        .unwrap();
    assert!(matches!(
        msg.logout_request(&policy(&[], false)),
        Err(SamlError::UnexpectedElement { .. })
    ));
    let as_response =
        InboundMessage::from_post_form(MessageKind::Response, &encode_post_field(&xml), None)
            .unwrap();
    assert!(as_response.authn_request(&policy(&[], false)).is_err());
}

#[test]
fn xml_bomb_and_xxe_by_post_are_refused() {
    let bomb = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>\
                <samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&b;</samlp:AuthnRequest>";
    let msg = InboundMessage::from_post_form(MessageKind::Request, &encode_post_field(bomb), None)
        .unwrap();
    assert!(matches!(
        msg.authn_request(&policy(&[], false)),
        Err(SamlError::DtdRefused)
    ));
    assert!(matches!(msg.peek_issuer(), Err(SamlError::DtdRefused)));
}
