//! Revocation (SPEC §2.7) and the CRL (SPEC §2.1): `passgrid cert list/revoke`,
//! `passgrid ca crl`, `GET /ca/crl.der` — checked with openssl against the CA.

use integration_tests::*;
use std::path::Path;
use std::process::Command;

/// Downloads the CRL over HTTPS into `file`.
fn download_crl(server: &TestServer, file: &Path) {
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "20", "--cacert"])
        .arg(server.ca_pem())
        .arg("-o")
        .arg(file)
        .arg(server.url("/ca/crl.der"))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "GET /ca/crl.der: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl crl -text` of a DER CRL, after checking its signature against the CA.
fn crl_text(server: &TestServer, file: &Path) -> String {
    let out = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        file.to_str().unwrap(),
        "-CAfile",
        server.ca_pem().to_str().unwrap(),
        "-noout",
        "-text",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "openssl crl: {stderr}");
    assert!(stderr.contains("verify OK"), "CRL signature: {stderr}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn crl_number(text: &str) -> u64 {
    let after = text
        .split("X509v3 CRL Number:")
        .nth(1)
        .expect("CRL number extension");
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a decimal CRL number")
}

fn serial_of(cert: &Path) -> String {
    let out = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-serial"]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string()
}

on_both_databases! {
    fn a_revoked_certificate_is_refused_at_once_and_listed_in_a_signed_crl(db: Db) {
        let dir = TempDir::new("revocation");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let (alice_cert, alice_key) = issue_client_cert(&server, dir.path(), "alice");
        let (bob_cert, _) = issue_client_cert(&server, dir.path(), "bob");
        let alice_serial = serial_of(&alice_cert);
        let bob_serial = serial_of(&bob_cert);

        // Before any revocation: a valid, empty CRL.
        let crl_file = dir.path().join("before.crl");
        download_crl(&server, &crl_file);
        let before = crl_text(&server, &crl_file);
        assert!(before.contains("No Revoked Certificates"), "{before}");
        let first_number = crl_number(&before);

        let listed: serde_json::Value =
            serde_json::from_slice(&server.cli(&["--json", "cert", "list"]).stdout).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2);
        assert!(listed.as_array().unwrap().iter().all(|c| c["state"] == "valid"));

        let with_alice = ["--cert", alice_cert.to_str().unwrap(), "--key", alice_key.to_str().unwrap()];
        let me = server.curl_json("/api/v1/whoami", &with_alice);
        assert_eq!(me["certificate_status"], "verified");

        // Typed as openssl prints it (upper case); stored in lower case.
        let out = server.cli(&["cert", "revoke", &alice_serial, "--reason", "key-compromise"]);
        assert!(out.status.success(), "revoke: {}", stderr(&out));

        // The very next request from the same device sees it.
        let me = server.curl_json("/api/v1/whoami", &with_alice);
        assert_eq!(me["certificate_status"], "revoked");

        let crl_file = dir.path().join("after.crl");
        download_crl(&server, &crl_file);
        let after = crl_text(&server, &crl_file);
        assert!(after.contains(&format!("Serial Number: {alice_serial}")), "{after}");
        assert!(!after.contains(&format!("Serial Number: {bob_serial}")), "{after}");
        assert!(after.contains("Key Compromise"), "{after}");
        let revoked_number = crl_number(&after);
        assert!(revoked_number > first_number, "CRL number {revoked_number} after {first_number}");

        // `ca crl` gives the same list, also verifiable.
        let cli_file = dir.path().join("cli.crl");
        let out = server.cli(&["ca", "crl", "--out", cli_file.to_str().unwrap()]);
        assert!(out.status.success(), "ca crl: {}", stderr(&out));
        assert!(crl_text(&server, &cli_file).contains(&format!("Serial Number: {alice_serial}")));

        let alice_only: serde_json::Value =
            serde_json::from_slice(&server.cli(&["--json", "cert", "list", "--user", "alice"]).stdout).unwrap();
        assert_eq!(alice_only.as_array().unwrap().len(), 1);
        assert_eq!(alice_only[0]["state"], "revoked");

        // Bad requests are refused with a reason, and change nothing.
        let cases: [(&[&str], &str); 4] = [
            (&["cert", "revoke", &alice_serial], "already revoked"),
            (&["cert", "revoke", "0123456789abcdef"], "no certificate with serial"),
            (&["cert", "revoke", "not-a-serial"], "not a certificate serial"),
            (&["cert", "revoke", &bob_serial, "--reason", "bored"], "unknown revocation reason"),
        ];
        for (args, reason) in cases {
            let out = server.cli(args);
            assert!(!out.status.success(), "{args:?} succeeded");
            assert!(stderr(&out).contains(reason), "{args:?}: {}", stderr(&out));
            assert_eq!(stderr(&out).lines().count(), 1, "one-line error: {}", stderr(&out));
        }
        let crl_file = dir.path().join("unchanged.crl");
        download_crl(&server, &crl_file);
        let unchanged = crl_text(&server, &crl_file);
        assert_eq!(crl_number(&unchanged), revoked_number);
        assert!(!unchanged.contains(&format!("Serial Number: {bob_serial}")));
        let bob: serde_json::Value =
            serde_json::from_slice(&server.cli(&["--json", "cert", "list", "--user", "bob"]).stdout).unwrap();
        assert_eq!(bob[0]["state"], "valid");
    }
}
