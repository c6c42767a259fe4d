//! The Microsoft 365 preset (issue #19): the service itself is not reachable here, so
//! the Response passgrid sends it is compared field by field with what Microsoft
//! documents for a SAML 2.0 identity provider federated with Entra ID:
//! "Use a SAML 2.0 Identity Provider (IdP) for Single Sign On",
//! https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-fed-saml-idp
//! (sections "SAML 2.0 protocol requirements", "Required attributes" and the sample
//! response). The ImmutableID comes the way it comes in a company: from AD's binary
//! objectGUID by directory sync (here the test's slapd, scripts/slapd-fixture.sh),
//! and by a CSV import's attr: column.

use std::path::Path;
use std::process::Command;

use integration_tests::browser::{browse, field, form_of};
use integration_tests::saml::{audit, b64, idp_metadata, unb64, xmlsec1_verify};
use integration_tests::*;
use passgrid_saml::jiff::Timestamp;
use passgrid_saml::{encode_redirect, AuthnRequest, MessageKind, NameIdPolicy};
use serde_json::json;

const CELLS: [u64; 7] = [3, 17, 22, 40, 41, 9, 30];
const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const MS_ENTITY: &str = "urn:federation:MicrosoftOnline";
const MS_ACS: &str = "https://login.microsoftonline.com/login.srf";

/// slapd from scripts/slapd-fixture.sh, stopped on drop.
struct Slapd {
    dir: std::path::PathBuf,
    port: u16,
}

impl Slapd {
    fn start(dir: &Path, users: u32) -> Slapd {
        let port = free_port();
        let dir = dir.join("slapd");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slapd-fixture.sh");
        let out = Command::new("bash")
            .args([script, "start"])
            .arg(&dir)
            .args([port.to_string(), users.to_string()])
            .output()
            .expect("bash");
        assert!(out.status.success(), "slapd: {}", stderr(&out));
        Slapd { dir, port }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slapd-fixture.sh");
        let _ = Command::new("bash")
            .args([script, "stop"])
            .arg(&self.dir)
            .output();
    }
}

/// The objectGUID the fixture gives user N (see scripts/slapd-fixture.sh).
fn fixture_guid(n: u32) -> Vec<u8> {
    let mut g = vec![
        0xff, 0x00, 0x9c, 0x4e, 0x2a, 0x11, 0xd3, 0xb0, 0x8f, 0x6e, 0x45, 0xfa,
    ];
    g.extend_from_slice(&n.to_be_bytes()[1..]);
    g.push(0xa5);
    g
}

fn sign_in(server: &TestServer, dir: &Path, user: &str) -> std::path::PathBuf {
    let cells = CELLS.map(|c| c.to_string()).join(",");
    cli_value(server, &["user", "set-pattern", user, "--cells", &cells]);
    let jar = dir.join(format!("{user}.jar"));
    let (_, start) = post_json(server, "/api/v1/auth/start", &json!({"user": user}), &jar);
    let (status, v) = post_json(
        server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp_from(&start, &CELLS)}),
        &jar,
    );
    assert_eq!(status, 200, "{v}");
    jar
}

/// The AuthnRequest Entra ID sends a federated IdP: unsigned, HTTP-Redirect, its
/// entity as Issuer, a persistent NameIDPolicy, no ACS URL (the IdP knows it).
fn microsoft_request(server: &TestServer, id: &str) -> String {
    let req = AuthnRequest {
        id: id.into(),
        issue_instant: Timestamp::now(),
        destination: None,
        issuer: MS_ENTITY.into(),
        acs_url: None,
        acs_index: None,
        protocol_binding: None,
        attribute_consuming_service_index: None,
        provider_name: None,
        name_id_policy: Some(NameIdPolicy {
            format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()),
            sp_name_qualifier: None,
            allow_create: true,
        }),
        force_authn: false,
        is_passive: false,
        requested_authn_context: None,
    };
    encode_redirect(
        &server.url("/saml/sso"),
        MessageKind::Request,
        &req.to_xml(None).unwrap(),
        Some("estsredirect=2&estsrequest=x"),
        None,
    )
    .unwrap()
}

