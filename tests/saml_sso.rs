//! passgrid as a SAML 2.0 identity provider (issue #19) against a real, independent
//! service provider — Python pysaml2 (Debian python3-pysaml2), which verifies with
//! xmlsec1 — and xmlsec1 itself: SP-initiated sign-in by HTTP-Redirect and HTTP-POST
//! (with and without a live SSO session), ForceAuthn, IdP-initiated sign-in from the
//! portal, key rotation in the metadata; and every refusal the issue lists, each with
//! nothing issued and an audit row. curl with a cookie jar is the browser.

use std::path::{Path, PathBuf};

use integration_tests::browser::{
    absolute, browse, field, follow, form_of, sign_in_form, url_encode,
};
use integration_tests::saml::{audit, b64, idp_metadata, unb64, xmlsec1_verify, PySp};
use integration_tests::*;
use serde_json::{json, Value};

const CELLS: [u64; 7] = [3, 17, 22, 40, 41, 9, 30];
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

fn add_user(server: &TestServer, id: &str, groups: &[&str]) {
    let mail = format!("{id}@example.com");
    let mut args = vec!["user", "add", id, "--name", "Test User", "--email", &mail];
    for g in groups {
        args.extend_from_slice(&["--group", g]);
    }
    cli_value(server, &args);
    let cells = CELLS.map(|c| c.to_string()).join(",");
    cli_value(server, &["user", "set-pattern", id, "--cells", &cells]);
}

/// A cookie jar holding a live passgrid session of `user` (API sign-in).
fn signed_in(server: &TestServer, dir: &Path, user: &str) -> PathBuf {
    let jar = dir.join(format!("{user}-{}.jar", free_port()));
    let (_, start) = post_json(server, "/api/v1/auth/start", &json!({"user": user}), &jar);
    let otp = otp_from(&start, &CELLS);
    let (status, v) = post_json(
        server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp}),
        &jar,
    );
    assert_eq!(status, 200, "{v}");
    jar
}

struct Idp {
    dir: TempDir,
    server: TestServer,
    admin: String,
    idp_pem: PathBuf,
    idp_md: PathBuf,
    sp: PySp,
    _db: TestDb,
}

/// passgrid with the pysaml2 SP "py" registered from its metadata file, and alice.
fn setup(db: Db, prefix: &str) -> Idp {
    let dir = TempDir::new(prefix);
    let database = TestDb::new(db);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let admin = admin_token(&server, "saml-admin", "admin");
    let (_, idp_pem) = idp_metadata(&server, dir.path());
    let idp_md = dir.path().join("idp-metadata.xml");
    let sp = PySp::new(dir.path(), "py", &idp_md, &server.url(""));
    let md = sp.metadata_file(dir.path());
    cli_value(
        &server,
        &[
            "saml",
            "sp",
            "add",
            "py",
            "--metadata",
            md.to_str().unwrap(),
            "--attribute",
            "mail=email",
            "--attribute",
            "displayName=name",
            "--attribute",
            "groups=groups",
        ],
    );
    cli_value(&server, &["group", "add", "staff"]);
    add_user(&server, "alice", &["staff"]);
    Idp {
        dir,
        server,
        admin,
        idp_pem,
        idp_md,
        sp,
        _db: database,
    }
}

/// The SAMLResponse (decoded XML) and RelayState of an auto-post page, checking that
/// it posts to `acs`.
fn posted_response(page: &str, acs: &str) -> (String, String, Option<String>) {
    let (action, fields) = form_of(page).unwrap_or_else(|| panic!("no form in: {page}"));
    assert_eq!(action, acs, "the ACS of the SP's metadata");
    let b64_value = field(&fields, "SAMLResponse")
        .expect("a SAMLResponse")
        .to_string();
    let xml = String::from_utf8(unb64(&b64_value)).unwrap();
    (
        b64_value,
        xml,
        field(&fields, "RelayState").map(str::to_string),
    )
}

/// POSTs an AuthnRequest (HTTP-POST binding) with the jar: (status, body).
fn post_request(idp: &Idp, jar: &Path, saml_request_b64: &str, relay: &str) -> (u16, String) {
    let (status, _, body) = browse(
        &idp.server.ca_pem(),
        jar,
        &idp.server.url("/saml/sso"),
        &[
            "--data-urlencode",
            &format!("SAMLRequest={saml_request_b64}"),
            "--data-urlencode",
            &format!("RelayState={relay}"),
        ],
    );
    (status, body)
}

