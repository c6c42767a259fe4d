//! Trust boundaries of the sign-in (issue #13): a session stays on the device it was
//! made with and ends with its certificate; parallel guesses never get more answers
//! checked than the lock-out threshold; a stranger's answer does not burn the owner's
//! grid; under a TOTP policy every ID is answered alike; a sign-in that still owes its
//! own pattern gets no admin API.

use integration_tests::*;
use serde_json::{json, Value};

const OWN: &str = "3,17,17,40,9,26,44";
const OWN_CELLS: [u64; 7] = [3, 17, 17, 40, 9, 26, 44];

fn start(server: &TestServer, jar: &std::path::Path, user: &str, device: &[&str]) -> (u16, Value) {
    post_json_with(
        server,
        "/api/v1/auth/start",
        &json!({ "user": user }),
        jar,
        device,
    )
}

fn verify(
    server: &TestServer,
    jar: &std::path::Path,
    grid: &Value,
    otp: &str,
    device: &[&str],
) -> (u16, Value) {
    post_json_with(
        server,
        "/api/v1/auth/verify",
        &json!({ "challenge": grid["challenge"], "otp": otp }),
        jar,
        device,
    )
}

fn signed_in_as(server: &TestServer, jar: &std::path::Path, device: &[&str]) -> Value {
    let mut args = vec!["-b", jar.to_str().unwrap()];
    args.extend_from_slice(device);
    server.curl_json("/api/v1/whoami", &args)["session"]["user"].clone()
}

