//! The UDP server loop (RFC 2865 §2, RFC 2866): checks each datagram against the
//! client table and its secret, drops silently what fails (counted for
//! `/metrics`), answers retransmissions from the duplicate cache, and hands every
//! authenticated request to the caller's [`Handler`] exactly once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

use crate::authenticator::{
    check_request_message_authenticator, verify_accounting_request, MessageAuthenticatorCheck,
};
use crate::clients::{ClientInfo, ClientTable, Transport};
use crate::duplicates::{Admission, DuplicateCache, RequestKey};
use crate::packet::{Code, Packet, MAX_PACKET_LEN};
use crate::password::PasswordError;
use crate::reply::{encode_reply, Reply};
use crate::secret::Secret;

/// An authenticated request, as a [`Handler`] sees it.
#[derive(Debug)]
pub struct Request {
    /// The parsed packet (Message-Authenticator and, for accounting, the
    /// authenticator already verified).
    pub packet: Packet,
    /// Who sent it.
    pub client: ClientInfo,
    secret: Secret,
}

impl Request {
    /// A request as the transports build it (public so callers can test handlers).
    pub fn new(packet: Packet, client: ClientInfo, secret: Secret) -> Request {
        Request {
            packet,
            client,
            secret,
        }
    }

    /// The User-Password in clear (RFC 2865 §5.2), if present.
    pub fn user_password(&self) -> Option<Result<Secret, PasswordError>> {
        self.packet.user_password(&self.secret)
    }
}

/// The caller's decision for each authenticated request: a reply, or `None` to
/// stay silent. Called once per request, never for a retransmission.
pub trait Handler: Send + Sync + 'static {
    /// Decides one request.
    fn handle(&self, request: Request) -> impl Future<Output = Option<Reply>> + Send;
}

impl<T: Handler> Handler for Arc<T> {
    fn handle(&self, request: Request) -> impl Future<Output = Option<Reply>> + Send {
        (**self).handle(request)
    }
}

/// Why a datagram got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Not a valid RADIUS request (framing, lengths, attributes, code).
    Malformed,
    /// From an address no client covers.
    UnknownClient,
    /// Access-Request without Message-Authenticator from a client that requires it,
    /// or carrying EAP without one (RFC 3579 §3.2), or Status-Server without one.
    MissingMessageAuthenticator,
    /// Message-Authenticator wrong: forged, or the secret differs.
    BadMessageAuthenticator,
    /// Accounting-Request authenticator wrong (RFC 2866 §3): the secret differs.
    BadAccountingAuthenticator,
    /// A retransmission of a request still being decided.
    InFlight,
    /// Too many requests in flight or in the duplicate cache.
    Overloaded,
}

/// Counters for `/metrics`; all monotonic.
#[derive(Debug, Default)]
pub struct Counters {
    /// Datagrams or stream packets received.
    pub received: AtomicU64,
    /// Replies sent (including replays).
    pub replied: AtomicU64,
    /// Retransmissions answered from the duplicate cache.
    pub duplicates: AtomicU64,
    /// Requests the handler chose not to answer.
    pub handler_silent: AtomicU64,
    /// Replies that could not be encoded (too long, wrong code).
    pub reply_errors: AtomicU64,
    /// Dropped: [`DropReason::Malformed`].
    pub dropped_malformed: AtomicU64,
    /// Dropped: [`DropReason::UnknownClient`].
    pub dropped_unknown_client: AtomicU64,
    /// Dropped: [`DropReason::MissingMessageAuthenticator`].
    pub dropped_missing_message_authenticator: AtomicU64,
    /// Dropped: [`DropReason::BadMessageAuthenticator`].
    pub dropped_bad_message_authenticator: AtomicU64,
    /// Dropped: [`DropReason::BadAccountingAuthenticator`].
    pub dropped_bad_accounting_authenticator: AtomicU64,
    /// Dropped: [`DropReason::InFlight`].
    pub dropped_in_flight: AtomicU64,
    /// Dropped: [`DropReason::Overloaded`].
    pub dropped_overloaded: AtomicU64,
}

