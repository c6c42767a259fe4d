//! The smaller boundaries of issue #13, item 10: `/metrics` is for the allowed
//! networks (loopback by default) or the bearer token only, and an administrator makes
//! API tokens for itself only — never in another administrator's name.

use std::{os::unix::fs::PermissionsExt, path::Path, process::Command};

use integration_tests::*;
use serde_json::{json, Value};

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("passgrid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn metrics_are_for_the_allowed_networks_or_the_token() {
    let dir = TempDir::new("metricsaccess");
    let database = TestDb::new(Db::Sqlite);

    // By default: loopback only — and a request a local proxy forwarded (a header
    // nothing trusted resolved) is not taken for a local one.
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let (status, body) = server.curl("/metrics", &[]);
    assert_eq!(status, 200);
    assert!(body.contains("passgrid_connections_open"));
    let (status, body) = server.curl("/metrics", &["-H", "X-Forwarded-For: 203.0.113.5"]);
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("passgrid_"));
    server.stop();

    // An allow-list without loopback: this client is not on it.
    let config = write_config(dir.path(), "[serve]\nmetrics_allow = [\"192.0.2.0/24\"]\n");
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let (status, body) = server.curl("/metrics", &[]);
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("passgrid_"));
    server.stop();

    // A token (and no network): the token opens it, nothing else does.
    let token_file = dir.path().join("metrics.token");
    std::fs::write(&token_file, "m3trics-t0ken-for-prometheus\n").unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[serve]\nmetrics_allow = []\nmetrics_token_file = \"{}\"\n",
            token_file.display()
        ),
    );
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    assert_eq!(server.curl("/metrics", &[]).0, 401);
    let wrong = server.curl(
        "/metrics",
        &["-H", "Authorization: Bearer m3trics-t0ken-for-prometheuS"],
    );
    assert_eq!(wrong.0, 401);
    let (status, body) = server.curl(
        "/metrics",
        &["-H", "Authorization: Bearer m3trics-t0ken-for-prometheus"],
    );
    assert_eq!(status, 200);
    assert!(body.contains("passgrid_http_responses_total"));
    server.stop();

    // A token file every user can read is refused at start, with the reason.
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(passgrid_bin())
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("metrics_token_file"),
        "{}",
        stderr(&out)
    );

    // Behind a trusted proxy the forwarded client decides: an outside client is
    // refused, the proxy's own scrape is not.
    let config = write_config(
        dir.path(),
        "[serve]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    );
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    assert_eq!(
        server
            .curl("/metrics", &["-H", "X-Forwarded-For: 203.0.113.5"])
            .0,
        403
    );
    assert_eq!(server.curl("/metrics", &[]).0, 200);
}

fn send(server: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    let (status, text) = api(
        server,
        "POST",
        "/api/v1/admin/api-tokens",
        Some(token),
        Some(body),
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

on_both_databases! {
    fn api_tokens_are_made_for_oneself_only(db: Db) {
        let dir = TempDir::new("tokenself");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let root = admin_token(&server, "root", "admin");
        let other = admin_token(&server, "other-admin", "admin");
        cli_value(&server, &["admin", "create", "helper", "--role", "user-admin"]);

        // In another administrator's name (of any role): refused, nothing made.
        for target in ["helper", "other-admin"] {
            let (status, answer) = send(&server, &root, &json!({ "admin": target, "name": "x" }));
            assert_eq!(status, 403, "{target}: {answer}");
            assert!(answer.get("token").is_none());
        }
        let listed = cli_value(&server, &["admin", "token", "list"]);
        let owners: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["admin_id"].as_str().unwrap()).collect();
        assert_eq!(owners.iter().filter(|o| **o == "helper").count(), 0, "{listed}");

        // For oneself: named or left out.
        let (status, made) = send(&server, &root, &json!({ "admin": "root", "name": "mine" }));
        assert_eq!((status, made["admin"].clone()), (201, json!("root")), "{made}");
        let (status, made) = send(&server, &other, &json!({ "name": "nightly" }));
        assert_eq!((status, made["admin"].clone()), (201, json!("other-admin")), "{made}");
        let minted = made["token"].as_str().unwrap();
        let (_, me) = api(&server, "GET", "/api/v1/admin/api-tokens", Some(minted), None);
        assert!(me.contains("nightly"), "the new token acts as its maker: {me}");

        // The refusal is audited with the one who tried.
        let (_, audit) = api(&server, "GET", "/api/v1/admin/audit?action=admin.token_create&outcome=failure", Some(&root), None);
        assert!(audit.contains("another administrator") && audit.contains("\"actor\":\"root\""), "{audit}");
    }
}
