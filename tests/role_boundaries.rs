//! Role boundaries (issue #13): no administrator acts on, or reads the secrets of, an
//! account at or above its own role (administrators on administrators excepted);
//! bulk jobs, imports and exports leave such accounts out and say so; nobody switches
//! off their own account or the last administrator; a sign-in that still owes its own
//! pattern gets no console. Every route that names an account is walked for every
//! caller role × every target role, from `/api/openapi.json`.

use integration_tests::*;
use serde_json::{json, Value};

const ROLES: [&str; 4] = ["admin", "user-admin", "operator", "auditor"];

/// The order of SPEC §9.1; a plain user is below everyone.
fn rank(role: Option<&str>) -> u8 {
    match role {
        Some("admin") => 4,
        Some("user-admin") => 3,
        Some("operator") => 2,
        Some("auditor") => 1,
        _ => 0,
    }
}

fn may_act_on(actor: &str, target: Option<&str>) -> bool {
    actor == "admin" || rank(Some(actor)) > rank(target)
}

/// An account with `role` (None: a plain user), named after the call it is for.
fn make_target(server: &TestServer, id: &str, role: Option<&str>) {
    match role {
        Some(role) => {
            cli_value(server, &["admin", "create", id, "--role", role]);
        }
        None => {
            cli_value(server, &["user", "add", id]);
        }
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

on_both_databases! {
    fn no_route_lets_a_role_act_on_an_account_at_or_above_it(db: Db) {
        let dir = TempDir::new("roles");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let tokens = admin_tokens(&server, "actor", &ROLES);
        let doc = server.curl_json("/api/openapi.json", &[]);
        let mut walked = 0;
        for (path, methods) in doc["paths"].as_object().expect("paths") {
            for (method, op) in methods.as_object().expect("methods") {
                let Some(target_kind) = op["x-passgrid-target"].as_str() else {
                    continue;
                };
                let allowed: Vec<&str> = op["x-passgrid-roles"]
                    .as_array()
                    .expect("roles")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                for actor in allowed.iter().copied() {
                    for target in [None, Some("auditor"), Some("operator"), Some("user-admin"), Some("admin")] {
                        walked += 1;
                        let id = format!("t{walked}");
                        make_target(&server, &id, target);
                        let url = match target_kind {
                            "user" => path.replace("{id}", &id),
                            "certificate-holder" => {
                                let (cert, _) = issue_client_cert_for(&server, dir.path(), &id);
                                path.replace("{serial}", &serial_of(&cert))
                            }
                            other => panic!("unknown target kind {other}"),
                        };
                        let body = match (method.as_str(), path.as_str()) {
                            ("patch", _) => Some(json!({"name": "Renamed"})),
                            _ => None,
                        };
                        let (status, text) = api(
                            &server,
                            &method.to_uppercase(),
                            &url,
                            Some(&tokens[actor]),
                            body.as_ref(),
                        );
                        let expected_refused = !may_act_on(actor, target);
                        assert_eq!(
                            status == 403,
                            expected_refused,
                            "{actor} {method} {path} on a {target:?}: {status} {text}"
                        );
                        if expected_refused {
                            // Nothing of the account changed or came back.
                            assert!(!text.contains("cells"), "{text}");
                            let shown = cli_value(&server, &["user", "show", &id]);
                            assert_ne!(shown["display_name"], "Renamed", "{actor} {method} {path}");
                        }
                    }
                }
            }
        }
        // Every kind of route that names an account was walked.
        assert!(walked >= 5 * 10, "walked {walked}");
    }
}

/// A certificate for `user` (who exists already) from a CSR.
fn issue_client_cert_for(
    server: &TestServer,
    dir: &std::path::Path,
    user: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (csr, key) = new_csr(dir, user, "ec");
    let cert = dir.join(format!("{user}.pem"));
    let out = server.cli(&[
        "cert",
        "issue",
        user,
        "--csr",
        csr.to_str().unwrap(),
        "--out",
        cert.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "cert issue: {}", stderr(&out));
    (cert, key)
}

fn serial_of(cert: &std::path::Path) -> String {
    let out = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-serial"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.trim()
        .trim_start_matches("serial=")
        .to_ascii_lowercase()
        .trim_start_matches("00")
        .to_string()
}

on_both_databases! {
    fn the_escalations_of_the_report_are_refused(db: Db) {
        let dir = TempDir::new("escalation");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let boss = admin_token(&server, "boss", "admin");
        cli_value(&server, &["admin", "create", "chief", "--role", "admin"]);
        let operator = admin_token(&server, "op", "operator");
        let user_admin = admin_token(&server, "ua", "user-admin");
        // 1. An operator takes no initial pattern of an administrator.
        let (status, text) = api(&server, "POST", "/api/v1/admin/users/chief/initial-pattern", Some(&operator), None);
        assert_eq!(status, 403, "{text}");
        assert!(!text.contains("cells"));
        // A user admin changes, disables and deletes no administrator.
        for (method, body) in [
            ("PATCH", Some(json!({"email": "evil@example.com"}))),
            ("PATCH", Some(json!({"status": "disabled"}))),
            ("DELETE", None),
        ] {
            let (status, text) = api(&server, method, "/api/v1/admin/users/chief", Some(&user_admin), body.as_ref());
            assert_eq!(status, 403, "{method} {text}");
        }
        let chief = cli_value(&server, &["user", "show", "chief"]);
        assert_eq!(chief["status"], "active");
        assert!(chief["email"].is_null());
        // A bulk job of a user admin that names administrators skips them and says why;
        // nothing of theirs is in the download.
        cli_value(&server, &["user", "add", "plain1"]);
        let (status, text) = api(
            &server,
            "POST",
            "/api/v1/admin/cert-jobs",
            Some(&user_admin),
            Some(&json!({"action": "issue", "users": ["plain1", "chief", "boss"]})),
        );
        assert_eq!(status, 202, "{text}");
        let job = json_of(&text)["id"].as_str().unwrap().to_string();
        let report = wait_for_job(&server, &user_admin, &job);
        let failed: Vec<&str> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "failed")
            .map(|r| r["user"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["chief", "boss"], "{report}");
        assert!(report["results"].to_string().contains("at or above your role"));
        // A CSV import (by an administrator even) rewrites no administrator's name or mail.
        let csv = "id,name,email\nchief,Mallory,mallory@example.com\nplain2,Plain Two,p2@example.com\n";
        let (status, text) = server.curl(
            "/api/v1/admin/user-imports",
            &["-X", "POST", "-H", &format!("Authorization: Bearer {boss}"), "-H", "Content-Type: text/csv", "--data-binary", csv],
        );
        assert_eq!(status, 200, "{text}");
        let report = json_of(&text)["report"].clone();
        assert_eq!(report["conflicts"][0]["id"], "chief", "{report}");
        assert_eq!(report["adds"].as_array().unwrap().len(), 1);
        let chief = cli_value(&server, &["user", "show", "chief"]);
        assert_ne!(chief["display_name"], "Mallory");
        // An export by a user admin leaves the administrators out.
        let (status, csv) = api(&server, "GET", "/api/v1/admin/user-exports", Some(&user_admin), None);
        assert_eq!(status, 200);
        assert!(!csv.contains("\nchief,") && !csv.contains("\nboss,"), "{csv}");
        assert!(csv.contains("\nplain1,"), "{csv}");
        // Nobody switches off their own account or the last administrator.
        let (status, text) = api(&server, "PATCH", "/api/v1/admin/users/boss", Some(&boss), Some(&json!({"status": "disabled"})));
        assert_eq!((status, json_of(&text)["error"].clone()), (400, json!("own_account")));
        let (status, _) = api(&server, "PATCH", "/api/v1/admin/users/chief", Some(&boss), Some(&json!({"status": "disabled"})));
        assert_eq!(status, 200, "boss stays: chief may go");
        let chief_token = admin_token(&server, "chief2", "admin");
        let (status, _) = api(&server, "DELETE", "/api/v1/admin/users/chief2", Some(&boss), None);
        assert_eq!(status, 204);
        let (status, text) = api(&server, "DELETE", "/api/v1/admin/users/boss", Some(&chief_token), None);
        assert_eq!(status, 401, "chief2 is gone with its token: {text}");
    }
}

fn wait_for_job(server: &TestServer, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let (status, text) = api(
            server,
            "GET",
            &format!("/api/v1/admin/cert-jobs/{id}"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{text}");
        let v = json_of(&text);
        if v["state"] != "running" {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("job {id} did not finish");
}

on_both_databases! {
    fn a_directory_source_changes_only_its_own_users(db: Db) {
        let dir = TempDir::new("own-users");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        cli_value(&server, &["admin", "create", "root", "--role", "admin", "--email", "root@example.com"]);
        cli_value(&server, &["user", "add", "local1", "--name", "Local One"]);
        let drop = dir.path().join("drop");
        std::fs::create_dir_all(&drop).unwrap();
        cli_value(&server, &["sync", "add-csv", "hr", "--folder", drop.to_str().unwrap()]);
        std::fs::write(
            drop.join("people.csv"),
            "id,name,email,status\nroot,Mallory,mallory@example.com,disabled\nlocal1,Changed,l1@example.com,active\nnew1,New One,n1@example.com,active\n",
        )
        .unwrap();
        // Settled: written a while ago (a file still being written waits for a later run).
        let aged = std::process::Command::new("touch")
            .args(["-d", "10 seconds ago"])
            .arg(drop.join("people.csv"))
            .status()
            .unwrap();
        assert!(aged.success());
        let run = cli_value(&server, &["sync", "run", "hr"]);
        let conflicts: Vec<&str> = run["conflicts"].as_array().expect("conflicts").iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(conflicts, ["root", "local1"], "{run}");
        let root = cli_value(&server, &["user", "show", "root"]);
        assert_eq!((root["display_name"].as_str(), root["status"].as_str(), root["email"].as_str()), (Some(""), Some("active"), Some("root@example.com")), "{root}");
        assert_eq!(cli_value(&server, &["user", "show", "local1"])["display_name"], "Local One");
        assert_eq!(cli_value(&server, &["user", "show", "new1"])["source"], "csv:hr");
    }
}
