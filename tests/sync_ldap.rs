//! LDAP / Active Directory sync (issue #7) against a real slapd (Debian package) on
//! loopback with 2,500 users and a server size limit of 1,000: only paging gets them
//! all. Changes, removals and group moves show on the next run; failures and a filter
//! that matches nobody change nothing.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use integration_tests::*;
use serde_json::Value;

/// scripts/slapd-fixture.sh, stopped on drop.
struct Slapd {
    dir: PathBuf,
    port: u16,
}

impl Slapd {
    /// On a port P with P+1 (its ldaps port) free too, retried on a clash: another
    /// process may take a port between the probe and slapd's bind.
    fn start(dir: &Path, users: u32) -> Slapd {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slapd-fixture.sh");
        let mut last = String::new();
        for attempt in 0..5 {
            let port = free_port();
            if std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_err() {
                continue;
            }
            let at = dir.join(format!("slapd-{attempt}"));
            let out = Command::new("bash")
                .arg(&script)
                .args([
                    "start",
                    at.to_str().unwrap(),
                    &port.to_string(),
                    &users.to_string(),
                ])
                .output()
                .expect("run slapd-fixture.sh");
            if out.status.success() {
                return Slapd { dir: at, port };
            }
            last = String::from_utf8_lossy(&out.stderr).to_string();
            let _ = Command::new("bash")
                .arg(&script)
                .args(["stop", at.to_str().unwrap()])
                .output();
        }
        panic!("slapd fixture did not start: {last}");
    }

