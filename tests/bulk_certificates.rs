//! Bulk certificate work (SPEC §2.9, §2.8): a job for chosen users or a filter, its
//! progress, the ZIP of PKCS#12 files with the password sheet (opened with openssl),
//! per-user results (an unknown or disabled user fails alone), bulk revocation, mail
//! through a relay that is down leaving no certificate behind, and the roles.

use std::io::Read;

use integration_tests::*;
use serde_json::{json, Value};

fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Vec<u8>) {
    let auth = format!("Authorization: Bearer {token}");
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "60",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(server.ca_pem())
        .args([
            "-X",
            method,
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
        ])
        .args(
            body.map(|b| vec!["--data-binary".to_string(), b.to_string()])
                .unwrap_or_default(),
        )
        .arg(server.url(path))
        .output()
        .expect("curl");
    let text = out.stdout;
    let cut = text.iter().rposition(|&b| b == b'\n').expect("status line");
    let status = String::from_utf8_lossy(&text[cut + 1..])
        .trim()
        .parse()
        .unwrap_or(0);
    (status, text[..cut].to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()))
}

/// Starts a job and waits until it has finished; returns its final view.
fn run_job(server: &TestServer, token: &str, body: &Value) -> Value {
    let (status, started) = send(server, "POST", "/api/v1/admin/cert-jobs", token, Some(body));
    let started = json_of(&started);
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let (status, view) = send(
            server,
            "GET",
            &format!("/api/v1/admin/cert-jobs/{id}"),
            token,
            None,
        );
        let view = json_of(&view);
        assert_eq!(status, 200, "{view}");
        assert!(view["done"].as_u64() <= view["total"].as_u64());
        if view["state"] == "finished" {
            assert_eq!(view["done"], view["total"]);
            return view;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("job {id} did not finish");
}

fn outcome_of(view: &Value, user: &str) -> (String, Value) {
    let r = view["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"] == user)
        .unwrap_or_else(|| panic!("{user} in {view}"));
    (r["outcome"].as_str().unwrap().to_string(), r.clone())
}

fn cert_states(server: &TestServer, user: &str) -> Vec<String> {
    let list = cli_value(server, &["cert", "list", "--user", user]);
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_string())
        .collect()
}

