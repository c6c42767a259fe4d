//! "Forgot my pattern" (SPEC §9.3) through a real SMTP server: the page answers the
//! same for every ID, only a registered mail address gets a link, the link works once
//! and gives a new initial pattern shown once, and the user must register their own.

use std::{path::Path, time::Duration};

use integration_tests::*;
use serde_json::json;

fn form(server: &TestServer, jar: &Path, path: &str, body: &str) -> (u16, String) {
    let headers = jar.with_extension("h");
    let j = jar.to_str().unwrap();
    let (status, _) = server.curl(
        path,
        &[
            "-b",
            j,
            "-c",
            j,
            "-D",
            headers.to_str().unwrap(),
            "--data",
            body,
        ],
    );
    let head = std::fs::read_to_string(&headers).unwrap_or_default();
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap_or_default()
        .trim()
        .to_string();
    (status, location)
}

fn page(server: &TestServer, jar: &Path, path: &str) -> String {
    let j = jar.to_str().unwrap();
    let (status, body) = server.curl(path, &["-b", j, "-c", j, "-H", "Accept-Language: en"]);
    assert_eq!(status, 200, "GET {path}");
    body
}

/// The pattern's cells in order, read off the picture (`data-cell` and the order
/// numbers in each cell).
fn cells_from_picture(page: &str) -> Vec<u64> {
    let mut by_order = Vec::new();
    for td in page.split("<td").skip(1) {
        let cell: u64 = td
            .split("data-cell=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|c| c.parse().ok())
            .expect("data-cell");
        let text = td
            .split("data-order=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        for order in text.split(',').filter(|s| !s.is_empty()) {
            by_order.push((order.parse::<usize>().unwrap(), cell));
        }
    }
    by_order.sort();
    by_order.into_iter().map(|(_, c)| c).collect()
}

#[test]
fn a_mailed_link_resets_the_pattern_once_and_the_page_never_tells_who_exists() {
    let dir = TempDir::new("reset");
    let maildir = dir.path().join("maildir");
    let sink = SmtpSink::start(&maildir);
    let database = TestDb::new(Db::Sqlite);
    // The public URL is only known once the server runs; the link's host does not
    // matter to this test, which follows the path.
    let config = dir.path().join("passgrid.toml");
    std::fs::write(
        &config,
        format!(
            "[serve]\npublic_url = \"https://passgrid.example\"\n\n[mail]\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {}\nsecurity = \"none\"\nfrom = \"passgrid <passgrid@example.com>\"\n",
            sink.port
        ),
    )
    .unwrap();
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    assert!(server
        .cli(&["user", "add", "lena", "--email", "lena@example.com"])
        .status
        .success());
    assert!(server.cli(&["user", "add", "nomail"]).status.success());
    let jar = dir.path().join("jar.txt");

    let forgot = page(&server, &jar, "/login/forgot");
    let csrf = csrf_field(&forgot);
    // The same answer for a user with mail, one without, and an ID that does not exist.
    for id in ["lena", "nomail", "ghost"] {
        let (status, location) = form(
            &server,
            &jar,
            "/login/forgot",
            &format!("csrf={csrf}&user_id={id}"),
        );
        assert_eq!(
            (status, location.as_str()),
            (303, "/login/forgot?sent=1"),
            "{id}"
        );
    }
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = messages(&maildir);
        if !mails.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mails_now = messages(&maildir);
    assert_eq!(mails_now.len(), 1, "one mail, to lena only");
    assert!(mails[0].0.contains("lena@example.com"));
    let body = &mails[0].1;
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("https://passgrid.example/login/reset?t="))
        .expect("a reset link in the mail");
    let path = link.trim_start_matches("https://passgrid.example");

    // Opening the link changes nothing (mail scanners prefetch links); the button does.
    let reset_page = page(&server, &jar, path);
    assert!(reset_page.contains("do-reset"), "{reset_page}");
    let reset_page = page(&server, &jar, path);
    let token = path.trim_start_matches("/login/reset?t=");
    let (status, location) = form(
        &server,
        &jar,
        "/login/reset",
        &format!("csrf={}&t={token}", csrf_field(&reset_page)),
    );
    assert_eq!(status, 303);
    assert_eq!(location, format!("/login/reset/done?t={token}"));
    let done = page(&server, &jar, &location);
    let cells = cells_from_picture(&done);
    assert_eq!(cells.len(), 6, "{done}");
    // Shown once; the link is spent.
    assert!(!page(&server, &jar, &location).contains("data-cell"));
    assert!(page(&server, &jar, path).contains("does not work"));
    let (_, location) = form(
        &server,
        &jar,
        "/login/reset",
        &format!("csrf={}&t={token}", csrf_field(&reset_page)),
    );
    assert_eq!(location, "/login/reset");

    // The new initial pattern signs in, and the user must register their own.
    let (status, s) = post_json(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "lena"}),
        &jar,
    );
    assert_eq!(status, 200);
    let (status, ok) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells)}),
        &jar,
    );
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["must_change_pattern"], true);

    let log = database.sql(
        &server.data_dir,
        "SELECT action || ' ' || target || ' ' || reason FROM audit_log ORDER BY id",
    );
    assert!(
        log.contains("auth.reset_request ghost unknown user"),
        "{log}"
    );
    assert!(
        log.contains("auth.reset_request nomail no mail address"),
        "{log}"
    );
    assert!(log.contains("auth.reset lena new initial pattern"), "{log}");
    assert!(
        !server.server_log().contains(token),
        "the token never reaches the log"
    );
}
