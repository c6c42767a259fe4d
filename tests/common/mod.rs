//! Boots the real `passgrid` binary on a free port with a fresh data directory, on
//! SQLite or on a throw-away PostgreSQL database, and drives it with real clients
//! (curl, openssl). Fixtures are made through passgrid's own command line.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    sync::mpsc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

mod admin;
pub mod browser;
pub mod saml;
pub use admin::{admin_token, admin_tokens, api};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Defines one test per database: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* fn $name:ident($db:ident: Db) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($db: $crate::Db) $body
            #[test]
            fn sqlite() {
                run($crate::Db::Sqlite)
            }
            #[test]
            fn postgres() {
                run($crate::Db::Postgres)
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The file a debug server reads its clock offset from (`PASSGRID_TEST_CLOCK_FILE`).
fn clock_file(data_dir: &Path) -> PathBuf {
    data_dir.join("test-clock-offset")
}

/// A command's standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The server binary under test (built by the test command before `cargo test`).
pub fn passgrid_bin() -> PathBuf {
    let path = std::env::var_os("TEST_PASSGRID_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/passgrid"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p passgrid` first",
        path.display()
    );
    path
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database for one test: SQLite in the data directory, or a fresh PostgreSQL
/// database (dropped afterwards) on the server the test command started.
pub struct TestDb {
    pub kind: Db,
    pub url: Option<String>,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(kind: Db) -> TestDb {
        match kind {
            Db::Sqlite => TestDb {
                kind,
                url: None,
                pg_name: None,
            },
            Db::Postgres => {
                let admin = pg_admin_url();
                let name = unique("pgtest");
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let url = replace_db_name(&admin, &name);
                TestDb {
                    kind,
                    url: Some(url),
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Runs `sql` on the database directly, as someone with access to the database
    /// files (not through passgrid) could: for tamper tests.
    pub fn sql(&self, data_dir: &Path, sql: &str) -> String {
        let out = match &self.url {
            Some(url) => Command::new("psql")
                .arg(url)
                .args(["-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
                .output()
                .expect("run psql"),
            None => Command::new("sqlite3")
                .arg(data_dir.join("passgrid.db"))
                .arg(sql)
                .output()
                .expect("run sqlite3 (Debian package sqlite3)"),
        };
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `--database-url …` when not the default.
    pub fn args(&self) -> Vec<String> {
        self.url
            .iter()
            .flat_map(|u| ["--database-url".to_string(), u.clone()])
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let _ = Command::new("psql")
                .arg(pg_admin_url())
                .args([
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn pg_admin_url() -> String {
    std::env::var("TEST_PASSGRID_PG_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_PASSGRID_PG_URL is not set: the PostgreSQL half of the suite needs a server. \
             Run the README's test command (scripts/test-all.sh), which starts one."
        )
    })
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').expect("database URL has a path");
    format!("{}/{name}{query}", &base[..cut])
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(url)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `passgrid serve`.
pub struct TestServer {
    child: Child,
    pub port: u16,
    pub banner: Value,
    pub data_dir: PathBuf,
    pub db_args: Vec<String>,
    pub log: PathBuf,
}

impl TestServer {
    /// Starts the server on `data_dir` and `db` with extra `serve` arguments, and waits
    /// for its "listening" line.
    pub fn start(data_dir: &Path, db: &TestDb, extra: &[&str]) -> TestServer {
        Self::spawn(data_dir, db, None, extra, None)
    }

    /// Like `start`, with a TOML configuration file.
    pub fn start_with_config(
        data_dir: &Path,
        db: &TestDb,
        config: &Path,
        extra: &[&str],
    ) -> TestServer {
        Self::spawn(data_dir, db, Some(config), extra, None)
    }

    /// Like `start_with_config`, with the server's open-file limit (soft and hard) set
    /// to `files` by util-linux `prlimit`, as a small `ulimit -n` would.
    pub fn start_with_file_limit(
        data_dir: &Path,
        db: &TestDb,
        config: Option<&Path>,
        files: u64,
    ) -> TestServer {
        Self::spawn(data_dir, db, config, &[], Some(files))
    }

    fn spawn(
        data_dir: &Path,
        db: &TestDb,
        config: Option<&Path>,
        extra: &[&str],
        file_limit: Option<u64>,
    ) -> TestServer {
        let log = data_dir.join(format!("{}.log", unique("server")));
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log_file = std::fs::File::create(&log).expect("log file");
        // prlimit execs the server: the child's pid is the server's.
        let mut command = match file_limit {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(passgrid_bin());
                c
            }
            None => Command::new(passgrid_bin()),
        };
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data_dir)
            .args(db.args())
            .args(["--json", "serve", "--listen", "127.0.0.1:0"])
            .env("PASSGRID_TEST_CLOCK_FILE", clock_file(data_dir))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn passgrid serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("\"event\":\"listening\"") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let banner: Value = serde_json::from_str(&line).expect("banner is JSON");
        let port = banner["listen"]
            .as_str()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .expect("listen address in banner");
        TestServer {
            child,
            port,
            banner,
            data_dir: data_dir.to_path_buf(),
            db_args: db.args(),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.data_dir.join("ca.pem")
    }

    /// curl trusting passgrid's CA; returns (HTTP status, body).
    pub fn curl(&self, path: &str, extra: &[&str]) -> (u16, String) {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-o",
                "-",
                "-w",
                "\n%{http_code}",
                "--cacert",
            ])
            .arg(self.ca_pem())
            .args(extra)
            .arg(self.url(path))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    pub fn curl_json(&self, path: &str, extra: &[&str]) -> Value {
        let (status, body) = self.curl(path, extra);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path} is not JSON ({e}): {body}"))
    }

    /// Runs a passgrid subcommand on this server's installation (on the server's
    /// clock).
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(passgrid_bin())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.db_args)
            .args(args)
            .env("PASSGRID_TEST_CLOCK_FILE", clock_file(&self.data_dir))
            .output()
            .expect("run passgrid")
    }

    /// Moves the clock of this server (and of its `cli` runs) `secs` seconds on: the
    /// one way tests age links, sessions and locks, on either database.
    pub fn advance_clock(&self, secs: i64) {
        let file = clock_file(&self.data_dir);
        let now: i64 = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        std::fs::write(&file, (now + secs).to_string()).expect("clock file");
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait: the server must stop by itself.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// A device key and a certificate for `user`, issued by passgrid's CA from a CSR
/// (the user is created first). Returns (cert.pem, key.pem).
pub fn issue_client_cert(server: &TestServer, dir: &Path, user: &str) -> (PathBuf, PathBuf) {
    let out = server.cli(&[
        "user",
        "add",
        user,
        "--email",
        &format!("{user}@example.com"),
    ]);
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (csr, key) = new_csr(dir, user, "ec");
    let cert = dir.join(format!("{user}.pem"));
    let out = server.cli(&[
        "cert",
        "issue",
        user,
        "--csr",
        csr.to_str().unwrap(),
        "--out",
        cert.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "cert issue: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// A device key (`ec` = P-256, or e.g. `rsa:1024`) and a CSR for it, made by openssl:
/// returns (csr, key).
pub fn new_csr(dir: &Path, name: &str, key_type: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let mut args = vec!["req", "-new", "-newkey", key_type];
    if key_type == "ec" {
        args.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    let (k, c) = (
        key.to_str().unwrap().to_string(),
        csr.to_str().unwrap().to_string(),
    );
    args.extend(["-nodes", "-keyout", &k, "-subj", "/CN=ignored", "-out", &c]);
    openssl(&args);
    (csr, key)
}

/// A self-signed CA and a client certificate from it: passgrid must not trust these.
pub fn foreign_client_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key = dir.join("foreign-ca.key");
    let ca = dir.join("foreign-ca.pem");
    let (csr, key) = new_csr(dir, "foreign", "ec");
    let cert = dir.join("foreign.pem");
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &s(&ca_key),
        "-subj",
        "/CN=passgrid CA 00000000",
        "-days",
        "30",
        "-out",
        &s(&ca),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-CAcreateserial",
        "-days",
        "30",
        "-out",
        &s(&cert),
    ]);
    (cert, key)
}

pub fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A metric's value from `/metrics` text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("metric {name} not found in:\n{text}"))
}

/// POST JSON with a cookie jar (the challenge is bound to the flow cookie).
pub fn post_json(server: &TestServer, path: &str, body: &Value, jar: &Path) -> (u16, Value) {
    post_json_with(server, path, body, jar, &[])
}

/// `post_json` with more curl arguments (e.g. `--cert`, `--key`).
pub fn post_json_with(
    server: &TestServer,
    path: &str,
    body: &Value,
    jar: &Path,
    extra: &[&str],
) -> (u16, Value) {
    let jar = jar.to_str().unwrap();
    let body = body.to_string();
    let mut args = vec![
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        "-b",
        jar,
        "-c",
        jar,
    ];
    args.extend_from_slice(extra);
    let (status, text) = server.curl(path, &args);
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The OTP for `cells` on the grid of an API start answer.
pub fn otp_from(start: &Value, cells: &[u64]) -> String {
    let digits = start["grid"]["digits"].as_str().unwrap().as_bytes();
    cells
        .iter()
        .map(|&c| char::from(digits[c as usize]))
        .collect()
}

/// Adds a user; returns the cells of its initial pattern.
pub fn add_user(server: &TestServer, id: &str) -> Vec<u64> {
    let out = server.cli(&["--json", "user", "add", id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["initial_pattern"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect()
}

/// aiosmtpd writing every message into a Maildir, killed on drop.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
}

impl SmtpSink {
    pub fn start(maildir: &Path) -> SmtpSink {
        let port = free_port();
        // The system Python: Debian's python3-aiosmtpd lives there.
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd (python3-aiosmtpd)");
        // Owned at once, so that it is killed (on drop) whatever happens next.
        let sink = SmtpSink { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sink;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("aiosmtpd did not start on port {port}");
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The messages in the Maildir, oldest first: (raw headers and body, decoded body).
pub fn messages(maildir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|f| {
            // The body is transfer-encoded (it has Japanese); Python's email module
            // decodes it as a mail client would.
            let decoded = Command::new("python3")
                .args([
                    "-c",
                    "import email, sys\n\
                     m = email.message_from_binary_file(open(sys.argv[1], 'rb'))\n\
                     sys.stdout.write(m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8'))",
                ])
                .arg(f)
                .output()
                .expect("python3");
            (
                std::fs::read_to_string(f).unwrap_or_default(),
                String::from_utf8_lossy(&decoded.stdout).to_string(),
            )
        })
        .collect()
}

/// Runs a passgrid subcommand with `--json` on the server's installation, asserts
/// that it succeeded, and returns its output.
pub fn cli_value(server: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = server.cli(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The value of the page's CSRF form field.
pub fn csrf_field(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a csrf field in the page")
        .to_string()
}
