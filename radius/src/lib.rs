//! The RADIUS protocol layer of passgrid: packet codec (RFC 2865, 2866, 5997),
//! authenticators and Message-Authenticator (RFC 3579), User-Password hiding,
//! EAP and EAP-MSCHAPv2 (RFC 3748, draft-kamath-pppext-eap-mschapv2), MS-CHAPv2
//! (RFC 2759) with MPPE keys (RFC 3079, RFC 2548), a duplicate-request cache, a
//! UDP server loop and RadSec framing (RFC 6614).
//!
//! It knows nothing of passgrid's users: a [`server::Handler`] receives an
//! authenticated request and decides.
//!
//! ```no_run
//! use std::sync::Arc;
//! use passgrid_radius::*;
//!
//! struct Decide { eap: EapMschapv2 }
//!
//! impl Handler for Decide {
//!     async fn handle(&self, request: Request) -> Option<Reply> {
//!         if request.packet.code == Code::AccountingRequest {
//!             return Some(Reply::accounting_response());
//!         }
//!         if request.packet.eap_message().is_some() {
//!             return Some(match self.eap.step(&request) {
//!                 EapStep::Reply(reply) => reply,
//!                 EapStep::Verify(pending) => {
//!                     let expected_otps = ["123456"]; // the caller's one right answer
//!                     match pending.verify(&expected_otps) {
//!                         Some(ok) => self.eap.accept(pending, ok, vec![Attribute::class(b"vpn")], "ok"),
//!                         None => self.eap.reject(pending, "wrong code"),
//!                     }
//!                 }
//!             });
//!         }
//!         let password = request.user_password()?.ok()?;
//!         match request.packet.state() {
//!             None => Some(Reply::challenge(b"fresh-random-state", "Grid: ...")),
//!             Some(_state) if password.matches(b"123456") => Some(Reply::accept()),
//!             Some(_) => Some(Reply::reject()),
//!         }
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let socket = Arc::new(tokio::net::UdpSocket::bind("0.0.0.0:1812").await?);
//! let mut clients = StaticClients::new();
//! clients.add("10.0.0.0/8".parse().unwrap(), Client {
//!     name: "vpn".into(),
//!     secret: Secret::from("shared secret"),
//!     require_message_authenticator: true,
//! });
//! let options = UdpServerOptions::default();
//! let counters = options.counters.clone(); // read for /metrics
//! serve_udp(socket, clients, Decide { eap: EapMschapv2::new("passgrid") }, options).await
//! # }
//! ```

#![warn(missing_docs)]

pub mod attributes;
pub mod authenticator;
pub mod clients;
pub mod duplicates;
pub mod eap;
pub mod eap_flow;
pub mod mppe;
pub mod ms_chap_attributes;
pub mod mschapv2;
pub mod packet;
pub mod password;
pub mod radsec;
pub mod reply;
pub mod secret;
pub mod server;

pub use clients::{Client, ClientInfo, ClientTable, IpNetwork, StaticClients, Transport};
pub use eap_flow::{EapMschapv2, EapStep, PendingResponse, VerifiedResponse};
pub use ms_chap_attributes::MsChapV2Request;
pub use packet::{Attribute, Code, Packet, PacketError};
pub use radsec::serve_stream;
pub use reply::Reply;
pub use secret::Secret;
pub use server::{serve_udp, CounterSnapshot, Counters, Handler, Request, UdpServerOptions};
