//! CSV folder watch (issue #7): files dropped into a folder are applied by `passgrid
//! sync run` (and the schedule) with the rules of `user import`, then filed under
//! done/ or failed/ with a report; a file still being written is left alone.

use std::{path::Path, process::Command, time::Duration};

use integration_tests::*;
use serde_json::Value;

fn cli(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = server.cli(args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn user_exists(server: &TestServer, id: &str) -> bool {
    server.cli(&["user", "show", id]).status.success()
}

/// Sets a file's modification time into the past, as if written a while ago.
fn age(path: &Path) {
    let status = Command::new("touch")
        .args(["-d", "10 seconds ago"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn dropped_files_are_applied_whole_and_filed_with_a_report() {
    let dir = TempDir::new("synccsv");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let inbox = dir.path().join("inbox");
    let sjis_inbox = dir.path().join("inbox-sjis");

    // A folder that does not exist: refused when added.
    let (ok, _, err) = cli(
        &server,
        &["sync", "add-csv", "hr", "--folder", inbox.to_str().unwrap()],
    );
    assert!(!ok && err.contains("--folder"), "{err}");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::create_dir_all(&sjis_inbox).unwrap();
    let (ok, _, err) = cli(
        &server,
        &[
            "sync",
            "add-csv",
            "hr",
            "--folder",
            inbox.to_str().unwrap(),
            "--interval",
            "5m",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &server,
        &[
            "sync",
            "add-csv",
            "hr-jp",
            "--folder",
            sjis_inbox.to_str().unwrap(),
            "--encoding",
            "shift_jis",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &server,
        &[
            "sync",
            "add-csv",
            "x",
            "--folder",
            inbox.to_str().unwrap(),
            "--interval",
            "10s",
        ],
    );
    assert!(!ok && err.contains("interval"), "{err}");

    std::fs::write(
        inbox.join("a-good.csv"),
        "id,name,email,groups\nnina,Nina,nina@example.com,sales\nomar,Omar,,dev\n",
    )
    .unwrap();
    std::fs::write(
        inbox.join("b-bad.csv"),
        "id,name,email\npia,Pia,pia@example.com\nquinn,Quinn,not-a-mail\n",
    )
    .unwrap();
    age(&inbox.join("a-good.csv"));
    age(&inbox.join("b-bad.csv"));
    // A file still being written (just modified) waits for a later run.
    std::fs::write(inbox.join("c-fresh.csv"), "id\nrene\n").unwrap();

    let (ok, out, err) = cli(&server, &["--json", "sync", "run", "hr"]);
    assert!(ok, "{err}");
    let run: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(run["adds"], 2, "{run}");
    assert!(user_exists(&server, "nina") && user_exists(&server, "omar"));
    assert!(
        !user_exists(&server, "pia") && !user_exists(&server, "quinn"),
        "the bad file applied nothing"
    );
    assert!(!user_exists(&server, "rene"));
    assert!(inbox.join("done/a-good.csv").is_file());
    let report = std::fs::read_to_string(inbox.join("failed/b-bad.csv.report.txt")).unwrap();
    assert!(
        report.contains("line 3") && report.contains("nothing applied"),
        "{report}"
    );
    assert!(inbox.join("c-fresh.csv").is_file(), "left for the next run");
    let user: Value =
        serde_json::from_slice(&server.cli(&["--json", "user", "show", "nina"]).stdout).unwrap();
    assert_eq!(user["source"], "csv:hr");

    // A minute later (here: once it has settled) the fresh file is applied too.
    std::thread::sleep(Duration::from_millis(1100));
    let (ok, _, err) = cli(&server, &["sync", "run", "hr"]);
    assert!(ok, "{err}");
    assert!(user_exists(&server, "rene"));

    // Shift_JIS, as Japanese Excel saves it (bytes made by Python's codec).
    let sjis = sjis_inbox.join("jp.csv");
    let made = Command::new("python3")
        .args(["-c", "import sys; open(sys.argv[1], 'wb').write('ユーザーID,氏名\\r\\ntanaka,田中 一郎\\r\\n'.encode('shift_jis'))"])
        .arg(&sjis)
        .status()
        .unwrap();
    assert!(made.success());
    age(&sjis);
    let (ok, _, err) = cli(&server, &["sync", "run", "hr-jp"]);
    assert!(ok, "{err}");
    let user: Value =
        serde_json::from_slice(&server.cli(&["--json", "user", "show", "tanaka"]).stdout).unwrap();
    assert_eq!(user["display_name"], "田中 一郎");

    let (ok, out, _) = cli(&server, &["--json", "sync", "list"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["name"], "hr");
    assert_eq!(list[0]["last_run"]["outcome"], "applied");
    let log = database.sql(
        &server.data_dir,
        "SELECT action || ' ' || target || ' ' || reason FROM audit_log WHERE action = 'sync.run'",
    );
    assert!(log.contains("sync.run hr applied: 2 added"), "{log}");

    // The same from the administrators' API: sources with their runs, and "run now"
    // for administrators only.
    let token = |id: &str, role: &str| admin_token(&server, id, role);
    let admin = token("boss", "admin");
    let operator = token("op", "operator");
    let (status, body) = server.curl(
        "/api/v1/admin/sync",
        &["-H", &format!("Authorization: Bearer {admin}")],
    );
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    let hr = listed["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "hr")
        .unwrap()
        .clone();
    assert!(hr["runs"].as_array().unwrap().len() >= 2);
    assert_eq!(
        server
            .curl(
                "/api/v1/admin/sync",
                &["-H", &format!("Authorization: Bearer {operator}")]
            )
            .0,
        403
    );
    let (status, body) = server.curl(
        "/api/v1/admin/sync/hr/run?dry_run=true",
        &[
            "-X",
            "POST",
            "-H",
            &format!("Authorization: Bearer {admin}"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["run"]["outcome"], "dry-run");
    assert_eq!(
        server
            .curl(
                "/api/v1/admin/sync/nope/run",
                &[
                    "-X",
                    "POST",
                    "-H",
                    &format!("Authorization: Bearer {admin}")
                ]
            )
            .0,
        404
    );
}

#[test]
fn sources_are_added_and_changed_over_the_api_with_the_cli_checks() {
    let dir = TempDir::new("sync-api");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let token = |id: &str, role: &str| admin_token(&server, id, role);
    let admin = token("adm", "admin");
    let user_admin = token("ua", "user-admin");
    let send = |token: &str, method: &str, path: &str, body: serde_json::Value| {
        let auth = format!("Authorization: Bearer {token}");
        let body = body.to_string();
        let (status, text) = server.curl(
            path,
            &[
                "--http1.1",
                "-X",
                method,
                "-H",
                &auth,
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body,
            ],
        );
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or(serde_json::Value::String(text)),
        )
    };
    let folder = dir.path().join("drop");
    std::fs::create_dir(&folder).unwrap();
    let csv =
        serde_json::json!({"name": "drop", "kind": "csv", "folder": folder, "interval": "10m"});
    assert_eq!(
        send(&user_admin, "POST", "/api/v1/admin/sync", csv.clone()).0,
        403
    );
    let (status, err) = send(
        &admin,
        "POST",
        "/api/v1/admin/sync",
        serde_json::json!({"name": "drop", "kind": "csv", "folder": dir.path().join("nowhere")}),
    );
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap().contains("not a directory"),
        "{err}"
    );
    assert_eq!(
        send(&admin, "POST", "/api/v1/admin/sync", csv.clone()).0,
        201
    );
    let (status, err) = send(&admin, "POST", "/api/v1/admin/sync", csv);
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("exists"), "{err}");

    // LDAP: every field checked before anything is stored.
    let ldap = |extra: serde_json::Value| {
        let mut body = serde_json::json!({"name": "corp", "kind": "ldap", "url": "ldap://127.0.0.1:1",
            "bind_dn": "cn=reader,dc=example,dc=com", "bind_password": "s3cret-bind", "base": "dc=example,dc=com"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        send(&admin, "POST", "/api/v1/admin/sync", body)
    };
    for (extra, needle) in [
        (
            serde_json::json!({"filter": "(objectClass=person"}),
            "filter",
        ),
        (serde_json::json!({"bind_password": ""}), "bind_password"),
        (serde_json::json!({"url": "http://dc"}), "http"),
        (serde_json::json!({"ca_pem": "not a certificate"}), "PEM"),
        (serde_json::json!({"map": "id=uid,Colour=blue"}), "Colour"),
        (serde_json::json!({"interval": "5 minutes"}), "interval"),
    ] {
        let (status, err) = ldap(extra.clone());
        assert_eq!(status, 400, "{extra}: {err}");
        assert!(err.to_string().contains(needle), "{extra}: {err}");
    }
    let (status, made) = ldap(serde_json::json!({"map": "id=uid", "group_attr": "memberOf"}));
    assert_eq!(status, 201, "{made}");
    let (_, list) = send(&admin, "GET", "/api/v1/admin/sync", serde_json::json!({}));
    let text = list.to_string();
    assert!(text.contains("corp") && text.contains("drop"), "{text}");
    assert!(
        !text.contains("s3cret-bind"),
        "the bind password is never shown"
    );

    // Changes: interval, limit, filter (LDAP only); unknown source 404.
    assert_eq!(
        send(
            &admin,
            "PATCH",
            "/api/v1/admin/sync/corp",
            serde_json::json!({"interval": "1h", "max_disable_percent": 5, "filter": "(uid=*)"})
        )
        .0,
        200
    );
    assert_eq!(
        send(
            &admin,
            "PATCH",
            "/api/v1/admin/sync/drop",
            serde_json::json!({"filter": "(uid=*)"})
        )
        .0,
        400
    );
    assert_eq!(
        send(
            &admin,
            "PATCH",
            "/api/v1/admin/sync/corp",
            serde_json::json!({"max_disable_percent": 101})
        )
        .0,
        400
    );
    assert_eq!(
        send(
            &admin,
            "PATCH",
            "/api/v1/admin/sync/nothing",
            serde_json::json!({"interval": "1h"})
        )
        .0,
        404
    );
    let sources = cli_value(&server, &["sync", "list"]);
    let corp = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "corp")
        .unwrap()
        .clone();
    assert_eq!(
        (
            corp["interval_secs"].as_i64(),
            corp["max_disable_percent"].as_i64()
        ),
        (Some(3600), Some(5)),
        "{corp}"
    );
}
