//! Certificate limits (SPEC §2.4): the (N+1)th valid certificate of a user and the
//! (M+1)th download of one certificate are refused with a reason; the key is gone
//! after the last download.

use integration_tests::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// One request through curl with the cookie jar: (status, Location, body).
fn fetch(server: &TestServer, jar: &Path, path: &str, extra: &[&str]) -> (u16, String, Vec<u8>) {
    let headers = jar.with_extension("headers");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(server.ca_pem())
        .arg("-b")
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .arg("-D")
        .arg(&headers)
        .args(extra)
        .arg(server.url(path))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(&headers).unwrap_or_default();
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_default()
        .trim()
        .to_string();
    (status, location, out.stdout)
}

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page"))
        + start.len();
    let rest = &html[from..];
    &rest[..rest.find(end).expect("end marker")]
}

/// Signs `user` in over the API and has the certificate auto-issued as the web page
/// does; returns the download token and the password the page shows.
fn auto_issue(server: &TestServer, jar: &Path, user: &str) -> (String, String) {
    let cells = add_user(server, user);
    let (status, start) = post_json(server, "/api/v1/auth/start", &json!({ "user": user }), jar);
    assert_eq!(status, 200, "{start}");
    let otp = otp_from(&start, &cells);
    let (status, ok) = post_json(
        server,
        "/api/v1/auth/verify",
        &json!({ "challenge": start["challenge"], "otp": otp }),
        jar,
    );
    assert_eq!(status, 200, "{ok}");
    let (status, _, page) = fetch(server, jar, "/me/certificate", &[]);
    assert_eq!(status, 200);
    let page = String::from_utf8_lossy(&page).to_string();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    let form = format!("csrf={csrf}");
    let (status, location, _) = fetch(server, jar, "/me/certificate/issue", &["--data", &form]);
    assert_eq!(status, 303, "issue answered {status}");
    assert!(
        location.starts_with("/me/certificate/download?t="),
        "{location}"
    );
    let token = location
        .trim_start_matches("/me/certificate/download?t=")
        .to_string();
    let (_, _, page) = fetch(server, jar, &location, &[]);
    let page = String::from_utf8_lossy(&page).to_string();
    let shown = between(&page, "class=\"cert-password\"", "</output>");
    let password = password_in(shown).unwrap_or_else(|| panic!("no password in {shown:?}"));
    (token, password)
}

/// The first `xxxx-xxxx-xxxx-xxxx` certificate password in `text`.
fn password_in(text: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    text.split(|c: char| !(ok(c) || c == '-'))
        .find(|w| {
            let groups: Vec<&str> = w.split('-').collect();
            groups.len() == 4 && groups.iter().all(|g| g.len() == 4)
        })
        .map(str::to_string)
}

