//! First start on an empty data directory creates the master key, the CA and the TLS
//! certificate and prints where to go; a second start reuses all of it.

use integration_tests::*;
use std::os::unix::fs::PermissionsExt;

on_both_databases! {
    fn first_start_creates_then_second_start_reuses(db: Db) {
        let dir = TempDir::new("first_start");
        let database = TestDb::new(db);
        let data = dir.path().join("data");

        let server = TestServer::start(&data, &database, &[]);
        assert_eq!(server.banner["first_start"], true);
        let key_mode = std::fs::metadata(data.join("master.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(key_mode, 0o600, "master key must be private");
        let ca_first = std::fs::read_to_string(server.ca_pem()).unwrap();
        assert!(ca_first.starts_with("-----BEGIN CERTIFICATE-----"));
        let link = server.banner["setup_link"].as_str().expect("a first-admin link is printed").to_string();
        assert!(link.starts_with(&format!("https://127.0.0.1:{}/setup/", server.port)), "{link}");
        // The CA certificate served is the one in ca.pem, and curl trusts the server with it.
        let (status, served) = server.curl("/ca/ca.pem", &[]);
        assert_eq!(status, 200);
        assert_eq!(served, ca_first);
        let fingerprint_first = server_cert_fingerprint(&server);
        // The CA's private key is not in the data directory in clear, nor in the log.
        for entry in std::fs::read_dir(&data).unwrap() {
            let text = std::fs::read(entry.unwrap().path()).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&text).contains("PRIVATE KEY"));
        }
        assert!(!server.server_log().contains(link.rsplit('/').next().unwrap()), "set-up token leaked into the log");
        server.stop();

        let server = TestServer::start(&data, &database, &[]);
        assert_eq!(server.banner["first_start"], false);
        assert_eq!(std::fs::read_to_string(server.ca_pem()).unwrap(), ca_first, "CA reused");
        assert_eq!(server_cert_fingerprint(&server), fingerprint_first, "TLS certificate reused");
        // No administrator yet: a new link replaces the old one, which stops working.
        let second = server.banner["setup_link"].as_str().expect("still no administrator");
        assert_ne!(second, link.as_str());
        let out = server.cli(&["admin", "create", "root-admin", "--email", "root@example.com"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        server.stop();

        let server = TestServer::start(&data, &database, &[]);
        assert!(server.banner["setup_link"].is_null(), "no link once an administrator exists");
        let (status, _) = server.curl("/readyz", &[]);
        assert_eq!(status, 200);
    }
}

on_both_databases! {
    fn new_hostname_gets_a_certificate_that_covers_it(db: Db) {
        let dir = TempDir::new("hostname");
        let database = TestDb::new(db);
        let server = TestServer::start(dir.path(), &database, &["--hostname", "auth.example.test"]);
        // curl resolves the name to loopback and checks the certificate's SAN.
        let resolve = format!("auth.example.test:{}:127.0.0.1", server.port);
        let out = std::process::Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(server.ca_pem())
            .args(["--resolve", &resolve])
            .arg(format!("https://auth.example.test:{}/healthz", server.port))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"ok\""));
        for host in ["localhost", "[::1]"] {
            let out = std::process::Command::new("curl")
                .args(["-sS", "--cacert"])
                .arg(server.ca_pem())
                .args(["--resolve", &format!("localhost:{}:127.0.0.1", server.port)])
                .arg(format!("https://{host}:{}/healthz", server.port))
                .output()
                .unwrap();
            // ::1 may not listen (we bound 127.0.0.1); only check names that reach us.
            if host == "localhost" {
                assert!(out.status.success(), "{host}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

fn server_cert_fingerprint(server: &TestServer) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
            server.port
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("Fingerprint"),
        "no certificate from s_client: {text}"
    );
    text
}
