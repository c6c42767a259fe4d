//! Importing an existing CA (SPEC §2.1): bad files are refused with a reason and
//! change nothing; a good one becomes the CA of the server certificate, of client
//! certificates and of the CRL.

use integration_tests::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli(data: &Path, database: &TestDb, args: &[&str]) -> Output {
    Command::new(passgrid_bin())
        .arg("--data-dir")
        .arg(data)
        .args(database.args())
        .args(args)
        .output()
        .expect("run passgrid")
}

/// A CA made by openssl: (certificate, PKCS#8 key).
fn openssl_ca(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "3650",
        "-subj",
        &format!("/O=Example/CN={name}"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
    ]);
    (cert, key)
}

fn fingerprint(cert: &Path) -> String {
    let out = openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

on_both_databases! {
    fn an_imported_ca_signs_everything_and_bad_files_change_nothing(db: Db) {
        let dir = TempDir::new("ca_import");
        let database = TestDb::new(db);
        let data = dir.path().join("data");
        let (ca_cert, ca_key) = openssl_ca(dir.path(), "Example Root");
        let (other_cert, other_key) = openssl_ca(dir.path(), "Other Root");
        let own = dir.path().join("own.pem");
        let out = cli(&data, &database, &["ca", "export", "--out", own.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let own_fingerprint = fingerprint(&own);

        // Refused, with the reason, and nothing changed.
        let leaf_key = dir.path().join("leaf.key");
        let leaf = dir.path().join("leaf.pem");
        openssl(&["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", leaf_key.to_str().unwrap(), "-out", leaf.to_str().unwrap(), "-days", "30",
            "-subj", "/CN=leaf", "-addext", "basicConstraints=critical,CA:FALSE"]);
        let corrupt = dir.path().join("corrupt.pem");
        std::fs::write(&corrupt, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n").unwrap();
        let sec1 = dir.path().join("sec1.key");
        openssl(&["ec", "-in", ca_key.to_str().unwrap(), "-out", sec1.to_str().unwrap()]);
        let s = |p: &PathBuf| p.to_str().unwrap().to_string();
        let cases = [
            (s(&leaf), s(&leaf_key), "not a CA certificate"),
            (s(&ca_cert), s(&other_key), "does not belong to the certificate"),
            (s(&corrupt), s(&ca_key), "the certificate does not parse"),
            (s(&ca_cert), s(&sec1), "convert it to PKCS#8"),
            (s(&ca_cert), s(&ca_cert), "no private key PEM block"),
        ];
        for (cert, key, reason) in cases {
            let out = cli(&data, &database, &["ca", "import", "--cert", &cert, "--key", &key]);
            assert!(!out.status.success(), "{cert} + {key} imported");
            assert!(stderr(&out).contains(reason), "{cert} + {key}: {}", stderr(&out));
            let now = dir.path().join("now.pem");
            cli(&data, &database, &["ca", "export", "--out", now.to_str().unwrap()]);
            assert_eq!(fingerprint(&now), own_fingerprint, "the CA changed after a refused import");
        }

        let out = cli(&data, &database, &["ca", "import", "--cert", &s(&ca_cert), "--key", &s(&ca_key)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let server = TestServer::start(&data, &database, &[]);
        assert_eq!(fingerprint(&server.ca_pem()), fingerprint(&ca_cert), "data/ca.pem is the imported CA");
        // The server's TLS certificate now chains to the imported CA (curl trusts only it).
        let (status, _) = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(&ca_cert)
            .arg(server.url("/healthz"))
            .output()
            .map(|o| (String::from_utf8_lossy(&o.stdout).to_string(), o.status))
            .unwrap();
        assert_eq!(status, "200");

        // Client certificates and the CRL come from it too.
        let (client, key) = issue_client_cert(&server, dir.path(), "alice");
        openssl(&["verify", "-CAfile", ca_cert.to_str().unwrap(), client.to_str().unwrap()]);
        let me = server.curl_json("/api/v1/whoami", &["--cert", client.to_str().unwrap(), "--key", key.to_str().unwrap()]);
        assert_eq!(me["certificate_status"], "verified");
        let crl = dir.path().join("crl.der");
        let out = server.cli(&["ca", "crl", "--out", crl.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = openssl(&["crl", "-inform", "DER", "-in", crl.to_str().unwrap(), "-CAfile", ca_cert.to_str().unwrap(), "-noout"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("verify OK"));

        // Replacing a CA whose client certificates are in use needs --force.
        let out = server.cli(&["ca", "import", "--cert", &s(&other_cert), "--key", &s(&other_key)]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
        let out = server.cli(&["ca", "import", "--cert", &s(&other_cert), "--key", &s(&other_key), "--force"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(fingerprint(&server.ca_pem()), fingerprint(&other_cert));
    }
}
