//! What keeps attackers out (SPEC §1.10, §6, §12): lock-out, rate limits, access
//! rules, login protect and the tamper-evident audit log, against the real server.

use std::{
    path::Path,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

use integration_tests::*;
use serde_json::{json, Value};

fn server_with(dir: &TempDir, database: &TestDb, config: &str) -> TestServer {
    let file = dir.path().join("passgrid.toml");
    std::fs::write(&file, config).unwrap();
    TestServer::start_with_config(&dir.path().join("data"), database, &file, &[])
}

/// POST JSON from a chosen loopback source address; returns (status, headers, body).
fn post_from(
    server: &TestServer,
    source: &str,
    path: &str,
    body: &Value,
    jar: &Path,
) -> (u16, String, Value) {
    let headers = jar.with_extension("headers");
    let (status, text) = server.curl(
        path,
        &[
            "--interface",
            source,
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body.to_string(),
            "-b",
            jar.to_str().unwrap(),
            "-c",
            jar.to_str().unwrap(),
            "-D",
            headers.to_str().unwrap(),
        ],
    );
    let head = std::fs::read_to_string(&headers).unwrap_or_default();
    (
        status,
        head,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn start(server: &TestServer, user: &str, jar: &Path) -> (u16, Value) {
    post_json(server, "/api/v1/auth/start", &json!({ "user": user }), jar)
}

fn verify(server: &TestServer, start: &Value, otp: &str, jar: &Path) -> (u16, Value) {
    post_json(
        server,
        "/api/v1/auth/verify",
        &json!({ "challenge": start["challenge"], "otp": otp }),
        jar,
    )
}

/// A wrong OTP for a grid: every digit of the right one shifted.
fn wrong(otp: &str) -> String {
    otp.bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}

fn audit_log(server: &TestServer, database: &TestDb) -> String {
    database.sql(
        &server.data_dir,
        "SELECT action || ' ' || target || ' ' || outcome || ' ' || reason FROM audit_log ORDER BY id",
    )
}

on_both_databases! {
    fn lockout_after_n_failures_and_manual_unlock(db: Db) {
        let dir = TempDir::new("lockout");
        let database = TestDb::new(db);
        // 0 s: locked until an operator unlocks.
        let server = server_with(&dir, &database, "[auth]\nlockout_threshold = 3\nlockout_secs = 0\n");
        let jar = dir.path().join("jar.txt");
        let cells = add_user(&server, "alice");

        for _ in 0..3 {
            let (status, s) = start(&server, "alice", &jar);
            assert_eq!(status, 200, "{s}");
            let (status, v) = verify(&server, &s, &wrong(&otp_from(&s, &cells)), &jar);
            assert_eq!((status, v["error"].as_str()), (401, Some("authentication_failed")));
        }
        // Locked: no grid, whatever comes next.
        let (status, refused) = start(&server, "alice", &jar);
        assert_eq!((status, refused), (403, json!({"error": "account_locked"})));

        // An ID that does not exist locks the same way: the answer reveals nothing.
        for _ in 0..3 {
            let (_, s) = start(&server, "nobody-here", &jar);
            verify(&server, &s, "123456", &jar);
        }
        let (status, refused) = start(&server, "nobody-here", &jar);
        assert_eq!((status, refused), (403, json!({"error": "account_locked"})));

        // A grid handed out before the lock does not let the right OTP through.
        let dir2 = dir.path().join("jar2.txt");
        let cells_b = add_user(&server, "bob");
        let (_, early) = start(&server, "bob", &dir2);
        for _ in 0..3 {
            let (_, s) = start(&server, "bob", &jar);
            verify(&server, &s, &wrong(&otp_from(&s, &cells_b)), &jar);
        }
        let (status, v) = verify(&server, &early, &otp_from(&early, &cells_b), &dir2);
        assert_eq!((status, v), (403, json!({"error": "account_locked"})));

        let out = server.cli(&["--json", "user", "unlock", "alice"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v, json!({"id": "alice", "unlocked": true}));
        let (status, s) = start(&server, "alice", &jar);
        assert_eq!(status, 200, "{s}");
        let (status, ok) = verify(&server, &s, &otp_from(&s, &cells), &jar);
        assert_eq!(status, 200, "{ok}");

        // Unknown IDs cannot be "unlocked" from the command line: a clear error.
        let out = server.cli(&["user", "unlock", "nobody-here"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));

        let log = audit_log(&server, &database);
        assert!(log.contains("auth.lockout alice success 3 consecutive failures"), "{log}");
        assert!(log.contains("auth.refused alice failure locked until unlocked"), "{log}");
        assert!(log.contains("user.unlock alice success failures cleared"), "{log}");
    }
}

on_both_databases! {
    fn a_success_resets_the_count(db: Db) {
        let dir = TempDir::new("lockreset");
        let database = TestDb::new(db);
        let server = server_with(&dir, &database, "[auth]\nlockout_threshold = 3\n");
        let jar = dir.path().join("jar.txt");
        let cells = add_user(&server, "carol");
        for round in 0..3 {
            for _ in 0..2 {
                let (_, s) = start(&server, "carol", &jar);
                verify(&server, &s, &wrong(&otp_from(&s, &cells)), &jar);
            }
            let (status, s) = start(&server, "carol", &jar);
            assert_eq!(status, 200, "round {round}: {s}");
            let (status, ok) = verify(&server, &s, &otp_from(&s, &cells), &jar);
            assert_eq!(status, 200, "round {round}: {ok}");
        }
    }
}

#[test]
fn rate_limits_slow_one_address_across_ids_and_one_id_across_addresses() {
    let dir = TempDir::new("ratelimit");
    let database = TestDb::new(Db::Sqlite);
    let server = server_with(
        &dir,
        &database,
        "[auth]\nrate_limit_per_source = { burst = 5, per_minute = 6 }\n\
         rate_limit_per_user = { burst = 4, per_minute = 6 }\n",
    );
    let jar = dir.path().join("jar.txt");

    // Spraying IDs from one address: the sixth start in a row is refused.
    let mut answers = Vec::new();
    for i in 0..8 {
        let (status, head, body) = post_from(
            &server,
            "127.0.0.1",
            "/api/v1/auth/start",
            &json!({ "user": format!("spray{i}") }),
            &jar,
        );
        answers.push((status, head, body));
    }
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(
        ok,
        5,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let (status, head, body) = &answers[7];
    assert_eq!(*status, 429);
    assert_eq!(body["error"], "rate_limited");
    let retry: u64 = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {head}"));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(body["retry_after"], json!(retry));

    // One ID from many addresses: the fifth start is refused though each address is
    // fresh.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let (status, _, _) = post_from(
            &server,
            &format!("127.0.1.{}", i + 1),
            "/api/v1/auth/start",
            &json!({ "user": "target" }),
            &jar,
        );
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);

    // Others are not affected.
    let (status, _, _) = post_from(
        &server,
        "127.0.2.1",
        "/api/v1/auth/start",
        &json!({ "user": "someone" }),
        &jar,
    );
    assert_eq!(status, 200);
    let log = audit_log(&server, &database);
    assert!(
        log.contains("auth.refused target failure rate limited"),
        "{log}"
    );
}

/// Three-letter day names from today (UTC) on.
fn day_from_today(offset: u64) -> &'static str {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    // 1970-01-01 was a Thursday.
    ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days + offset) % 7) as usize]
}

