//! Interoperability with xmlsec1 (libxmlsec1 over libxml2 and OpenSSL, Debian's
//! `xmlsec1`): it accepts what passgrid-saml signs and rejects tampered copies;
//! passgrid-saml accepts what it signs (which checks our exclusive c14n against
//! libxml2's on documents with default namespaces, comments, CDATA, character
//! references and InclusiveNamespaces) and still refuses wrapped copies.

mod common;

use std::path::Path;
use std::process::Command;

use common::{element, have_xmlsec1, run, scratch, skip_without, KeyFiles};
use passgrid_saml::jiff::{SignedDuration, Timestamp};
use passgrid_saml::{
    build_response, names, AssertionContent, Attribute, ContentCipher, Encryption, IdpMetadata,
    InboundMessage, MessageKind, NameId, ResponseOptions, SamlError, SignParts, SignatureError,
    SignaturePolicy,
};

const ASSERTION_ID: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
const RESPONSE_ID: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";

fn content() -> AssertionContent {
    AssertionContent {
        idp_entity_id: "https://idp.test".into(),
        audience: "https://sp.test/metadata".into(),
        recipient: "https://sp.test/acs".into(),
        in_response_to: Some("_req".into()),
        name_id: NameId::new("alice@example.test", names::nameid::EMAIL),
        session_index: "_s".into(),
        authn_instant: Timestamp::now(),
        authn_context_class_ref: names::authn_context::PASSWORD_PROTECTED_TRANSPORT.into(),
        session_not_on_or_after: None,
        attributes: vec![Attribute::new(
            "groups",
            names::attrname::BASIC,
            vec!["a & b".into(), "<c>".into()],
        )],
    }
}

fn options(sign: SignParts) -> ResponseOptions<'static> {
    ResponseOptions {
        now: Timestamp::now(),
        lifetime: SignedDuration::from_mins(5),
        not_before_skew: SignedDuration::from_secs(30),
        sign,
        encryption: None,
    }
}