on_both_databases! {
    fn pysaml2_accepts_what_passgrid_signs_and_xmlsec1_verifies_it(db: Db) {
        let idp = setup(db, "saml-sso");
        let (server, ca, dir) = (&idp.server, idp.server.ca_pem(), idp.dir.path());

        // Without a session: the request waits, the browser signs in, then the answer.
        let req = idp.sp.request("redirect", json!({"relay_state": "rs-redirect"}));
        let jar = dir.join("browser.jar");
        let (status, url, page) = follow(server, &ca, &jar, req["url"].as_str().unwrap().to_string(), |_| false);
        assert_eq!(status, 200);
        assert!(url.ends_with("/login"), "to passgrid's sign-in: {url}");
        assert!(!page.contains("SAMLResponse"));
        let next = sign_in_form(server, &ca, &jar, "alice", &CELLS, &[]);
        assert!(next.contains("/saml/continue/"), "{next}");
        let (status, _, page) = follow(server, &ca, &jar, next, |_| false);
        assert_eq!(status, 200, "{page}");
        let (resp_b64, xml, relay) = posted_response(&page, &idp.sp.acs);
        assert_eq!(relay.as_deref(), Some("rs-redirect"), "RelayState passed through");
        let rid = req["id"].as_str().unwrap();
        let verdict = idp.sp.judge(&resp_b64, &[rid]);
        assert_eq!(verdict["ok"], true, "{verdict}");
        assert_eq!(verdict["in_response_to"], rid);
        assert_eq!(verdict["issuer"], server.url(""));
        assert_eq!(verdict["name_id_format"], PERSISTENT);
        assert_eq!(verdict["attributes"]["mail"], json!(["alice@example.com"]));
        assert_eq!(verdict["attributes"]["displayName"], json!(["Test User"]));
        assert_eq!(verdict["attributes"]["groups"], json!(["staff"]));
        assert_eq!(
            verdict["authn_context"],
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        );
        assert!(verdict["session_index"].as_str().is_some_and(|s| !s.is_empty()));
        // pysaml2's metadata carries an encryption key: the assertion went encrypted.
        assert!(xml.contains("EncryptedAssertion"), "{xml}");
        let name_id = verdict["name_id"].as_str().unwrap().to_string();
        // Not an answer to an outstanding request of this SP: refused.
        assert_eq!(idp.sp.judge(&resp_b64, &["id-other"])["ok"], false);

        // Inside the SSO session, by HTTP-POST: no second sign-in, the same persistent NameID.
        let req = idp.sp.request("post", json!({}));
        let (status, page) = post_request(&idp, &jar, req["b64"].as_str().unwrap(), "rs-post");
        assert_eq!(status, 200, "{page}");
        let (resp_b64, _, relay) = posted_response(&page, &idp.sp.acs);
        assert_eq!(relay.as_deref(), Some("rs-post"));
        let verdict = idp.sp.judge(&resp_b64, &[req["id"].as_str().unwrap()]);
        assert_eq!(verdict["ok"], true, "{verdict}");
        assert_eq!(verdict["name_id"], name_id.as_str(), "persistent: stable per user and SP");

        // xmlsec1 verifies the signature with the certificate of passgrid's metadata,
        // and not with another one. Unencrypted this time, so the assertion is seen.
        cli_value(server, &["saml", "sp", "set", "py", "--encrypt", "off"]);
        let req = idp.sp.request("redirect", json!({}));
        let (status, _, page) = browse(&ca, &jar, req["url"].as_str().unwrap(), &[]);
        assert_eq!(status, 200, "{page}");
        let (resp_b64, xml, _) = posted_response(&page, &idp.sp.acs);
        assert!(!xml.contains("EncryptedAssertion"));
        let (ok, out) = xmlsec1_verify(dir, &xml, &idp.idp_pem, ASSERTION);
        assert!(ok, "xmlsec1: {out}");
        let other = integration_tests::saml::rsa_key_pair(dir, "other").1;
        let (ok, _) = xmlsec1_verify(dir, &xml, &other, ASSERTION);
        assert!(!ok, "xmlsec1 must refuse another certificate");
        assert!(xml.contains("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"));
        assert_eq!(idp.sp.judge(&resp_b64, &[req["id"].as_str().unwrap()])["ok"], true);
        // A changed NameID breaks the signature for both judges.
        let forged = xml.replacen(&name_id, "mallory", 1);
        assert_ne!(forged, xml);
        assert!(!xmlsec1_verify(dir, &forged, &idp.idp_pem, ASSERTION).0);
        assert_eq!(idp.sp.judge(&b64(forged.as_bytes()), &[req["id"].as_str().unwrap()])["ok"], false);

        // ForceAuthn: the live session is not enough, a fresh grid is asked for.
        let req = idp.sp.request("redirect", json!({"force_authn": true}));
        let (status, location, _) = browse(&ca, &jar, req["url"].as_str().unwrap(), &[]);
        assert_eq!(status, 303);
        let (status, location, _) = browse(&ca, &jar, &absolute(server, &location.unwrap()), &[]);
        assert_eq!(status, 303);
        assert!(location.as_deref().unwrap().starts_with("/login/continue?to="), "{location:?}");
        browse(&ca, &jar, &absolute(server, &location.unwrap()), &[]);
        let next = sign_in_form(server, &ca, &jar, "alice", &CELLS, &[]);
        let (status, _, page) = follow(server, &ca, &jar, next, |_| false);
        assert_eq!(status, 200);
        let (resp_b64, _, _) = posted_response(&page, &idp.sp.acs);
        assert_eq!(idp.sp.judge(&resp_b64, &[req["id"].as_str().unwrap()])["ok"], true);

        // IdP-initiated, from the portal's tile, RelayState passed through. (A fresh
        // jar: curl keeps the continuation cookie that passgrid expired.)
        let jar = signed_in(server, dir, "alice");
        let (_, _, portal) = browse(&ca, &jar, &server.url("/me"), &[]);
        assert!(portal.contains("data-app=\"py\""), "a tile for the SP: {portal}");
        assert!(portal.contains("href=\"/saml/start/py\""));
        let (status, _, page) = browse(&ca, &jar, &server.url(&format!("/saml/start/py?RelayState={}", url_encode("/deep/link"))), &[]);
        assert_eq!(status, 200, "{page}");
        let (resp_b64, xml, relay) = posted_response(&page, &idp.sp.acs);
        assert_eq!(relay.as_deref(), Some("/deep/link"));
        assert!(!xml.contains("InResponseTo"), "unsolicited: {xml}");
        let verdict = idp.sp.run(json!({"mode": "response", "response_b64": resp_b64, "outstanding": [], "allow_unsolicited": true}));
        assert_eq!(verdict["ok"], true, "{verdict}");
        assert_eq!(idp.sp.judge(&resp_b64, &[])["ok"], false, "pysaml2 refuses it unless allowed");

        // Every request and assertion is audited.
        assert!(audit(server, &idp.admin, "saml.request").len() >= 4);
        let issued = audit(server, &idp.admin, "saml.assertion");
        assert_eq!(issued.len(), 5, "{issued:?}");
        assert!(issued.iter().all(|e| e["actor"] == "alice" && e["target"] == "py"));
        let app = server.curl_json("/api/v1/admin/applications/py", &["-H", &format!("Authorization: Bearer {}", idp.admin)]);
        assert_eq!(app["recent_sign_ins"].as_array().unwrap().len(), 5, "the console's recent sign-ins");

        // Key rotation: both certificates in the metadata until the old is dropped;
        // the new one signs at once.
        let bearer = format!("Authorization: Bearer {}", idp.admin);
        let old_pem = dir.join("old-signing.pem");
        std::fs::copy(&idp.idp_pem, &old_pem).unwrap();
        let (status, _) = server.curl("/api/v1/admin/saml-keys/rotate", &["-X", "POST", "-H", &bearer]);
        assert_eq!(status, 200);
        let (md, new_pem) = idp_metadata(server, dir);
        assert_eq!(md.matches("<md:KeyDescriptor use=\"signing\">").count(), 2, "{md}");
        let req = idp.sp.request("redirect", json!({}));
        let (_, _, page) = browse(&ca, &jar, req["url"].as_str().unwrap(), &[]);
        let (_, xml, _) = posted_response(&page, &idp.sp.acs);
        assert!(xmlsec1_verify(dir, &xml, &new_pem, ASSERTION).0, "signed with the new key");
        assert!(!xmlsec1_verify(dir, &xml, &old_pem, ASSERTION).0);
        cli_value(server, &["saml", "drop-old-keys"]);
        let (md, _) = idp_metadata(server, dir);
        assert_eq!(md.matches("<md:KeyDescriptor use=\"signing\">").count(), 1);
        let _ = &idp.idp_md;
    }
}

