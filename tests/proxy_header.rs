//! Behind a TLS-terminating proxy (SPEC §3.2): the client certificate comes in a
//! header, believed only from the configured proxy addresses and only after passgrid
//! checked it against its own CA. Loopback has 127.0.0.0/8, so the "proxy" is curl
//! bound to 127.0.0.2 and everybody else comes from 127.0.0.1.

use integration_tests::*;
use serde_json::{json, Value};

/// nginx's `$ssl_client_escaped_cert`: the PEM, URL-escaped.
fn escaped(pem: &str) -> String {
    pem.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64_der(pem_path: &std::path::Path) -> String {
    let out = openssl(&["x509", "-in", pem_path.to_str().unwrap(), "-outform", "DER"]);
    use std::io::Write;
    let mut child = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

fn whoami(server: &TestServer, from_proxy: bool, header: Option<&str>) -> Value {
    let mut args = vec![];
    if from_proxy {
        args.extend(["--interface", "127.0.0.2"]);
    }
    let line;
    if let Some(h) = header {
        line = format!("X-SSL-Client-Cert: {h}");
        args.extend(["-H", &line]);
    }
    server.curl_json("/api/v1/whoami", &args)
}

on_both_databases! {
    fn a_forwarded_certificate_counts_only_from_the_proxy_and_only_if_passgrid_issued_it(db: Db) {
        let dir = TempDir::new("proxy");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(&config, "[serve]\ntrusted_proxies = [\"127.0.0.2/32\"]\n\n[auth]\nrequire_certificate = true\n").unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let (cert, key) = issue_client_cert(&server, dir.path(), "alice");
        let pem = std::fs::read_to_string(&cert).unwrap();

        // From the proxy, in both header forms: alice's certificate.
        for value in [escaped(&pem), base64_der(&cert)] {
            let me = whoami(&server, true, Some(&value));
            assert_eq!(me["certificate_status"], "verified", "{me}");
            assert_eq!(me["user"], "alice");
        }
        // The same header from anybody else is ignored.
        let me = whoami(&server, false, Some(&escaped(&pem)));
        assert_eq!(me["certificate_status"], "none", "{me}");
        // A certificate of another CA, or garbage, from the proxy: no certificate.
        let (foreign, _) = foreign_client_cert(dir.path());
        let foreign_pem = std::fs::read_to_string(&foreign).unwrap();
        for value in [escaped(&foreign_pem), "bm90IGEgY2VydGlmaWNhdGU=".to_string(), "%ZZ".to_string()] {
            let me = whoami(&server, true, Some(&value));
            assert_eq!(me["certificate_status"], "none", "{value}: {me}");
        }
        // Behind the proxy the TLS peer is the proxy: its own client certificate
        // does not speak for the device.
        let me = server.curl_json("/api/v1/whoami", &["--interface", "127.0.0.2", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
        assert_eq!(me["certificate_status"], "none", "{me}");

        // The certificate gate follows: a grid through the proxy with the header…
        let jar = dir.path().join("jar");
        let header = format!("X-SSL-Client-Cert: {}", escaped(&pem));
        let out = server.cli(&["user", "set-pattern", "alice", "--cells", "3,17,17,40,9,26,44"]);
        assert!(out.status.success());
        let (status, grid) = post_json_with(&server, "/api/v1/auth/start", &json!({ "user": "alice" }), &jar, &["--interface", "127.0.0.2", "-H", &header]);
        assert_eq!(status, 200, "{grid}");
        // …none with the header sent directly.
        let (status, body) = post_json_with(&server, "/api/v1/auth/start", &json!({ "user": "alice" }), &jar, &["-H", &header]);
        assert_eq!((status, body), (403, json!({ "error": "device_not_registered" })));
        // And a revoked certificate stays revoked through the proxy.
        let serial = whoami(&server, true, Some(&escaped(&pem)))["certificate"]["serial"].as_str().unwrap().to_string();
        assert!(server.cli(&["cert", "revoke", &serial]).status.success());
        let (status, _) = post_json_with(&server, "/api/v1/auth/start", &json!({ "user": "alice" }), &jar, &["--interface", "127.0.0.2", "-H", &header]);
        assert_eq!(status, 403);
        assert_eq!(whoami(&server, true, Some(&escaped(&pem)))["certificate_status"], "revoked");
    }
}
