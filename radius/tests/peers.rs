//! The crate against real peers: FreeRADIUS's `radclient` (PAP, challenge/State,
//! wrong secret) and wpa_supplicant's `eapol_test` (EAP-MSCHAPv2 with MPPE keys).
//! Needs Debian's `freeradius-utils` and `eapoltest`
//! (`apt-get install -y freeradius-utils eapoltest`); skipped with a message if absent.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use passgrid_radius::attributes::kind;
use passgrid_radius::authenticator::{
    check_message_authenticator, verify_response_authenticator, MessageAuthenticatorCheck,
};
use passgrid_radius::{Packet, Secret};
use tokio::net::UdpSocket;

fn tool_missing(tool: &str) -> bool {
    let missing = Command::new(tool)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err();
    if missing {
        eprintln!(
            "SKIPPED: `{tool}` is not installed; run `apt-get install -y freeradius-utils eapoltest`"
        );
    }
    missing
}

/// Runs radclient with `attributes` on stdin; returns (exit ok, stdout+stderr).
async fn radclient(server: SocketAddr, secret: &str, attributes: &str) -> (bool, String) {
    let (server, secret, attributes) = (
        server.to_string(),
        secret.to_string(),
        attributes.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("radclient")
            .args(["-x", "-r", "1", "-t", "2", &server, "auth", &secret])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(attributes.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    })
    .await
    .unwrap()
}

fn pap(user: &str, password: &str) -> String {
    // Message-Authenticator = 0x00 makes radclient compute a real one.
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
    )
}

/// A UDP relay between radclient and the server that keeps every request and
/// reply, so the test checks the reply octets itself.
struct Relay {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Exchange>>>,
}

/// One request's octets and its reply's.
type Exchange = (Vec<u8>, Vec<u8>);

async fn start_relay(server: SocketAddr) -> Relay {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let address = front.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let back = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut reply = vec![0u8; 4096];
        loop {
            let Ok((n, client)) = front.recv_from(&mut buf).await else {
                return;
            };
            back.send_to(&buf[..n], server).await.unwrap();
            if let Ok(Ok((m, _))) =
                tokio::time::timeout(Duration::from_secs(2), back.recv_from(&mut reply)).await
            {
                log.lock()
                    .unwrap()
                    .push((buf[..n].to_vec(), reply[..m].to_vec()));
                front.send_to(&reply[..m], client).await.unwrap();
            }
        }
    });
    Relay { address, seen }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radclient_pap_challenge_and_wrong_secret() {
    if tool_missing("radclient") {
        return;
    }
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let relay = start_relay(server.address).await;

    let (_, out) = radclient(relay.address, SECRET, &pap(PAP_USER, PAP_PASSWORD)).await;
    assert!(out.contains("Received Access-Accept"), "{out}");
    assert!(out.contains("Class = 0x76706e2d7573657273"), "{out}");
    // The reply octets, checked by this test with the request's authenticator.
    let (request, reply) = relay.seen.lock().unwrap().last().cloned().unwrap();
    let request_auth: [u8; 16] = request[4..20].try_into().unwrap();
    let secret = Secret::from(SECRET);
    assert_eq!(
        Packet::parse(&request)
            .unwrap()
            .message_authenticator()
            .map(<[u8]>::len),
        Some(16),
        "radclient sent a Message-Authenticator"
    );
    assert_eq!(
        check_message_authenticator(&reply, &request_auth, &secret),
        MessageAuthenticatorCheck::Valid
    );
    assert!(verify_response_authenticator(
        &reply,
        &request_auth,
        &secret
    ));
    assert_eq!(
        Packet::parse(&reply).unwrap().attributes[0].kind,
        kind::MESSAGE_AUTHENTICATOR
    );

    let (_, out) = radclient(server.address, SECRET, &pap(PAP_USER, "wrong")).await;
    assert!(out.contains("Received Access-Reject"), "{out}");

    // Wrong secret: no answer at all.
    let before = server.counters.snapshot();
    let (ok, out) = radclient(
        server.address,
        "not-the-secret",
        &pap(PAP_USER, PAP_PASSWORD),
    )
    .await;
    assert!(!ok, "{out}");
    assert!(!out.contains("Received Access-"), "{out}");
    assert!(out.contains("No reply from server"), "{out}");
    let after = server.counters.snapshot();
    assert!(after.dropped_bad_message_authenticator > before.dropped_bad_message_authenticator);

    // Access-Challenge with State, then the code with that State.
    let (_, out) = radclient(server.address, SECRET, &pap(CHALLENGE_USER, "x")).await;
    assert!(out.contains("Received Access-Challenge"), "{out}");
    assert!(out.contains("Reply-Message = \"Grid: A 1234"), "{out}");
    let state = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("State = "))
        .unwrap_or_else(|| panic!("no State in {out}"))
        .to_string();
    let second = format!(
        "User-Name = \"{CHALLENGE_USER}\", User-Password = \"{CHALLENGE_CODE}\", State = {state}, Message-Authenticator = 0x00\n"
    );
    let (_, out) = radclient(server.address, SECRET, &second).await;
    assert!(out.contains("Received Access-Accept"), "{out}");
    // The State was single-use.
    let (_, out) = radclient(server.address, SECRET, &second).await;
    assert!(out.contains("Received Access-Reject"), "{out}");
}

