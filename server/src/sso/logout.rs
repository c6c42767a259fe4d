//! Ending the SSO session everywhere (SPEC §10.1): passgrid's own logout and
//! RP-initiated logout both come here. The session goes, the tokens it gave are
//! revoked, and every client it signed in to gets a logout token on its back channel
//! (OpenID Connect Back-Channel Logout 1.0 §2.4); forward-auth cookies die with the
//! session (foreign key).

use serde_json::json;

use super::{sid_of, Provider, SsoError, ID_TOKEN_SECS};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::Authenticator,
    jwt::Alg,
    random::{is_token, new_token, token_hash},
};

/// The back-channel event (§2.4).
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Ends the passgrid session of `session_token` and every client session it made.
/// Returns how many clients acknowledged the logout token.
pub async fn end_sso_session(
    authn: &Authenticator,
    provider: &Provider,
    session_token: &str,
    source: &str,
) -> Result<usize, SsoError> {
    if !is_token(session_token) {
        return Ok(0);
    }
    end_sso_session_by_hash(authn, provider, &token_hash(session_token), source).await
}

/// Ends the passgrid session whose key is `id_hash` (a SAML LogoutRequest names the
/// session, not its cookie) and every client session it made, as above.
pub async fn end_sso_session_by_hash(
    authn: &Authenticator,
    provider: &Provider,
    id_hash: &[u8],
    source: &str,
) -> Result<usize, SsoError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let sid = sid_of(id_hash);
    let user = store
        .live_session_start(id_hash, now)
        .await?
        .map(|(u, _, _)| u);
    let logins = store.take_oidc_logins(&sid).await?;
    let revoked = store.revoke_oidc_session_tokens(&sid, now).await?;
    store.delete_session(id_hash).await?;
    let Some(user) = user else {
        return Ok(0);
    };
    let reason = format!("{} clients, {revoked} tokens revoked", logins.len());
    record(
        store,
        AuditEvent {
            actor: &user,
            source,
            action: Action::OidcLogout,
            target: &user,
            outcome: Outcome::Success,
            reason: &reason,
        },
        now,
    )
    .await;
    let keys = provider.keys(&authn.instance).await?;
    let mut sends = Vec::new();
    for (client_id, user_id) in logins {
        let Some(client) = store.oidc_client(&client_id).await? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let claims = json!({
            "iss": provider.issuer, "aud": client.client_id, "iat": now, "exp": now + ID_TOKEN_SECS,
            "jti": new_token()?.to_string(), "sub": user_id, "sid": sid,
            "events": { BACKCHANNEL_EVENT: {} },
        });
        let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Es256);
        // The media type of logout tokens (§2.4, RFC 8725 §3.11).
        let token = keys.sign(alg, "logout+jwt", &claims)?;
        sends.push(async move {
            let answer = provider.backchannel.send(&uri, &token).await;
            (client, answer)
        });
    }
    let mut acknowledged = 0;
    for (client, answer) in futures::future::join_all(sends).await {
        // §2.8: 200 (or 204) means the client logged the session out.
        let ok = matches!(answer, Ok(200 | 204));
        acknowledged += usize::from(ok);
        let reason = match &answer {
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e.clone(),
        };
        record(
            store,
            AuditEvent {
                actor: &user,
                source,
                action: Action::OidcBackchannel,
                target: &client.application,
                outcome: if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
                reason: &reason,
            },
            now,
        )
        .await;
    }
    Ok(acknowledged)
}
