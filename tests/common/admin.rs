//! The administrators' side of a test: accounts with API tokens, made through the
//! command line, and the one client that calls the admin API with them.

use std::collections::HashMap;

use serde_json::Value;

use super::{cli_value, TestServer};

/// Makes administrator `id` with `role` and an API token for it; returns the token.
pub fn admin_token(server: &TestServer, id: &str, role: &str) -> String {
    cli_value(server, &["admin", "create", id, "--role", role]);
    let made = cli_value(server, &["admin", "token", "create", id]);
    made["token"]
        .as_str()
        .expect("a token in the answer")
        .to_string()
}

/// One administrator per role in `roles` (IDs `ROLE-SUFFIX`), by role.
pub fn admin_tokens(
    server: &TestServer,
    suffix: &str,
    roles: &[&'static str],
) -> HashMap<&'static str, String> {
    roles
        .iter()
        .map(|role| {
            (
                *role,
                admin_token(server, &format!("{role}-{suffix}"), role),
            )
        })
        .collect()
}

/// Calls the API: `method path` with an optional bearer token and JSON body; the
/// status and the body as text (status 0 when curl itself failed).
pub fn api(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let body = body.map(Value::to_string);
    let mut args = vec!["-X", method];
    if let Some(a) = &auth {
        args.extend_from_slice(&["-H", a]);
    }
    if let Some(b) = &body {
        args.extend_from_slice(&["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    server.curl(path, &args)
}
