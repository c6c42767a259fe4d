//! Certificates by mail (SPEC §2.8): `passgrid cert mail ID` issues a certificate and
//! mails a one-time link through a real SMTP server (aiosmtpd on loopback); the page
//! behind the link shows the password and gives the file once. A relay that cannot
//! be reached leaves no certificate behind.

use integration_tests::*;
use std::path::Path;
use std::process::Command;

fn curl(server: &TestServer, path: &str, out: &Path) -> (u16, String) {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-o"])
        .arg(out)
        .args(["-w", "%{http_code} %{redirect_url}", "--cacert"])
        .arg(server.ca_pem())
        .arg(server.url(path))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let (code, location) = text.split_once(' ').unwrap_or((&text, ""));
    (code.parse().unwrap_or(0), location.to_string())
}

on_both_databases! {
fn a_mailed_link_gives_the_certificate_once_and_a_dead_relay_leaves_nothing(db: Db) {
    let dir = TempDir::new("mail");
    let maildir = dir.path().join("maildir");
    let sink = SmtpSink::start(&maildir);
    let database = TestDb::new(db);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let config = dir.path().join("passgrid.toml");
    let write_config = |port: u16| {
        std::fs::write(
            &config,
            format!(
                "[serve]\npublic_url = \"{}\"\n\n[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\n\
                 security = \"none\"\nfrom = \"passgrid <passgrid@example.com>\"\n",
                server.url("")
            ),
        )
        .unwrap();
    };
    write_config(sink.port);
    let cli = |args: &[&str]| {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        server.cli(&all)
    };
    assert!(server
        .cli(&["user", "add", "mia", "--email", "mia@example.com"])
        .status
        .success());

    let out = cli(&["--json", "cert", "mail", "mia"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = messages(&maildir);
    assert_eq!(mails.len(), 1);
    let (raw, mail) = &mails[0];
    assert!(raw.contains("To: mia@example.com"), "{raw}");
    assert!(mail.contains("passgrid account mia"), "{mail}");
    let link_start = mail
        .find(&server.url("/certificate?t="))
        .expect("a link in the mail");
    let link: String = mail[link_start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let path = link.trim_start_matches(&server.url(""));

    // The page behind the link, without signing in: the password.
    let page_file = dir.path().join("page.html");
    let (status, _) = curl(&server, path, &page_file);
    assert_eq!(status, 200);
    let page = std::fs::read_to_string(&page_file).unwrap();
    let start = page
        .find("class=\"cert-password\"")
        .expect("the password on the page");
    let password: String = page[start..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.len() == 19 && w.matches('-').count() == 3)
        .expect("a 4x4 password")
        .to_string();
    assert!(!mail.contains(&password), "the password is not in the mail");

    // The file, once.
    let token = path.trim_start_matches("/certificate?t=");
    let p12 = dir.path().join("mia.p12");
    let (status, _) = curl(&server, &format!("/certificate/file?t={token}"), &p12);
    assert_eq!(status, 200);
    openssl(&[
        "pkcs12",
        "-in",
        p12.to_str().unwrap(),
        "-passin",
        &format!("pass:{password}"),
        "-noout",
    ]);
    let (status, location) = curl(
        &server,
        &format!("/certificate/file?t={token}"),
        &dir.path().join("again"),
    );
    assert_eq!(status, 303);
    assert!(location.ends_with("/certificate?error=gone"), "{location}");

    // A link past its time gives nothing.
    assert!(server
        .cli(&["user", "add", "eve", "--email", "eve@example.com"])
        .status
        .success());
    assert!(cli(&["cert", "mail", "eve"]).status.success());
    let (_, mail) = messages(&maildir).pop().unwrap();
    let start = mail.find(&server.url("/certificate?t=")).unwrap();
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token = link.rsplit("t=").next().unwrap().to_string();
    // Mailed links live 72 hours.
    server.advance_clock(72 * 3600 + 60);
    let (status, location) = curl(
        &server,
        &format!("/certificate/file?t={token}"),
        &dir.path().join("late"),
    );
    assert_eq!(status, 303, "an expired link");
    assert!(location.ends_with("/certificate?error=gone"), "{location}");

    // A relay that is not there: an error, and no certificate was left behind.
    assert!(server
        .cli(&["user", "add", "noa", "--email", "noa@example.com"])
        .status
        .success());
    drop(sink);
    write_config(free_port());
    let out = cli(&["cert", "mail", "noa"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SMTP relay"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&cli(&["--json", "cert", "list", "--user", "noa"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0, "{listed}");
    // And a user without a mail address is refused before anything is issued.
    assert!(server.cli(&["user", "add", "zed"]).status.success());
    let out = cli(&["cert", "mail", "zed"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("zed has no mail address"));
}
}