/// Counts of refusals and assertions in the audit log.
fn counts(idp: &Idp) -> (usize, usize) {
    (
        audit(&idp.server, &idp.admin, "saml.refused").len(),
        audit(&idp.server, &idp.admin, "saml.assertion").len(),
    )
}

/// The request was refused: passgrid's error page with `status`, no SAMLResponse,
/// one more refusal audited whose reason holds `reason`, no assertion.
fn assert_refused(
    idp: &Idp,
    before: (usize, usize),
    status: u16,
    body: &str,
    got: u16,
    reason: &str,
) {
    assert_eq!(got, status, "{body}");
    assert!(!body.contains("SAMLResponse"), "nothing issued: {body}");
    let refusals = audit(&idp.server, &idp.admin, "saml.refused");
    assert_eq!(refusals.len(), before.0 + 1, "one audit row: {refusals:?}");
    let newest = refusals[0]["reason"].as_str().unwrap_or_default();
    assert!(
        newest.contains(reason),
        "audited {newest:?}, expected {reason:?}"
    );
    assert_eq!(counts(idp).1, before.1, "no assertion");
}

/// Moves `xml`'s signature: the ds:Signature element and the rest.
fn split_signature(xml: &str) -> (String, String) {
    let start = xml.find("<ns2:Signature").expect("a signature");
    let end = xml.find("</ns2:Signature>").expect("its end") + "</ns2:Signature>".len();
    (
        xml[start..end].to_string(),
        format!("{}{}", &xml[..start], &xml[end..]),
    )
}