/// Runs eapol_test for bob with a password; returns (exit ok, output).
async fn eapol_test(server: SocketAddr, password: &str) -> (bool, String) {
    let config = std::env::temp_dir().join(format!(
        "passgrid-radius-eapol-{}-{}.conf",
        std::process::id(),
        password.len()
    ));
    std::fs::write(
        &config,
        format!(
            "network={{\n  key_mgmt=IEEE8021X\n  eap=MSCHAPV2\n  identity=\"{EAP_USER}\"\n  password=\"{password}\"\n}}\n"
        ),
    )
    .unwrap();
    let args = vec![
        format!("-c{}", config.display()),
        format!("-a{}", server.ip()),
        format!("-p{}", server.port()),
        format!("-s{SECRET}"),
        "-t10".to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new("eapol_test").args(&args).output().unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&config);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eapol_test_eap_mschapv2_success_and_failure() {
    if tool_missing("eapol_test") {
        return;
    }
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let (ok, out) = eapol_test(server.address, EAP_PASSWORD).await;
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.trim() == "SUCCESS"), "{out}");
    // eapol_test compares the MSK it derived with the MS-MPPE keys it received.
    assert!(out.contains("MPPE keys OK: 1  mismatch: 0"), "{out}");
    assert!(
        out.contains("EAP-MSCHAPV2: Authentication succeeded"),
        "{out}"
    );
    // And the keys it printed: the peer's MSK is the server's receive key then its
    // send key (RFC 3079 §3.4 from both sides), both as decrypted from our Accept.
    let hex_after = |label: &str| {
        out.lines()
            .find_map(|l| l.split_once(label).map(|(_, rest)| rest.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{label}` in {out}"))
    };
    let msk = hex_after("EAP-MSCHAPV2: Derived key - hexdump(len=32):");
    let send = hex_after("MS-MPPE-Send-Key (sign) - hexdump(len=16):");
    let recv = hex_after("MS-MPPE-Recv-Key (crypt) - hexdump(len=16):");
    assert_eq!(msk, format!("{recv} {send}"));
    assert_ne!(send, recv);

    let (ok, out) = eapol_test(server.address, "wrong-otp").await;
    assert!(!ok, "{out}");
    assert!(out.lines().any(|l| l.trim() == "FAILURE"), "{out}");
    // The MS-CHAPv2 Failure-Request reached the peer (E=691, no retry), then the Reject.
    assert!(out.contains("EAP-MSCHAPV2: error 691"), "{out}");
    assert!(out.contains("code=3 (Access-Reject)"), "{out}");
    assert!(
        !out.contains("MS-MPPE-Send-Key"),
        "no keys on failure: {out}"
    );
    assert_eq!(server.counters.snapshot().dropped(), 0);
}