/// A plain copy of [`Counters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See [`Counters::received`].
    pub received: u64,
    /// See [`Counters::replied`].
    pub replied: u64,
    /// See [`Counters::duplicates`].
    pub duplicates: u64,
    /// See [`Counters::handler_silent`].
    pub handler_silent: u64,
    /// See [`Counters::reply_errors`].
    pub reply_errors: u64,
    /// See [`Counters::dropped_malformed`].
    pub dropped_malformed: u64,
    /// See [`Counters::dropped_unknown_client`].
    pub dropped_unknown_client: u64,
    /// See [`Counters::dropped_missing_message_authenticator`].
    pub dropped_missing_message_authenticator: u64,
    /// See [`Counters::dropped_bad_message_authenticator`].
    pub dropped_bad_message_authenticator: u64,
    /// See [`Counters::dropped_bad_accounting_authenticator`].
    pub dropped_bad_accounting_authenticator: u64,
    /// See [`Counters::dropped_in_flight`].
    pub dropped_in_flight: u64,
    /// See [`Counters::dropped_overloaded`].
    pub dropped_overloaded: u64,
}

impl CounterSnapshot {
    /// Every drop added up.
    pub fn dropped(&self) -> u64 {
        self.dropped_malformed
            + self.dropped_unknown_client
            + self.dropped_missing_message_authenticator
            + self.dropped_bad_message_authenticator
            + self.dropped_bad_accounting_authenticator
            + self.dropped_in_flight
            + self.dropped_overloaded
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts a drop.
    pub fn count_drop(&self, reason: DropReason) {
        bump(match reason {
            DropReason::Malformed => &self.dropped_malformed,
            DropReason::UnknownClient => &self.dropped_unknown_client,
            DropReason::MissingMessageAuthenticator => &self.dropped_missing_message_authenticator,
            DropReason::BadMessageAuthenticator => &self.dropped_bad_message_authenticator,
            DropReason::BadAccountingAuthenticator => &self.dropped_bad_accounting_authenticator,
            DropReason::InFlight => &self.dropped_in_flight,
            DropReason::Overloaded => &self.dropped_overloaded,
        });
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            received: r(&self.received),
            replied: r(&self.replied),
            duplicates: r(&self.duplicates),
            handler_silent: r(&self.handler_silent),
            reply_errors: r(&self.reply_errors),
            dropped_malformed: r(&self.dropped_malformed),
            dropped_unknown_client: r(&self.dropped_unknown_client),
            dropped_missing_message_authenticator: r(&self.dropped_missing_message_authenticator),
            dropped_bad_message_authenticator: r(&self.dropped_bad_message_authenticator),
            dropped_bad_accounting_authenticator: r(&self.dropped_bad_accounting_authenticator),
            dropped_in_flight: r(&self.dropped_in_flight),
            dropped_overloaded: r(&self.dropped_overloaded),
        }
    }
}

/// Parses a datagram and checks it the way RFC 2865 §3, RFC 2866 §3, RFC 3579
/// §3.2 and RFC 5997 §3 ask, with this client's secret.
pub fn authenticate_request(
    datagram: &[u8],
    secret: &Secret,
    require_message_authenticator: bool,
) -> Result<Packet, DropReason> {
    let framed = Packet::framed(datagram).map_err(|_| DropReason::Malformed)?;
    let packet = Packet::parse(framed).map_err(|_| DropReason::Malformed)?;
    if !packet.code.is_request() {
        return Err(DropReason::Malformed);
    }
    let check = check_request_message_authenticator(framed, packet.code, secret);
    if check == MessageAuthenticatorCheck::Wrong {
        return Err(DropReason::BadMessageAuthenticator);
    }
    let missing = check == MessageAuthenticatorCheck::Missing;
    match packet.code {
        // EAP without Message-Authenticator MUST be discarded (RFC 3579 §3.2).
        Code::AccessRequest
            if missing && (require_message_authenticator || packet.eap_message().is_some()) =>
        {
            return Err(DropReason::MissingMessageAuthenticator);
        }
        Code::StatusServer if missing => return Err(DropReason::MissingMessageAuthenticator),
        Code::AccountingRequest if !verify_accounting_request(framed, secret) => {
            return Err(DropReason::BadAccountingAuthenticator);
        }
        _ => {}
    }
    Ok(packet)
}

