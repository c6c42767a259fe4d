//! A real SP library, pysaml2 (Debian's `python3-pysaml2`, which checks signatures
//! with xmlsec1), against passgrid-saml on files and pipes only:
//! - pysaml2 signs AuthnRequests (HTTP-POST enveloped, HTTP-Redirect query
//!   signature) and passgrid-saml verifies and reads them;
//! - passgrid-saml answers with a signed Response that pysaml2 accepts after its
//!   own checks (signature, audience, recipient/destination, time window,
//!   InResponseTo), and refuses when any of those is wrong.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{have, have_xmlsec1, scratch, skip_without, KeyFiles};
use passgrid_saml::jiff::{SignedDuration, Timestamp};
use passgrid_saml::{
    build_error_response, build_response, names, AssertionContent, Attribute, ContentCipher,
    Encryption, IdpMetadata, IdpSigningKey, InboundMessage, MessageKind, NameId, ResponseOptions,
    SignParts, SignaturePolicy, SpCertificate, Status, StatusCode, SubStatusCode,
};
use serde_json::{json, Value};

const IDP: &str = "https://idp.test";
const SP: &str = "https://sp.test/metadata";
const ACS: &str = "https://sp.test/acs";
const SSO: &str = "https://idp.test/saml/sso";

fn have_pysaml2() -> bool {
    have_xmlsec1() && have("/usr/bin/python3", &["-c", "import saml2"])
}

struct Setup {
    config: Value,
    idp_key: IdpSigningKey,
    sp_cert: SpCertificate,
    dir: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = scratch(name);
    let idp = KeyFiles::generate(&dir, "idp");
    let sp = KeyFiles::generate(&dir, "sp");
    let metadata = IdpMetadata {
        entity_id: IDP.into(),
        sso_url: SSO.into(),
        slo_url: Some("https://idp.test/saml/slo".into()),
        signing_certificates: vec![idp.cert_der.clone()],
        want_authn_requests_signed: true,
        name_id_formats: vec![names::nameid::PERSISTENT.into()],
        valid_until: None,
    };
    let md_path = dir.join("idp-metadata.xml");
    std::fs::write(&md_path, metadata.to_xml(None).unwrap()).unwrap();
    Setup {
        config: json!({
            "entity_id": SP,
            "idp_entity_id": IDP,
            "idp_metadata": md_path,
            "key_file": sp.key_pem,
            "cert_file": sp.cert_pem,
            "acs": ACS,
        }),
        idp_key: idp.idp_key(),
        sp_cert: sp.certificate(),
        dir,
    }
}

