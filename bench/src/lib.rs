//! Load generators for passgrid's HTTP paths (see bench/README.md).

pub mod client;