#[test]
fn access_rules_refuse_other_networks_and_other_days_plainly() {
    let dir = TempDir::new("access");
    let database = TestDb::new(Db::Sqlite);
    // Today and tomorrow, so a test that runs over midnight still passes.
    let server = server_with(
        &dir,
        &database,
        &format!(
            "[auth]\nallowed_networks = [\"127.0.0.2/32\", \"::1\"]\n\
             allowed_hours = [\"{},{} 00:00-24:00\"]\ntime_zone = \"UTC\"\n",
            day_from_today(0),
            day_from_today(1)
        ),
    );
    let jar = dir.path().join("jar.txt");
    let cells = add_user(&server, "dave");
    let (status, _, body) = post_from(
        &server,
        "127.0.0.1",
        "/api/v1/auth/start",
        &json!({"user": "dave"}),
        &jar,
    );
    assert_eq!(
        (status, body),
        (403, json!({"error": "network_not_allowed"}))
    );
    let (status, _, s) = post_from(
        &server,
        "127.0.0.2",
        "/api/v1/auth/start",
        &json!({"user": "dave"}),
        &jar,
    );
    assert_eq!(status, 200, "{s}");
    let (status, _, ok) = post_from(
        &server,
        "127.0.0.2",
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells)}),
        &jar,
    );
    assert_eq!(status, 200, "{ok}");

    // The sign-in page says it in words.
    let (status, page) = server.curl("/login?error=network", &["-H", "Accept-Language: en"]);
    assert_eq!(status, 200);
    assert!(
        page.contains("Sign-in is not allowed from this network."),
        "{page}"
    );

    let log = audit_log(&server, &database);
    assert!(
        log.contains("auth.refused dave failure network not allowed"),
        "{log}"
    );
    server.stop();

    // Days that exclude today: refused at any network.
    let dir = TempDir::new("access-days");
    let server = server_with(
        &dir,
        &TestDb::new(Db::Sqlite),
        &format!(
            "[auth]\nallowed_hours = [\"{} 09:00-17:00\"]\ntime_zone = \"Asia/Tokyo\"\n",
            day_from_today(3)
        ),
    );
    let jar = dir.path().join("jar.txt");
    add_user(&server, "erin");
    let (status, _, body) = post_from(
        &server,
        "127.0.0.1",
        "/api/v1/auth/start",
        &json!({"user": "erin"}),
        &jar,
    );
    assert_eq!((status, body), (403, json!({"error": "time_not_allowed"})));
}