/// Runs the Python SP with `extra` merged into the configuration.
fn sp(setup: &Setup, extra: Value) -> Value {
    let mut args = setup.config.clone();
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pysaml2_sp.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .current_dir(&setup.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(args.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pysaml2 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn content(in_response_to: &str) -> AssertionContent {
    AssertionContent {
        idp_entity_id: IDP.into(),
        audience: SP.into(),
        recipient: ACS.into(),
        in_response_to: Some(in_response_to.into()),
        name_id: NameId {
            sp_name_qualifier: Some(SP.into()),
            name_qualifier: Some(IDP.into()),
            ..NameId::new("Zm9vYmFyYmF6cXV4MTIzNA==", names::nameid::PERSISTENT)
        },
        session_index: "_sess42".into(),
        authn_instant: Timestamp::now(),
        authn_context_class_ref: names::authn_context::PASSWORD_PROTECTED_TRANSPORT.into(),
        session_not_on_or_after: None,
        attributes: vec![
            Attribute::new(
                "mail",
                names::attrname::BASIC,
                vec!["alice@example.test".into()],
            ),
            Attribute::new(
                "groups",
                names::attrname::BASIC,
                vec!["staff".into(), "R&D".into()],
            ),
        ],
    }
}

fn options(now: Timestamp, sign: SignParts) -> ResponseOptions<'static> {
    ResponseOptions {
        now,
        lifetime: SignedDuration::from_mins(5),
        not_before_skew: SignedDuration::from_secs(30),
        sign,
        encryption: None,
    }
}

fn respond(setup: &Setup, xml: &str, outstanding: &[&str], extra: Value) -> Value {
    let mut e = json!({
        "mode": "response",
        "response_b64": passgrid_saml::bindings::post::encode_post_field(xml),
        "outstanding": outstanding,
    });
    if let (Some(a), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        a.extend(x.clone());
    }
    sp(setup, e)
}

#[test]
fn pysaml2_requests_verify_and_pysaml2_accepts_our_response() {
    if skip_without("python3-pysaml2", have_pysaml2()) {
        return;
    }
    let s = setup("pysaml2-flow");
    let reqs = sp(&s, json!({"mode": "request"}));
    let certs = [s.sp_cert.clone()];
    let policy = SignaturePolicy {
        certificates: &certs,
        required: true,
        allow_sha1: false,
    };

    // HTTP-POST, enveloped signature made by pysaml2/xmlsec1.
    let post_b64 = reqs["post_b64"].as_str().unwrap();
    let msg =
        InboundMessage::from_post_form(MessageKind::Request, post_b64, Some("rs-post")).unwrap();
    assert_eq!(msg.peek_issuer().unwrap(), SP);
    let post = msg.authn_request(&policy).unwrap();
    assert!(post.signature_verified);
    assert_eq!(post.message.id, reqs["post_id"].as_str().unwrap());
    assert_eq!(post.message.destination.as_deref(), Some(SSO));

    // HTTP-Redirect, query signature made by pysaml2.
    let query = reqs["redirect_query"].as_str().unwrap();
    let msg = InboundMessage::from_redirect_query(query).unwrap();
    let redirect = msg.authn_request(&policy).unwrap();
    assert!(redirect.signature_verified);
    assert_eq!(redirect.message.id, reqs["redirect_id"].as_str().unwrap());
    assert_eq!(msg.relay_state(), Some("rs redirect/1"));
    // A flipped character in the query breaks its signature.
    let tampered = query.replacen("RelayState=rs", "RelayState=rt", 1);
    let msg = InboundMessage::from_redirect_query(&tampered).unwrap();
    assert!(msg.authn_request(&policy).is_err());

    // Our Response to the POST request, in every signing choice.
    let req_id = post.message.id.as_str();
    for sign in [SignParts::Assertion, SignParts::Both] {
        let built = build_response(
            &content(req_id),
            &options(Timestamp::now(), sign),
            &s.idp_key,
        )
        .unwrap();
        let out = respond(&s, &built.xml, &[req_id], json!({}));
        assert_eq!(out["ok"], true, "{sign:?}: {out}");
        assert_eq!(out["name_id"], "Zm9vYmFyYmF6cXV4MTIzNA==");
        assert_eq!(out["name_id_format"], names::nameid::PERSISTENT);
        assert_eq!(out["in_response_to"], req_id);
        assert_eq!(out["issuer"], IDP);
        assert_eq!(out["attributes"]["groups"], json!(["staff", "R&D"]));
        assert_eq!(out["attributes"]["mail"], json!(["alice@example.test"]));
    }
    // An SP that wants the Response signed: Both, or Response alone when it does
    // not also want the assertion signed.
    for (sign, want_assertions_signed) in [(SignParts::Both, true), (SignParts::Response, false)] {
        let built = build_response(
            &content(req_id),
            &options(Timestamp::now(), sign),
            &s.idp_key,
        )
        .unwrap();
        let out = respond(
            &s,
            &built.xml,
            &[req_id],
            json!({"want_response_signed": true, "want_assertions_signed": want_assertions_signed}),
        );
        assert_eq!(out["ok"], true, "{sign:?}: {out}");
    }
    // Response alone where the SP wants a signed assertion: refused.
    let built = build_response(
        &content(req_id),
        &options(Timestamp::now(), SignParts::Response),
        &s.idp_key,
    )
    .unwrap();
    assert_eq!(respond(&s, &built.xml, &[req_id], json!({}))["ok"], false);
}

#[test]
fn pysaml2_idp_initiated_and_error_responses() {
    if skip_without("python3-pysaml2", have_pysaml2()) {
        return;
    }
    let s = setup("pysaml2-unsolicited");
    // IdP-initiated: no InResponseTo; an SP that allows unsolicited Responses
    // accepts it, one that does not refuses it.
    let mut c = content("_unused");
    c.in_response_to = None;
    let built = build_response(
        &c,
        &options(Timestamp::now(), SignParts::Assertion),
        &s.idp_key,
    )
    .unwrap();
    let out = respond(&s, &built.xml, &[], json!({"allow_unsolicited": true}));
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["in_response_to"], Value::Null);
    assert_eq!(respond(&s, &built.xml, &[], json!({}))["ok"], false);

    // An error Response (a user outside the SP's groups) reaches the SP as such.
    let status = Status::error(StatusCode::Requester, SubStatusCode::RequestDenied);
    let err = build_error_response(
        IDP,
        ACS,
        Some("_req7"),
        &status,
        Timestamp::now(),
        Some(&s.idp_key),
    )
    .unwrap();
    let out = respond(&s, &err.xml, &["_req7"], json!({}));
    assert_eq!(out["ok"], false);
    assert!(
        out["error"]
            .as_str()
            .unwrap_or("")
            .contains("RequestDenied"),
        "{out}"
    );
}

#[test]
fn pysaml2_accepts_our_encrypted_assertion() {
    if skip_without("python3-pysaml2", have_pysaml2()) {
        return;
    }
    let s = setup("pysaml2-encrypted");
    for method in [ContentCipher::Aes256Gcm, ContentCipher::Aes128Cbc] {
        let mut opts = options(Timestamp::now(), SignParts::Assertion);
        opts.encryption = Some(Encryption {
            certificate: &s.sp_cert,
            method,
        });
        let built = build_response(&content("_enc1"), &opts, &s.idp_key).unwrap();
        let out = respond(&s, &built.xml, &["_enc1"], json!({}));
        assert_eq!(out["ok"], true, "{method:?}: {out}");
        assert_eq!(out["attributes"]["mail"], json!(["alice@example.test"]));
    }
}

#[test]
fn pysaml2_refuses_wrong_audience_recipient_time_request_or_signature() {
    if skip_without("python3-pysaml2", have_pysaml2()) {
        return;
    }
    let s = setup("pysaml2-negative");
    let now = Timestamp::now();
    let good = || content("_req9");
    let cases: Vec<(&str, String)> = vec![
        ("wrong audience", {
            let mut c = good();
            c.audience = "https://other-sp.test/metadata".into();
            build_response(&c, &options(now, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
        }),
        ("wrong recipient and destination", {
            let mut c = good();
            c.recipient = "https://sp.test/other-acs".into();
            build_response(&c, &options(now, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
        }),
        ("expired", {
            let then = now.checked_sub(SignedDuration::from_hours(2)).unwrap();
            build_response(&good(), &options(then, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
        }),
        ("not yet valid", {
            let later = now.checked_add(SignedDuration::from_hours(2)).unwrap();
            build_response(&good(), &options(later, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
        }),
        ("unknown InResponseTo", {
            let mut c = good();
            c.in_response_to = Some("_never_sent".into());
            build_response(&c, &options(now, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
        }),
        ("tampered NameID", {
            build_response(&good(), &options(now, SignParts::Assertion), &s.idp_key)
                .unwrap()
                .xml
                .replace("Zm9vYmFyYmF6cXV4MTIzNA==", "YWRtaW4=")
        }),
        ("signed by another key", {
            let other = KeyFiles::generate(&s.dir, "rogue");
            build_response(
                &good(),
                &options(now, SignParts::Assertion),
                &other.idp_key(),
            )
            .unwrap()
            .xml
        }),
    ];
    for (name, xml) in cases {
        let out = respond(&s, &xml, &["_req9"], json!({}));
        assert_eq!(out["ok"], false, "{name} was accepted: {out}");
        eprintln!(
            "pysaml2 refused {name}: {} {}",
            out["error"], out["message"]
        );
    }
    // The control: the same Response done right is accepted.
    let built = build_response(&good(), &options(now, SignParts::Assertion), &s.idp_key).unwrap();
    assert_eq!(respond(&s, &built.xml, &["_req9"], json!({}))["ok"], true);
}
