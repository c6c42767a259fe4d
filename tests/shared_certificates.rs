//! Shared-terminal certificates (SPEC §2.5): one certificate, issued for a profile,
//! accepted for the users that profile allows and for nobody else.

use integration_tests::*;
use serde_json::{json, Value};

on_both_databases! {
    fn a_shared_certificate_opens_the_grid_for_its_profiles_users_only(db: Db) {
        let dir = TempDir::new("shared");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(
            &config,
            "[auth]\nrequire_certificate = true\n\n[auth.shared_profiles]\nfrontdesk = [\"alice\", \"bob\"]\n",
        )
        .unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let cli = |args: &[&str]| {
            let mut all = vec!["--config", config.to_str().unwrap()];
            all.extend_from_slice(args);
            server.cli(&all)
        };
        for user in ["alice", "bob", "carol"] {
            add_user(&server, user);
        }

        let p12 = dir.path().join("kiosk-1.p12");
        let out = cli(&["--json", "cert", "issue", "kiosk-1", "--shared", "frontdesk", "--out", p12.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let issued: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(issued["shared_profile"], "frontdesk");
        assert!(issued["user"].is_null());
        let pem = dir.path().join("kiosk-1.pem");
        let unpacked = openssl(&["pkcs12", "-in", p12.to_str().unwrap(), "-passin",
            &format!("pass:{}", issued["password"].as_str().unwrap()), "-nodes"]);
        std::fs::write(&pem, &unpacked.stdout).unwrap();
        let device = ["--cert", pem.to_str().unwrap()];

        let me = server.curl_json("/api/v1/whoami", &device);
        assert_eq!(me["certificate_status"], "verified");
        assert_eq!(me["certificate"]["common_name"], "frontdesk", "the CN names the profile");
        assert_eq!(me["shared_profile"], "frontdesk");
        assert!(me["user"].is_null());

        let jar = dir.path().join("jar");
        let start = |user: &str| post_json_with(&server, "/api/v1/auth/start", &json!({ "user": user }), &jar, &device).0;
        assert_eq!(start("alice"), 200);
        assert_eq!(start("bob"), 200);
        assert_eq!(start("carol"), 403, "carol is not allowed on the front desk");

        let listed: Value = serde_json::from_slice(&cli(&["--json", "cert", "list"]).stdout).unwrap();
        assert_eq!(listed[0]["shared_profile"], "frontdesk");
        // Refused with a reason: an unknown profile, and --shared with a CSR.
        let out = cli(&["cert", "issue", "kiosk-2", "--shared", "backoffice", "--out", "/dev/null"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("no shared-terminal profile \"backoffice\""));
        let out = cli(&["cert", "issue", "kiosk-2", "--shared", "frontdesk", "--csr", "x.csr", "--out", "x.pem"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("does not take --csr"));

        // Revoked, it opens nothing.
        assert!(cli(&["cert", "revoke", issued["serial"].as_str().unwrap()]).status.success());
        assert_eq!(start("alice"), 403);
    }
}