#[test]
fn bad_access_rules_stop_the_start_with_the_reason() {
    let dir = TempDir::new("badrules");
    let config = dir.path().join("passgrid.toml");
    for (rules, expect) in [
        ("allowed_hours = [\"Mon-Fry 08:00-19:00\"]", "Fry"),
        ("allowed_hours = [\"Mon 25:00-26:00\"]", "25:00"),
        ("time_zone = \"Mars/Olympus\"", "Mars/Olympus"),
        ("allowed_networks = [\"10.0.0.0/33\"]", "10.0.0.0/33"),
    ] {
        std::fs::write(&config, format!("[auth]\n{rules}\n")).unwrap();
        let out = Command::new(passgrid_bin())
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{rules} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{rules}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

on_both_databases! {
    fn login_protect_needs_a_window_from_a_signed_in_device(db: Db) {
        let dir = TempDir::new("protect");
        let database = TestDb::new(db);
        let server = server_with(&dir, &database, "[auth]\nlogin_protect = true\nlockout_threshold = 3\n");
        let phone = dir.path().join("phone.txt");
        let laptop = dir.path().join("laptop.txt");

        // First login (initial pattern): allowed without a window, there is no other
        // device yet. Then the user has their own pattern.
        let initial = add_user(&server, "frank");
        let (status, s) = start(&server, "frank", &phone);
        assert_eq!(status, 200, "{s}");
        let (status, ok) = verify(&server, &s, &otp_from(&s, &initial), &phone);
        assert_eq!(status, 200, "{ok}");
        let own = [3u64, 17, 22, 40, 41, 9];
        let out = server.cli(&["user", "set-pattern", "frank", "--cells", "3,17,22,40,41,9"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        // Without a window: refused before any OTP, and it never locks the user.
        for _ in 0..5 {
            let (status, refused) = start(&server, "frank", &laptop);
            assert_eq!((status, refused), (403, json!({"error": "login_protect"})));
        }

        // The phone (signed in) allows a sign-in now.
        let (status, page) = server.curl("/me", &["-b", phone.to_str().unwrap(), "-c", phone.to_str().unwrap()]);
        assert_eq!(status, 200);
        assert!(page.contains("allow-login"), "the portal offers the window");
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("csrf field")
            .to_string();
        let (status, _) = server.curl(
            "/me/login-window",
            &["-b", phone.to_str().unwrap(), "-c", phone.to_str().unwrap(), "--data", &format!("csrf={csrf}")],
        );
        assert_eq!(status, 303);

        let (status, s) = start(&server, "frank", &laptop);
        assert_eq!(status, 200, "{s}");
        let (status, ok) = verify(&server, &s, &otp_from(&s, &own), &laptop);
        assert_eq!(status, 200, "{ok}");
        // One window, one sign-in.
        let (status, refused) = start(&server, "frank", &laptop);
        assert_eq!((status, refused), (403, json!({"error": "login_protect"})));

        let log = audit_log(&server, &database);
        assert!(log.contains("auth.login_window frank success"), "{log}");
        assert!(log.contains("auth.refused frank failure login protect"), "{log}");
        assert!(!log.contains("auth.lockout frank"), "{log}");
    }
}

on_both_databases! {
    fn editing_one_audit_row_breaks_the_chain_and_names_it(db: Db) {
        let dir = TempDir::new("auditchain");
        let database = TestDb::new(db);
        let server = server_with(&dir, &database, "");
        let jar = dir.path().join("jar.txt");
        let cells = add_user(&server, "gina");
        for _ in 0..3 {
            let (_, s) = start(&server, "gina", &jar);
            verify(&server, &s, &otp_from(&s, &cells), &jar);
        }
        let out = server.cli(&["--json", "audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ok"], true);
        assert!(report["entries"].as_i64().unwrap() >= 4, "{report}");

        // Someone with database access turns a failure into a success.
        let id = database.sql(&server.data_dir, "SELECT MIN(id) FROM audit_log WHERE action = 'auth.login'");
        database.sql(&server.data_dir, &format!("UPDATE audit_log SET outcome = 'failure', reason = 'otp rejected' WHERE id = {id}"));
        let out = server.cli(&["audit", "verify"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("audit entry {id} ")), "{err}");

        // Put it back: intact again. Remove a row instead: the gap is named.
        database.sql(&server.data_dir, &format!("UPDATE audit_log SET outcome = 'success', reason = 'initial pattern' WHERE id = {id}"));
        let out = server.cli(&["audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let pos = database.sql(&server.data_dir, &format!("SELECT chain_seq FROM audit_log WHERE id = {id}"));
        database.sql(&server.data_dir, &format!("DELETE FROM audit_log WHERE id = {id}"));
        let out = server.cli(&["audit", "verify"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("chain position {pos} is missing")), "{err}");
    }
}

on_both_databases! {
    fn an_additional_phrase_goes_after_the_digits(db: Db) {
        let dir = TempDir::new("phrase");
        let database = TestDb::new(db);
        let server = server_with(&dir, &database, "[auth]\nphrase = \"after\"\nphrase_min_len = 4\nlockout_threshold = 0\n");
        let jar = dir.path().join("jar.txt");
        let j = jar.to_str().unwrap();
        let cells = add_user(&server, "kei");

        // No phrase yet: the digits alone, and the answer asks for one.
        let (_, s) = start(&server, "kei", &jar);
        let (status, ok) = verify(&server, &s, &otp_from(&s, &cells), &jar);
        assert_eq!(status, 200, "{ok}");
        assert_eq!(ok["must_set_phrase"], true);

        let (status, page) = server.curl("/me/phrase", &["-b", j, "-c", j]);
        assert_eq!(status, 200);
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        let headers = dir.path().join("h.txt");
        let post = |body: &str| {
            server.curl("/me/phrase", &["-b", j, "-c", j, "-D", headers.to_str().unwrap(), "--data", body]);
            std::fs::read_to_string(&headers).unwrap()
        };
        // A comma is not allowed, and two different phrases are refused: nothing saved.
        assert!(post(&format!("csrf={csrf}&phrase=ab%2Ccd&again=ab%2Ccd")).contains("error=phrase_character"));
        assert!(post(&format!("csrf={csrf}&phrase=moon%2342&again=moon%2343")).contains("error=phrase_mismatch"));
        assert!(post(&format!("csrf={csrf}&phrase=moon%2342&again=moon%2342")).contains("location: /me?phrase=1"));

        let try_login = |typed: String| {
            let (_, s) = start(&server, "kei", &jar);
            let typed = typed.replace("DIGITS", &otp_from(&s, &cells));
            verify(&server, &s, &typed, &jar).0
        };
        assert_eq!(try_login("DIGITSmoon#42".into()), 200);
        assert_eq!(try_login("DIGITS".into()), 401, "the phrase is needed now");
        assert_eq!(try_login("moon#42DIGITS".into()), 401, "after, not before");
        assert_eq!(try_login("DIGITSmoon#43".into()), 401);
        // Characters no phrase may hold are refused at the door.
        let (_, s) = start(&server, "kei", &jar);
        let (status, bad) = verify(&server, &s, "123456 moon", &jar);
        assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_otp")));

        let hash = database.sql(&server.data_dir, "SELECT hash FROM phrases WHERE user_id = 'kei'");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!server.server_log().contains("moon#42"));
    }
}

#[test]
fn a_lockout_is_mailed_to_the_user_and_the_administrators() {
    let dir = TempDir::new("lockmail");
    let maildir = dir.path().join("maildir");
    let sink = SmtpSink::start(&maildir);
    let database = TestDb::new(Db::Sqlite);
    let server = server_with(
        &dir,
        &database,
        &format!(
            "[auth]\nlockout_threshold = 2\nlockout_notify = true\n\n[mail]\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {}\nsecurity = \"none\"\nfrom = \"passgrid <passgrid@example.com>\"\n",
            sink.port
        ),
    );
    let out = server.cli(&["admin", "create", "boss", "--email", "boss@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.cli(&["--json", "user", "add", "luz", "--email", "luz@example.com"]);
    assert!(out.status.success());
    let jar = dir.path().join("jar.txt");
    for _ in 0..2 {
        let (_, s) = start(&server, "luz", &jar);
        verify(&server, &s, "000000", &jar);
    }
    // …and an unknown ID locks silently: nobody to tell.
    for _ in 0..2 {
        let (_, s) = start(&server, "nobody", &jar);
        verify(&server, &s, "000000", &jar);
    }
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = messages(&maildir);
        if mails.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mails_now = messages(&maildir);
    assert_eq!(mails_now.len(), 2, "{mails:?}");
    let to_user = mails_now
        .iter()
        .find(|m| m.0.contains("luz@example.com"))
        .expect("mail to the user");
    assert!(to_user.1.contains("was locked"), "{}", to_user.1);
    let to_admin = mails_now
        .iter()
        .find(|m| m.0.contains("boss@example.com"))
        .expect("mail to the admin");
    assert!(
        to_admin.1.contains("passgrid user unlock luz"),
        "{}",
        to_admin.1
    );
}
