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
pub mod mppe;
pub mod mschapv2;
pub mod packet;
pub mod password;
pub mod secret;

pub use packet::{Attribute, Code, Packet, PacketError};
pub use secret::Secret;
