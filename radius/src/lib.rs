//! The RADIUS protocol layer of passgrid: packet codec (RFC 2865, 2866, 5997),
//! authenticators and Message-Authenticator (RFC 3579), User-Password hiding,
//! EAP and EAP-MSCHAPv2 (RFC 3748, draft-kamath-pppext-eap-mschapv2), MS-CHAPv2
//! (RFC 2759) with MPPE keys (RFC 3079, RFC 2548), a duplicate-request cache, a
//! UDP server loop and RadSec framing (RFC 6614).
//!
//! It knows nothing of passgrid's users: a [`server::Handler`] receives an
//! authenticated request and decides.

pub mod attributes;
pub mod authenticator;
pub mod clients;
pub mod duplicates;
pub mod eap;
pub mod eap_flow;
pub mod mppe;
pub mod mschapv2;
pub mod packet;
pub mod password;
pub mod radsec;
pub mod reply;
pub mod secret;
pub mod server;

pub use clients::{Client, ClientInfo, ClientTable, IpNetwork, StaticClients, Transport};
pub use eap_flow::{EapMschapv2, EapStep, PendingResponse, VerifiedResponse};
pub use packet::{Attribute, Code, Packet, PacketError};
pub use radsec::serve_stream;
pub use reply::Reply;
pub use secret::Secret;
pub use server::{serve_udp, CounterSnapshot, Counters, Handler, Request, UdpServerOptions};