    fn stop(&self) {
        let _ = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slapd-fixture.sh"))
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Changes the directory as its administrator would (ldapmodify/ldapdelete).
    fn admin(&self, tool: &str, input: &str) {
        let mut child = Command::new(tool)
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                "cn=admin,dc=example,dc=com",
                "-w",
                "adminpw",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ldap-utils");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "{tool} {input}");
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn cli_json(server: &TestServer, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = server.cli(&all);
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn show(server: &TestServer, id: &str) -> Value {
    let (ok, v, err) = cli_json(server, &["user", "show", id]);
    assert!(ok, "{id}: {err}");
    v
}

fn disabled_count(server: &TestServer, db: &TestDb) -> String {
    db.sql(
        &server.data_dir,
        "SELECT COUNT(*) FROM users WHERE status = 'disabled'",
    )
}

on_both_databases! {
    fn a_directory_syncs_whole_and_changes_show_on_the_next_run(db: Db) {
        let dir = TempDir::new("ldap");
        let slapd = Slapd::start(&dir.path().join("slapd"), 2500);
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let pw = dir.path().join("bind.pw");
        std::fs::write(&pw, "readerpw\n").unwrap();
        let add = |name: &str, extra: &[&str]| {
            let url = slapd.url();
            let mut args = vec![
                "sync", "add-ldap", name, "--url", &url, "--bind-dn", "cn=reader,dc=example,dc=com",
                "--bind-password-file", pw.to_str().unwrap(), "--base", "ou=people,dc=example,dc=com",
                "--group-attr", "passgridGroup", "--timeout", "5",
            ];
            args.extend_from_slice(extra);
            cli_json(&server, &args)
        };
        let (ok, _, err) = add("corp", &["--filter", "(objectClass=inetOrgPerson)"]);
        assert!(ok, "{err}");
        // A malformed filter is refused when the source is added.
        let (ok, _, err) = add("broken", &["--filter", "(uid="]);
        assert!(!ok && err.contains("--filter"), "{err}");

        // A dry run reports all 2,500 and changes nothing.
        let (ok, dry, err) = cli_json(&server, &["sync", "run", "corp", "--dry-run"]);
        assert!(ok, "{err}");
        assert_eq!(dry["adds"], 2500);
        assert!(!server.cli(&["user", "show", "user00001"]).status.success());

        let (ok, first, err) = cli_json(&server, &["sync", "run", "corp"]);
        assert!(ok, "{err}");
        assert_eq!((first["adds"].as_i64(), first["outcome"].as_str()), (Some(2500), Some("applied")));
        let u = show(&server, "user00003");
        assert_eq!((u["display_name"].as_str(), u["email"].as_str(), u["source"].as_str()),
                   (Some("User 00003"), Some("user00003@example.com"), Some("ldap:corp")));
        assert_eq!(u["groups"], serde_json::json!(["sales"]));
        assert_eq!(show(&server, "user00004")["groups"], serde_json::json!(["Support, EMEA", "dev"]));

        // A second run with no changes changes nothing.
        let (ok, again, _) = cli_json(&server, &["sync", "run", "corp"]);
        assert!(ok);
        assert_eq!((again["adds"].as_i64(), again["changes"].as_i64(), again["outcome"].as_str()), (Some(0), Some(0), Some("unchanged")));

        // The directory changes: a new mail, a removed person, a move out of a group.
        slapd.admin("ldapmodify", "dn: uid=user00005,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: mail\nmail: five@example.com\n");
        slapd.admin("ldapdelete", "uid=user00006,ou=people,dc=example,dc=com\n");
        slapd.admin("ldapmodify", "dn: uid=user00003,ou=people,dc=example,dc=com\nchangetype: modify\ndelete: passgridGroup\n");
        let (ok, next, err) = cli_json(&server, &["sync", "run", "corp"]);
        assert!(ok, "{err}");
        assert_eq!((next["adds"].as_i64(), next["changes"].as_i64(), next["disables"].as_i64()), (Some(0), Some(2), Some(1)), "{next}");
        assert_eq!(show(&server, "user00005")["email"], "five@example.com");
        assert_eq!(show(&server, "user00006")["status"], "disabled", "disabled, not deleted");
        assert_eq!(show(&server, "user00003")["groups"], serde_json::json!([]));

        // A filter that matches nobody would disable everyone: refused, nothing changed.
        let before = disabled_count(&server, &database);
        let (ok, _, err) = cli_json(&server, &["sync", "set", "corp", "--filter", "(uid=nobody-at-all)"]);
        assert!(ok, "{err}");
        let (ok, _, err) = cli_json(&server, &["sync", "run", "corp"]);
        assert!(!ok, "refused");
        assert!(err.contains("would disable 2499") && err.contains("20 %"), "{err}");
        assert_eq!(disabled_count(&server, &database), before);
        let (ok, _, err) = cli_json(&server, &["sync", "set", "corp", "--filter", "(objectClass=inetOrgPerson)"]);
        assert!(ok, "{err}");

        // A wrong bind password and a directory that is down: clear errors, nothing changed.
        let wrong = dir.path().join("wrong.pw");
        std::fs::write(&wrong, "not-the-password\n").unwrap();
        let (ok, _, err) = cli_json(&server, &["sync", "add-ldap", "corp-wrongpw", "--url", &slapd.url(), "--bind-dn",
            "cn=reader,dc=example,dc=com", "--bind-password-file", wrong.to_str().unwrap(), "--base", "ou=people,dc=example,dc=com"]);
        assert!(ok, "{err}");
        let (ok, _, err) = cli_json(&server, &["sync", "run", "corp-wrongpw"]);
        assert!(!ok && err.to_lowercase().contains("bind"), "{err}");
        assert!(!err.contains("not-the-password"));
        slapd.stop();
        let (ok, _, err) = cli_json(&server, &["sync", "run", "corp"]);
        assert!(!ok, "a run against a stopped directory fails");
        assert!(err.contains("127.0.0.1"), "{err}");
        assert_eq!(disabled_count(&server, &database), before, "nothing disabled");
        let (_, list, _) = cli_json(&server, &["sync", "list"]);
        let corp = list.as_array().unwrap().iter().find(|s| s["name"] == "corp").unwrap().clone();
        assert_eq!(corp["last_run"]["outcome"], "failed");
        let log = database.sql(&server.data_dir, "SELECT reason FROM audit_log WHERE action = 'sync.run' AND outcome = 'failure'");
        assert!(log.contains("refused") && log.contains("failed"), "{log}");
    }
}
