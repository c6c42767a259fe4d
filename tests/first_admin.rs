//! The first administrator (issue #13, items 4 and 11): the set-up link printed at
//! first start works only while no administrator exists, however the others were made;
//! the set-up page and `passgrid admin create` hand out an initial pattern once, with
//! which the administrator signs in; where the policy asks for a certificate, the
//! first administrator is offered one like any user.

use std::path::Path;

use integration_tests::*;
use serde_json::{json, Value};

/// The token of the set-up link the server printed at its first start.
fn setup_token(server: &TestServer) -> String {
    let link = server.banner["setup_link"]
        .as_str()
        .expect("a set-up link at first start");
    link.rsplit('/').next().unwrap().to_string()
}

/// POST /setup as the form does; returns (status, Location).
fn submit_setup(server: &TestServer, token: &str, user_id: &str) -> (u16, String) {
    let (status, out) = server.curl(
        "/setup",
        &[
            "-D",
            "-",
            "--data-urlencode",
            &format!("token={token}"),
            "--data-urlencode",
            &format!("user_id={user_id}"),
            "--data-urlencode",
            "display_name=First Admin",
            "--data-urlencode",
            &format!("email={user_id}@example.com"),
        ],
    );
    let location = out
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("location:")
                .then(|| l[9..].trim().to_string())
        })
        .unwrap_or_default();
    (status, location)
}

fn user_exists(server: &TestServer, id: &str) -> bool {
    server.cli(&["user", "show", id]).status.success()
}

