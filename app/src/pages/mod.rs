//! One module per area of the site.
pub mod admin;
pub mod certificate;
pub mod home;
pub mod login;
pub mod not_found;
pub mod pattern;
pub mod phrase;
pub mod portal;
pub mod reset;
pub mod setup;
pub mod token;
pub mod vpn;
