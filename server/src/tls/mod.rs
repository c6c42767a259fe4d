//! The HTTPS side: rustls configuration that asks every client for a certificate from
//! passgrid's CA (optional), the accept loop, and the verified certificate handed to
//! handlers as a request extension.

pub mod client_cert;
pub mod connections;
pub mod listener;
pub mod server_config;

pub use client_cert::ClientCertificate;
pub use listener::{serve_tls, ConnectionInfo};
