//! The authorization request (OIDC Core §3.1.2, RFC 6749 §4.1.1, RFC 7636): checked
//! in the RFC's order — client and redirect URI first (an error there is never sent to
//! the URI, §4.1.2.1), then the rest (sent back to the client with `state`) — and
//! decided on the SSO session and the application's rules. A granted request gets a
//! single-use code stored in the database.

use super::{SsoError, SsoSession, CODE_SECS};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{
        app_access::{audit_app_refusal, check_application_access},
        login::Client,
        Authenticator,
    },
    random::{new_token, token_hash},
    store::{oidc_clients::OidcClient, oidc_codes::CodeGrant},
};

/// The parameters of an authorization request, as sent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    /// Set by passgrid itself on the way through the sign-in: the session must have
    /// started after this (what `prompt=login` and `max_age` asked for).
    pub pg_after: Option<i64>,
}

/// What to answer.
pub enum Authorization {
    /// An error shown on passgrid's page, never sent to the redirect URI (unknown
    /// client, unregistered redirect URI, malformed request before they are known).
    ErrorPage {
        error: &'static str,
        description: String,
    },
    /// An error sent back to the client (RFC 6749 §4.1.2.1).
    ErrorRedirect {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: Option<String>,
    },
    /// The user must sign in (again) first; the session must start after `after`.
    SignIn { after: Option<i64> },
    /// Granted: the code goes to the redirect URI.
    Code {
        redirect_uri: String,
        code: String,
        state: Option<String>,
    },
}

/// RFC 7636 §4.1: 43-128 unreserved characters.
pub fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn short(v: &Option<String>, max: usize) -> bool {
    v.as_ref()
        .is_none_or(|s| s.len() <= max && !s.chars().any(char::is_control))
}

/// The amr values (RFC 8176 §2) of an authorization: the grid or a token is an `otp`;
/// a certificate of the user on the device is a software-held key (`swk`: passgrid
/// cannot attest hardware), and with both it is `mfa`.
pub fn amr_of(with_certificate: bool) -> &'static str {
    if with_certificate {
        "otp swk mfa"
    } else {
        "otp"
    }
}

/// `acr` of those methods.
pub fn acr_of(amr: &str) -> &'static str {
    if amr.contains("mfa") {
        "urn:passgrid:acr:grid+device"
    } else {
        "urn:passgrid:acr:grid"
    }
}

