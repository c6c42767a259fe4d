//! Helpers for the tests that run real tools (xmlsec1, pysaml2, openssl): a
//! scratch directory, RSA keys and certificates made with openssl, and a way to
//! skip with a clear message when a tool is not installed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use passgrid_saml::{IdpSigningKey, SpCertificate};

/// True when `program --version`-like probing finds the tool.
pub fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Prints the SKIPPED line and returns true when `tool` is missing.
pub fn skip_without(tool: &str, present: bool) -> bool {
    if !present {
        eprintln!(
            "SKIPPED: {tool} is not installed (apt-get install -y xmlsec1 python3-pysaml2 openssl)"
        );
    }
    !present
}

/// Whether xmlsec1 and openssl are there.
pub fn have_xmlsec1() -> bool {
    have("xmlsec1", &["--version"]) && have("openssl", &["version"])
}

/// A fresh scratch directory under the target directory's tmp.
pub fn scratch(name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("saml-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a command, returning its output (never panics on a non-zero exit).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// An RSA key pair with a self-signed certificate, made by openssl in `dir`.
pub struct KeyFiles {
    /// PEM private key (PKCS#8).
    pub key_pem: PathBuf,
    /// PEM certificate.
    pub cert_pem: PathBuf,
    /// DER PKCS#8 private key bytes.
    pub key_der: Vec<u8>,
    /// DER certificate bytes.
    pub cert_der: Vec<u8>,
}

impl KeyFiles {
    /// Generates `name.key.pem`/`name.cert.pem` with openssl.
    pub fn generate(dir: &Path, name: &str) -> KeyFiles {
        let key_pem = dir.join(format!("{name}.key.pem"));
        let cert_pem = dir.join(format!("{name}.cert.pem"));
        let key_der_path = dir.join(format!("{name}.key.der"));
        let cert_der_path = dir.join(format!("{name}.cert.der"));
        let ok = |o: Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ok(run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
            ])
            .arg(format!("/CN={name}.test"))
            .arg("-keyout")
            .arg(&key_pem)
            .arg("-out")
            .arg(&cert_pem)));
        ok(run(Command::new("openssl")
            .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
            .arg(&key_pem)
            .arg("-out")
            .arg(&key_der_path)));
        ok(run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert_pem)
            .arg("-out")
            .arg(&cert_der_path)));
        KeyFiles {
            key_der: std::fs::read(&key_der_path).unwrap(),
            cert_der: std::fs::read(&cert_der_path).unwrap(),
            key_pem,
            cert_pem,
        }
    }

    /// As the IdP's signing key.
    pub fn idp_key(&self) -> IdpSigningKey {
        IdpSigningKey::from_pkcs8_der(&self.key_der, self.cert_der.clone()).unwrap()
    }

    /// As an SP certificate.
    pub fn certificate(&self) -> SpCertificate {
        SpCertificate::from_der(&self.cert_der).unwrap()
    }
}

/// The substring from the first `<start` to the end of the matching `</end>`.
pub fn element<'a>(xml: &'a str, qname: &str) -> &'a str {
    let start = xml.find(&format!("<{qname}")).unwrap();
    let close = format!("</{qname}>");
    let end = xml.find(&close).unwrap() + close.len();
    &xml[start..end]
}
