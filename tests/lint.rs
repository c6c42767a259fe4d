//! The CA, client certificates (from a CSR and as PKCS#12) and the CRL are clean under
//! an RFC 5280 linter (pkilint's PKIX profiles), down to notices. (The TLS server
//! certificate is not linted: pkilint rejects its single-label dNSName "localhost",
//! which browsers need.) The test command installs
//! pkilint and names its folder in TEST_PASSGRID_PKILINT.

use integration_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pkilint(tool: &str) -> PathBuf {
    let dir = std::env::var_os("TEST_PASSGRID_PKILINT").unwrap_or_else(|| {
        panic!(
            "TEST_PASSGRID_PKILINT is not set: the linter test needs pkilint. Run the \
             README's test command (scripts/test-all.sh), which installs it."
        )
    });
    Path::new(&dir).join(tool)
}

fn lint(tool: &str, args: &[&str], file: &Path) {
    let out = Command::new(pkilint(tool))
        .arg("lint")
        .args(args)
        .args(["-s", "NOTICE"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    let report = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && report.is_empty(),
        "{tool} on {}:\n{report}{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn first_pem_block(text: &str) -> String {
    let start = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = text[start..]
        .find("-----END CERTIFICATE-----")
        .expect("its end")
        + start;
    format!("{}-----END CERTIFICATE-----\n", &text[start..end])
}

#[test]
fn certificates_and_crl_are_clean_under_pkilint() {
    let dir = TempDir::new("lint");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    lint("lint_pkix_cert", &[], &server.ca_pem());

    // A client certificate from a CSR…
    let (from_csr, _) = issue_client_cert(&server, dir.path(), "alice");
    lint("lint_pkix_cert", &[], &from_csr);
    // …and one made with its key, delivered as PKCS#12.
    let p12 = dir.path().join("alice.p12");
    let out = server.cli(&[
        "--json",
        "cert",
        "issue",
        "alice",
        "--out",
        p12.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issued: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let password = format!("pass:{}", issued["password"].as_str().unwrap());
    let leaf = openssl(&[
        "pkcs12",
        "-in",
        p12.to_str().unwrap(),
        "-passin",
        &password,
        "-nokeys",
        "-clcerts",
    ]);
    let from_p12 = dir.path().join("from-p12.pem");
    std::fs::write(
        &from_p12,
        first_pem_block(&String::from_utf8_lossy(&leaf.stdout)),
    )
    .unwrap();
    lint("lint_pkix_cert", &[], &from_p12);

    // The CRL, with a revoked entry and its reason.
    let out = server.cli(&[
        "cert",
        "revoke",
        issued["serial"].as_str().unwrap(),
        "--reason",
        "superseded",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crl = dir.path().join("crl.der");
    let out = server.cli(&["ca", "crl", "--out", crl.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lint("lint_crl", &["-t", "CRL", "-p", "PKIX"], &crl);
}