on_both_databases! {
    fn bulk_issue_download_and_revoke(db: Db) {
        let dir = TempDir::new("bulkcert");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let tokens = admin_tokens(&server, "1", &["admin", "user-admin", "operator", "auditor"]);
        let ua = tokens["user-admin"].clone();
        for i in 0..12 {
            cli_value(&server, &["user", "add", &format!("staff{i:02}"), "--name", &format!("=Staff {i}")]);
        }
        let (status, _) = send(&server, "PATCH", "/api/v1/admin/users/staff11", &ua, Some(&json!({"status": "disabled"})));
        assert_eq!(status, 200);

        // Roles: operators and auditors may not start certificate work.
        let ten: Vec<String> = (0..10).map(|i| format!("staff{i:02}")).collect();
        for role in ["operator", "auditor"] {
            let (status, _) = send(&server, "POST", "/api/v1/admin/cert-jobs", &tokens[role], Some(&json!({"action": "issue", "users": ten})));
            assert_eq!(status, 403, "{role}");
        }
        assert!(cert_states(&server, "staff00").is_empty(), "a refused job issues nothing");

        // Bad bodies are refused with a reason.
        for (body, why) in [
            (json!({"action": "issue"}), "no selection"),
            (json!({"action": "issue", "users": ["a"], "filter": {}}), "both"),
            (json!({"action": "explode", "users": ["staff00"]}), "unknown action"),
            (json!({"action": "issue", "users": ["staff00", "staff00"]}), "twice"),
            (json!({"action": "issue", "users": ["bad id!"]}), "bad id"),
            (json!({"action": "issue", "users": []}), "empty"),
            (json!({"action": "issue", "users": ["staff00"], "encoding": "rot13"}), "encoding"),
        ] {
            let (status, body) = send(&server, "POST", "/api/v1/admin/cert-jobs", &ua, Some(&body));
            assert_eq!(status, 400, "{why}: {}", String::from_utf8_lossy(&body));
        }

        // Issue for nine staff, an unknown ID and the disabled user.
        let mut chosen: Vec<String> = (0..9).map(|i| format!("staff{i:02}")).collect();
        chosen.push("ghost".into());
        chosen.push("staff11".into());
        let view = run_job(&server, &ua, &json!({"action": "issue", "users": chosen}));
        assert_eq!((view["total"].as_u64(), view["succeeded"].as_u64(), view["failed"].as_u64()), (Some(11), Some(9), Some(2)), "{view}");
        assert_eq!(outcome_of(&view, "ghost").1["error"], "no such user");
        assert_eq!(outcome_of(&view, "staff11").1["error"], "the user is disabled");
        assert!(cert_states(&server, "staff11").is_empty());
        assert_eq!(view["download"], "certificates.zip");
        let id = view["id"].as_str().unwrap();

        // Another administrator cannot see or take this job's download.
        let (status, _) = send(&server, "GET", &format!("/api/v1/admin/cert-jobs/{id}/download"), &tokens["admin"], None);
        assert_eq!(status, 404);
        let (status, zip_bytes) = send(&server, "GET", &format!("/api/v1/admin/cert-jobs/{id}/download"), &ua, None);
        assert_eq!(status, 200);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a ZIP");
        let mut names: Vec<String> = zip.file_names().map(|n| n.expect("a name").to_string()).collect();
        names.sort();
        let mut expect: Vec<String> = (0..9).map(|i| format!("staff{i:02}.p12")).collect();
        expect.push("passwords.csv".into());
        expect.push("passwords.html".into());
        expect.sort();
        assert_eq!(names, expect);
        let mut csv = String::new();
        zip.by_name("passwords.csv").unwrap().read_to_string(&mut csv).unwrap();
        let mut sheet = String::new();
        zip.by_name("passwords.html").unwrap().read_to_string(&mut sheet).unwrap();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 9, "{csv}");
        for row in rows {
            let cells: Vec<&str> = row.split(',').collect();
            let (user, name, file, serial, password) = (cells[0], cells[1], cells[2], cells[3], cells[4]);
            assert!(name.starts_with("'="), "formula cells are neutralised: {name}");
            assert!(sheet.contains(&format!("<td class=\"password\">{password}</td>")), "the sheet shows {user}'s password");
            let mut p12 = Vec::new();
            zip.by_name(file).unwrap().read_to_end(&mut p12).unwrap();
            let path = dir.path().join(file);
            std::fs::write(&path, &p12).unwrap();
            let out = openssl(&["pkcs12", "-in", path.to_str().unwrap(), "-passin", &format!("pass:{password}"), "-nokeys", "-clcerts"]);
            assert!(out.status.success(), "{user}: {}", String::from_utf8_lossy(&out.stderr));
            let pem = String::from_utf8_lossy(&out.stdout);
            assert!(pem.contains(&format!("CN = {user}")) || pem.contains(&format!("CN={user}")), "{pem}");
            let wrong = std::process::Command::new("openssl")
                .args(["pkcs12", "-in", path.to_str().unwrap(), "-passin", "pass:wrong", "-nokeys"])
                .output()
                .unwrap();
            assert!(!wrong.status.success(), "a wrong password opens nothing");
            assert_eq!(cert_states(&server, user), vec!["valid"], "{serial}");
        }

        // The user list filters by certificate state and counts valid certificates.
        let (_, list) = send(&server, "GET", "/api/v1/admin/users?cert=valid&limit=500", &ua, None);
        let list = json_of(&list);
        let ids: Vec<&str> = list["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
        assert_eq!(ids, (0..9).map(|i| format!("staff{i:02}")).collect::<Vec<_>>(), "{list}");
        assert_eq!(list["users"][0]["valid_certificates"], 1);
        let (_, list) = send(&server, "GET", "/api/v1/admin/users?cert=none&q=staff&limit=500", &ua, None);
        let ids: Vec<String> = json_of(&list)["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(ids, vec!["staff09", "staff10", "staff11"]);
        assert_eq!(send(&server, "GET", "/api/v1/admin/users?cert=maybe", &ua, None).0, 400);

        // Revoke by filter: every user whose ID contains "staff0" (staff00..staff09).
        let view = run_job(&server, &ua, &json!({"action": "revoke", "filter": {"q": "staff0"}}));
        assert_eq!(view["total"].as_u64(), Some(10), "{view}");
        assert_eq!(outcome_of(&view, "staff03").0, "revoked");
        assert_eq!(outcome_of(&view, "staff09").0, "skipped", "no certificate to revoke");
        assert_eq!(view["download"], Value::Null);
        for i in 0..9 {
            assert_eq!(cert_states(&server, &format!("staff{i:02}")), vec!["revoked"]);
        }
        // The revoked certificates are on the published CRL.
        let (status, crl) = send(&server, "GET", "/ca/crl.der", &ua, None);
        assert_eq!(status, 200);
        let crl_path = dir.path().join("ca.crl");
        std::fs::write(&crl_path, crl).unwrap();
        let out = openssl(&["crl", "-inform", "DER", "-in", crl_path.to_str().unwrap(), "-noout", "-text"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches("Serial Number").count(), 9, "{text}");

        // One certificate from the user's page: revoke by serial.
        let view = run_job(&server, &ua, &json!({"action": "issue", "users": ["staff10"]}));
        let serial = outcome_of(&view, "staff10").1["serials"][0].as_str().unwrap().to_string();
        let (_, shown) = send(&server, "GET", "/api/v1/admin/users/staff10", &ua, None);
        assert_eq!(json_of(&shown)["certificates"][0]["state"], "valid");
        let path = format!("/api/v1/admin/certificates/{serial}/revoke");
        for role in ["operator", "auditor"] {
            assert_eq!(send(&server, "POST", &path, &tokens[role], None).0, 403, "{role}");
        }
        assert_eq!(send(&server, "POST", "/api/v1/admin/certificates/not-hex!/revoke", &ua, None).0, 400);
        assert_eq!(send(&server, "POST", "/api/v1/admin/certificates/0abc/revoke", &ua, None).0, 404);
        assert_eq!(send(&server, "POST", &path, &ua, None).0, 200);
        assert_eq!(send(&server, "POST", &path, &ua, None).0, 409, "already revoked");
        assert_eq!(cert_states(&server, "staff10"), vec!["revoked"]);

        // Delete: a valid certificate is revoked first (it stays on the CRL until it
        // expires), then the user's certificates leave every list.
        run_job(&server, &ua, &json!({"action": "issue", "users": ["staff05"]}));
        assert_eq!(cert_states(&server, "staff05"), vec!["valid", "revoked"]);
        let view = run_job(&server, &ua, &json!({"action": "delete", "users": ["staff05", "staff11"]}));
        let (outcome, result) = outcome_of(&view, "staff05");
        assert_eq!((outcome.as_str(), result["serials"].as_array().unwrap().len()), ("deleted", 2), "{view}");
        assert_eq!(outcome_of(&view, "staff11").0, "skipped", "nothing to delete");
        assert!(cert_states(&server, "staff05").is_empty());
        let (_, crl) = send(&server, "GET", "/ca/crl.der", &ua, None);
        std::fs::write(&crl_path, crl).unwrap();
        let out = openssl(&["crl", "-inform", "DER", "-in", crl_path.to_str().unwrap(), "-noout", "-text"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).matches("Serial Number").count(), 11, "9 + staff10 + staff05's second");

        // All of it is in the audit log, by the administrator who did it.
        let audit = server.curl_json("/api/v1/admin/audit?actor=user-admin-1&limit=1000", &["-H", &format!("Authorization: Bearer {}", tokens["admin"])]);
        let entries = audit["entries"].as_array().unwrap();
        let count = |action: &str, outcome: &str| entries.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
        assert_eq!(count("cert.issue_p12", "success"), 11);
        assert_eq!(count("cert.delete", "success"), 1);
        assert_eq!(count("cert.issue_p12", "failure"), 2);
        assert_eq!(count("cert.revoke", "success"), 10);
        assert_eq!(count("cert.bulk", "success"), 5);
        assert_eq!(count("cert.bulk_download", "success"), 1);
    }
}

#[test]
fn mail_through_a_dead_relay_leaves_no_certificate() {
    let dir = TempDir::new("bulkmail");
    let maildir = dir.path().join("maildir");
    let sink = SmtpSink::start(&maildir);
    let dead = free_port();
    let config = dir.path().join("passgrid.toml");
    let write_config = |port: u16| {
        std::fs::write(
            &config,
            format!(
                "[serve]\npublic_url = \"https://passgrid.example\"\n\n[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\n\
                 security = \"none\"\nfrom = \"passgrid <passgrid@example.com>\"\n"
            ),
        )
        .unwrap();
    };
    let database = TestDb::new(Db::Sqlite);
    let data = dir.path().join("data");
    write_config(dead);
    let server = TestServer::start_with_config(&data, &database, &config, &[]);
    let token = admin_token(&server, "ua", "user-admin");
    for id in ["mia", "noah"] {
        cli_value(
            &server,
            &["user", "add", id, "--email", &format!("{id}@example.com")],
        );
    }
    cli_value(&server, &["user", "add", "nomail"]);
    let view = run_job(
        &server,
        &token,
        &json!({"action": "mail", "users": ["mia", "noah", "nomail"]}),
    );
    assert_eq!(view["failed"].as_u64(), Some(3), "{view}");
    assert!(outcome_of(&view, "mia").1["error"]
        .as_str()
        .unwrap()
        .starts_with("mail not sent"));
    assert_eq!(outcome_of(&view, "nomail").1["error"], "no mail address");
    for id in ["mia", "noah", "nomail"] {
        assert!(
            cert_states(&server, id).is_empty(),
            "{id}: an undelivered certificate is deleted"
        );
    }
    server.stop();

    // With the relay up, each user gets a link; the certificates wait behind them.
    write_config(sink.port);
    let server = TestServer::start_with_config(&data, &database, &config, &[]);
    let view = run_job(
        &server,
        &token,
        &json!({"action": "mail", "users": ["mia", "noah"]}),
    );
    assert_eq!(view["succeeded"].as_u64(), Some(2), "{view}");
    let mails = messages(&maildir);
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|(to, body)| to.contains("mia@example.com")
        && body.contains("https://passgrid.example/certificate?t=")));
    assert_eq!(cert_states(&server, "mia"), vec!["valid"]);

    // Print: one notice page per user, with the link and the password.
    let view = run_job(
        &server,
        &token,
        &json!({"action": "print", "users": ["nomail"]}),
    );
    assert_eq!(view["download"], "notices.html", "{view}");
    let (status, html) = send(
        &server,
        "GET",
        &format!(
            "/api/v1/admin/cert-jobs/{}/download",
            view["id"].as_str().unwrap()
        ),
        &token,
        None,
    );
    assert_eq!(status, 200);
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("nomail") && html.contains("https://passgrid.example/certificate?t="),
        "{html}"
    );
}
