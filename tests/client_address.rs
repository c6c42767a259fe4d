//! The client's address behind a trusted proxy (issue #13, item 9): `X-Forwarded-For`
//! is believed from `trusted_proxies` only — its right-most hop that is not a trusted
//! proxy — and rate limits, network rules and the audit log all see that address. From
//! any other peer the header is ignored. Here the test itself is the proxy, on
//! 127.0.0.1.

use std::path::Path;

use integration_tests::*;
use serde_json::{json, Value};

fn write_config(dir: &Path, serve: &str) -> std::path::PathBuf {
    let path = dir.join("passgrid.toml");
    std::fs::write(
        &path,
        format!(
            "[serve]\n{serve}\n[auth]\n\
             rate_limit_per_source = {{ burst = 3, per_minute = 1 }}\n\
             rate_limit_per_user = {{ burst = 100, per_minute = 100 }}\n"
        ),
    )
    .unwrap();
    path
}

/// A sign-in start for `user`, with `X-Forwarded-For: forwarded` when given.
fn start(server: &TestServer, dir: &Path, user: &str, forwarded: Option<&str>) -> (u16, Value) {
    let header = forwarded.map(|f| format!("X-Forwarded-For: {f}"));
    let mut extra = Vec::new();
    if let Some(h) = &header {
        extra.extend(["-H", h.as_str()]);
    }
    post_json_with(
        server,
        "/api/v1/auth/start",
        &json!({ "user": user }),
        &dir.join(format!("{user}.jar")),
        &extra,
    )
}

/// The audit entries of `action`, as the administrators' API gives them.
fn audit(server: &TestServer, token: &str, action: &str) -> Vec<Value> {
    let (status, body) = api(
        server,
        "GET",
        &format!("/api/v1/admin/audit?action={action}&limit=500"),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["entries"].as_array().cloned().unwrap_or_default()
}

fn sources(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["source"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn behind_a_trusted_proxy_limits_rules_and_audit_see_the_forwarded_client() {
    let dir = TempDir::new("xfftrusted");
    let database = TestDb::new(Db::Sqlite);
    let config = write_config(dir.path(), "trusted_proxies = [\"127.0.0.1/32\"]");
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let token = admin_token(&server, "root", "admin");
    add_user(&server, "alice");

    // Rate limits per forwarded client: three starts each, then 429 for that client
    // only.
    for _ in 0..3 {
        assert_eq!(
            start(&server, dir.path(), "alice", Some("203.0.113.7")).0,
            200
        );
    }
    assert_eq!(
        start(&server, dir.path(), "alice", Some("203.0.113.7")).0,
        429
    );
    assert_eq!(
        start(&server, dir.path(), "alice", Some("203.0.113.8")).0,
        200
    );
    // The proxy's own address is a client of its own (a health check, say).
    assert_eq!(start(&server, dir.path(), "alice", None).0, 200);
    // Hops a client wrote itself (left of the proxy's) change nothing: the bucket is
    // the right-most untrusted hop's.
    for spoof in ["1.1.1.1", "2.2.2.2"] {
        let chain = format!("{spoof}, 203.0.113.8");
        assert_eq!(start(&server, dir.path(), "alice", Some(&chain)).0, 200);
    }
    let chain = "3.3.3.3, 203.0.113.8";
    assert_eq!(start(&server, dir.path(), "alice", Some(chain)).0, 429);

    // Audited with the forwarded client's address, never the proxy's.
    let refused = audit(&server, &token, "auth.refused");
    let seen = sources(&refused);
    assert!(seen.contains(&"203.0.113.7".to_string()), "{seen:?}");
    assert!(seen.contains(&"203.0.113.8".to_string()), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|s| s == "127.0.0.1" || s.starts_with("1.1.1.1")),
        "{seen:?}"
    );
    let jar = dir.path().join("verify.jar");
    let h = "X-Forwarded-For: 198.51.100.23";
    let (_, started) = post_json_with(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "alice"}),
        &jar,
        &["-H", h],
    );
    let (status, _) = post_json_with(
        &server,
        "/api/v1/auth/verify",
        &json!({ "challenge": started["challenge"], "otp": "000000" }),
        &jar,
        &["-H", h],
    );
    assert_eq!(status, 401);
    let logins = audit(&server, &token, "auth.login");
    assert_eq!(
        sources(&logins).first().map(String::as_str),
        Some("198.51.100.23"),
        "{logins:?}"
    );

    // Network rules: the forwarded client's network decides.
    cli_value(
        &server,
        &[
            "policy",
            "set",
            "default",
            "allowed_networks=198.51.100.0/24",
        ],
    );
    assert_eq!(
        start(&server, dir.path(), "alice", Some("198.51.100.5")).0,
        200
    );
    let (status, body) = start(&server, dir.path(), "alice", Some("192.0.2.44"));
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("network_not_allowed")),
        "{body}"
    );
    let (status, _) = start(
        &server,
        dir.path(),
        "alice",
        Some("192.0.2.45, 198.51.100.6"),
    );
    assert_eq!(
        status, 200,
        "the right-most untrusted hop is in the network"
    );
}

#[test]
fn from_an_untrusted_peer_the_header_is_ignored() {
    let dir = TempDir::new("xffuntrusted");
    let database = TestDb::new(Db::Sqlite);
    // A proxy is configured, but it is not this peer.
    let config = write_config(dir.path(), "trusted_proxies = [\"10.9.9.9/32\"]");
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let token = admin_token(&server, "root", "admin");
    add_user(&server, "bob");
    // Every start counts for 127.0.0.1, whatever the header says.
    for i in 1..=3 {
        let forwarded = format!("203.0.113.{i}");
        assert_eq!(start(&server, dir.path(), "bob", Some(&forwarded)).0, 200);
    }
    assert_eq!(
        start(&server, dir.path(), "bob", Some("203.0.113.4")).0,
        429
    );
    let seen = sources(&audit(&server, &token, "auth.refused"));
    assert!(seen.iter().all(|s| s == "127.0.0.1"), "{seen:?}");
    // A network rule is not opened by the header either.
    cli_value(
        &server,
        &[
            "policy",
            "set",
            "default",
            "allowed_networks=203.0.113.0/24",
        ],
    );
    let server = {
        server.stop();
        TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[])
    };
    let (status, body) = start(&server, dir.path(), "bob", Some("203.0.113.9"));
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("network_not_allowed")),
        "{body}"
    );
}
