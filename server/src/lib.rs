//! passgrid: an authentication server with deviceless grid one-time passwords and a
//! private CA for client certificates. The binary (`main.rs`) only parses the command
//! line; everything else is here, so benchmarks and tests can call it.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bulk_certificates;
pub mod ca;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod instance;
pub mod mail;
pub mod master_key;
pub mod metrics;
pub mod net;
pub mod notices;
pub mod otp;
pub mod policy;
pub mod store;
pub mod sync;
pub mod tls;
pub mod user_csv;
pub mod user_import;
pub mod web;
