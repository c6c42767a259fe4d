//! passgrid: an authentication server with deviceless grid one-time passwords and a
//! private CA for client certificates. The binary (`main.rs`) only parses the command
//! line; everything else is here, so benchmarks and tests can call it.
//!
//! # Layers
//!
//! Each line is a layer, highest first; a module may import modules of its own layer
//! or of a lower one, never of a higher one, and no two modules import each other
//! (directly or around a circle). `cargo xtask layers` checks this (CI runs it).
//!
//! ```text
//! layers:
//! entry      cli config routes
//! front      web api oidc forward_auth radius saml
//! http       http
//! services   cluster bulk_certificates delivery sync user_import accounts saml_idp sso auth issuance radius_clients
//! install    instance mail
//! domain     policy ca otp audit user_csv notices jwt
//! store      store
//! leaves     master_key clock net random metrics tls
//! ```
//!
//! - entry: the command line, the configuration loader, and the router that puts
//!   the front ends together.
//! - front: what speaks to people and programs (pages, the JSON API; later OIDC, SAML,
//!   RADIUS); `http` is what the HTTP front ends share, errors mapped to answers
//!   included (`http::error`).
//! - services: one business step each — the login decision (`auth`), certificate
//!   issuance and delivery, bulk jobs, sync, imports, accounts. No HTTP here.
//! - install: an opened installation (data directory, master key, database, CA) and
//!   the mail relay.
//! - domain: the rules — policies and their settings, the CA, one-time passwords, the
//!   audit log, CSV and notice formats.
//! - store: the only place SQL lives. leaves: no imports of the crate at all.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bulk_certificates;
pub mod ca;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod delivery;
pub mod forward_auth;
pub mod http;
pub mod instance;
pub mod issuance;
pub mod jwt;
pub mod mail;
pub mod master_key;
pub mod metrics;
pub mod net;
pub mod notices;
pub mod oidc;
pub mod otp;
pub mod policy;
pub mod radius;
pub mod radius_clients;
pub mod random;
pub mod routes;
pub mod saml;
pub mod saml_idp;
pub mod sso;
pub mod store;
pub mod sync;
pub mod tls;
pub mod user_csv;
pub mod user_import;
pub mod web;