/// The decoded Response of the auto-post page, checking where it goes.
fn response_to_microsoft(page: &str) -> (String, Option<String>) {
    let (action, fields) = form_of(page).unwrap_or_else(|| panic!("no form: {page}"));
    assert_eq!(action, MS_ACS, "posted to Microsoft's ACS");
    let xml = String::from_utf8(unb64(field(&fields, "SAMLResponse").unwrap())).unwrap();
    (xml, field(&fields, "RelayState").map(str::to_string))
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, ns: &str, name: &str) -> roxmltree::Node<'a, 'i> {
    n.children()
        .find(|c| {
            c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == name
        })
        .unwrap_or_else(|| panic!("{} lacks {name}", n.tag_name().name()))
}

on_both_databases! {
    fn microsoft365_response_meets_microsofts_requirements(db: Db) {
        let dir = TempDir::new("saml-m365");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let admin = admin_token(&server, "m365-admin", "admin");
        let (_, idp_pem) = idp_metadata(&server, dir.path());
        let slapd = Slapd::start(dir.path(), 3);

        // Directory sync maps the binary objectGUID to the user attribute immutable_id.
        let pw = dir.path().join("bind.pw");
        std::fs::write(&pw, "readerpw").unwrap();
        cli_value(&server, &[
            "sync", "add-ldap", "corp", "--url", &format!("ldap://127.0.0.1:{}", slapd.port),
            "--bind-dn", "cn=reader,dc=example,dc=com", "--bind-password-file", pw.to_str().unwrap(),
            "--base", "ou=people,dc=example,dc=com", "--map", "id=uid,immutable_id=objectGUID",
        ]);
        let run = cli_value(&server, &["sync", "run", "corp"]);
        assert_eq!(run["added"].as_array().map(Vec::len), Some(3), "{run}");
        let m365 = cli_value(&server, &["saml", "sp", "add", "m365", "--preset", "microsoft365"]);
        assert_eq!(m365["name_id"], "attr:immutable_id");

        let jar = sign_in(&server, dir.path(), "user00002");
        let request_id = "id6c1c178c166d486687be4aaf5e482730";
        let (status, _, page) = browse(&server.ca_pem(), &jar, &microsoft_request(&server, request_id), &[]);
        assert_eq!(status, 200, "{page}");
        let (xml, relay) = response_to_microsoft(&page);
        // Entra ID's own RelayState comes back unchanged.
        assert_eq!(relay.as_deref(), Some("estsredirect=2&estsrequest=x"));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let response = doc.root_element();
        let issuer_uri = server.url("");

        // Response: a samlp:Response to the request, to the ACS, Success.
        assert_eq!(response.tag_name().namespace(), Some(SAMLP));
        assert_eq!(response.tag_name().name(), "Response");
        assert_eq!(response.attribute("Version"), Some("2.0"));
        assert_eq!(response.attribute("Destination"), Some(MS_ACS));
        assert_eq!(response.attribute("InResponseTo"), Some(request_id));
        let status_code = child(child(response, SAMLP, "Status"), SAMLP, "StatusCode");
        assert_eq!(status_code.attribute("Value"), Some("urn:oasis:names:tc:SAML:2.0:status:Success"));
        // "Issuer: Required to be a URI of the identity provider" — the IssuerUri set
        // on the federated domain (passgrid's entity ID), in Response and Assertion.
        assert_eq!(child(response, SAML, "Issuer").text(), Some(issuer_uri.as_str()));
        let assertion = child(response, SAML, "Assertion");
        assert_eq!(child(assertion, SAML, "Issuer").text(), Some(issuer_uri.as_str()));

        // "The assertion node itself must be signed", RSA-SHA256 with a SHA-256 digest
        // (SHA-1 is deprecated by Microsoft), and the signature must verify with the
        // certificate given to Entra ID (-SigningCertificate: the metadata's).
        let signature = child(assertion, DS, "Signature");
        let signed_info = child(signature, DS, "SignedInfo");
        assert_eq!(
            child(signed_info, DS, "SignatureMethod").attribute("Algorithm"),
            Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        );
        let reference = child(signed_info, DS, "Reference");
        assert_eq!(
            child(reference, DS, "DigestMethod").attribute("Algorithm"),
            Some("http://www.w3.org/2001/04/xmlenc#sha256")
        );
        assert_eq!(reference.attribute("URI").map(|u| u.trim_start_matches('#')), assertion.attribute("ID"));
        let (ok, out) = xmlsec1_verify(dir.path(), &xml, &idp_pem, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
        assert!(ok, "xmlsec1: {out}");

        // "NameID: The value of this assertion must be the same as the Microsoft Entra
        // user's ImmutableID. It can be up to 64 alpha numeric characters", format
        // persistent — the base64 of the objectGUID synced from the directory.
        let subject = child(assertion, SAML, "Subject");
        let name_id = child(subject, SAML, "NameID");
        assert_eq!(name_id.attribute("Format"), Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
        let immutable_id = b64(&fixture_guid(2));
        assert_eq!(name_id.text(), Some(immutable_id.as_str()));
        assert_eq!(immutable_id, "/wCcTioR07CPbkX6AAACpQ==", "the fixture's GUID for user 2");
        assert!(immutable_id.len() <= 64);
        // Bearer confirmation for Microsoft's ACS, answering this request, with an end.
        let confirmation = child(subject, SAML, "SubjectConfirmation");
        assert_eq!(confirmation.attribute("Method"), Some("urn:oasis:names:tc:SAML:2.0:cm:bearer"));
        let data = child(confirmation, SAML, "SubjectConfirmationData");
        assert_eq!(data.attribute("Recipient"), Some(MS_ACS));
        assert_eq!(data.attribute("InResponseTo"), Some(request_id));
        assert!(data.attribute("NotOnOrAfter").is_some());
        // Conditions: a validity window, and the audience urn:federation:MicrosoftOnline.
        let conditions = child(assertion, SAML, "Conditions");
        let not_before: Timestamp = conditions.attribute("NotBefore").unwrap().parse().unwrap();
        let not_after: Timestamp = conditions.attribute("NotOnOrAfter").unwrap().parse().unwrap();
        let now = Timestamp::now();
        assert!(not_before <= now && now < not_after, "{not_before} {now} {not_after}");
        let audience = child(child(conditions, SAML, "AudienceRestriction"), SAML, "Audience");
        assert_eq!(audience.text(), Some(MS_ENTITY));
        // AuthnStatement with the instant, the session index and a context class.
        let authn = child(assertion, SAML, "AuthnStatement");
        assert!(authn.attribute("AuthnInstant").is_some() && authn.attribute("SessionIndex").is_some());
        let class = child(child(authn, SAML, "AuthnContext"), SAML, "AuthnContextClassRef");
        assert_eq!(class.text(), Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"));
        // "IDPEmail: The User Principal Name (UPN) is listed in the SAML response as an
        // element with the name IDPEmail" — the user's UPN (passgrid's mail address).
        let attributes: Vec<_> = child(assertion, SAML, "AttributeStatement")
            .children()
            .filter(|c| c.is_element())
            .collect();
        assert_eq!(attributes.len(), 1);
        assert_eq!(attributes[0].attribute("Name"), Some("IDPEmail"));
        let values: Vec<_> = attributes[0].children().filter(|c| c.is_element()).map(|v| v.text().unwrap_or("")).collect();
        assert_eq!(values, ["user00002@example.com"]);

        // CSV import carries the attribute too (attr: columns).
        let csv = dir.path().join("people.csv");
        std::fs::write(&csv, "id,email,attr:immutable_id\ncarol,carol@example.com,Q0FST0wtSU1NVVRBQkxF\n").unwrap();
        cli_value(&server, &["user", "import", csv.to_str().unwrap()]);
        let jar = sign_in(&server, dir.path(), "carol");
        let (_, _, page) = browse(&server.ca_pem(), &jar, &microsoft_request(&server, "id-carol-1"), &[]);
        let (xml, _) = response_to_microsoft(&page);
        assert!(xml.contains(">Q0FST0wtSU1NVVRBQkxF</saml:NameID>"), "{xml}");

        // A user without an ImmutableID gets passgrid's error page, and Microsoft nothing.
        cli_value(&server, &["user", "add", "dave", "--email", "dave@example.com"]);
        let jar = sign_in(&server, dir.path(), "dave");
        let (status, _, page) = browse(&server.ca_pem(), &jar, &microsoft_request(&server, "id-dave-1"), &[]);
        assert_eq!(status, 403, "{page}");
        assert!(!page.contains("SAMLResponse"));
        let refusal = &audit(&server, &admin, "saml.refused")[0];
        assert_eq!(refusal["actor"], "dave");
        assert!(refusal["reason"].as_str().unwrap().contains("immutable_id"), "{refusal}");
        drop(slapd);
    }
}