/// `xmlsec1 --verify` with the IdP certificate; true when it accepts.
fn xmlsec_verify(dir: &Path, xml: &str, id_attr: &str, cert: &Path) -> bool {
    let file = dir.join("to-verify.xml");
    std::fs::write(&file, xml).unwrap();
    let out = run(Command::new("xmlsec1")
        .arg("--verify")
        .arg("--id-attr:ID")
        .arg(id_attr)
        .arg("--pubkey-cert-pem")
        .arg(cert)
        .arg(&file));
    if !out.status.success() {
        eprintln!("xmlsec1: {}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}

#[test]
fn xmlsec1_accepts_our_signatures_and_rejects_tampering() {
    if skip_without("xmlsec1", have_xmlsec1()) {
        return;
    }
    let dir = scratch("xmlsec-verify");
    let idp = KeyFiles::generate(&dir, "idp");
    let key = idp.idp_key();

    // Assertion signed: xmlsec1 checks the one signature (the assertion's).
    let built = build_response(&content(), &options(SignParts::Assertion), &key).unwrap();
    assert!(xmlsec_verify(&dir, &built.xml, ASSERTION_ID, &idp.cert_pem));
    let tampered = built
        .xml
        .replace("alice@example.test", "mallory@example.test");
    assert!(!xmlsec_verify(&dir, &tampered, ASSERTION_ID, &idp.cert_pem));
    let other = KeyFiles::generate(&dir, "other");
    assert!(!xmlsec_verify(
        &dir,
        &built.xml,
        ASSERTION_ID,
        &other.cert_pem
    ));

    // Response signed.
    let built = build_response(&content(), &options(SignParts::Response), &key).unwrap();
    assert!(xmlsec_verify(&dir, &built.xml, RESPONSE_ID, &idp.cert_pem));
    let tampered = built
        .xml
        .replace("https://sp.test/acs", "https://evil.test/acs");
    assert!(!xmlsec_verify(&dir, &tampered, RESPONSE_ID, &idp.cert_pem));

    // Both: the Response's signature (first in document order), then the
    // Assertion's on its own (its canonical form does not depend on context).
    let built = build_response(&content(), &options(SignParts::Both), &key).unwrap();
    assert!(xmlsec_verify(&dir, &built.xml, RESPONSE_ID, &idp.cert_pem));
    let assertion = element(&built.xml, "saml:Assertion");
    assert!(xmlsec_verify(&dir, assertion, ASSERTION_ID, &idp.cert_pem));
    let tampered = assertion.replace("a &amp; b", "a &amp; c");
    assert!(!xmlsec_verify(&dir, &tampered, ASSERTION_ID, &idp.cert_pem));
}

#[test]
fn xmlsec1_accepts_signed_metadata() {
    if skip_without("xmlsec1", have_xmlsec1()) {
        return;
    }
    let dir = scratch("xmlsec-metadata");
    let idp = KeyFiles::generate(&dir, "idp");
    let md = IdpMetadata {
        entity_id: "https://idp.test".into(),
        sso_url: "https://idp.test/saml/sso".into(),
        slo_url: Some("https://idp.test/saml/slo".into()),
        signing_certificates: vec![idp.cert_der.clone()],
        want_authn_requests_signed: false,
        name_id_formats: vec![names::nameid::PERSISTENT.into()],
        valid_until: None,
    };
    let xml = md.to_xml(Some(&idp.idp_key())).unwrap();
    assert!(xmlsec_verify(
        &dir,
        &xml,
        "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        &idp.cert_pem
    ));
}

#[test]
fn xmlsec1_decrypts_our_encrypted_assertions() {
    if skip_without("xmlsec1", have_xmlsec1()) {
        return;
    }
    let dir = scratch("xmlsec-decrypt");
    let idp = KeyFiles::generate(&dir, "idp");
    let sp = KeyFiles::generate(&dir, "sp");
    let sp_cert = sp.certificate();
    for method in [ContentCipher::Aes256Gcm, ContentCipher::Aes128Cbc] {
        let mut opts = options(SignParts::Assertion);
        opts.encryption = Some(Encryption {
            certificate: &sp_cert,
            method,
        });
        let built = build_response(&content(), &opts, &idp.idp_key()).unwrap();
        let file = dir.join("encrypted.xml");
        std::fs::write(&file, &built.xml).unwrap();
        let out = run(Command::new("xmlsec1")
            .arg("--decrypt")
            .arg("--privkey-pem")
            .arg(&sp.key_pem)
            .arg(&file));
        assert!(
            out.status.success(),
            "{method:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let decrypted = String::from_utf8(out.stdout).unwrap();
        let assertion = element(&decrypted, "saml:Assertion");
        assert!(assertion.contains("alice@example.test"));
        assert!(xmlsec_verify(&dir, assertion, ASSERTION_ID, &idp.cert_pem));
    }
}

/// AuthnRequest templates for `xmlsec1 --sign`, laid out unlike our own writer.
fn templates() -> Vec<(&'static str, String)> {
    let sig = |id: &str, prefix_list: &str| {
        format!(
            r##"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
      <Reference URI="#{id}">
        <Transforms>
          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{prefix_list}"/></Transform>
        </Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <DigestValue/>
      </Reference>
    </SignedInfo>
    <SignatureValue/>
    <KeyInfo><X509Data/></KeyInfo>
  </Signature>"##
        )
    };
    let prefixed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:unused="urn:unused"
    Version="2.0" ID="_tmpl1" IssueInstant="2030-01-01T00:00:00Z" ProviderName="SP &#x26; Co&#9;tab"
    AssertionConsumerServiceURL="https://sp.test/acs?a=1&amp;b=2" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">
  <saml:Issuer><![CDATA[https://sp.test/metadata]]></saml:Issuer>
  {}
  <!-- a comment the canonical form leaves out -->
  <samlp:NameIDPolicy xmlns:xs="http://www.w3.org/2001/XMLSchema" AllowCreate="true" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>
  <samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef xml:lang="en">urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>
</samlp:AuthnRequest>
"#,
        sig("_tmpl1", "xs")
    );
    let default_ns = format!(
        r#"<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="_tmpl2" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" ForceAuthn="1"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.test/metadata</Issuer>{}<NameIDPolicy AllowCreate="false"/><Extensions><x:e xmlns:x="urn:x" xmlns="" a="&lt;&quot;&gt;">t&gt;&#13;</x:e></Extensions></AuthnRequest>"#,
        sig("_tmpl2", "#default")
    );
    vec![("prefixed", prefixed), ("default namespace", default_ns)]
}

fn xmlsec_sign(dir: &Path, template: &str, id_attr: &str, sp: &KeyFiles) -> String {
    let file = dir.join("template.xml");
    std::fs::write(&file, template).unwrap();
    let out = run(Command::new("xmlsec1")
        .arg("--sign")
        .arg("--id-attr:ID")
        .arg(id_attr)
        .arg("--privkey-pem")
        .arg(format!(
            "{},{}",
            sp.key_pem.display(),
            sp.cert_pem.display()
        ))
        .arg(&file));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read_post(xml: &str, certs: &[passgrid_saml::SpCertificate]) -> Result<bool, SamlError> {
    let b64 = passgrid_saml::bindings::post::encode_post_field(xml);
    let msg = InboundMessage::from_post_form(MessageKind::Request, &b64, None)?;
    let policy = SignaturePolicy {
        certificates: certs,
        required: true,
        allow_sha1: false,
    };
    msg.authn_request(&policy).map(|v| v.signature_verified)
}

#[test]
fn requests_signed_by_xmlsec1_verify_here() {
    if skip_without("xmlsec1", have_xmlsec1()) {
        return;
    }
    let dir = scratch("xmlsec-sign");
    let sp = KeyFiles::generate(&dir, "sp");
    let certs = [sp.certificate()];
    for (name, template) in templates() {
        let signed = xmlsec_sign(
            &dir,
            &template,
            "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
            &sp,
        );
        assert!(read_post(&signed, &certs).unwrap(), "{name}");

        // The same bytes, tampered, or wrapped, are refused.
        let tampered = signed.replace("https://sp.test/metadata", "https://evil.test/metadata");
        assert!(
            matches!(
                read_post(&tampered, &certs),
                Err(SamlError::Signature(SignatureError::Digest))
            ),
            "{name}"
        );
        let body_start = signed
            .find("<samlp:AuthnRequest")
            .or_else(|| signed.find("<AuthnRequest"))
            .unwrap();
        let inner = &signed[body_start..];
        let wrapped = format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_evil\" Version=\"2.0\" IssueInstant=\"2030-01-01T00:00:00Z\"><saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">https://sp.test/metadata</saml:Issuer><samlp:Extensions>{inner}</samlp:Extensions></samlp:AuthnRequest>"
        );
        assert!(
            matches!(
                read_post(&wrapped, &certs),
                Err(SamlError::Signature(SignatureError::Wrapping(_)))
            ),
            "{name}"
        );
        let other = KeyFiles::generate(&dir, "other");
        assert!(
            matches!(
                read_post(&signed, &[other.certificate()]),
                Err(SamlError::Signature(SignatureError::Value))
            ),
            "{name}"
        );
    }
}

#[test]
fn logout_request_signed_by_xmlsec1_verifies_here() {
    if skip_without("xmlsec1", have_xmlsec1()) {
        return;
    }
    let dir = scratch("xmlsec-logout");
    let sp = KeyFiles::generate(&dir, "sp");
    let template = r##"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_lo1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://idp.test/saml/slo">
<saml:Issuer>https://sp.test/metadata</saml:Issuer>
<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_lo1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" SPNameQualifier="https://sp.test/metadata">abc</saml:NameID>
<samlp:SessionIndex>_s1</samlp:SessionIndex>
</samlp:LogoutRequest>"##;
    let signed = xmlsec_sign(
        &dir,
        template,
        "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
        &sp,
    );
    let b64 = passgrid_saml::bindings::post::encode_post_field(&signed);
    let msg = InboundMessage::from_post_form(MessageKind::Request, &b64, None).unwrap();
    let certs = [sp.certificate()];
    let policy = SignaturePolicy {
        certificates: &certs,
        required: true,
        allow_sha1: false,
    };
    let v = msg.logout_request(&policy).unwrap();
    assert!(v.signature_verified);
    assert_eq!(v.message.name_id.value, "abc");
    assert_eq!(v.message.session_indexes, vec!["_s1".to_string()]);
}