/// The numbered cells of the pattern picture on a page, in order.
fn pattern_on_page(page: &str) -> Vec<u64> {
    let mut numbered: Vec<(u64, u64)> = page
        .split("<td")
        .skip(1)
        .filter_map(|td| {
            let attr = |name: &str| {
                td.split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .map(str::to_string)
            };
            let cell = attr("data-cell")?.parse().ok()?;
            let order = attr("data-order")?;
            Some(
                order
                    .split(',')
                    .filter_map(|o| o.parse().ok())
                    .map(|o| (o, cell))
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    numbered.sort();
    numbered.into_iter().map(|(_, cell)| cell).collect()
}

/// Signs in through the API with `cells`; the verify answer.
fn sign_in(server: &TestServer, dir: &Path, user: &str, cells: &[u64]) -> (u16, Value) {
    let jar = dir.join(format!("{user}.jar"));
    let (status, start) = post_json(server, "/api/v1/auth/start", &json!({ "user": user }), &jar);
    assert_eq!(status, 200, "{start}");
    let otp = otp_from(&start, cells);
    post_json(
        server,
        "/api/v1/auth/verify",
        &json!({ "challenge": start["challenge"], "otp": otp }),
        &jar,
    )
}

on_both_databases! {
    fn the_setup_link_dies_once_an_administrator_exists_however_made(db: Db) {
        let dir = TempDir::new("setupdies");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let token = setup_token(&server);
        let (status, page) = server.curl(&format!("/setup/{token}"), &[]);
        assert_eq!(status, 200);
        assert!(page.contains("name=\"user_id\""), "the form, while no administrator exists");

        // An administrator made on the command line.
        let made = cli_value(&server, &["admin", "create", "boss", "--email", "boss@example.com"]);

        // The link creates nothing, and its page says it is gone.
        let (status, location) = submit_setup(&server, &token, "intruder");
        assert!(!user_exists(&server, "intruder"), "the link made nothing");
        assert_eq!(status, 303);
        assert!(location.ends_with("error=invalid_token"), "{location}");
        let (status, _) = submit_setup(&server, &token, "intruder");
        assert_eq!(status, 303);
        assert!(!user_exists(&server, "intruder"));
        let (_, page) = server.curl(&format!("/setup/{token}"), &[]);
        assert!(page.contains("setup-gone") && !page.contains("name=\"user_id\""), "{page}");

        // The command line gave the administrator an initial pattern and the way to
        // sign in with it.
        let cells: Vec<u64> = made["initial_pattern"]["cells"]
            .as_array()
            .unwrap_or_else(|| panic!("no initial pattern: {made}"))
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        assert_eq!(made["initial_pattern"]["text_rows"].as_array().unwrap().len(), 4, "{made}");
        assert_eq!(made["certificate"], "none");
        assert_eq!(made["sign_in"]["path"], "/login");

        // The administrator of the command line signs in with the printed pattern.
        let (status, verified) = sign_in(&server, dir.path(), "boss", &cells);
        assert_eq!(status, 200, "{verified}");
        assert_eq!(verified["must_change_pattern"], true);

        // The refusals are audited.
        let root = cli_value(&server, &["admin", "token", "create", "boss"]);
        let (_, audit) = api(
            &server,
            "GET",
            "/api/v1/admin/audit?action=admin.create_first&outcome=failure",
            root["token"].as_str(),
            None,
        );
        assert_eq!(audit.matches("\"target\":\"intruder\"").count(), 2, "{audit}");
        // A restart prints no new link.
        server.stop();
        let again = TestServer::start(&dir.path().join("data"), &database, &[]);
        assert!(again.banner["setup_link"].is_null());
    }
}

on_both_databases! {
    fn the_setup_link_checks_for_administrators_when_it_is_used(db: Db) {
        // An administrator that came about without retiring the link (a restored
        // backup, a row written by hand): the link still refuses, because the check
        // is made when it is used, in the transaction that would create one.
        let dir = TempDir::new("setupcheck");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let token = setup_token(&server);
        add_user(&server, "promoted");
        database.sql(&server.data_dir, "UPDATE users SET admin_role = 'admin' WHERE id = 'promoted'");
        let (status, location) = submit_setup(&server, &token, "intruder");
        assert_eq!(status, 303);
        assert!(location.ends_with("error=invalid_token"), "{location}");
        assert!(!user_exists(&server, "intruder"), "the link made nothing");
        let root = cli_value(&server, &["admin", "token", "create", "promoted"]);
        let (_, audit) = api(
            &server,
            "GET",
            "/api/v1/admin/audit?action=admin.create_first",
            root["token"].as_str(),
            None,
        );
        assert!(audit.contains("an administrator exists already"), "{audit}");
        // And the link is retired for good, even if that administrator goes.
        database.sql(&server.data_dir, "UPDATE users SET admin_role = NULL WHERE id = 'promoted'");
        let (_, location) = submit_setup(&server, &token, "intruder");
        assert!(location.ends_with("error=invalid_token"), "{location}");
        assert!(!user_exists(&server, "intruder"));
    }
}

on_both_databases! {
    fn the_setup_page_shows_the_initial_pattern_once_and_it_signs_in(db: Db) {
        let dir = TempDir::new("setupshows");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let token = setup_token(&server);
        let (status, location) = submit_setup(&server, &token, "first");
        assert_eq!(status, 303);
        assert_eq!(location, format!("/setup/done?t={token}"));

        let (status, page) = server.curl(&location, &["-D", "-"]);
        assert_eq!(status, 200);
        assert!(page.to_ascii_lowercase().contains("cache-control: no-store"), "{page}");
        let cells = pattern_on_page(&page);
        assert_eq!(cells.len(), 6, "{page}");
        // The text form, row by row, and how to sign in.
        assert!(page.contains("class=\"pattern-rows\""), "{page}");
        assert!(page.contains("How to sign in") && page.contains("href=\"/login\""));
        assert!(!page.contains("setup-certificate"), "no certificate asked for");

        // Shown once.
        let (_, again) = server.curl(&location, &[]);
        assert!(pattern_on_page(&again).is_empty(), "{again}");
        assert!(again.contains("shown once"), "{again}");

        let (status, verified) = sign_in(&server, dir.path(), "first", &cells);
        assert_eq!(status, 200, "{verified}");
        assert_eq!(verified["must_change_pattern"], true);
        let shown = cli_value(&server, &["user", "show", "first"]);
        assert_eq!(shown["admin_role"], "admin");

        // The link worked once.
        let (_, location) = submit_setup(&server, &token, "second");
        assert!(location.ends_with("error=invalid_token"), "{location}");
        assert!(!user_exists(&server, "second"));
    }
}

#[test]
fn where_a_certificate_is_required_the_first_administrator_is_offered_one() {
    let dir = TempDir::new("setupcert");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    cli_value(
        &server,
        &[
            "policy",
            "set",
            "default",
            "require_certificate=true",
            "auto_issue_certificate=true",
        ],
    );
    let token = setup_token(&server);
    let (_, location) = submit_setup(&server, &token, "first");
    let (_, page) = server.curl(&location, &[]);
    assert!(page.contains("setup-certificate"), "{page}");
    let cells = pattern_on_page(&page);

    // No certificate on this device: still a grid (the first-login exemption), and
    // after the sign-in the certificate for this device is offered.
    let jar = dir.path().join("jar");
    let (status, verified) = {
        let (status, start) = post_json(
            &server,
            "/api/v1/auth/start",
            &json!({ "user": "first" }),
            &jar,
        );
        assert_eq!(status, 200, "{start}");
        let otp = otp_from(&start, &cells);
        post_json(
            &server,
            "/api/v1/auth/verify",
            &json!({ "challenge": start["challenge"], "otp": otp }),
            &jar,
        )
    };
    assert_eq!(status, 200, "{verified}");
    let (status, offer) = server.curl("/me/certificate", &["-b", jar.to_str().unwrap()]);
    assert_eq!(status, 200);
    assert!(
        offer.contains("action=\"/me/certificate/issue\""),
        "{offer}"
    );

    // `admin create` says the same.
    let made = cli_value(&server, &["admin", "create", "second"]);
    assert_eq!(made["certificate"], "auto_issue");
    let steps = made["sign_in"]["steps"].to_string();
    assert!(steps.contains("certificate"), "{steps}");
}