on_both_databases! {
    fn a_session_stays_on_its_device_and_ends_with_its_certificate(db: Db) {
        let dir = TempDir::new("device-session");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let (cert, key) = issue_client_cert(&server, dir.path(), "alice");
        assert!(server.cli(&["user", "set-pattern", "alice", "--cells", OWN]).status.success());
        let device = ["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()];
        let jar = dir.path().join("jar.txt");
        let (status, grid) = start(&server, &jar, "alice", &device);
        assert_eq!(status, 200, "{grid}");
        let (status, ok) = verify(&server, &jar, &grid, &otp_from(&grid, &OWN_CELLS), &device);
        assert_eq!((status, ok["ok"].clone()), (200, json!(true)), "{ok}");
        assert_eq!(signed_in_as(&server, &jar, &device), "alice");
        // The cookie alone, from a connection without the certificate: no session.
        assert_eq!(signed_in_as(&server, &jar, &[]), Value::Null);
        // The certificate revoked: the session ends at once, even on the device.
        let serial = server.curl_json("/api/v1/whoami", &device)["certificate"]["serial"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(server.cli(&["cert", "revoke", &serial]).status.success());
        assert_eq!(signed_in_as(&server, &jar, &device), Value::Null);
    }
}

on_both_databases! {
    fn parallel_guesses_get_no_more_answers_checked_than_the_threshold(db: Db) {
        let dir = TempDir::new("parallel-guesses");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        // Rate limits off: this is about the lock-out count alone.
        std::fs::write(
            &config,
            "[auth]\nlockout_threshold = 5\nrate_limit_per_source = { burst = 0, per_minute = 0 }\nrate_limit_per_user = { burst = 0, per_minute = 0 }\n",
        )
        .unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        add_user(&server, "bob");
        assert!(server.cli(&["user", "set-pattern", "bob", "--cells", OWN]).status.success());
        let jar = dir.path().join("jar.txt");
        let grids: Vec<Value> = (0..13)
            .map(|_| {
                let (status, grid) = start(&server, &jar, "bob", &[]);
                assert_eq!(status, 200, "{grid}");
                grid
            })
            .collect();
        // Twelve wrong answers sent at once: an attacker's burst. (A right answer in
        // the burst would clear the count, as any success does, so it is sent after.)
        let wrong = |grid: &Value| -> String {
            otp_from(grid, &OWN_CELLS).bytes().map(|d| char::from(b'0' + (d - b'0' + 1) % 10)).collect()
        };
        let outcomes: Vec<(u16, Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = grids[..12]
                .iter()
                .enumerate()
                .map(|(i, grid)| {
                    // Each request its own copy of the jar: curl rewrites its jar on exit.
                    let own = dir.path().join(format!("jar-{i}.txt"));
                    std::fs::copy(&jar, &own).unwrap();
                    let server = &server;
                    let otp = wrong(grid);
                    scope.spawn(move || verify(server, &own, grid, &otp, &[]))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let checked = outcomes.iter().filter(|(status, _)| matches!(status, 200 | 401)).count();
        let locked = outcomes
            .iter()
            .filter(|(status, body)| *status == 403 && body["error"] == "account_locked")
            .count();
        assert!(checked <= 5, "{checked} answers checked with a threshold of 5: {outcomes:?}");
        assert_eq!(checked + locked, 12, "{outcomes:?}");
        // The lock holds against the right answer too.
        let right = otp_from(&grids[12], &OWN_CELLS);
        let (status, body) = verify(&server, &jar, &grids[12], &right, &[]);
        assert_eq!((status, body["error"].as_str()), (403, Some("account_locked")), "{body}");
    }
}

#[test]
fn a_strangers_answer_does_not_burn_the_owners_grid() {
    let dir = TempDir::new("flow-binding");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    add_user(&server, "carol");
    assert!(server
        .cli(&["user", "set-pattern", "carol", "--cells", OWN])
        .status
        .success());
    let owner = dir.path().join("owner.txt");
    let (_, grid) = start(&server, &owner, "carol", &[]);
    // Someone else (another flow cookie) who learnt the challenge ID answers it.
    let stranger = dir.path().join("stranger.txt");
    let (status, _) = verify(&server, &stranger, &grid, "000000", &[]);
    assert_eq!(status, 401);
    // The owner's grid is still there for the owner.
    let (status, ok) = verify(&server, &owner, &grid, &otp_from(&grid, &OWN_CELLS), &[]);
    assert_eq!((status, ok["ok"].clone()), (200, json!(true)), "{ok}");
}

#[test]
fn under_a_totp_policy_every_id_is_answered_alike() {
    let dir = TempDir::new("totp-shape");
    let database = TestDb::new(Db::Sqlite);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, "[auth]\nmethod = \"totp\"\n").unwrap();
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    add_user(&server, "dora");
    let jar = dir.path().join("jar.txt");
    let shape = |body: &Value| -> Vec<String> {
        let mut keys: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys.push(body["method"].to_string());
        keys
    };
    let (s1, known) = start(&server, &jar, "dora", &[]);
    let (s2, unknown) = start(&server, &jar, "nobody-at-all", &[]);
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(shape(&known), shape(&unknown), "{known} vs {unknown}");
    assert_eq!(known["method"], "totp");
    // dora has no token yet: the grid stands in for the code, and she enrols next.
    let cells: Vec<u64> = add_user(&server, "erin");
    let (_, grid) = start(&server, &jar, "erin", &[]);
    let (status, ok) = verify(&server, &jar, &grid, &otp_from(&grid, &cells), &[]);
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["must_enrol_token"], true, "{ok}");
}

#[test]
fn a_sign_in_that_owes_its_own_pattern_gets_no_admin_api() {
    let dir = TempDir::new("unfinished");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    cli_value(&server, &["admin", "create", "fresh", "--role", "admin"]);
    // An initial pattern, as an operator hands one out: the first sign-in must replace it.
    let out = server.cli(&["user", "set-pattern", "fresh", "--cells", OWN, "--initial"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cells = OWN_CELLS;
    let jar = dir.path().join("jar.txt");
    let (_, grid) = start(&server, &jar, "fresh", &[]);
    let (status, ok) = verify(&server, &jar, &grid, &otp_from(&grid, &cells), &[]);
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["must_change_pattern"], true);
    let (status, _) = server.curl("/api/v1/admin/api-tokens", &["-b", jar.to_str().unwrap()]);
    assert_eq!(status, 403, "the console waits for the own pattern");
}
