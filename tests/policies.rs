//! Policies (SPEC §7, §13): `passgrid policy …` and the admin API against the real
//! server; a user's group policy decides their lock-out, certificate requirement,
//! login method and session lifetime while other users keep the default.

use std::collections::HashMap;

use integration_tests::*;
use serde_json::{json, Value};

fn cli_fails(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

fn policy_names(server: &TestServer) -> Vec<String> {
    cli_value(server, &["policy", "list"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn start(server: &TestServer, user: &str, jar: &std::path::Path, device: &[&str]) -> (u16, Value) {
    post_json_with(
        server,
        "/api/v1/auth/start",
        &json!({ "user": user }),
        jar,
        device,
    )
}

/// A wrong OTP for a grid: every digit of the right one shifted.
fn wrong(otp: &str) -> String {
    otp.bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}

/// Starts a login for `user` and answers it wrongly.
fn fail_once(server: &TestServer, user: &str, cells: &[u64], jar: &std::path::Path) {
    let (status, s) = start(server, user, jar, &[]);
    assert_eq!(status, 200, "{user}: {s}");
    let otp = wrong(&otp_from(&s, cells));
    let (status, v) = post_json(
        server,
        "/api/v1/auth/verify",
        &json!({ "challenge": s["challenge"], "otp": otp }),
        jar,
    );
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("authentication_failed"))
    );
}

on_both_databases! {
    fn the_cli_validates_whole_and_the_highest_group_policy_wins(db: Db) {
        let dir = TempDir::new("policy_cli");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);

        // A bad value, an unknown key, a bad network: one line naming the key, nothing stored.
        let err = cli_fails(&server, &["policy", "set", "strict", "lockout_threshold=abc"]);
        assert!(err.contains("lockout_threshold"), "{err}");
        let err = cli_fails(&server, &["policy", "set", "strict", "lockout_threshold=2", "lockout_treshold=3"]);
        assert!(err.contains("lockout_treshold"), "{err}");
        let err = cli_fails(&server, &["policy", "set", "strict", "require_certificate=true", "allowed_networks=10.0.0.0/33"]);
        assert!(err.contains("allowed_networks"), "{err}");
        assert_eq!(policy_names(&server), ["default"]);

        cli_value(&server, &["group", "add", "sales"]);
        cli_value(&server, &["group", "add", "support"]);
        cli_value(&server, &["policy", "set", "low", "lockout_threshold=4"]);
        cli_value(&server, &["policy", "set", "high", "lockout_threshold=2", "session_idle_secs=600"]);
        let err = cli_fails(&server, &["policy", "attach", "high", "--group", "nowhere", "--priority", "1"]);
        assert!(err.contains("nowhere"), "{err}");
        cli_value(&server, &["policy", "attach", "low", "--group", "support", "--priority", "10"]);
        cli_value(&server, &["policy", "attach", "high", "--group", "sales", "--priority", "5"]);
        // Re-attaching changes the priority.
        cli_value(&server, &["policy", "attach", "high", "--group", "sales", "--priority", "20"]);
        // One policy per group.
        let err = cli_fails(&server, &["policy", "attach", "low", "--group", "sales", "--priority", "30"]);
        assert!(err.contains("already has policy \"high\""), "{err}");
        cli_value(&server, &["user", "add", "ann", "--group", "support", "--group", "sales"]);
        cli_value(&server, &["user", "add", "bob"]);

        let e = cli_value(&server, &["policy", "effective", "ann"]);
        assert_eq!(e["policy"], "high", "{e}");
        assert_eq!(e["reason"], "from group \"sales\", priority 20");
        assert_eq!(e["settings"]["lockout_threshold"], "2");
        let e = cli_value(&server, &["policy", "effective", "bob"]);
        assert_eq!((e["policy"].as_str(), e["reason"].as_str()), (Some("default"), Some("default (no group policy)")));
        assert_eq!(e["settings"]["lockout_threshold"], "5");

        // Overlay: the default's value reaches a policy that does not set the key.
        cli_value(&server, &["policy", "set", "default", "certificate_validity_days=90", "lockout_threshold=6"]);
        let shown = cli_value(&server, &["policy", "show", "high"]);
        let keys: HashMap<String, (String, String)> = shown["keys"].as_array().unwrap().iter()
            .map(|k| (k["key"].as_str().unwrap().to_string(), (k["value"].as_str().unwrap().to_string(), k["origin"].as_str().unwrap().to_string())))
            .collect();
        assert_eq!(keys["lockout_threshold"], ("2".to_string(), "here".to_string()));
        assert_eq!(keys["certificate_validity_days"], ("90".to_string(), "default".to_string()));
        assert_eq!(keys["method"], ("grid".to_string(), "config".to_string()));
        assert_eq!(shown["groups"], json!([{"policy": "high", "group": "sales", "priority": 20}]));
        // The human form says the same.
        let out = server.cli(&["policy", "show", "high"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("lockout_threshold = 2\t(set here)"), "{text}");
        assert!(text.contains("certificate_validity_days = 90\t(inherited from default)"), "{text}");

        // Detached, the next policy takes over; `key=` unsets.
        cli_value(&server, &["policy", "detach", "high", "--group", "sales"]);
        let e = cli_value(&server, &["policy", "effective", "ann"]);
        assert_eq!((e["policy"].as_str(), e["reason"].as_str()), (Some("low"), Some("from group \"support\", priority 10")));
        cli_value(&server, &["policy", "set", "low", "lockout_threshold="]);
        assert_eq!(cli_value(&server, &["policy", "effective", "ann"])["settings"]["lockout_threshold"], "6");

        // Every change is in the audit log, by the command line.
        let log = database.sql(&server.data_dir, "SELECT actor || ' ' || action || ' ' || target || ' ' || reason FROM audit_log WHERE action LIKE 'policy.%' ORDER BY id");
        assert!(log.contains("cli policy.set high lockout_threshold=2 session_idle_secs=600"), "{log}");
        assert!(log.contains("cli policy.attach high group sales, priority 20"), "{log}");
        assert!(log.contains("cli policy.detach high group sales"), "{log}");
        assert!(!log.contains("strict"), "refused changes are not stored: {log}");
    }
}

on_both_databases! {
    fn a_group_policy_decides_lockout_certificates_method_and_sessions_of_its_members_only(db: Db) {
        let dir = TempDir::new("policy_login");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        cli_value(&server, &["group", "add", "sales"]);
        cli_value(&server, &["group", "add", "field"]);
        cli_value(&server, &["policy", "set", "sales", "lockout_threshold=2"]);
        cli_value(&server, &["policy", "attach", "sales", "--group", "sales", "--priority", "10"]);
        cli_value(&server, &["policy", "set", "field", "require_certificate=true", "session_idle_secs=600"]);
        cli_value(&server, &["policy", "attach", "field", "--group", "field", "--priority", "10"]);
        let ann: Vec<u64> = cli_value(&server, &["user", "add", "ann", "--group", "sales"])["initial_pattern"]["cells"]
            .as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        let bob = add_user(&server, "bob");
        let jar = dir.path().join("jar.txt");

        // Lock-out after 2 failures for the sales policy's user; the default (5) for bob.
        fail_once(&server, "ann", &ann, &jar);
        fail_once(&server, "ann", &ann, &jar);
        let (status, refused) = start(&server, "ann", &jar, &[]);
        assert_eq!((status, refused), (403, json!({"error": "account_locked"})));
        fail_once(&server, "bob", &bob, &jar);
        fail_once(&server, "bob", &bob, &jar);
        let (status, s) = start(&server, "bob", &jar, &[]);
        assert_eq!(status, 200, "bob is not locked after 2: {s}");
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({ "challenge": s["challenge"], "otp": otp_from(&s, &bob) }), &jar);
        assert_eq!(status, 200, "{ok}");

        // The field policy wants a certificate: no grid for carl's device without one,
        // while bob (and an unknown ID, like any default-policy user) still gets a grid.
        let carl: Vec<u64> = cli_value(&server, &["user", "add", "carl", "--group", "field"])["initial_pattern"]["cells"]
            .as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        let (status, body) = start(&server, "carl", &jar, &[]);
        assert_eq!((status, body), (403, json!({"error": "device_not_registered"})));
        let (status, grid) = start(&server, "bob", &jar, &[]);
        assert_eq!((status, grid["method"].as_str()), (200, Some("grid")), "{grid}");
        let (status, grid) = start(&server, "nobody-here", &jar, &[]);
        assert_eq!((status, grid["method"].as_str()), (200, Some("grid")), "{grid}");
        // With his own certificate, carl gets his grid and a session with his policy's
        // idle lifetime (bob's has the default 30 minutes).
        let (csr, key) = new_csr(dir.path(), "carl", "ec");
        let cert = dir.path().join("carl.pem");
        cli_value(&server, &["cert", "issue", "carl", "--csr", csr.to_str().unwrap(), "--out", cert.to_str().unwrap()]);
        let device = ["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()];
        let (status, grid) = start(&server, "carl", &jar, &device);
        assert_eq!(status, 200, "{grid}");
        let (status, ok) = post_json_with(&server, "/api/v1/auth/verify", &json!({ "challenge": grid["challenge"], "otp": otp_from(&grid, &carl) }), &jar, &device);
        assert_eq!(status, 200, "{ok}");
        let idle = database.sql(&server.data_dir, "SELECT user_id || ' ' || (idle_expires_at - last_seen_at) FROM sessions ORDER BY user_id");
        assert_eq!(idle.lines().collect::<Vec<_>>(), ["bob 1800", "carl 600"]);
        // A group policy's method: dora (in the group) is asked for her token's code,
        // erin (same kind of token, default policy) gets the grid.
        cli_value(&server, &["group", "add", "tokens"]);
        cli_value(&server, &["policy", "set", "tokens", "method=totp"]);
        cli_value(&server, &["policy", "attach", "tokens", "--group", "tokens", "--priority", "1"]);
        cli_value(&server, &["user", "add", "dora", "--group", "tokens"]);
        add_user(&server, "erin");
        let seed = "3132333435363738393031323334353637383930";
        let csv = dir.path().join("tokens.csv");
        std::fs::write(&csv, format!("serial,seed,algorithm,digits,period\nT-1,{seed},SHA1,6,30\nT-2,{seed},SHA1,6,30\n")).unwrap();
        for args in [&["token", "import", csv.to_str().unwrap()][..], &["token", "assign", "T-1", "dora"], &["token", "assign", "T-2", "erin"]] {
            let out = server.cli(args);
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let (status, s) = start(&server, "dora", &jar, &[]);
        assert_eq!((status, s["method"].as_str()), (200, Some("totp")), "{s}");
        // Every start carries a grid (a user without a token yet answers with it), so
        // the answer does not tell who holds a token.
        assert!(s.get("grid").is_some(), "{s}");
        let (status, s) = start(&server, "erin", &jar, &[]);
        assert_eq!((status, s["method"].as_str()), (200, Some("grid")), "{s}");

        // Taken out of the group, carl is a default-policy user again.
        cli_value(&server, &["policy", "detach", "field", "--group", "field"]);
        let (status, grid) = start(&server, "carl", &jar, &[]);
        assert_eq!(status, 200, "{grid}");
    }
}

on_both_databases! {
    fn the_admin_api_checks_roles_validates_and_audits(db: Db) {
        let dir = TempDir::new("policy_api");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let tokens = admin_tokens(&server, "1", &["admin", "auditor"]);
        cli_value(&server, &["group", "add", "sales"]);
        cli_value(&server, &["user", "add", "ann", "--group", "sales"]);
        let send = |method: &str, path: &str, role: &str, body: Option<&Value>| -> (u16, Value) {
            let auth = format!("Authorization: Bearer {}", tokens[role]);
            let text = body.map(Value::to_string);
            let mut args = vec!["-X", method, "-H", &auth];
            if let Some(t) = &text {
                args.extend_from_slice(&["-H", "Content-Type: application/json", "--data-binary", t]);
            }
            let (status, body) = server.curl(path, &args);
            (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
        };
        let body = json!({"settings": {"require_certificate": true, "lockout_threshold": 3, "method": "grid"}});

        // Auditors read but do not change.
        let (status, _) = send("PUT", "/api/v1/admin/policies/sales", "auditor", Some(&body));
        assert_eq!(status, 403);
        let (status, _) = send("PUT", "/api/v1/admin/policies/sales/groups/sales", "auditor", Some(&json!({"priority": 1})));
        assert_eq!(status, 403);
        let (status, _) = send("DELETE", "/api/v1/admin/policies/sales", "auditor", None);
        assert_eq!(status, 403);
        let (status, list) = send("GET", "/api/v1/admin/policies", "auditor", None);
        assert_eq!((status, list["policies"].as_array().map(Vec::len)), (200, Some(1)), "{list}");

        // A bad value: 400 naming the key, nothing stored.
        let bad = json!({"settings": {"lockout_threshold": 3, "time_zone": "Mars/Olympus"}});
        let (status, err) = send("PUT", "/api/v1/admin/policies/sales", "admin", Some(&bad));
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_policy")), "{err}");
        assert!(err["message"].as_str().unwrap().starts_with("time_zone"), "{err}");
        assert_eq!(send("GET", "/api/v1/admin/policies/sales", "admin", None).0, 404);

        let (status, saved) = send("PUT", "/api/v1/admin/policies/sales", "admin", Some(&body));
        assert_eq!(status, 200, "{saved}");
        assert_eq!(saved["settings"], json!({"lockout_threshold": "3", "method": "grid", "require_certificate": "true"}));
        let (status, _) = send("PUT", "/api/v1/admin/policies/sales/groups/sales", "admin", Some(&json!({"priority": 7})));
        assert_eq!(status, 200);
        let (status, _) = send("PUT", "/api/v1/admin/policies/sales/groups/ghosts", "admin", Some(&json!({"priority": 7})));
        assert_eq!(status, 404);

        let (status, p) = send("GET", "/api/v1/admin/users/ann/policy", "auditor", None);
        assert_eq!(status, 200, "{p}");
        assert_eq!((p["policy"].as_str(), p["reason"].as_str()), (Some("sales"), Some("from group \"sales\", priority 7")));
        assert_eq!(p["settings"]["require_certificate"], "true");
        let (_, user) = send("GET", "/api/v1/admin/users/ann", "auditor", None);
        assert_eq!(user["policy"], json!({"name": "sales", "reason": "from group \"sales\", priority 7"}));

        // null unsets; the default cannot be deleted; a deleted policy takes its
        // attachments with it.
        let (_, saved) = send("PUT", "/api/v1/admin/policies/sales", "admin", Some(&json!({"settings": {"method": null}})));
        assert_eq!(saved["settings"].as_object().map(|m| m.len()), Some(2), "{saved}");
        assert_eq!(send("DELETE", "/api/v1/admin/policies/default", "admin", None).0, 409);
        assert_eq!(send("DELETE", "/api/v1/admin/policies/sales/groups/sales", "admin", None).0, 200);
        assert_eq!(send("DELETE", "/api/v1/admin/policies/sales/groups/sales", "admin", None).0, 404);
        assert_eq!(send("DELETE", "/api/v1/admin/policies/sales", "admin", None).0, 200);
        let (_, p) = send("GET", "/api/v1/admin/users/ann/policy", "admin", None);
        assert_eq!(p["policy"], "default");

        let log = database.sql(&server.data_dir, "SELECT actor || ' ' || action || ' ' || target FROM audit_log WHERE action LIKE 'policy.%' ORDER BY id");
        assert_eq!(log.lines().collect::<Vec<_>>(), [
            "admin-1 policy.set sales",
            "admin-1 policy.attach sales",
            "admin-1 policy.set sales",
            "admin-1 policy.detach sales",
            "admin-1 policy.delete sales",
        ]);

        let doc = server.curl_json("/api/openapi.json", &[]);
        assert_eq!(doc["paths"]["/api/v1/admin/policies/{name}"]["put"]["x-passgrid-roles"], json!(["admin"]));
        let params = &doc["paths"]["/api/v1/admin/policies/{name}/groups/{group}"]["put"]["parameters"];
        assert_eq!(params.as_array().map(Vec::len), Some(2), "{params}");

        // Certificates follow the owner's policy: from the command line and from a bulk
        // job, ann's (30 days) and zoe's (the default 365 days).
        cli_value(&server, &["policy", "set", "short", "certificate_validity_days=30"]);
        cli_value(&server, &["policy", "attach", "short", "--group", "sales", "--priority", "1"]);
        cli_value(&server, &["user", "add", "zoe"]);
        let (csr, _) = new_csr(dir.path(), "ann", "ec");
        let pem = dir.path().join("ann.pem");
        cli_value(&server, &["cert", "issue", "ann", "--csr", csr.to_str().unwrap(), "--out", pem.to_str().unwrap()]);
        let (status, started) = send("POST", "/api/v1/admin/cert-jobs", "admin", Some(&json!({"action": "issue", "users": ["ann", "zoe"]})));
        assert_eq!(status, 202, "{started}");
        let job = format!("/api/v1/admin/cert-jobs/{}", started["id"].as_str().unwrap());
        let mut finished = false;
        for _ in 0..600 {
            if send("GET", &job, "admin", None).1["state"] == "finished" {
                finished = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(finished, "the job finishes");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let days_left = |user: &str| -> Vec<i64> {
            cli_value(&server, &["cert", "list", "--user", user]).as_array().unwrap().iter()
                .map(|c| (c["not_after"].as_i64().unwrap() - now + 43_200) / 86_400)
                .collect()
        };
        assert_eq!(days_left("ann"), [30, 30]);
        assert_eq!(days_left("zoe"), [365]);
    }
}

/// Issue #16: resolved policies are kept in memory by each server; a change made on
/// one server of a cluster (a policy edited, a group attached or detached) decides the
/// very next login on another, with no restart and no wait.
#[test]
fn a_policy_change_on_one_server_decides_the_next_login_on_another() {
    let dir = TempDir::new("policies-cluster");
    let database = TestDb::new(Db::Postgres);
    let one = TestServer::start(&dir.path().join("data"), &database, &[]);
    let two = TestServer::start(&dir.path().join("data"), &database, &[]);
    let token = admin_token(&one, "boss", "admin");
    cli_value(&one, &["group", "add", "sales"]);
    let cells = add_user(&one, "kai");
    let jar = dir.path().join("jar.txt");
    let sign_in_at_two = || -> (u16, Value) {
        let (status, grid) = start(&two, "kai", &jar, &[]);
        if status != 200 {
            return (status, grid);
        }
        post_json(
            &two,
            "/api/v1/auth/verify",
            &json!({"challenge": grid["challenge"], "otp": otp_from(&grid, &cells)}),
            &jar,
        )
    };
    // Two has resolved kai's policy (the default) and keeps it in memory.
    assert_eq!(sign_in_at_two().0, 200);

    // On one: kai joins sales; a policy for sales allowing only another network.
    let send = |method: &str, path: &str, body: Option<&Value>| {
        api(&one, method, path, Some(&token), body).0
    };
    assert_eq!(
        send(
            "PATCH",
            "/api/v1/admin/users/kai",
            Some(&json!({"groups": ["sales"]}))
        ),
        200
    );
    let only_elsewhere = json!({"settings": {"allowed_networks": "10.99.0.0/16"}});
    assert_eq!(
        send(
            "PUT",
            "/api/v1/admin/policies/remote",
            Some(&only_elsewhere)
        ),
        200
    );
    assert_eq!(
        send(
            "PUT",
            "/api/v1/admin/policies/remote/groups/sales",
            Some(&json!({"priority": 1}))
        ),
        200
    );
    let (status, refused) = start(&two, "kai", &jar, &[]);
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("network_not_allowed")),
        "{refused}"
    );

    // Edited on one to allow loopback: two lets kai in again at once.
    let loopback = json!({"settings": {"allowed_networks": "127.0.0.0/8"}});
    assert_eq!(
        send("PUT", "/api/v1/admin/policies/remote", Some(&loopback)),
        200
    );
    assert_eq!(sign_in_at_two().0, 200);

    // Back to elsewhere, then kai leaves the group on one: two follows each step.
    assert_eq!(
        send(
            "PUT",
            "/api/v1/admin/policies/remote",
            Some(&only_elsewhere)
        ),
        200
    );
    assert_eq!(start(&two, "kai", &jar, &[]).0, 403);
    assert_eq!(
        send(
            "PATCH",
            "/api/v1/admin/users/kai",
            Some(&json!({"groups": []}))
        ),
        200
    );
    assert_eq!(sign_in_at_two().0, 200);
}
