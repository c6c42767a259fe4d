//! Certificate-gated login (SPEC §2.6, §2.7, §14): with `require_certificate`, a device
//! without a valid, unrevoked certificate of the user never gets a challenge.

use integration_tests::*;
use serde_json::{json, Value};

const OWN: &str = "3,17,17,40,9,26,44";
const OWN_CELLS: [u64; 7] = [3, 17, 17, 40, 9, 26, 44];

fn not_registered(status: u16, body: &Value) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body, &json!({ "error": "device_not_registered" }));
}

on_both_databases! {
    fn only_a_device_with_the_users_valid_certificate_gets_a_grid(db: Db) {
        let dir = TempDir::new("device_gate");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(&config, "[auth]\nrequire_certificate = true\n").unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let (alice_cert, alice_key) = issue_client_cert(&server, dir.path(), "alice");
        let (bob_cert, bob_key) = issue_client_cert(&server, dir.path(), "bob");
        let out = server.cli(&["user", "set-pattern", "alice", "--cells", OWN]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        add_user(&server, "carol");
        let alice = ["--cert", alice_cert.to_str().unwrap(), "--key", alice_key.to_str().unwrap()];
        let bob = ["--cert", bob_cert.to_str().unwrap(), "--key", bob_key.to_str().unwrap()];
        let jar = dir.path().join("jar.txt");
        let start = |user: &str, device: &[&str]| {
            post_json_with(&server, "/api/v1/auth/start", &json!({ "user": user }), &jar, device)
        };

        // No certificate: no grid, whoever is named — a real user, one without any
        // certificate, or nobody at all: the same answer.
        for user in ["alice", "carol", "nobody"] {
            let (status, body) = start(user, &[]);
            not_registered(status, &body);
        }
        // Another user's certificate does not open alice's account.
        let (status, body) = start("alice", &bob);
        not_registered(status, &body);

        // Her own certificate does, and the login works.
        let (status, grid) = start("alice", &alice);
        assert_eq!(status, 200, "{grid}");
        let otp = otp_from(&grid, &OWN_CELLS);
        let (status, ok) = post_json_with(&server, "/api/v1/auth/verify", &json!({ "challenge": grid["challenge"], "otp": otp }), &jar, &alice);
        assert_eq!(status, 200, "{ok}");
        assert_eq!(ok["ok"], true);

        // A grid given, then the certificate revoked: the right OTP no longer works,
        // and the next start gives no grid.
        let (status, grid) = start("alice", &alice);
        assert_eq!(status, 200, "{grid}");
        let serial = server.curl_json("/api/v1/whoami", &alice)["certificate"]["serial"]
            .as_str()
            .unwrap()
            .to_string();
        let out = server.cli(&["cert", "revoke", &serial]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let otp = otp_from(&grid, &OWN_CELLS);
        let (status, body) = post_json_with(&server, "/api/v1/auth/verify", &json!({ "challenge": grid["challenge"], "otp": otp }), &jar, &alice);
        not_registered(status, &body);
        let (status, body) = start("alice", &alice);
        not_registered(status, &body);
        // Bob's own device still works.
        let (status, _) = start("bob", &bob);
        assert_eq!(status, 200);
    }
}
