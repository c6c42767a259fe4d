//! Printable first-login notices (SPEC §2.8 (c)): `passgrid cert print ID... --out F`
//! writes one page per user with a working one-time link, its password and the
//! initial pattern; a run that fails for one user issues nothing for any.

use integration_tests::*;
use serde_json::Value;
use std::process::Command;

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} missing"))
        + start.len();
    &text[from..from + text[from..].find(end).expect("end")]
}

#[test]
fn notices_carry_a_working_link_and_a_failed_run_issues_nothing() {
    let dir = TempDir::new("print");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(
        &config,
        format!(
            "[serve]\npublic_url = \"{}\"\n\n[auth]\nmax_certificates_per_user = 1\n",
            server.url("")
        ),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        server.cli(&all)
    };
    let alice: Value = serde_json::from_slice(
        &server
            .cli(&["--json", "user", "add", "alice", "--name", "Alice A."])
            .stdout,
    )
    .unwrap();
    let cells = alice["initial_pattern"]["cells"].as_array().unwrap().len();
    assert!(server.cli(&["user", "add", "bob"]).status.success());

    let sheet = dir.path().join("notices.html");
    let out = cli(&[
        "cert",
        "print",
        "alice",
        "bob",
        "--out",
        sheet.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&sheet).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let html = std::fs::read_to_string(&sheet).unwrap();
    assert_eq!(
        html.matches("<section class=\"notice\"").count(),
        2,
        "one page per user"
    );
    assert!(html.contains("page-break-after:always"));
    let page = between(&html, "data-user=\"alice\"", "</section>");
    assert!(page.contains("Alice A."));
    assert!(page.contains(&server.url("/login")));
    // The initial pattern as a picture: as many numbered cells as distinct cells.
    let used = page.matches("used\">").count();
    assert!(used >= 1 && used <= cells, "{used} of {cells}");

    // The printed link and password give alice her certificate.
    let link = between(page, "<dd class=\"link\">", "</dd>").replace("&amp;", "&");
    let password = between(page, "<dd class=\"secret password\">", "</dd>").to_string();
    let token = link.rsplit("t=").next().unwrap();
    let p12 = dir.path().join("alice.p12");
    let status = Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&p12)
        .args(["-w", "%{http_code}", "--cacert"])
        .arg(server.ca_pem())
        .arg(server.url(&format!("/certificate/file?t={token}")))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "200");
    openssl(&[
        "pkcs12",
        "-in",
        p12.to_str().unwrap(),
        "-passin",
        &format!("pass:{password}"),
        "-noout",
    ]);

    // An unknown user: refused before anything is issued.
    assert!(server.cli(&["user", "add", "carol"]).status.success());
    let out = cli(&[
        "cert",
        "print",
        "carol",
        "nobody",
        "--out",
        dir.path().join("x.html").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user with ID \"nobody\""));
    // A limit reached for the second user: the first one's certificate goes again.
    let out = cli(&[
        "cert",
        "print",
        "carol",
        "alice",
        "--out",
        dir.path().join("y.html").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("alice: limit reached"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("y.html").exists());
    let carol: Value =
        serde_json::from_slice(&cli(&["--json", "cert", "list", "--user", "carol"]).stdout)
            .unwrap();
    assert_eq!(
        carol.as_array().unwrap().len(),
        0,
        "nothing issued: {carol}"
    );
}
