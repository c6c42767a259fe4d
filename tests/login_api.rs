//! The grid login over the program API (SPEC §14): start → read the grid → verify.

use integration_tests::*;
use serde_json::{json, Value};

on_both_databases! {
    fn login_with_initial_then_own_pattern(db: Db) {
        let dir = TempDir::new("login");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let jar = dir.path().join("jar.txt");
        let initial = add_user(&server, "alice");
        assert_eq!(initial.len(), 6);

        let (status, start) = post_json(&server, "/api/v1/auth/start", &json!({"user": "alice"}), &jar);
        assert_eq!(status, 200, "{start}");
        assert_eq!(start["method"], "grid");
        assert_eq!((start["grid"]["rows"].as_u64(), start["grid"]["cols"].as_u64()), (Some(4), Some(12)));
        assert_eq!(start["grid"]["seed"].as_str().unwrap().len(), 64);
        assert_eq!(start["grid"]["digits"].as_str().unwrap().len(), 48);
        let otp = otp_from(&start, &initial);
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": start["challenge"], "otp": otp}), &jar);
        assert_eq!(status, 200, "{ok}");
        assert_eq!(ok, json!({"ok": true, "user": "alice", "must_change_pattern": true, "must_enrol_token": false, "must_set_phrase": false}));

        // The same challenge a second time never verifies.
        let (status, again) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": start["challenge"], "otp": otp}), &jar);
        assert_eq!((status, again["ok"].clone()), (401, json!(false)));

        // An administrator sets the user's own pattern (repeats allowed).
        let own = [3u64, 17, 17, 40, 9, 26, 44];
        let cells = own.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
        let out = server.cli(&["user", "set-pattern", "alice", "--cells", &cells]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (_, start) = post_json(&server, "/api/v1/auth/start", &json!({"user": "alice"}), &jar);
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": start["challenge"], "otp": otp_from(&start, &own)}), &jar);
        assert_eq!((status, ok["must_change_pattern"].clone()), (200, json!(false)), "{ok}");

        // The old (initial) pattern no longer works; a wrong OTP says nothing specific.
        let (_, start) = post_json(&server, "/api/v1/auth/start", &json!({"user": "alice"}), &jar);
        let (status, fail) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": start["challenge"], "otp": otp_from(&start, &initial)}), &jar);
        assert_eq!((status, fail), (401, json!({"ok": false, "error": "authentication_failed"})));

        // Rules are enforced: a straight line is refused.
        let out = server.cli(&["user", "set-pattern", "alice", "--cells", "0,1,2,3,4,5"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("straight_line"));
        // …and so is re-using a recent pattern.
        let out = server.cli(&["user", "set-pattern", "alice", "--cells", &cells]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("reused"), "{}", String::from_utf8_lossy(&out.stderr));

        // Nothing secret reached the log.
        let log = server.server_log();
        assert!(!log.contains(&format!("\"{otp}\"")) && !log.contains(&format!("={otp}")), "OTP in the log");
        assert!(!log.contains(&cells), "pattern cells in the log");
    }
}

on_both_databases! {
    fn unknown_ids_get_a_decoy_of_the_same_shape(db: Db) {
        let dir = TempDir::new("decoy");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let jar = dir.path().join("jar.txt");
        add_user(&server, "bob");
        let (s1, real) = post_json(&server, "/api/v1/auth/start", &json!({"user": "bob"}), &jar);
        let (s2, decoy) = post_json(&server, "/api/v1/auth/start", &json!({"user": "nobody-here"}), &jar);
        assert_eq!((s1, s2), (200, 200));
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.extend(v["grid"].as_object().unwrap().keys().map(|g| format!("grid.{g}")));
            k.sort();
            k
        };
        assert_eq!(keys(&real), keys(&decoy));
        assert_eq!(real["grid"]["rows"], decoy["grid"]["rows"]);
        assert_eq!(real["grid"]["cols"], decoy["grid"]["cols"]);
        assert_eq!(real["grid"]["digits"].as_str().unwrap().len(), decoy["grid"]["digits"].as_str().unwrap().len());
        // Whatever OTP is typed, the decoy fails exactly like a wrong OTP.
        let (status, body) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": decoy["challenge"], "otp": "123456"}), &jar);
        assert_eq!((status, body), (401, json!({"ok": false, "error": "authentication_failed"})));
    }
}

on_both_databases! {
    fn concurrent_verifies_of_one_challenge_succeed_at_most_once(db: Db) {
        let dir = TempDir::new("concurrent");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let jar = dir.path().join("jar.txt");
        let cells = add_user(&server, "carol");
        let (_, start) = post_json(&server, "/api/v1/auth/start", &json!({"user": "carol"}), &jar);
        let body = json!({"challenge": start["challenge"], "otp": otp_from(&start, &cells)}).to_string();
        let results: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let body = body.clone();
                    let jar = jar.to_str().unwrap().to_string();
                    let server = &server;
                    s.spawn(move || {
                        server
                            .curl("/api/v1/auth/verify", &["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", &body, "-b", &jar])
                            .0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|&&s| s == 200).count(), 1, "{results:?}");
        assert_eq!(results.iter().filter(|&&s| s == 401).count(), 7, "{results:?}");
    }
}

#[test]
fn expired_and_foreign_challenges_never_verify() {
    let dir = TempDir::new("expired");
    let database = TestDb::new(Db::Sqlite);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, "[auth]\nchallenge_ttl_secs = 1\n").unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start_with_config(&data, &database, &config, &[]);
    let jar = dir.path().join("jar.txt");
    let cells = add_user(&server, "dave");
    let (_, start) = post_json(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "dave"}),
        &jar,
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (status, body) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp_from(&start, &cells)}),
        &jar,
    );
    assert_eq!(
        (status, body),
        (401, json!({"ok": false, "error": "challenge_expired"}))
    );

    // Another client (no flow cookie) cannot use someone else's challenge.
    let (_, start) = post_json(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "dave"}),
        &jar,
    );
    let other = dir.path().join("other-jar.txt");
    let (status, body) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp_from(&start, &cells)}),
        &other,
    );
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("challenge_invalid"))
    );
}