on_both_databases! {
    fn the_limits_of_certificates_and_downloads_hold(db: Db) {
        let dir = TempDir::new("limits");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(
            &config,
            "[auth]\nmax_certificates_per_user = 2\nmax_downloads_per_certificate = 2\nauto_issue_certificate = true\n",
        )
        .unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let with_config = |args: &[&str]| {
            let mut all = vec!["--config", config.to_str().unwrap()];
            all.extend_from_slice(args);
            server.cli(&all)
        };

        // N = 2 valid certificates per user: a PKCS#12 and a CSR one, then no more.
        add_user(&server, "alice");
        let p12 = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let out = with_config(&["--json", "cert", "issue", "alice", "--out", &p12("a1.p12")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let (csr, _) = new_csr(dir.path(), "alice-dev", "ec");
        let out = with_config(&["cert", "issue", "alice", "--csr", csr.to_str().unwrap(), "--out", &p12("a2.pem")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = with_config(&["cert", "issue", "alice", "--out", &p12("a3.p12")]);
        assert!(!out.status.success(), "a third certificate was issued");
        assert!(stderr(&out).contains("limit reached: alice already holds 2 valid certificate(s)"), "{}", stderr(&out));
        assert!(!dir.path().join("a3.p12").exists(), "nothing written");
        let listed: serde_json::Value =
            serde_json::from_slice(&with_config(&["--json", "cert", "list", "--user", "alice"]).stdout).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2, "nothing recorded either");
        // A revoked certificate no longer counts.
        let out = with_config(&["cert", "revoke", first["serial"].as_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = with_config(&["cert", "issue", "alice", "--out", &p12("a3.p12")]);
        assert!(out.status.success(), "{}", stderr(&out));

        // M = 2 downloads of bob's auto-issued certificate, then it is gone.
        let jar = dir.path().join("bob.jar");
        let (token, password) = auto_issue(&server, &jar, "bob");
        let file_path = format!("/me/certificate/file?t={token}");
        // First as an iOS profile: a plist whose PKCS#12 payload opens with the password.
        let (status, _, body) = fetch(&server, &jar, &format!("{file_path}&encoding=mobileconfig"), &[]);
        assert_eq!(status, 200, "profile download");
        let profile = dir.path().join("bob.mobileconfig");
        std::fs::write(&profile, &body).unwrap();
        let out = Command::new("python3")
            .args([
                "-c",
                "import plistlib, sys\n\
                 from cryptography.hazmat.primitives.serialization import pkcs12\n\
                 p = plistlib.load(open(sys.argv[1], 'rb'))\n\
                 inner = p['PayloadContent'][0]\n\
                 assert p['PayloadType'] == 'Configuration' and inner['PayloadType'] == 'com.apple.security.pkcs12'\n\
                 assert 'Password' not in inner\n\
                 key, cert, extra = pkcs12.load_key_and_certificates(inner['PayloadContent'], sys.argv[2].encode())\n\
                 print(cert.subject.rfc4514_string())",
            ])
            .arg(&profile)
            .arg(&password)
            .output()
            .unwrap();
        assert!(out.status.success(), "profile: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "CN=bob");
        // Then as a PKCS#12: the second and last allowed download.
        let (status, _, body) = fetch(&server, &jar, &file_path, &[]);
        assert_eq!(status, 200, "PKCS#12 download");
        let saved = dir.path().join("bob.p12");
        std::fs::write(&saved, &body).unwrap();
        openssl(&["pkcs12", "-in", saved.to_str().unwrap(), "-passin", &format!("pass:{password}"), "-noout"]);
        let (status, location, _) = fetch(&server, &jar, &file_path, &[]);
        assert_eq!((status, location.as_str()), (303, "/me/certificate?error=gone"), "a third download");
        // The page and its password are gone with the key.
        let (_, _, page) = fetch(&server, &jar, &format!("/me/certificate/download?t={token}"), &[]);
        let page = String::from_utf8_lossy(&page).to_string();
        assert!(!page.contains(&password));
        assert!(page.contains("expired or was already used"));

        // A certificate revoked while its download waits is never handed out.
        let jar = dir.path().join("carol.jar");
        let (token, _) = auto_issue(&server, &jar, "carol");
        let listed: serde_json::Value =
            serde_json::from_slice(&with_config(&["--json", "cert", "list", "--user", "carol"]).stdout).unwrap();
        let out = with_config(&["cert", "revoke", listed[0]["serial"].as_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let (status, location, _) = fetch(&server, &jar, &format!("/me/certificate/file?t={token}"), &[]);
        assert_eq!((status, location.as_str()), (303, "/me/certificate?error=gone"));
    }
}

on_both_databases! {
    fn a_signed_in_user_may_upload_a_csr_instead(db: Db) {
        let dir = TempDir::new("csr_upload");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(&config, "[auth]\nauto_issue_certificate = true\n").unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let cells = add_user(&server, "dora");
        let jar = dir.path().join("dora.jar");
        let (_, start) = post_json(&server, "/api/v1/auth/start", &json!({ "user": "dora" }), &jar);
        let otp = otp_from(&start, &cells);
        let (status, _) = post_json(&server, "/api/v1/auth/verify", &json!({ "challenge": start["challenge"], "otp": otp }), &jar);
        assert_eq!(status, 200);
        let (_, _, page) = fetch(&server, &jar, "/me/certificate", &[]);
        let page = String::from_utf8_lossy(&page).to_string();
        assert!(page.contains("enctype=\"multipart/form-data\""), "the upload form is on the page");
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
        let upload = |csr: &Path| {
            let csrf_field = format!("csrf={csrf}");
            let csr_field = format!("csr=@{}", csr.display());
            fetch(&server, &jar, "/me/certificate/csr", &["-F", &csrf_field, "-F", &csr_field])
        };

        // A 1024-bit RSA key is refused, with the reason on the page, and nothing issued.
        let (weak, _) = new_csr(dir.path(), "weak", "rsa:1024");
        let (status, location, _) = upload(&weak);
        assert_eq!((status, location.as_str()), (303, "/me/certificate?error=csr"));
        let listed: serde_json::Value =
            serde_json::from_slice(&server.cli(&["--json", "cert", "list", "--user", "dora"]).stdout).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 0);

        // A good request: the certificate comes back, for dora, signed by the CA.
        let (good, key) = new_csr(dir.path(), "good", "ec");
        let (status, _, pem) = upload(&good);
        assert_eq!(status, 200);
        let cert = dir.path().join("dora.pem");
        std::fs::write(&cert, &pem).unwrap();
        openssl(&["verify", "-CAfile", server.ca_pem().to_str().unwrap(), cert.to_str().unwrap()]);
        let me = server.curl_json("/api/v1/whoami", &["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
        assert_eq!(me["user"], "dora");
        // Having one now, a second self-service issue is not allowed.
        let (status, location, _) = upload(&good);
        assert_eq!((status, location.as_str()), (303, "/me/certificate?error=not_allowed"));
    }
}