/// Decides an authorization request.
pub async fn authorize(
    authn: &Authenticator,
    p: &AuthorizeParams,
    session: Option<&SsoSession>,
    client: &Client<'_>,
) -> Result<(Authorization, Option<OidcClient>), SsoError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let page = |error, description: &str| {
        Ok((
            Authorization::ErrorPage {
                error,
                description: description.to_string(),
            },
            None,
        ))
    };
    let Some(client_id) = p.client_id.as_deref().filter(|c| c.len() <= 128) else {
        return page("invalid_request", "client_id is missing");
    };
    let Some(oidc) = store.oidc_client(client_id).await? else {
        return page("invalid_client", "unknown client");
    };
    // Exact match only: no prefix, no wildcard (RFC 9700 §4.1.3).
    let Some(redirect_uri) = p
        .redirect_uri
        .as_deref()
        .filter(|r| oidc.redirect_uris.iter().any(|u| u == r))
    else {
        return Ok((
            Authorization::ErrorPage {
                error: "invalid_request",
                description: "redirect URI not registered".into(),
            },
            Some(oidc),
        ));
    };
    let back = |error, description| {
        Ok((
            Authorization::ErrorRedirect {
                redirect_uri: redirect_uri.to_string(),
                error,
                description,
                state: p.state.clone(),
            },
            Some(oidc.clone()),
        ))
    };
    if p.response_type.as_deref() != Some("code") {
        return back(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if !short(&p.state, 1024) || !short(&p.nonce, 1024) || !short(&p.login_hint, 256) {
        return back("invalid_request", "a parameter is too long or malformed");
    }
    let scopes: Vec<&str> = p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.contains(&"openid") || scopes.len() > 20 {
        return back("invalid_scope", "the openid scope is required");
    }
    // Unknown scopes are left out, not refused (RFC 6749 §3.3).
    let granted: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| oidc.scopes.iter().any(|c| c == s))
        .collect();
    match (&p.code_challenge, p.code_challenge_method.as_deref()) {
        (Some(c), Some("S256")) if is_pkce_value(c) => {}
        // S256 only: `plain` protects nothing against a reader of the request.
        (Some(_), _) => return back("invalid_request", "code_challenge must be S256 (RFC 7636)"),
        (None, _) if oidc.is_public() => {
            return back("invalid_request", "public clients must use PKCE with S256")
        }
        (None, _) => {}
    }
    // Set by passgrid on the way through the sign-in; a time to come would never be met.
    if p.pg_after.is_some_and(|after| after > now) {
        return back("invalid_request", "malformed request parameters");
    }
    let max_age = match p.max_age.as_deref() {
        None => None,
        Some(m) => match m.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return back("invalid_request", "max_age must be a number of seconds"),
        },
    };
    let prompt: Vec<&str> = p
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if prompt
        .iter()
        .any(|v| !matches!(*v, "login" | "none" | "consent" | "select_account"))
        || (prompt.contains(&"none") && prompt.len() > 1)
    {
        return back("invalid_request", "unsupported prompt value");
    }
    let app = store.application(&oidc.application).await?;
    let Some(app) = app else {
        return page("invalid_client", "unknown client");
    };
    // When a fresh grid is needed: prompt=login, max_age, or the application's own rule.
    let mut fresh_after = p.pg_after;
    if let Some(age) = max_age.into_iter().chain(app.max_auth_age_secs).min() {
        fresh_after = fresh_after.max(Some(now - age));
    }
    let session = session.filter(|s| fresh_after.is_none_or(|after| s.auth_time >= after));
    let Some(session) = session else {
        if prompt.contains(&"none") {
            return back("login_required", "the user is not signed in");
        }
        let after = if prompt.contains(&"login") {
            Some(now)
        } else {
            fresh_after
        };
        return Ok((Authorization::SignIn { after }, Some(oidc)));
    };
    // A user still on the initial pattern signs in through the first-login steps (a
    // new pattern) before any application sees them.
    if store
        .pattern(&session.user_id)
        .await?
        .is_some_and(|pat| pat.is_initial)
    {
        return Ok((Authorization::SignIn { after: Some(now) }, Some(oidc)));
    }
    if prompt.contains(&"login") && p.pg_after.is_none() {
        return Ok((Authorization::SignIn { after: Some(now) }, Some(oidc)));
    }
    if let Err(refusal) =
        check_application_access(authn, &app, &session.user_id, client, now).await?
    {
        audit_app_refusal(
            authn,
            Action::OidcRefused,
            &session.user_id,
            &app.name,
            client,
            refusal,
            now,
        )
        .await;
        return back(
            "access_denied",
            "this user may not use this application here and now",
        );
    }
    let with_cert = client.cert_serial.is_some()
        && crate::auth::app_access::device_shows_certificate(authn, &session.user_id, client, now)
            .await?;
    let code = new_token()?;
    let amr = amr_of(with_cert);
    store
        .insert_oidc_code(
            &token_hash(&code),
            &CodeGrant {
                client_id: oidc.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                code_challenge: p.code_challenge.clone(),
                user_id: session.user_id.clone(),
                sid: session.sid.clone(),
                scope: granted.join(" "),
                nonce: p.nonce.clone(),
                auth_time: session.auth_time,
                amr: amr.to_string(),
            },
            now + CODE_SECS,
            now,
        )
        .await?;
    record(
        store,
        AuditEvent {
            actor: &session.user_id,
            source: client.source,
            action: Action::OidcAuthorize,
            target: &app.name,
            outcome: Outcome::Success,
            reason: amr,
        },
        now,
    )
    .await;
    Ok((
        Authorization::Code {
            redirect_uri: redirect_uri.to_string(),
            code: code.to_string(),
            state: p.state.clone(),
        },
        Some(oidc),
    ))
}

/// Audits an OAuth refusal at the token, revocation or introspection endpoint.
pub async fn audit_oauth_refusal(authn: &Authenticator, source: &str, target: &str, reason: &str) {
    let now = authn.instance.clock.now();
    record(
        &authn.instance.store,
        AuditEvent {
            actor: "-",
            source,
            action: Action::OidcRefused,
            target,
            outcome: Outcome::Failure,
            reason,
        },
        now,
    )
    .await;
}
