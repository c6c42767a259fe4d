//! A CSV drop folder belongs to whoever drops files in it (issue #13, item 3): links
//! planted there are never followed or written through, a `done/` or `failed/` that
//! is a link is refused with the reason in the sync report, and a file's size is
//! checked before it is read.

use std::{os::unix::fs::symlink, path::Path, process::Command};

use integration_tests::*;
use serde_json::Value;

/// Sets a file's modification time into the past, as if written a while ago (the
/// folder watch waits for files to settle). `-h`: a link's own time.
fn age(path: &Path) {
    let status = Command::new("touch")
        .args(["-h", "-d", "10 seconds ago"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn add_source(server: &TestServer, name: &str, folder: &Path) {
    cli_value(
        server,
        &[
            "sync",
            "add-csv",
            name,
            "--folder",
            folder.to_str().unwrap(),
        ],
    );
}

fn user_exists(server: &TestServer, id: &str) -> bool {
    server.cli(&["user", "show", id]).status.success()
}

fn last_report(server: &TestServer, source: &str) -> Value {
    let list = cli_value(server, &["sync", "list"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == source)
        .map(|s| s["last_run"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn planted_links_are_never_followed_and_big_files_never_read() {
    let dir = TempDir::new("dropfolder");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);

    // A file of the test's own, standing in for the master key or any other file the
    // server may write.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "id\nmallory\n").unwrap();

    // 1. A report name in done/ planted as a link, and a CSV that is a link.
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("done")).unwrap();
    symlink(&victim, inbox.join("done/a.csv.report.txt")).unwrap();
    std::fs::write(inbox.join("a.csv"), "id,name\nnina,Nina\n").unwrap();
    symlink(&victim, inbox.join("b.csv")).unwrap();
    age(&inbox.join("a.csv"));
    age(&inbox.join("b.csv"));
    add_source(&server, "hr", &inbox);
    let run = cli_value(&server, &["sync", "run", "hr"]);
    assert_eq!(run["adds"], 1, "{run}");
    assert!(user_exists(&server, "nina"));
    assert!(
        !user_exists(&server, "mallory"),
        "a linked CSV is not read: {run}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "id\nmallory\n",
        "nothing was written through the planted link"
    );
    assert!(
        std::fs::symlink_metadata(inbox.join("done/a.csv.report.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Filed under a name free together with its report; the report is a new file.
    assert!(inbox.join("done/a.csv.1").is_file());
    let report = std::fs::read_to_string(inbox.join("done/a.csv.1.report.txt")).unwrap();
    assert!(report.contains("1 added"), "{report}");
    // The linked CSV went to failed/ as the link it is, with the reason.
    assert!(std::fs::symlink_metadata(inbox.join("failed/b.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
    let report = std::fs::read_to_string(inbox.join("failed/b.csv.report.txt")).unwrap();
    assert!(
        report.contains("refused, not read: a symbolic link"),
        "{report}"
    );
    assert!(run["report"]
        .as_str()
        .unwrap()
        .contains("b.csv: refused, not read: a symbolic link"));

    // 2. A done/ that is a link to another folder: refused before anything is read
    // or applied, with the reason in the run's report.
    let inbox2 = dir.path().join("inbox2");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&inbox2).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    symlink(&elsewhere, inbox2.join("done")).unwrap();
    std::fs::write(inbox2.join("c.csv"), "id\nomar\n").unwrap();
    age(&inbox2.join("c.csv"));
    add_source(&server, "hr2", &inbox2);
    let out = server.cli(&["sync", "run", "hr2"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("done/ is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert!(!user_exists(&server, "omar"), "nothing applied");
    assert!(
        inbox2.join("c.csv").is_file(),
        "the file stays where it was"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    let last = last_report(&server, "hr2");
    assert_eq!(last["outcome"], "failed", "{last}");
    assert!(
        last["report"]
            .as_str()
            .unwrap()
            .contains("done/ is a symbolic link: refused"),
        "{last}"
    );
    // The same for failed/.
    std::fs::remove_file(inbox2.join("done")).unwrap();
    symlink(&elsewhere, inbox2.join("failed")).unwrap();
    let out = server.cli(&["sync", "run", "hr2"]);
    assert!(
        stderr(&out).contains("failed/ is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert!(!user_exists(&server, "omar"));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // 3. A file far larger than the limit (sparse: 1 TiB that takes no disk): refused
    // on its size, never read (reading it whole could not even be attempted).
    let inbox3 = dir.path().join("inbox3");
    std::fs::create_dir_all(&inbox3).unwrap();
    let big = inbox3.join("big.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    age(&big);
    add_source(&server, "hr3", &inbox3);
    let run = cli_value(&server, &["sync", "run", "hr3"]);
    let text = run["report"].as_str().unwrap();
    assert!(
        text.contains(
            "big.csv: refused, not read: 1099511627776 bytes is over the 52428800-byte limit"
        ),
        "{run}"
    );
    assert!(inbox3.join("failed/big.csv").is_file());
}
