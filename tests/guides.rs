//! Install guides (SPEC §2.8): a page per system, reachable without signing in (mails
//! and printed notices link to them), in the visitor's language.

use integration_tests::*;

#[test]
fn every_system_has_a_guide_page_and_unknown_ones_are_404() {
    let dir = TempDir::new("guides");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let pages = [
        ("windows", "Certificate Import Wizard"),
        ("macos", "Keychain Access"),
        ("ios", "Profile Downloaded"),
        ("android", "Install a certificate"),
        ("chrome", "Manage certificates"),
        ("firefox", "View Certificates"),
    ];
    for (system, words) in pages {
        let (status, body) = server.curl(
            &format!("/help/install/{system}"),
            &["-H", "Accept-Language: en"],
        );
        assert_eq!(status, 200, "{system}");
        assert!(body.contains(words), "{system}: {words:?} missing");
        // Links to the other five.
        assert_eq!(body.matches("href=\"/help/install/").count(), 5, "{system}");
    }
    let (status, body) = server.curl("/help/install/windows", &["-H", "Accept-Language: ja"]);
    assert_eq!(status, 200);
    assert!(body.contains("証明書のインポート"), "Japanese guide");
    let (status, _) = server.curl("/help/install/amiga", &[]);
    assert_eq!(status, 404);
}