on_both_databases! {
    fn refused_requests_issue_nothing_and_are_audited(db: Db) {
        let idp = setup(db, "saml-neg");
        let (server, ca, dir) = (&idp.server, idp.server.ca_pem(), idp.dir.path());
        let jar = signed_in(server, dir, "alice");
        let get = |url: &str| {
            let (status, _, body) = browse(&ca, &jar, url, &[]);
            (status, body)
        };

        // An ACS URL that is not in the SP's metadata (the request is signed).
        let before = counts(&idp);
        let req = idp.sp.request("redirect", json!({"acs_url": "https://evil.example/acs"}));
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_refused(&idp, before, 400, &body, status, "not in the SP's metadata");

        // An SP that is not registered.
        let before = counts(&idp);
        let stranger = PySp::new(dir, "stranger", &idp.idp_md, &server.url(""));
        let req = stranger.request("redirect", json!({}));
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_refused(&idp, before, 400, &body, status, "unknown SP");

        // Unsigned, where the SP's metadata says it signs (AuthnRequestsSigned).
        let before = counts(&idp);
        let req = idp.sp.request("redirect", json!({"sign": false}));
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_refused(&idp, before, 400, &body, status, "not signed");
        let before = counts(&idp);
        let req = idp.sp.request("post", json!({"sign": false}));
        let (status, body) = post_request(&idp, &jar, req["b64"].as_str().unwrap(), "x");
        assert_refused(&idp, before, 400, &body, status, "not signed");

        // Signature wrapping (XML-DSig over an HTTP-POST request).
        let signed = String::from_utf8(unb64(idp.sp.request("post", json!({}))["b64"].as_str().unwrap())).unwrap();
        let root_end = signed.find("<ns1:Issuer").expect("Issuer");
        let evil = |id: &str| format!(
            "<ns0:AuthnRequest ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\" \
             AssertionConsumerServiceURL=\"https://evil.example/acs\"><ns1:Issuer>{}</ns1:Issuer></ns0:AuthnRequest>",
            idp.sp.entity_id
        );
        // 1. a signed request with a second, unsigned AuthnRequest inside it;
        let second = format!("{}{}{}", &signed[..root_end], evil("_evil1"), &signed[root_end..]);
        // 2. an unsigned request wrapping the signed one (the signature then references
        //    an element that is not the root);
        let body_start = signed.find("<ns0:AuthnRequest").unwrap();
        let declarations = "xmlns:ns0=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:ns1=\"urn:oasis:names:tc:SAML:2.0:assertion\"";
        let wrapped = format!(
            "<ns0:AuthnRequest {declarations} ID=\"_evil2\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\" \
             AssertionConsumerServiceURL=\"https://evil.example/acs\"><ns1:Issuer>{}</ns1:Issuer><ns0:Extensions>{}</ns0:Extensions></ns0:AuthnRequest>",
            idp.sp.entity_id, &signed[body_start..]
        );
        // 3. a signature whose Reference points at another element;
        let rid = signed.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let elsewhere = signed.replacen(&format!("URI=\"#{rid}\""), "URI=\"#_elsewhere\"", 1)
            .replacen("<ns1:Issuer ", "<ns1:Issuer ID=\"_elsewhere\" ", 1);
        // 4. two Signatures.
        let (signature, _) = split_signature(&signed);
        let sig_end = signed.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
        let twice = format!("{}{}{}", &signed[..sig_end], signature, &signed[sig_end..]);
        for (what, xml, reason) in [
            ("second AuthnRequest", second, "signature"),
            ("wrapped", wrapped, "signature"),
            ("reference elsewhere", elsewhere, "signature"),
            ("two signatures", twice, "signature"),
        ] {
            let before = counts(&idp);
            let (status, body) = post_request(&idp, &jar, &b64(xml.as_bytes()), "x");
            assert_refused(&idp, before, 400, &body, status, reason);
            eprintln!("refused as it should: {what}");
        }

        // An XML bomb and an external entity: no DTD is read at all.
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&lol3;</samlp:AuthnRequest>";
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><saml:Issuer>&x;</saml:Issuer></samlp:AuthnRequest>";
        for doc in [bomb, xxe] {
            let before = counts(&idp);
            let (status, body) = post_request(&idp, &jar, &b64(doc.as_bytes()), "x");
            assert_refused(&idp, before, 400, &body, status, "document type declarations are refused");
            assert!(!body.contains("root:"), "no file content anywhere");
        }

        // A replayed request ID: the first gets its answer, the second nothing.
        let req = idp.sp.request("redirect", json!({}));
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("SAMLResponse"));
        let before = counts(&idp);
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_refused(&idp, before, 400, &body, status, "replayed");

        // A user outside the SP's allowed groups: an error page, no assertion.
        let other = PySp::new(dir, "staffonly", &idp.idp_md, &server.url(""));
        let md = other.metadata_file(dir);
        cli_value(server, &["saml", "sp", "add", "staffonly", "--metadata", md.to_str().unwrap(), "--group", "staff"]);
        add_user(server, "bob", &[]);
        let bob = signed_in(server, dir, "bob");
        let before = counts(&idp);
        let req = other.request("redirect", json!({}));
        let (status, _, body) = browse(&ca, &bob, req["url"].as_str().unwrap(), &[]);
        assert_refused(&idp, before, 403, &body, status, "not in an allowed group (application staffonly)");
        let refusal = &audit(server, &idp.admin, "saml.refused")[0];
        assert_eq!(refusal["actor"], "bob");
        // No tile for bob either; alice (in staff) gets it and is answered.
        let (_, _, portal) = browse(&ca, &bob, &server.url("/me"), &[]);
        assert!(!portal.contains("data-app=\"staffonly\""));
        let req = other.request("redirect", json!({}));
        let (status, body) = get(req["url"].as_str().unwrap());
        assert_eq!(status, 200, "{body}");
        let (resp, _, _) = posted_response(&body, &other.acs);
        assert_eq!(other.judge(&resp, &[req["id"].as_str().unwrap()])["ok"], true);

        // An expired request: made now, arriving ten minutes later (the server's clock).
        let req = idp.sp.request("redirect", json!({}));
        server.advance_clock(600);
        let jar = signed_in(server, dir, "alice");
        let before = counts(&idp);
        let (status, _, body) = browse(&ca, &jar, req["url"].as_str().unwrap(), &[]);
        assert_refused(&idp, before, 400, &body, status, "IssueInstant");
    }
}

