//! A small RADIUS server built from the crate, with fixed test users that live only
//! in these tests, and a bare UDP client.

#![allow(dead_code)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use passgrid_radius::authenticator::{encode_request, new_request_authenticator};
use passgrid_radius::secret::random_bytes;
use passgrid_radius::{
    serve_udp, Attribute, Client, Code, Counters, EapMschapv2, EapStep, Handler, Packet, Reply,
    Request, Secret, StaticClients, UdpServerOptions,
};
use tokio::net::UdpSocket;

/// The shared secret of the test NAS.
pub const SECRET: &str = "testing123";
/// PAP user and password.
pub const PAP_USER: &str = "alice";
/// PAP password.
pub const PAP_PASSWORD: &str = "correct horse";
/// The user who gets an Access-Challenge first.
pub const CHALLENGE_USER: &str = "carol";
/// The code carol types after the challenge.
pub const CHALLENGE_CODE: &str = "424242";
/// The EAP-MSCHAPv2 user and the "OTP" the server expects for him.
pub const EAP_USER: &str = "bob";
/// The EAP-MSCHAPv2 password.
pub const EAP_PASSWORD: &str = "grid-otp-1234";

/// A handler with fixed users: PAP, a challenge round, EAP-MSCHAPv2, accounting.
pub struct TestHandler {
    pub eap: EapMschapv2,
    pub calls: AtomicUsize,
    pub delay: Duration,
    states: Mutex<HashSet<Vec<u8>>>,
}

impl TestHandler {
    pub fn new(delay: Duration) -> TestHandler {
        TestHandler {
            eap: EapMschapv2::new("passgrid"),
            calls: AtomicUsize::new(0),
            delay,
            states: Mutex::new(HashSet::new()),
        }
    }

    fn access(&self, request: &Request) -> Reply {
        let packet = &request.packet;
        let password = match request.user_password() {
            Some(Ok(p)) => p,
            _ => return Reply::reject(),
        };
        match packet.user_name() {
            Some(name) if name == PAP_USER.as_bytes() => {
                if password.matches(PAP_PASSWORD.as_bytes()) {
                    Reply::accept()
                        .with(Attribute::class(b"vpn-users"))
                        .with(Attribute::filter_id(b"staff"))
                        .with(Attribute::session_timeout(3600))
                        .with_reply_message("welcome")
                } else {
                    Reply::reject().with_reply_message("wrong password")
                }
            }
            Some(name) if name == CHALLENGE_USER.as_bytes() => {
                let mut states = self.states.lock().unwrap();
                match packet.state() {
                    None => {
                        let state: [u8; 16] = random_bytes().unwrap();
                        states.insert(state.to_vec());
                        Reply::challenge(&state, "Grid: A 1234 5678 9012\nEnter the code")
                    }
                    // Single-use: removed whether the code is right or not.
                    Some(state) if states.remove(state) => {
                        if password.matches(CHALLENGE_CODE.as_bytes()) {
                            Reply::accept()
                        } else {
                            Reply::reject()
                        }
                    }
                    Some(_) => Reply::reject(),
                }
            }
            _ => Reply::reject(),
        }
    }

    fn eap(&self, request: &Request) -> Reply {
        match self.eap.step(request) {
            EapStep::Reply(reply) => reply,
            EapStep::Verify(pending) => {
                // The server knows the one right answer for this user.
                let candidates: Vec<&str> = if pending.identity() == EAP_USER.as_bytes() {
                    vec![EAP_PASSWORD]
                } else {
                    vec![]
                };
                match pending.verify(&candidates) {
                    Some(verified) => self.eap.accept(
                        pending,
                        verified,
                        vec![Attribute::class(b"vpn-users")],
                        "welcome",
                    ),
                    None => self.eap.reject(pending, "wrong code"),
                }
            }
        }
    }
}

impl Handler for TestHandler {
    async fn handle(&self, request: Request) -> Option<Reply> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        match request.packet.code {
            Code::AccountingRequest => Some(Reply::accounting_response()),
            Code::AccessRequest if request.packet.eap_message().is_some() => {
                Some(self.eap(&request))
            }
            Code::AccessRequest => Some(self.access(&request)),
            _ => None,
        }
    }
}

/// A running test server.
pub struct TestServer {
    pub address: SocketAddr,
    pub counters: Arc<Counters>,
    pub handler: Arc<TestHandler>,
}

/// Starts a server on a loopback port; `clients` says who may talk to it.
pub async fn start_server(clients: StaticClients, delay: Duration) -> TestServer {
    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let address = socket.local_addr().unwrap();
    let options = UdpServerOptions::default();
    let counters = options.counters.clone();
    let handler = Arc::new(TestHandler::new(delay));
    tokio::spawn(serve_udp(socket, clients, handler.clone(), options));
    TestServer {
        address,
        counters,
        handler,
    }
}

/// The loopback NAS with the test secret, Message-Authenticator required.
pub fn loopback_clients() -> StaticClients {
    let mut clients = StaticClients::new();
    clients.add(
        "127.0.0.0/8".parse().unwrap(),
        Client {
            name: "loopback-nas".into(),
            secret: Secret::from(SECRET),
            require_message_authenticator: true,
        },
    );
    clients
}

/// An Access-Request with a fresh authenticator.
pub fn access_request(user: &str, password: Option<&str>, secret: &Secret) -> Packet {
    let mut packet = Packet::new(Code::AccessRequest, 7, new_request_authenticator().unwrap());
    packet.push(Attribute::user_name(user.as_bytes()));
    if let Some(password) = password {
        packet
            .set_user_password(password.as_bytes(), secret)
            .unwrap();
    }
    packet
}

/// Sends octets from `socket` and waits up to `wait` for an answer.
pub async fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    bytes: &[u8],
    wait: Duration,
) -> Option<Vec<u8>> {
    socket.send_to(bytes, server).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    match tokio::time::timeout(wait, socket.recv_from(&mut buffer)).await {
        Ok(Ok((n, _))) => Some(buffer[..n].to_vec()),
        _ => None,
    }
}

/// Encodes and sends a request, returning the raw reply if any.
pub async fn send_request(
    socket: &UdpSocket,
    server: SocketAddr,
    packet: &Packet,
    secret: &Secret,
) -> Option<Vec<u8>> {
    let bytes = encode_request(packet, secret).unwrap();
    exchange(socket, server, &bytes, Duration::from_millis(1500)).await
}
