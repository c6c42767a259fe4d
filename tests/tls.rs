//! The HTTPS listener: TLS 1.2 and 1.3, the optional client certificate reaching
//! handlers (`whoami`), foreign certificates refused, the plain-HTTP redirect.

use integration_tests::*;

on_both_databases! {
    fn whoami_shows_a_certificate_from_passgrids_ca_and_none_without(db: Db) {
        let dir = TempDir::new("whoami");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);

        let anonymous = server.curl_json("/api/v1/whoami", &[]);
        assert!(anonymous["certificate"].is_null());
        assert_eq!(anonymous["certificate_status"], "none");

        let (cert, key) = issue_client_cert(&server, dir.path(), "alice");
        let cert_arg = cert.to_str().unwrap();
        let key_arg = key.to_str().unwrap();
        let me = server.curl_json("/api/v1/whoami", &["--cert", cert_arg, "--key", key_arg]);
        assert_eq!(me["certificate_status"], "verified");
        assert_eq!(me["certificate"]["subject"], "CN=alice");
        assert_eq!(me["certificate"]["common_name"], "alice");
        assert_eq!(me["user"], "alice");
        assert!(me["certificate"]["subject_alt_names"].as_array().unwrap().iter().any(|s| s == "email:alice@example.com"));
        assert_eq!(me["certificate"]["serial"].as_str().unwrap().len(), 32, "128-bit serial");
        assert!(me["certificate"]["not_after"].as_i64().unwrap() > me["certificate"]["not_before"].as_i64().unwrap());

        // The issued certificate has the client profile (checked by openssl, not by us).
        let text = String::from_utf8_lossy(&openssl(&["x509", "-in", cert_arg, "-noout", "-text"]).stdout).to_string();
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(text.contains("Digital Signature"));
        assert!(text.contains("CA:FALSE"));
        assert!(text.contains("Authority Key Identifier"));
        assert!(text.contains("Subject Key Identifier"));
        let ca = server.ca_pem();
        let verify = std::process::Command::new("openssl")
            .args(["verify", "-purpose", "sslclient", "-CAfile"])
            .arg(&ca)
            .arg(&cert)
            .output()
            .unwrap();
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

        // A certificate from another CA — even one whose name imitates passgrid's — is
        // refused at the handshake or shown as none, never as verified.
        let (fcert, fkey) = foreign_client_cert(dir.path());
        let (status, body) = server.curl("/api/v1/whoami", &["--cert", fcert.to_str().unwrap(), "--key", fkey.to_str().unwrap()]);
        assert!(status == 0 || !body.contains("verified"), "foreign certificate accepted: {status} {body}");
        if status == 200 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["certificate_status"], "none");
        }
        // And the server still serves.
        assert_eq!(server.curl("/healthz", &[]).0, 200);
    }
}

on_both_databases! {
    fn tls12_and_tls13_both_work_and_http2_is_offered(db: Db) {
        let dir = TempDir::new("versions");
        let database = TestDb::new(db);
        let server = TestServer::start(dir.path(), &database, &[]);
        let tls12 = server.curl_json("/api/v1/whoami", &["--tlsv1.2", "--tls-max", "1.2"]);
        assert_eq!(tls12["tls_version"], "TLSv1.2");
        let tls13 = server.curl_json("/api/v1/whoami", &["--tlsv1.3"]);
        assert_eq!(tls13["tls_version"], "TLSv1.3");
        let out = std::process::Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_version}", "--http2", "--cacert"])
            .arg(server.ca_pem())
            .arg(server.url("/healthz"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "2");
        // TLS 1.1 is refused.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("openssl s_client -connect 127.0.0.1:{} -tls1_1 </dev/null", server.port))
            .output()
            .unwrap();
        assert!(!out.status.success(), "TLS 1.1 must not be negotiated");
    }
}

#[test]
fn plain_http_only_redirects_to_https() {
    let dir = TempDir::new("redirect");
    let database = TestDb::new(Db::Sqlite);
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = probe.local_addr().unwrap().port();
    drop(probe);
    let http_listen = format!("127.0.0.1:{http_port}");
    let server = TestServer::start(dir.path(), &database, &["--http-listen", &http_listen]);
    for (method, path) in [
        ("GET", "/setup/x?y=1"),
        ("POST", "/api/v1/auth/start"),
        ("GET", "/healthz"),
    ] {
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-X",
                method,
                "-w",
                "%{http_code} %{redirect_url}",
            ])
            .arg(format!("http://127.0.0.1:{http_port}{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            text,
            format!("308 https://127.0.0.1:{}{path}", server.port),
            "{method} {path}"
        );
    }
    // A foreign Host header does not become an open redirect.
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-H",
            "Host: evil.example",
            "-w",
            "%{redirect_url}",
        ])
        .arg(format!("http://127.0.0.1:{http_port}/"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("https://127.0.0.1:{}/", server.port)
    );
}
