//! PKCS#12 delivery (SPEC §2.3): `passgrid cert issue ID --out FILE.p12 [--legacy]`
//! makes a key and a certificate, packs them under a password printed once, and the
//! file opens in OpenSSL 3 and in Python's `cryptography` — and the certificate in it
//! signs in over TLS.

use integration_tests::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn issue(server: &TestServer, user: &str, file: &Path, legacy: bool) -> Value {
    let mut args = vec![
        "--json",
        "cert",
        "issue",
        user,
        "--out",
        file.to_str().unwrap(),
    ];
    if legacy {
        args.push("--legacy");
    }
    let out = server.cli(&args);
    assert!(
        out.status.success(),
        "cert issue: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// `openssl pkcs12 -info` (stderr holds the algorithm lines) with `-legacy` if asked.
fn openssl_info(file: &Path, password: &str, legacy: bool) -> std::process::Output {
    let mut args = vec!["pkcs12", "-in", file.to_str().unwrap(), "-passin"];
    let pass = format!("pass:{password}");
    args.push(&pass);
    args.extend(["-info", "-nodes"]);
    if legacy {
        args.push("-legacy");
    }
    // Not the asserting helper: a wrong password must be allowed to fail.
    Command::new("openssl")
        .args(&args)
        .output()
        .expect("run openssl")
}

fn python_subject(file: &Path, password: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys\n\
             from cryptography.hazmat.primitives.serialization import pkcs12\n\
             key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), sys.argv[2].encode())\n\
             assert key is not None\n\
             print(cert.subject.rfc4514_string(), len(extra))",
        ])
        .arg(file)
        .arg(password)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

on_both_databases! {
    fn a_pkcs12_opens_with_its_one_time_password_in_openssl_and_python_and_signs_in(db: Db) {
        let dir = TempDir::new("pkcs12");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let out = server.cli(&["user", "add", "alice", "--email", "alice@example.com"]);
        assert!(out.status.success());

        let modern = dir.path().join("alice.p12");
        let issued = issue(&server, "alice", &modern, false);
        let password = issued["password"].as_str().unwrap().to_string();
        assert_eq!(issued["encoding"], "modern");
        assert_eq!(password.len(), 19, "four groups of four: {password}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&modern).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the file holds a private key");
        }
        let info = openssl_info(&modern, &password, false);
        let text = String::from_utf8_lossy(&info.stderr).to_string();
        assert!(info.status.success(), "openssl: {text}");
        assert!(text.contains("MAC: sha256"), "{text}");
        assert!(text.contains("PBES2") && text.contains("AES-256-CBC"), "{text}");
        assert_eq!(python_subject(&modern, &password), "CN=alice 1", "leaf plus the CA");
        // The wrong password opens nothing.
        assert!(!openssl_info(&modern, "wrong-pass-word-xxx", false).status.success());

        let legacy = dir.path().join("alice-legacy.p12");
        let issued_legacy = issue(&server, "alice", &legacy, true);
        let legacy_password = issued_legacy["password"].as_str().unwrap().to_string();
        assert_ne!(legacy_password, password);
        assert_ne!(issued_legacy["serial"], issued["serial"]);
        let info = openssl_info(&legacy, &legacy_password, true);
        let text = String::from_utf8_lossy(&info.stderr).to_string();
        assert!(info.status.success(), "openssl -legacy: {text}");
        assert!(text.contains("MAC: sha1"), "{text}");
        assert!(text.contains("3-KeyTripleDES"), "{text}");
        assert_eq!(python_subject(&legacy, &legacy_password), "CN=alice 1");

        // What the file holds is a working device certificate.
        let pem = dir.path().join("alice-all.pem");
        std::fs::write(&pem, &openssl_info(&modern, &password, false).stdout).unwrap();
        let me = server.curl_json("/api/v1/whoami", &["--cert", pem.to_str().unwrap()]);
        assert_eq!(me["certificate_status"], "verified");
        assert_eq!(me["user"], "alice");
        assert_eq!(me["certificate"]["serial"], issued["serial"]);

        // Nothing is written for a user that does not exist, or for a bad flag mix.
        let none = dir.path().join("nobody.p12");
        let out = server.cli(&["cert", "issue", "nobody", "--out", none.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no user with ID"));
        assert!(!none.exists());
        let out = server.cli(&["cert", "issue", "alice", "--csr", "x.csr", "--legacy", "--out", "x.pem"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--legacy is a PKCS#12 encoding"));
        // The password is in no log.
        assert!(!server.server_log().contains(&password));
    }
}

#[test]
fn rsa_keys_by_policy_sign_in_too() {
    let dir = TempDir::new("pkcs12_rsa");
    let database = TestDb::new(Db::Sqlite);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, "[auth]\ncertificate_key = \"rsa2048\"\n").unwrap();
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    assert!(server.cli(&["user", "add", "rosa"]).status.success());
    let file = dir.path().join("rosa.p12");
    let out = server.cli(&[
        "--config",
        config.to_str().unwrap(),
        "--json",
        "cert",
        "issue",
        "rosa",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issued: Value = serde_json::from_slice(&out.stdout).unwrap();
    let info = openssl_info(&file, issued["password"].as_str().unwrap(), false);
    assert!(info.status.success());
    let pem = dir.path().join("rosa-all.pem");
    std::fs::write(&pem, &info.stdout).unwrap();
    let key = openssl(&["pkey", "-in", pem.to_str().unwrap(), "-noout", "-text"]);
    let text = String::from_utf8_lossy(&key.stdout);
    assert!(text.contains("Private-Key: (2048 bit"), "{text}");
    assert!(text.contains("modulus"), "an RSA key: {text}");
    let me = server.curl_json("/api/v1/whoami", &["--cert", pem.to_str().unwrap()]);
    assert_eq!(me["certificate_status"], "verified");
    assert_eq!(me["user"], "rosa");
}
