//! The SAML tests' peers and judges: pysaml2 as a service provider (through
//! `peers/pysaml2_sp.py`), xmlsec1 to verify signatures with the certificate of
//! passgrid's metadata, and the decoding of what passgrid posts to an SP.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};

use super::{openssl, TestServer};

/// Standard base64 of bytes.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Bytes of standard base64 (whitespace allowed).
pub fn unb64(text: &str) -> Vec<u8> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact).expect("base64")
}

/// passgrid's metadata, and its (first) signing certificate as a PEM file in `dir`.
pub fn idp_metadata(server: &TestServer, dir: &Path) -> (String, PathBuf) {
    let (status, xml) = server.curl("/saml/metadata", &[]);
    assert_eq!(status, 200, "{xml}");
    let cert = xml
        .split("<ds:X509Certificate>")
        .nth(1)
        .and_then(|r| r.split("</ds:X509Certificate>").next())
        .expect("a certificate in the metadata");
    let pem = dir.join("idp-signing.pem");
    let body: Vec<String> = cert
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    std::fs::write(
        &pem,
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            body.join("\n")
        ),
    )
    .unwrap();
    std::fs::write(dir.join("idp-metadata.xml"), &xml).unwrap();
    (xml, pem)
}

/// `xmlsec1 --verify` of the element with `ID` of type `id_node` (e.g.
/// `urn:oasis:names:tc:SAML:2.0:assertion:Assertion`) against `cert_pem` only;
/// the tool's verdict and output.
pub fn xmlsec1_verify(dir: &Path, xml: &str, cert_pem: &Path, id_node: &str) -> (bool, String) {
    let file = dir.join("to-verify.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--enabled-reference-uris",
            "same-doc",
            "--pubkey-cert-pem",
        ])
        .arg(cert_pem)
        .args(["--id-attr:ID", id_node])
        .arg(&file)
        .output()
        .expect("xmlsec1 (Debian package xmlsec1)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// An RSA key and self-signed certificate made by openssl: (key.pem, cert.pem).
pub fn rsa_key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name}.test"),
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    (key, cert)
}

/// pysaml2 as a service provider.
pub struct PySp {
    pub name: String,
    pub entity_id: String,
    pub acs: String,
    config: Value,
}

impl PySp {
    /// An SP with its own key, knowing passgrid from `idp_metadata` (a file).
    pub fn new(dir: &Path, name: &str, idp_metadata: &Path, idp_entity_id: &str) -> PySp {
        let (key, cert) = rsa_key_pair(dir, name);
        let entity_id = format!("https://{name}.sp.test/metadata");
        let acs = format!("https://{name}.sp.test/acs");
        PySp {
            config: json!({
                "entity_id": entity_id, "acs": acs, "key_file": key, "cert_file": cert,
                "idp_metadata": idp_metadata, "idp_entity_id": idp_entity_id,
            }),
            name: name.to_string(),
            entity_id,
            acs,
        }
    }

    /// Runs the driver with `extra` merged into the configuration.
    pub fn run(&self, extra: Value) -> Value {
        let mut args = self.config.clone();
        if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/pysaml2_sp.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 with pysaml2 (Debian package python3-pysaml2)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(args.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "pysaml2 driver: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// The SP's metadata, written to `dir/NAME-metadata.xml`; the file.
    pub fn metadata_file(&self, dir: &Path) -> PathBuf {
        let xml = self.run(json!({"mode": "metadata"}))["xml"]
            .as_str()
            .expect("metadata")
            .to_string();
        let file = dir.join(format!("{}-metadata.xml", self.name));
        std::fs::write(&file, xml).unwrap();
        file
    }

    /// An AuthnRequest: `{"id", "url"}` (redirect) or `{"id", "b64"}` (post).
    pub fn request(&self, binding: &str, extra: Value) -> Value {
        let mut args =
            json!({"mode": "request", "binding": binding, "sign": true, "relay_state": "rs-1"});
        if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        self.run(args)
    }

    /// pysaml2's verdict on a Response.
    pub fn judge(&self, response_b64: &str, outstanding: &[&str]) -> Value {
        self.run(
            json!({"mode": "response", "response_b64": response_b64, "outstanding": outstanding}),
        )
    }
}

/// The audit entries of `action` (newest first), through the admin API.
pub fn audit(server: &TestServer, admin: &str, action: &str) -> Vec<Value> {
    let v = server.curl_json(
        &format!("/api/v1/admin/audit?action={action}&limit=200"),
        &["-H", &format!("Authorization: Bearer {admin}")],
    );
    v["entries"].as_array().cloned().unwrap_or_default()
}