on_both_databases! {
    fn bad_input_to_the_login_api_is_a_4xx_with_a_reason(db: Db) {
        let dir = TempDir::new("login_bad");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let jar = dir.path().join("jar.txt");
        let huge = "x".repeat(10_000);
        let cases: Vec<(&str, String, &str)> = vec![
            ("/api/v1/auth/start", json!({"user": 5}).to_string(), "invalid_request"),
            ("/api/v1/auth/start", json!({}).to_string(), "invalid_request"),
            ("/api/v1/auth/start", json!({"user": huge}).to_string(), "invalid_user"),
            ("/api/v1/auth/start", json!({"user": ""}).to_string(), "invalid_user"),
            ("/api/v1/auth/start", "not json".to_string(), "invalid_request"),
            ("/api/v1/auth/start", json!({"user": "a", "extra": 1}).to_string(), "invalid_request"),
            ("/api/v1/auth/verify", json!({"challenge": "00", "otp": "123456"}).to_string(), "invalid_challenge"),
            ("/api/v1/auth/verify", json!({"challenge": "0".repeat(32), "otp": "12ab56"}).to_string(), "invalid_otp"),
            ("/api/v1/auth/verify", json!({"challenge": "0".repeat(32), "otp": huge}).to_string(), "invalid_otp"),
            ("/api/v1/auth/verify", json!({"challenge": "0".repeat(32), "otp": 123456}).to_string(), "invalid_request"),
            ("/api/v1/auth/verify", json!({"challenge": ["x"], "otp": "1"}).to_string(), "invalid_request"),
        ];
        for (path, body, code) in cases {
            let (status, text) = server.curl(
                path,
                &["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", &body, "-b", jar.to_str().unwrap()],
            );
            assert_eq!(status, 400, "{path} {body:.80}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["error"], code, "{path} {body:.80}");
        }
        // An unknown (well-formed) challenge: 401 with a reason.
        let (status, v) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": "a".repeat(32), "otp": "123456"}), &jar);
        assert_eq!((status, v["error"].clone()), (401, json!("challenge_invalid")));
        // GET on a POST route, and no content type.
        assert_eq!(server.curl("/api/v1/auth/start", &[]).0, 405);
        // (HTTP/1.1: the 400 is sent before the body is read, and Debian's curl 7.88
        // sometimes reports the HTTP/2 stream reset that follows instead of the answer.)
        let (status, _) = server.curl("/api/v1/auth/start", &["--http1.1", "-X", "POST", "--data-binary", "{\"user\":\"a\"}"]);
        assert_eq!(status, 400);
        assert_eq!(server.curl("/healthz", &[]).0, 200);
        assert!(!server.server_log().contains("panicked"));
    }
}
