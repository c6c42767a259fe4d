use base64::Engine;

use super::*;
use crate::keys::test_keys::key_material;
use crate::names::BINDING_REDIRECT;

fn cert_b64(n: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(&key_material(n).1)
}

/// SP metadata as Shibboleth/mod_auth_mellon write it: default namespace, line
/// breaks inside the base64, one key without `use`.
fn sample(extra_acs: &str) -> String {
    let wrapped: String = cert_b64(1)
        .as_bytes()
        .chunks(64)
        .map(|c| format!("\n        {}", std::str::from_utf8(c).unwrap()))
        .collect();
    format!(
        r#"<?xml version="1.0"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example/mellon/metadata">
  <SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="1" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{wrapped}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>
    <KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>
    <SingleLogoutService Binding="{BINDING_REDIRECT}" Location="https://sp.example/mellon/logout"/>
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>
    <AssertionConsumerService Binding="{BINDING_POST}" Location="https://sp.example/mellon/postResponse" index="0"/>
    <AssertionConsumerService Binding="{BINDING_POST}" Location="https://sp.example/acs2" index="1" isDefault="true"/>
    {extra_acs}
  </SPSSODescriptor>
</EntityDescriptor>"#,
        cert_b64(2)
    )
}

#[test]
fn parses_every_field() {
    let md = SpMetadata::parse(&sample("")).unwrap();
    assert_eq!(md.entity_id, "https://sp.example/mellon/metadata");
    assert!(md.authn_requests_signed && md.want_assertions_signed);
    assert_eq!(md.assertion_consumer_services.len(), 2);
    assert_eq!(md.default_acs().unwrap().index, 1);
    assert_eq!(md.signing_certificates.len(), 2);
    assert_eq!(md.encryption_certificates.len(), 1);
    assert_eq!(
        md.encryption_certificates[0].der(),
        key_material(2).1.as_slice()
    );
    assert_eq!(
        md.slo_endpoint(BINDING_REDIRECT).unwrap().location,
        "https://sp.example/mellon/logout"
    );
    assert_eq!(md.name_id_formats, vec![crate::names::nameid::PERSISTENT]);
}

fn request(url: Option<&str>, index: Option<u16>) -> AuthnRequest {
    AuthnRequest {
        id: "_x".into(),
        issue_instant: Timestamp::UNIX_EPOCH,
        destination: None,
        issuer: "https://sp.example/mellon/metadata".into(),
        acs_url: url.map(str::to_owned),
        acs_index: index,
        protocol_binding: None,
        attribute_consuming_service_index: None,
        provider_name: None,
        name_id_policy: None,
        force_authn: false,
        is_passive: false,
        requested_authn_context: None,
    }
}

#[test]
fn acs_only_from_metadata() {
    let md = SpMetadata::parse(&sample(&format!(
        r#"<AssertionConsumerService Binding="{BINDING_REDIRECT}" Location="https://sp.example/redir" index="2"/>"#
    )))
    .unwrap();
    let by_url = md
        .acs_for(&request(
            Some("https://sp.example/mellon/postResponse"),
            None,
        ))
        .unwrap();
    assert_eq!(by_url.index, 0);
    assert_eq!(md.acs_for(&request(None, Some(1))).unwrap().index, 1);
    assert_eq!(md.acs_for(&request(None, None)).unwrap().index, 1);
    assert!(md
        .acs_for(&request(Some("https://evil.example/acs"), None))
        .is_err());
    assert!(md
        .acs_for(&request(
            Some("https://sp.example/mellon/postResponse/"),
            None
        ))
        .is_err());
    assert!(md.acs_for(&request(None, Some(7))).is_err());
    assert!(md.acs_for(&request(None, Some(2))).is_err(), "redirect ACS");
}

#[test]
fn entities_descriptor_with_one_sp() {
    let inner = sample("");
    let inner = inner.trim_start_matches("<?xml version=\"1.0\"?>\n");
    let xml = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{inner}</md:EntitiesDescriptor>"
    );
    assert_eq!(
        SpMetadata::parse(&xml).unwrap().entity_id,
        "https://sp.example/mellon/metadata"
    );
    let two = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{inner}{inner}</md:EntitiesDescriptor>"
    );
    assert!(SpMetadata::parse(&two).is_err());
}

#[test]
fn bad_metadata_is_refused_with_reason() {
    assert!(matches!(
        SpMetadata::parse("<!DOCTYPE x><x/>"),
        Err(SamlError::DtdRefused)
    ));
    let no_acs = sample("").replace("AssertionConsumerService", "ArtifactResolutionService");
    assert!(matches!(
        SpMetadata::parse(&no_acs),
        Err(SamlError::Missing {
            what: "AssertionConsumerService",
            ..
        })
    ));
    let bad_cert = sample("").replace(&cert_b64(2), "AAAA");
    assert!(matches!(
        SpMetadata::parse(&bad_cert),
        Err(SamlError::Key(_))
    ));
    let saml1 = sample("").replace(
        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"",
        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:1.1:protocol\"",
    );
    assert!(SpMetadata::parse(&saml1).is_err());
}
