//! The pages' server side: the sign-in, pattern, token, certificate and set-up forms
//! (post/redirect/get), and what a page needs loaded before Leptos renders it.

pub mod assets;
pub mod certificate;
pub mod continuation;
pub mod lang;
pub mod login;
pub mod login_hint;
pub mod page_context;
pub mod pattern;
pub mod redirect;
pub mod reset;
pub mod setup;
pub mod site_files;
pub mod token;
pub mod vpn;