on_both_databases! {
    fn service_providers_by_command_line_url_and_api(db: Db) {
        let dir = TempDir::new("saml-admin");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let admin = admin_token(&server, "sp-admin", "admin");
        let bearer = format!("Authorization: Bearer {admin}");
        let (_, _) = idp_metadata(&server, dir.path());
        let idp_md = dir.path().join("idp-metadata.xml");

        // From a URL (served on loopback), fetched once and again on demand.
        let sp = PySp::new(dir.path(), "byurl", &idp_md, &server.url(""));
        let md = sp.metadata_file(dir.path());
        let web = dir.path().join("web");
        std::fs::create_dir_all(&web).unwrap();
        std::fs::copy(&md, web.join("md.xml")).unwrap();
        let port = free_port();
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(&web)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let _web = integration_tests::browser::Peer(child);
        integration_tests::browser::wait_port(port, "http.server", &web.join("none"));
        let url = format!("http://127.0.0.1:{port}/md.xml");
        let added = cli_value(&server, &["saml", "sp", "add", "byurl", "--metadata", &url, "--nameid", "email", "--sign", "both"]);
        assert_eq!(added["entity_id"], sp.entity_id.as_str());
        assert_eq!(added["metadata_url"], url.as_str());
        let refreshed = cli_value(&server, &["saml", "sp", "refresh", "byurl"]);
        assert_eq!(refreshed["entity_id"], sp.entity_id.as_str());
        // Not https and not loopback: refused.
        let out = server.cli(&["saml", "sp", "add", "plain", "--metadata", "http://sp.example/md.xml"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("https"), "{}", stderr(&out));

        // Bad settings are refused with a reason; nothing is stored.
        for bad in [["--nameid", "random"], ["--sign", "nothing"], ["--attribute", "x=password"]] {
            let out = server.cli(&["saml", "sp", "add", "bad", "--metadata", md.to_str().unwrap(), bad[0], bad[1]]);
            assert!(!out.status.success(), "{bad:?}");
        }
        let list = cli_value(&server, &["saml", "sp", "list"]);
        assert_eq!(list.as_array().unwrap().len(), 1);

        // Over the API: add from the document, change, show, list with the applications.
        let other = PySp::new(dir.path(), "byapi", &idp_md, &server.url(""));
        let xml = std::fs::read_to_string(other.metadata_file(dir.path())).unwrap();
        let (status, body) = api(&server, "POST", "/api/v1/admin/saml-sps", Some(&admin), Some(&json!({
            "name": "byapi", "metadata_xml": xml, "name_id": "attr:employee_no",
            "attributes": ["mail=email"], "rules": {"require_certificate": true},
        })));
        assert_eq!(status, 201, "{body}");
        let (status, body) = api(&server, "PATCH", "/api/v1/admin/saml-sps/byapi", Some(&admin), Some(&json!({"sign": "response"})));
        assert_eq!(status, 200, "{body}");
        let shown = server.curl_json("/api/v1/admin/saml-sps/byapi", &["-H", &bearer]);
        assert_eq!(shown["sp"]["sign"], "response");
        assert_eq!(shown["sp"]["name_id"], "attr:employee_no");
        assert_eq!(shown["application"]["require_certificate"], true);
        let apps = server.curl_json("/api/v1/admin/applications", &["-H", &bearer]);
        let kinds: Vec<Value> = apps["applications"].as_array().unwrap().iter().map(|a| a["application"]["kind"].clone()).collect();
        assert_eq!(kinds, vec![json!("saml"), json!("saml")]);
        // The same entity twice: refused.
        let (status, _) = api(&server, "POST", "/api/v1/admin/saml-sps", Some(&admin), Some(&json!({"name": "again", "metadata_xml": xml})));
        assert_eq!(status, 400);
        // A user administrator may not.
        let user_admin = admin_token(&server, "ua", "user-admin");
        let (status, _) = api(&server, "GET", "/api/v1/admin/saml-sps", Some(&user_admin), None);
        assert_eq!(status, 403);
        // Presets print the steps on the other side.
        let m365 = cli_value(&server, &["saml", "sp", "add", "m365", "--preset", "microsoft365"]);
        assert_eq!(m365["entity_id"], "urn:federation:MicrosoftOnline");
        assert!(m365["setup_steps"].as_str().unwrap().contains("New-MgDomainFederationConfiguration"));
        let google = cli_value(&server, &["saml", "sp", "add", "gws", "--preset", "google-workspace", "--workspace-domain", "example.com"]);
        assert_eq!(google["entity_id"], "google.com/a/example.com");
        assert!(google["setup_steps"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
        // Removal takes the application with it.
        cli_value(&server, &["saml", "sp", "remove", "byapi"]);
        let (status, _) = api(&server, "GET", "/api/v1/admin/applications/byapi", Some(&admin), None);
        assert_eq!(status, 404);
        let audited = audit(&server, &admin, "saml.sp_create");
        let added: Vec<&Value> = audited.iter().filter(|e| e["outcome"] == "success").collect();
        assert_eq!(added.len(), 4, "{audited:?}");
        assert!(audited.iter().any(|e| e["outcome"] == "failure"), "refusals are audited too");
    }
}
