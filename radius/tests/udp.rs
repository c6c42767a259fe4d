//! The UDP loop end to end with the crate's own client side: PAP, drops,
//! duplicates, accounting, Status-Server, and 10,000 hostile datagrams.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use passgrid_radius::attributes::kind;
use passgrid_radius::authenticator::{
    check_message_authenticator, encode_request, verify_response_authenticator,
    MessageAuthenticatorCheck,
};
use passgrid_radius::secret::random_bytes;
use passgrid_radius::{Attribute, Client, Code, Packet, Secret, StaticClients};
use tokio::net::UdpSocket;

fn secret() -> Secret {
    Secret::from(SECRET)
}

async fn client_socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

/// Checks a reply the way a NAS does and returns it parsed.
fn checked_reply(reply: &[u8], request: &Packet) -> Packet {
    assert!(verify_response_authenticator(
        reply,
        &request.authenticator,
        &secret()
    ));
    assert_eq!(
        check_message_authenticator(reply, &request.authenticator, &secret()),
        MessageAuthenticatorCheck::Valid
    );
    let parsed = Packet::parse(reply).unwrap();
    assert_eq!(parsed.identifier, request.identifier);
    parsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pap_accept_reject_and_proxy_state() {
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let socket = client_socket().await;
    let mut request = access_request(PAP_USER, Some(PAP_PASSWORD), &secret());
    request.push(Attribute::proxy_state(b"hop-1"));
    request.push(Attribute::proxy_state(b"hop-2"));
    let reply = send_request(&socket, server.address, &request, &secret())
        .await
        .unwrap();
    let reply = checked_reply(&reply, &request);
    assert_eq!(reply.code, Code::AccessAccept);
    assert_eq!(reply.attributes[0].kind, kind::MESSAGE_AUTHENTICATOR);
    assert_eq!(reply.classes().next(), Some(&b"vpn-users"[..]));
    assert_eq!(
        reply.proxy_states().collect::<Vec<_>>(),
        [&b"hop-1"[..], &b"hop-2"[..]]
    );

    let request = access_request(PAP_USER, Some("wrong"), &secret());
    let reply = send_request(&socket, server.address, &request, &secret())
        .await
        .unwrap();
    assert_eq!(checked_reply(&reply, &request).code, Code::AccessReject);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_are_dropped_and_counted() {
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let socket = client_socket().await;
    // Wrong secret: the Message-Authenticator does not verify.
    let wrong: Secret = "not-the-secret".into();
    let request = access_request(PAP_USER, Some(PAP_PASSWORD), &wrong);
    assert!(send_request(&socket, server.address, &request, &wrong)
        .await
        .is_none());
    // No Message-Authenticator at all, from a client that requires it.
    let request = access_request(PAP_USER, Some(PAP_PASSWORD), &secret());
    let bare = request.encode().unwrap();
    assert!(
        exchange(&socket, server.address, &bare, Duration::from_millis(500))
            .await
            .is_none()
    );
    // Accounting with a wrong authenticator.
    let mut acct = Packet::new(Code::AccountingRequest, 1, [0; 16]);
    acct.push(Attribute::acct_status_type(1));
    let bytes = encode_request(&acct, &wrong).unwrap();
    assert!(
        exchange(&socket, server.address, &bytes, Duration::from_millis(500))
            .await
            .is_none()
    );
    let c = server.counters.snapshot();
    assert_eq!(c.dropped_bad_message_authenticator, 1);
    assert_eq!(c.dropped_missing_message_authenticator, 1);
    assert_eq!(c.dropped_bad_accounting_authenticator, 1);
    assert_eq!(c.replied, 0);
    assert_eq!(server.handler.calls.load(Ordering::SeqCst), 0);

    // An unknown source address: a server that knows only 10.0.0.0/8.
    let mut others = StaticClients::new();
    others.add(
        "10.0.0.0/8".parse().unwrap(),
        Client {
            name: "elsewhere".into(),
            secret: secret(),
            require_message_authenticator: true,
        },
    );
    let server = start_server(others, Duration::ZERO).await;
    let request = access_request(PAP_USER, Some(PAP_PASSWORD), &secret());
    assert!(send_request(&socket, server.address, &request, &secret())
        .await
        .is_none());
    assert_eq!(server.counters.snapshot().dropped_unknown_client, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retransmission_gets_the_identical_answer_and_is_decided_once() {
    let server = start_server(loopback_clients(), Duration::from_millis(300)).await;
    let socket = client_socket().await;
    let request = access_request(CHALLENGE_USER, Some(""), &secret());
    let bytes = encode_request(&request, &secret()).unwrap();
    // A second copy while the first is being decided is dropped.
    socket.send_to(&bytes, server.address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let first = exchange(&socket, server.address, &bytes, Duration::from_secs(2))
        .await
        .unwrap();
    let again = exchange(&socket, server.address, &bytes, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(first, again, "a retransmission gets the same challenge");
    assert_eq!(checked_reply(&first, &request).code, Code::AccessChallenge);
    assert_eq!(server.handler.calls.load(Ordering::SeqCst), 1);
    let c = server.counters.snapshot();
    assert_eq!(c.dropped_in_flight, 1);
    assert_eq!(c.duplicates, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_round_accounting_and_status_server() {
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let socket = client_socket().await;
    let first = access_request(CHALLENGE_USER, Some(""), &secret());
    let reply = send_request(&socket, server.address, &first, &secret())
        .await
        .unwrap();
    let challenge = checked_reply(&reply, &first);
    assert_eq!(challenge.code, Code::AccessChallenge);
    assert!(challenge.reply_message().unwrap().starts_with(b"Grid:"));
    let state = challenge.state().unwrap().to_vec();
    let mut second = access_request(CHALLENGE_USER, Some(CHALLENGE_CODE), &secret());
    second.push(Attribute::state(&state));
    let reply = send_request(&socket, server.address, &second, &secret())
        .await
        .unwrap();
    assert_eq!(checked_reply(&reply, &second).code, Code::AccessAccept);

    let mut acct = Packet::new(Code::AccountingRequest, 3, [0; 16]);
    acct.push(Attribute::acct_status_type(1));
    acct.push(Attribute::acct_session_id(b"session-1"));
    let bytes = encode_request(&acct, &secret()).unwrap();
    let reply = exchange(&socket, server.address, &bytes, Duration::from_secs(2))
        .await
        .unwrap();
    let request_auth: [u8; 16] = bytes[4..20].try_into().unwrap();
    assert!(verify_response_authenticator(
        &reply,
        &request_auth,
        &secret()
    ));
    assert_eq!(
        Packet::parse(&reply).unwrap().code,
        Code::AccountingResponse
    );

    let status = Packet::new(Code::StatusServer, 9, random_bytes().unwrap());
    let reply = send_request(&socket, server.address, &status, &secret())
        .await
        .unwrap();
    assert_eq!(checked_reply(&reply, &status).code, Code::AccessAccept);
}

#[test]
fn message_authenticator_rules_per_code() {
    use passgrid_radius::server::{authenticate_request, DropReason};
    let secret = secret();
    // EAP without Message-Authenticator is dropped even when not required (RFC 3579 §3.2).
    let mut eap = access_request(EAP_USER, None, &secret);
    eap.attributes
        .extend(Attribute::eap_messages(&[2, 0, 0, 8, 1, b'b', b'o', b'b']));
    let bare = eap.encode().unwrap();
    assert_eq!(
        authenticate_request(&bare, &secret, false),
        Err(DropReason::MissingMessageAuthenticator)
    );
    let signed = encode_request(&eap, &secret).unwrap();
    assert!(authenticate_request(&signed, &secret, true).is_ok());
    // PAP without it passes only where the client does not require it.
    let pap = access_request(PAP_USER, Some(PAP_PASSWORD), &secret)
        .encode()
        .unwrap();
    assert!(authenticate_request(&pap, &secret, false).is_ok());
    assert_eq!(
        authenticate_request(&pap, &secret, true),
        Err(DropReason::MissingMessageAuthenticator)
    );
    // Status-Server always needs it (RFC 5997 §3); replies are not requests.
    let status = Packet::new(Code::StatusServer, 1, [1; 16])
        .encode()
        .unwrap();
    assert_eq!(
        authenticate_request(&status, &secret, false),
        Err(DropReason::MissingMessageAuthenticator)
    );
    let accept = Packet::new(Code::AccessAccept, 1, [1; 16])
        .encode()
        .unwrap();
    assert_eq!(
        authenticate_request(&accept, &secret, false),
        Err(DropReason::Malformed)
    );
}

/// A tiny deterministic generator so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random datagrams and mutations of a valid one.
fn hostile_datagrams(count: usize, valid: &[u8]) -> Vec<Vec<u8>> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|i| {
            let mut d = if i % 2 == 0 {
                let len = rng.below(4200);
                (0..len).map(|_| rng.next() as u8).collect::<Vec<u8>>()
            } else {
                valid.to_vec()
            };
            if i % 2 == 1 || i % 7 == 0 {
                for _ in 0..=rng.below(6) {
                    match rng.below(5) {
                        0 if !d.is_empty() => {
                            let at = rng.below(d.len());
                            d[at] ^= 1 << rng.below(8);
                        }
                        1 => d.truncate(rng.below(d.len() + 1)),
                        2 if d.len() > 4 => {
                            // Lie about the length.
                            let l = rng.below(5000) as u16;
                            d[2..4].copy_from_slice(&l.to_be_bytes());
                        }
                        3 if d.len() > 22 => {
                            let at = 20 + rng.below(d.len() - 21);
                            d[at] = rng.below(4) as u8; // tiny attribute lengths
                        }
                        _ => d.extend((0..rng.below(40)).map(|_| rng.next() as u8)),
                    }
                }
            }
            d
        })
        .collect()
}

#[test]
fn ten_thousand_hostile_datagrams_never_panic_the_parser() {
    let valid = encode_request(
        &access_request(PAP_USER, Some(PAP_PASSWORD), &secret()),
        &secret(),
    )
    .unwrap();
    for d in hostile_datagrams(10_000, &valid) {
        let _ = Packet::parse(&d);
        let _ = passgrid_radius::server::authenticate_request(&d, &secret(), true);
        let _ = passgrid_radius::eap::EapPacket::parse(&d);
        if let Ok(p) = Packet::parse(&d) {
            let _ = p.user_password(&secret());
            let _ = p.eap_message();
            let _ = p.vendor_attribute(311, 16);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_hostile_datagrams_through_the_loop_then_a_real_request() {
    let server = start_server(loopback_clients(), Duration::ZERO).await;
    let socket = client_socket().await;
    let valid = encode_request(
        &access_request(PAP_USER, Some(PAP_PASSWORD), &secret()),
        &secret(),
    )
    .unwrap();
    let datagrams = hostile_datagrams(10_000, &valid);
    for (i, d) in datagrams.iter().enumerate() {
        socket.send_to(d, server.address).await.unwrap();
        if i % 25 == 24 {
            // Let the loop keep up so the kernel's receive buffer never overflows:
            // every datagram must reach the loop to be counted.
            let sent = (i + 1) as u64;
            for _ in 0..500 {
                if server.counters.snapshot().received >= sent {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A fresh socket: replies to the valid packet with padding appended may still
    // sit in the first socket's buffer.
    let fresh = client_socket().await;
    let request = access_request(PAP_USER, Some(PAP_PASSWORD), &secret());
    let reply = send_request(&fresh, server.address, &request, &secret())
        .await
        .expect("a legitimate request right after is answered");
    let c = server.counters.snapshot();
    assert_eq!(checked_reply(&reply, &request).code, Code::AccessAccept);
    assert_eq!(c.received, 10_001, "{c:?}");
    // Everything not answered was dropped and counted.
    assert_eq!(c.received, c.dropped() + c.replied, "{c:?}");
    assert!(c.dropped() >= 9_000, "{c:?}");
    // Mutated copies must not have reached the handler: at most the one legit
    // request (and an exact replay of the valid packet, which is not a mutation).
    let calls = server.handler.calls.load(Ordering::SeqCst);
    assert!(calls <= 2, "handler called {calls} times; {c:?}");
}
