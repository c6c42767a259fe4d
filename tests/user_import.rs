//! Users from CSV and back (SPEC §8.1, §13): `passgrid user import` applies a file
//! whole or not at all, a dry run only reports, bad input is named by line, and the
//! export cannot smuggle a spreadsheet formula.

use std::process::Command;

use integration_tests::*;
use serde_json::json;

fn cli_err(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn user_count(server: &TestServer) -> usize {
    let out = server.cli(&["user", "export"]);
    String::from_utf8_lossy(&out.stdout).lines().count() - 1
}

on_both_databases! {
    fn a_csv_is_applied_whole_or_not_at_all(db: Db) {
        let dir = TempDir::new("import");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let file = dir.path().join("users.csv");
        let mut csv = String::from("ユーザーID,氏名,メールアドレス,グループ\n");
        for i in 0..500 {
            csv.push_str(&format!("u{i:03},利用者 {i},u{i:03}@example.com,{}\n", if i % 2 == 0 { "sales" } else { "dev;ops" }));
        }
        std::fs::write(&file, &csv).unwrap();

        // A dry run reports and changes nothing.
        let report = cli_value(&server, &["user", "import", file.to_str().unwrap(), "--dry-run"]);
        assert_eq!(report["adds"].as_array().unwrap().len(), 500);
        assert_eq!(report["new_groups"], json!(["dev", "ops", "sales"]));
        assert_eq!(user_count(&server), 0);

        // One bad row among 500: nothing imported, the line named.
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, csv.replace("u250@example.com", "u250-at-example")).unwrap();
        let err = cli_err(&server, &["user", "import", bad.to_str().unwrap()]);
        assert!(err.contains("line 252") && err.contains("nothing imported"), "{err}");
        assert_eq!(user_count(&server), 0);

        let report = cli_value(&server, &["user", "import", file.to_str().unwrap()]);
        assert_eq!(report["adds"].as_array().unwrap().len(), 500);
        assert_eq!(user_count(&server), 500);
        let user = cli_value(&server, &["user", "show", "u001"]);
        assert_eq!((user["display_name"].as_str(), user["groups"].clone(), user["source"].as_str()),
                   (Some("利用者 1"), json!(["dev", "ops"]), Some("csv")));

        // Imported users have an initial pattern: the first-login flow works for them.
        let out = server.cli(&["user", "set-pattern", "u002", "--cells", "3,17,22,40,41,9"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        // The same file again changes nothing; a changed mail and group show up.
        let report = cli_value(&server, &["user", "import", file.to_str().unwrap(), "--dry-run"]);
        assert_eq!((report["adds"].as_array().unwrap().len(), report["unchanged"].as_u64()), (0, Some(500)));
        let changed = dir.path().join("changed.csv");
        std::fs::write(&changed, "id,email,groups,status\nu003,new3@example.com,dev;ops,\nu004,u004@example.com,sales,disabled\n").unwrap();
        let report = cli_value(&server, &["user", "import", changed.to_str().unwrap()]);
        assert_eq!(report["changes"], json!([
            {"line": 2, "id": "u003", "fields": ["email"]},
            {"line": 3, "id": "u004", "fields": ["status"]},
        ]));
        assert_eq!(cli_value(&server, &["user", "show", "u004"])["status"], "disabled");
    }
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    let dir = TempDir::new("import-bad");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Shift_JIS, as Japanese Excel saves it (made by Python's codec, not by passgrid).
    let sjis = dir.path().join("sjis.csv");
    let made = Command::new("python3")
        .args(["-c", "import sys; open(sys.argv[1], 'wb').write('id,name\\r\\nsato,佐藤 花子\\r\\n'.encode('shift_jis'))"])
        .arg(&sjis)
        .status()
        .unwrap();
    assert!(made.success());
    let sjis = sjis.to_str().unwrap();
    let err = cli_err(&server, &["user", "import", sjis]);
    assert!(
        err.contains("shift_jis"),
        "wrong encoding names the fix: {err}"
    );
    let report = cli_value(
        &server,
        &["user", "import", sjis, "--encoding", "shift_jis"],
    );
    assert_eq!(report["adds"][0]["id"], "sato");
    assert_eq!(
        cli_value(&server, &["user", "show", "sato"])["display_name"],
        "佐藤 花子"
    );

    let missing = write("missing.csv", b"name,email\nA,a@example.com\n");
    assert!(cli_err(&server, &["user", "import", &missing]).contains("id"));
    let unknown = write("unknown.csv", b"id,phone\nx,123\n");
    assert!(cli_err(&server, &["user", "import", &unknown]).contains("phone"));
    let dup = write("dup.csv", b"id,name\nann,A\nbea,B\nann,C\n");
    let err = cli_err(&server, &["user", "import", &dup]);
    assert!(err.contains("line 4") && err.contains("line 2"), "{err}");
    let big = dir.path().join("big.csv");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(51 * 1024 * 1024).unwrap();
    let err = cli_err(&server, &["user", "import", big.to_str().unwrap()]);
    assert!(err.contains("limit"), "{err}");
    assert!(
        cli_err(&server, &["user", "import", sjis, "--encoding", "latin1"]).contains("shift_jis")
    );
    // Only sato from the good file.
    assert_eq!(user_count(&server), 1);

    // Formula injection: a cell that a spreadsheet would run comes out inert.
    let evil = write(
        "evil.csv",
        "id,name\nmallory,=HYPERLINK(\"http://x\")\nmike,+1+1\nmo,@SUM(A1)\n".as_bytes(),
    );
    cli_value(&server, &["user", "import", &evil]);
    let out = dir.path().join("export.csv");
    let o = server.cli(&["user", "export", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(
        text.contains("'+1+1") && text.contains("'@SUM(A1)"),
        "{text}"
    );
    assert!(
        !text.contains(",=") && !text.contains(",+") && !text.contains(",@"),
        "{text}"
    );
}

#[test]
fn the_console_imports_over_the_api_with_the_same_rules() {
    let dir = TempDir::new("import-api");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let token = |id: &str, role: &str| admin_token(&server, id, role);
    let writer = token("ua", "user-admin");
    let reader = token("au", "auditor");
    let post = |token: &str, query: &str, body: &str| {
        let (status, text) = server.curl(
            &format!("/api/v1/admin/user-imports{query}"),
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {token}"),
                "-H",
                "Content-Type: text/csv",
                "--data-binary",
                body,
            ],
        );
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
        )
    };
    let good = "id,name,groups\nvera,Vera,ops\nwill,Will,\n";
    assert_eq!(post(&reader, "", good).0, 403);
    let (status, dry) = post(&writer, "?dry_run=true", good);
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["report"]["adds"].as_array().unwrap().len(), 2);
    assert_eq!(user_count(&server), 2, "only the two administrators so far");
    let (status, bad) = post(
        &writer,
        "",
        "id,email\nxena,xena@example.com\nyuri,broken\n",
    );
    assert_eq!(status, 400);
    assert!(bad["message"].as_str().unwrap().contains("line 3"), "{bad}");
    let (status, done) = post(&writer, "", good);
    assert_eq!(status, 200, "{done}");
    assert_eq!(user_count(&server), 4);

    // A file over the general 1 MiB body limit: imports are allowed up to 50 MiB.
    let mut big = String::from("id,name,email\n");
    for i in 0..30_000 {
        big.push_str(&format!(
            "big{i:05},Big User {i:05},big{i:05}@example.com\n"
        ));
    }
    assert!(big.len() > 1024 * 1024);
    let big_file = dir.path().join("big.csv");
    std::fs::write(&big_file, &big).unwrap();
    // HTTP/1.1: Debian's curl reports an early HTTP/2 answer to a body still being
    // sent as a framing error (see bad_input.rs).
    let upload = |file: &std::path::Path| {
        let (status, text) = server.curl(
            "/api/v1/admin/user-imports?dry_run=true",
            &[
                "--http1.1",
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {writer}"),
                "-H",
                "Content-Type: text/csv",
                "--data-binary",
                &format!("@{}", file.display()),
            ],
        );
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
        )
    };
    let (status, report) = upload(&big_file);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["report"]["adds"].as_array().unwrap().len(), 30_000);
    // Over 50 MiB: refused before it is read, with the reason; nothing changes.
    let huge_file = dir.path().join("huge.csv");
    let mut huge = big.into_bytes();
    while huge.len() <= 50 * 1024 * 1024 {
        let again = huge.clone();
        huge.extend_from_slice(&again[14..]);
    }
    std::fs::write(&huge_file, &huge).unwrap();
    let (status, refused) = upload(&huge_file);
    assert_eq!(
        (status, refused["error"].as_str()),
        (413, Some("too_large")),
        "{refused}"
    );
    assert_eq!(user_count(&server), 4);
}
