//! Bad input gets an error and the server keeps serving: garbage instead of a TLS
//! hello, oversized bodies, malformed cookies, silent connections.

use integration_tests::*;
use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

on_both_databases! {
    fn garbage_oversized_and_malformed_requests_are_refused(db: Db) {
        let dir = TempDir::new("bad_input");
        let database = TestDb::new(db);
        let server = TestServer::start(dir.path(), &database, &[]);

        // Not a TLS client hello: the server closes the connection.
        let mut tcp = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\xff\xff garbage").unwrap();
        let mut buf = Vec::new();
        let _ = tcp.read_to_end(&mut buf);
        assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
        let metrics = server.curl("/metrics", &[]).1;
        assert!(metric(&metrics, "passgrid_tls_handshakes_total{result=\"failed\"}") >= 1.0);

        // A body over the limit (1 MiB) is refused with 413 before it is read. (Over
        // HTTP/1.1: Debian's curl 7.88 reports the early HTTP/2 answer, followed by
        // RST_STREAM(NO_ERROR), as a framing error instead of showing the 413.)
        let big = dir.path().join("big.bin");
        std::fs::write(&big, vec![b'a'; 2 * 1024 * 1024]).unwrap();
        let (status, _) = server.curl(
            "/setup",
            &[
                "--http1.1",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/x-www-form-urlencoded",
                "--data-binary",
                &format!("@{}", big.display()),
            ],
        );
        assert_eq!(status, 413);

        // A malformed form body: refused, nothing created.
        let (status, _) = server.curl("/setup", &["-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", "%%%"]);
        assert!((400..500).contains(&status), "{status}");

        // Malformed cookies: a clear 400, not a crash.
        for cookie in ["Cookie: novalue", "Cookie: =x", "Cookie: bad name=1"] {
            let (status, body) = server.curl("/", &["-H", cookie]);
            assert_eq!(status, 400, "{cookie}: {body}");
            assert!(body.contains("malformed_cookie"));
        }
        // A well-formed but unknown language cookie is simply ignored.
        let (status, body) = server.curl("/", &["-H", "Cookie: passgrid_lang=klingon", "-H", "Accept-Language: ja"]);
        assert_eq!(status, 200);
        assert!(body.contains("lang=\"ja\""));

        // Unknown API routes answer JSON 404.
        let (status, body) = server.curl("/api/v1/nope", &[]);
        assert_eq!((status, body.contains("not_found")), (404, true));

        // Still serving after all of that.
        assert_eq!(server.curl("/healthz", &[]).0, 200);
        assert!(!server.server_log().contains("panicked"), "{}", server.server_log());
    }
}

#[test]
fn silent_connections_do_not_delay_a_new_handshake() {
    let dir = TempDir::new("silent");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(dir.path(), &database, &[]);
    // 100 clients connect and say nothing; the handshake timeout is 10 s.
    let silent: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    // A real client must complete its handshake and request well before any silent
    // connection times out: a serial accept loop would make it wait for them.
    let (status, _) = server.curl("/healthz", &["--max-time", "5"]);
    assert_eq!(
        status, 200,
        "a new client was held up by silent connections"
    );
    let metrics = server.curl("/metrics", &[]).1;
    assert_eq!(
        metric(
            &metrics,
            "passgrid_tls_handshakes_total{result=\"timeout\"}"
        ),
        0.0
    );
    drop(silent);
}
