//! The user ID typed at sign-in, kept for the sign-in pages of this browser session
//! so that an error does not make the user type it again. Path `/login` only,
//! HttpOnly, cleared by a successful sign-in (a shared terminal keeps no trace).

use app::context::{percent_encode_id, LOGIN_ID_COOKIE};

/// Remembers `user_id` (until the browser closes).
pub fn remember(user_id: &str) -> String {
    format!(
        "{LOGIN_ID_COOKIE}={}; Path=/login; Secure; HttpOnly; SameSite=Lax",
        percent_encode_id(user_id)
    )
}

/// Forgets it.
pub fn forget() -> String {
    format!("{LOGIN_ID_COOKIE}=; Path=/login; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_value_is_a_safe_cookie_value() {
        let c = super::remember("a b;c=d");
        assert!(
            c.starts_with("passgrid_login_id=a%20b%3Bc%3Dd; Path=/login;"),
            "{c}"
        );
    }
}
