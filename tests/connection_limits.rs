//! Idle connections cannot keep new clients out (issue #13, item 8): TLS connections
//! that never send a request, or go quiet after the HTTP/2 preface or after a request,
//! are closed after the configured timeouts, and when the places of a source (or of
//! the server) are full the idlest connection makes way for the new client.

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use integration_tests::*;

/// The HTTP/2 client preface and an empty SETTINGS frame (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A TLS client that keeps its connection open and says nothing more than `send`;
/// `openssl s_client` ends when the server closes the connection.
struct IdleClient {
    child: Child,
    _stdin: ChildStdin,
    /// The server finished the handshake or closed the connection within 10 s.
    answered: bool,
}

impl IdleClient {
    /// Connects and returns once the TLS handshake is done, the server closed the
    /// connection, or 10 s passed (a server out of file descriptors never answers):
    /// the clients of a test connect one after the other, not all at once behind the
    /// new client whose page is asked for.
    fn open(server: &TestServer, alpn: &str, send: &[u8]) -> IdleClient {
        let mut child = Command::new("openssl")
            .args([
                "s_client",
                "-brief",
                "-ign_eof",
                "-nocommands",
                "-alpn",
                alpn,
            ])
            .arg("-connect")
            .arg(format!("127.0.0.1:{}", server.port))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl s_client");
        let mut stdin = child.stdin.take().expect("stdin");
        // `-brief` says "CONNECTION ESTABLISHED" on stderr after the handshake; the
        // reader drains stderr until s_client ends.
        let stderr = child.stderr.take().expect("stderr");
        let (established, wait) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("CONNECTION ESTABLISHED") {
                    let _ = established.send(());
                }
            }
        });
        let answered = !matches!(
            wait.recv_timeout(Duration::from_secs(10)),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if !send.is_empty() {
            // The server may have closed it already; the test looks at that later.
            let _ = stdin.write_all(send).and_then(|()| stdin.flush());
        }
        IdleClient {
            child,
            _stdin: stdin,
            answered,
        }
    }

    fn closed(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for IdleClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("passgrid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The page a new client asks for, over HTTP/1.1 and over HTTP/2.
fn new_clients_get_their_page(server: &TestServer) {
    for version in ["--http1.1", "--http2"] {
        let (status, body) = server.curl("/login", &[version]);
        assert_eq!(status, 200, "{version}: {body}");
    }
}

#[test]
fn idle_connections_do_not_keep_new_clients_out_of_a_small_file_limit() {
    // The reproduction: 256 open files, and more idle TLS connections from one address
    // than that; before, every new client then timed out.
    let dir = TempDir::new("connlimit");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start_with_file_limit(&dir.path().join("data"), &database, None, 256);
    let mut idle: Vec<IdleClient> = Vec::new();
    for i in 0..300 {
        let client = if i % 10 == 0 {
            IdleClient::open(&server, "h2", H2_PREFACE)
        } else {
            IdleClient::open(&server, "http/1.1", b"")
        };
        let answered = client.answered;
        idle.push(client);
        if !answered {
            // The server takes no more connections: no use opening others.
            break;
        }
    }
    new_clients_get_their_page(&server);
    let metrics = server.curl("/metrics", &[]).1;
    assert!(
        metric(
            &metrics,
            "passgrid_connections_closed_total{reason=\"evicted\"}"
        ) > 0.0,
        "{metrics}"
    );
    // Idle ones were closed to make room (at most the file limit stays open).
    let deadline = Instant::now() + Duration::from_secs(60);
    while idle
        .iter_mut()
        .map(IdleClient::closed)
        .filter(|c| *c)
        .count()
        < 300 - 256
    {
        assert!(
            Instant::now() < deadline,
            "idle connections were not closed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn idle_connections_are_closed_after_the_timeouts() {
    let dir = TempDir::new("connidle");
    let database = TestDb::new(Db::Sqlite);
    let config = write_config(
        dir.path(),
        "[serve]\nfirst_request_timeout_secs = 2\nidle_timeout_secs = 2\n\
         max_connections_per_source = 8\n",
    );
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut idle = [
        // TLS, then nothing.
        IdleClient::open(&server, "http/1.1", b""),
        IdleClient::open(&server, "http/1.1", b""),
        // HTTP/2 preface and SETTINGS, then nothing.
        IdleClient::open(&server, "h2", H2_PREFACE),
        IdleClient::open(&server, "h2", H2_PREFACE),
        // One request, then an idle keep-alive connection.
        IdleClient::open(&server, "http/1.1", request),
    ];
    // Bounded wait, no timing claim beyond "closed eventually".
    let deadline = Instant::now() + Duration::from_secs(60);
    while !idle.iter_mut().all(IdleClient::closed) {
        assert!(
            Instant::now() < deadline,
            "still open: {:?}",
            idle.iter_mut().map(IdleClient::closed).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let metrics = server.curl("/metrics", &[]).1;
    assert!(
        metric(
            &metrics,
            "passgrid_connections_closed_total{reason=\"idle\"}"
        ) >= 5.0
    );

    // Eight places for one source: twenty idle connections, and still a new client
    // of the same address gets its page (the idlest make way).
    let mut many: Vec<IdleClient> = (0..20)
        .map(|_| IdleClient::open(&server, "http/1.1", b""))
        .collect();
    new_clients_get_their_page(&server);
    let deadline = Instant::now() + Duration::from_secs(60);
    while many
        .iter_mut()
        .map(IdleClient::closed)
        .filter(|c| *c)
        .count()
        < 12
    {
        assert!(Instant::now() < deadline, "the per-source cap did not hold");
        std::thread::sleep(Duration::from_millis(200));
    }
}
