//! One module per area of the site.
pub mod home;
pub mod not_found;
pub mod setup;