/// Answers Status-Server (RFC 5997 §3) without bothering the handler.
pub(crate) fn status_server_reply(request: &Packet, secret: &Secret) -> Option<Vec<u8>> {
    encode_reply(&Reply::accept(), request, secret).ok()
}

/// Encodes a handler's reply, counting failures.
pub(crate) fn finish_reply(
    reply: Option<Reply>,
    request: &Packet,
    secret: &Secret,
    counters: &Counters,
) -> Option<Vec<u8>> {
    let Some(reply) = reply else {
        bump(&counters.handler_silent);
        return None;
    };
    match encode_reply(&reply, request, secret) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            tracing::warn!(%error, "RADIUS reply could not be encoded");
            bump(&counters.reply_errors);
            None
        }
    }
}

/// Settings of [`serve_udp`].
#[derive(Debug, Clone)]
pub struct UdpServerOptions {
    /// Where drops and replies are counted; keep a clone to read them.
    pub counters: Arc<Counters>,
    /// The duplicate cache (64k entries, 30 s by default).
    pub duplicates: DuplicateCache,
    /// Requests decided at once; more are dropped (the NAS retries).
    pub max_in_flight: usize,
}

impl Default for UdpServerOptions {
    fn default() -> Self {
        UdpServerOptions {
            counters: Arc::new(Counters::default()),
            duplicates: DuplicateCache::default(),
            max_in_flight: 4096,
        }
    }
}

/// Serves RADIUS on a bound UDP socket. It runs until its task is dropped or
/// aborted: receive errors are logged and skipped, so one bad ICMP cannot stop it.
pub async fn serve_udp<C: ClientTable, H: Handler>(
    socket: Arc<UdpSocket>,
    clients: C,
    handler: H,
    options: UdpServerOptions,
) -> io::Result<()> {
    let handler = Arc::new(handler);
    let counters = options.counters;
    let slots = Arc::new(Semaphore::new(options.max_in_flight.max(1)));
    let mut buffer = vec![0u8; MAX_PACKET_LEN];
    loop {
        let (len, source) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(error) => {
                // ICMP errors and the like surface here; one must not stop the server.
                tracing::debug!(%error, "RADIUS recv_from failed");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        bump(&counters.received);
        let datagram = buffer.get(..len).unwrap_or_default();
        let Some(client) = clients.client_for(source.ip()) else {
            counters.count_drop(DropReason::UnknownClient);
            continue;
        };
        let packet = match authenticate_request(
            datagram,
            &client.secret,
            client.require_message_authenticator,
        ) {
            Ok(packet) => packet,
            Err(reason) => {
                counters.count_drop(reason);
                continue;
            }
        };
        if packet.code == Code::StatusServer {
            if let Some(bytes) = status_server_reply(&packet, &client.secret) {
                send(&socket, &bytes, source, &counters).await;
            }
            continue;
        }
        let key = RequestKey {
            source,
            identifier: packet.identifier,
            authenticator: packet.authenticator,
        };
        let pending = match options.duplicates.admit(key) {
            Admission::New(pending) => pending,
            Admission::Replay(reply) => {
                bump(&counters.duplicates);
                if let Some(bytes) = reply {
                    send(&socket, &bytes, source, &counters).await;
                }
                continue;
            }
            Admission::InFlight => {
                counters.count_drop(DropReason::InFlight);
                continue;
            }
            Admission::Full => {
                counters.count_drop(DropReason::Overloaded);
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            counters.count_drop(DropReason::Overloaded);
            continue;
        };
        let (socket, handler, counters) = (socket.clone(), handler.clone(), counters.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let info = ClientInfo {
                name: client.name.clone(),
                source,
                transport: Transport::Udp,
            };
            let request = Request::new(packet.clone(), info, client.secret.clone());
            let reply = handler.handle(request).await;
            let bytes =
                finish_reply(reply, &packet, &client.secret, &counters).map(Arc::<[u8]>::from);
            pending.complete(bytes.clone());
            if let Some(bytes) = bytes {
                send(&socket, &bytes, source, &counters).await;
            }
        });
    }
}

async fn send(socket: &UdpSocket, bytes: &[u8], to: SocketAddr, counters: &Counters) {
    match socket.send_to(bytes, to).await {
        Ok(_) => bump(&counters.replied),
        Err(error) => tracing::debug!(%error, "RADIUS send_to failed"),
    }
}
