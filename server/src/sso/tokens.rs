//! The token endpoint's work (RFC 6749 §4.1.3, §6; RFC 7636 §4.6), ID tokens (OIDC
//! Core §2), userinfo claims (§5.3), revocation (RFC 7009) and introspection (RFC 7662).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{clients::secret_matches, grants::acr_of, Provider, SsoError, ID_TOKEN_SECS};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::Authenticator,
    jwt::Alg,
    random::{new_token, token_hash},
    store::{
        oidc_clients::OidcClient,
        oidc_codes::Redeemed,
        oidc_tokens::{NewToken, Rotation, StoredToken},
    },
};

/// An OAuth error answer (RFC 6749 §5.2): the code and a short description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthRefusal {
    pub error: &'static str,
    pub description: &'static str,
}

const fn refusal(error: &'static str, description: &'static str) -> OAuthRefusal {
    OAuthRefusal { error, description }
}

/// A token response (RFC 6749 §5.1).
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Authenticates a client at the token, revocation or introspection endpoint: a
/// confidential client by its secret (basic or post, RFC 6749 §2.3.1), a public one
/// by its ID alone (`none`) — a public client then proves itself with PKCE.
pub async fn authenticate_client(
    authn: &Authenticator,
    client_id: Option<&str>,
    secret: Option<&str>,
) -> Result<Result<OidcClient, OAuthRefusal>, SsoError> {
    let bad = Ok(Err(refusal(
        "invalid_client",
        "client authentication failed",
    )));
    let Some(client_id) = client_id.filter(|c| c.len() <= 128) else {
        return bad;
    };
    let Some(client) = authn.instance.store.oidc_client(client_id).await? else {
        return bad;
    };
    match (client.is_public(), secret) {
        (true, None) => Ok(Ok(client)),
        (false, Some(s)) if s.len() <= 256 && secret_matches(&client, s) => Ok(Ok(client)),
        _ => bad,
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, compared in constant time.
fn pkce_holds(challenge: &str, verifier: &str) -> bool {
    super::grants::is_pkce_value(verifier)
        && bool::from(
            B64.encode(Sha256::digest(verifier.as_bytes()))
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}

/// The claims a scope releases (OIDC Core §5.4; `groups` is passgrid's own).
pub async fn user_claims(
    authn: &Authenticator,
    user_id: &str,
    scope: &str,
) -> Result<Option<Map<String, Value>>, SsoError> {
    let store = &authn.instance.store;
    let Some(user) = store.user(user_id).await?.filter(|u| u.status == "active") else {
        return Ok(None);
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    let scopes: Vec<&str> = scope.split(' ').collect();
    if scopes.contains(&"profile") {
        claims.insert("preferred_username".into(), json!(user.id));
        claims.insert("name".into(), json!(user.display_name));
    }
    if scopes.contains(&"email") {
        if let Some(email) = user.email {
            claims.insert("email".into(), json!(email));
        }
    }
    if scopes.contains(&"groups") {
        claims.insert("groups".into(), json!(store.user_groups(user_id).await?));
    }
    Ok(Some(claims))
}

struct Grant<'a> {
    client: &'a OidcClient,
    user_id: &'a str,
    sid: &'a str,
    scope: &'a str,
    auth_time: i64,
    amr: &'a str,
    nonce: Option<&'a str>,
    family: &'a [u8],
}

async fn issue(
    authn: &Authenticator,
    provider: &Provider,
    g: Grant<'_>,
    now: i64,
) -> Result<Option<TokenSet>, SsoError> {
    let Some(profile) = user_claims(authn, g.user_id, g.scope).await? else {
        return Ok(None);
    };
    let access = new_token()?;
    let refresh = new_token()?;
    let client = g.client;
    let mut claims = profile;
    let amr: Vec<&str> = g.amr.split(' ').collect();
    for (k, v) in [
        ("iss", json!(provider.issuer)),
        ("aud", json!(client.client_id)),
        ("azp", json!(client.client_id)),
        ("iat", json!(now)),
        ("exp", json!(now + ID_TOKEN_SECS)),
        ("auth_time", json!(g.auth_time)),
        ("amr", json!(amr)),
        ("acr", json!(acr_of(g.amr))),
        ("sid", json!(g.sid)),
    ] {
        claims.insert(k.into(), v);
    }
    if let Some(nonce) = g.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Es256);
    let id_token =
        provider
            .keys(&authn.instance)
            .await?
            .sign(alg, "JWT", &Value::Object(claims))?;
    let token = |hash: &'_ [u8], kind: &'static str, secs: i64| -> (Vec<u8>, &'static str, i64) {
        (hash.to_vec(), kind, now + secs)
    };
    let rows = [
        token(&token_hash(&access), "access", client.access_token_secs),
        token(&token_hash(&refresh), "refresh", client.refresh_token_secs),
    ];
    let new: Vec<NewToken> = rows
        .iter()
        .map(|(hash, kind, expires_at)| NewToken {
            token_hash: hash,
            kind,
            family: g.family,
            client_id: &client.client_id,
            user_id: g.user_id,
            sid: g.sid,
            scope: g.scope,
            auth_time: g.auth_time,
            amr: g.amr,
            expires_at: *expires_at,
        })
        .collect();
    authn.instance.store.insert_oidc_tokens(&new, now).await?;
    Ok(Some(TokenSet {
        access_token: access.to_string(),
        refresh_token: refresh.to_string(),
        id_token,
        expires_in: client.access_token_secs,
        scope: g.scope.to_string(),
    }))
}

async fn audit(
    authn: &Authenticator,
    actor: &str,
    source: &str,
    action: Action,
    target: &str,
    ok: bool,
    reason: &str,
) {
    record(
        &authn.instance.store,
        AuditEvent {
            actor,
            source,
            action,
            target,
            outcome: if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            reason,
        },
        authn.instance.clock.now(),
    )
    .await;
}

/// The authorization-code grant (RFC 6749 §4.1.3): the code once, for the client it
/// was issued to, with the same redirect URI and the PKCE verifier of its challenge.
pub async fn exchange_code(
    authn: &Authenticator,
    provider: &Provider,
    client: &OidcClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    source: &str,
) -> Result<Result<TokenSet, OAuthRefusal>, SsoError> {
    let invalid = refusal(
        "invalid_grant",
        "the code is invalid, used or expired, or does not match",
    );
    let now = authn.instance.clock.now();
    let store = &authn.instance.store;
    if code.len() > 128 {
        return Ok(Err(invalid));
    }
    let code_hash = token_hash(code);
    let grant = match store.redeem_oidc_code(&code_hash, now).await? {
        Redeemed::Fresh(g) => g,
        Redeemed::Replayed { client_id } => {
            // A replayed code may be stolen: what it gave is revoked (RFC 6749 §4.1.2).
            let revoked = store.revoke_oidc_family(&code_hash, now).await?;
            let reason = format!("code of client {client_id} used twice; {revoked} tokens revoked");
            audit(
                authn,
                "-",
                source,
                Action::OidcCodeReuse,
                &client.application,
                false,
                &reason,
            )
            .await;
            return Ok(Err(invalid));
        }
        Redeemed::Unknown => {
            audit(
                authn,
                "-",
                source,
                Action::OidcRefused,
                &client.application,
                false,
                "unknown or expired code",
            )
            .await;
            return Ok(Err(invalid));
        }
    };
    let pkce_ok = match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(v)) => pkce_holds(challenge, v),
        // A verifier without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
        (Some(_), None) | (None, Some(_)) => false,
        (None, None) => !client.is_public(),
    };
    let reason = if grant.client_id != client.client_id {
        Some("code of another client")
    } else if redirect_uri != Some(grant.redirect_uri.as_str()) {
        Some("redirect URI differs from the authorization's")
    } else if !pkce_ok {
        Some("PKCE verifier does not match")
    } else {
        None
    };
    if let Some(reason) = reason {
        audit(
            authn,
            &grant.user_id,
            source,
            Action::OidcRefused,
            &client.application,
            false,
            reason,
        )
        .await;
        return Ok(Err(invalid));
    }
    let issued = issue(
        authn,
        provider,
        Grant {
            client,
            user_id: &grant.user_id,
            sid: &grant.sid,
            scope: &grant.scope,
            auth_time: grant.auth_time,
            amr: &grant.amr,
            nonce: grant.nonce.as_deref(),
            family: &code_hash,
        },
        now,
    )
    .await?;
    let Some(set) = issued else {
        audit(
            authn,
            &grant.user_id,
            source,
            Action::OidcRefused,
            &client.application,
            false,
            "user not active",
        )
        .await;
        return Ok(Err(invalid));
    };
    audit(
        authn,
        &grant.user_id,
        source,
        Action::OidcToken,
        &client.application,
        true,
        "authorization_code",
    )
    .await;
    Ok(Ok(set))
}

/// The refresh grant (RFC 6749 §6) with rotation: the old refresh token is spent; a
/// spent one presented again revokes its family (RFC 9700 §4.14.2).
pub async fn refresh(
    authn: &Authenticator,
    provider: &Provider,
    client: &OidcClient,
    refresh_token: &str,
    source: &str,
) -> Result<Result<TokenSet, OAuthRefusal>, SsoError> {
    let invalid = refusal(
        "invalid_grant",
        "the refresh token is invalid, used or revoked",
    );
    let now = authn.instance.clock.now();
    if refresh_token.len() > 128 {
        return Ok(Err(invalid));
    }
    let old: StoredToken = match authn
        .instance
        .store
        .rotate_refresh_token(&token_hash(refresh_token), now)
        .await?
    {
        Rotation::Fresh(t) => t,
        Rotation::Replayed { client_id, user_id } => {
            let reason = format!("refresh token of client {client_id} used twice: family revoked");
            audit(
                authn,
                &user_id,
                source,
                Action::OidcRefreshReuse,
                &client.application,
                false,
                &reason,
            )
            .await;
            return Ok(Err(invalid));
        }
        Rotation::Unknown => return Ok(Err(invalid)),
    };
    if old.client_id != client.client_id {
        // Another client's token: spend its family too, it has leaked.
        authn
            .instance
            .store
            .revoke_oidc_family(&old.family, now)
            .await?;
        audit(
            authn,
            &old.user_id,
            source,
            Action::OidcRefused,
            &client.application,
            false,
            "refresh token of another client",
        )
        .await;
        return Ok(Err(invalid));
    }
    let issued = issue(
        authn,
        provider,
        Grant {
            client,
            user_id: &old.user_id,
            sid: &old.sid,
            scope: &old.scope,
            auth_time: old.auth_time,
            amr: &old.amr,
            nonce: None,
            family: &old.family,
        },
        now,
    )
    .await?;
    let Some(set) = issued else {
        return Ok(Err(invalid));
    };
    audit(
        authn,
        &old.user_id,
        source,
        Action::OidcRefresh,
        &client.application,
        true,
        "",
    )
    .await;
    Ok(Ok(set))
}

/// The live access token of a bearer (userinfo).
pub async fn access_token(
    authn: &Authenticator,
    token: &str,
) -> Result<Option<StoredToken>, SsoError> {
    if !crate::random::is_token(token) {
        return Ok(None);
    }
    let now = authn.instance.clock.now();
    Ok(authn
        .instance
        .store
        .live_oidc_token(&token_hash(token), "access", now)
        .await?)
}

/// RFC 7009 §2.1: a refresh token takes its family with it; an unknown token or one
/// of another client changes nothing (and the answer is the same).
pub async fn revoke(
    authn: &Authenticator,
    client: &OidcClient,
    token: &str,
    source: &str,
) -> Result<(), SsoError> {
    if token.len() > 128 {
        return Ok(());
    }
    let now = authn.instance.clock.now();
    let store = &authn.instance.store;
    let hash = token_hash(token);
    if let Some((kind, family)) = store.oidc_token_family(&hash, &client.client_id).await? {
        if kind == "refresh" {
            store.revoke_oidc_family(&family, now).await?;
        } else {
            store.revoke_oidc_token(&hash, now).await?;
        }
        audit(
            authn,
            &client.application,
            source,
            Action::OidcRevoke,
            &client.application,
            true,
            &kind,
        )
        .await;
    }
    Ok(())
}

/// RFC 7662 §2.2: what a client may learn of one of its own tokens.
pub async fn introspect(
    authn: &Authenticator,
    client: &OidcClient,
    token: &str,
) -> Result<Value, SsoError> {
    let now = authn.instance.clock.now();
    if token.len() > 128 {
        return Ok(json!({"active": false}));
    }
    let hash = token_hash(token);
    for kind in ["access", "refresh"] {
        if let Some(t) = authn
            .instance
            .store
            .live_oidc_token(&hash, kind, now)
            .await?
        {
            // Another client's token is "not active" to this one: no token scanning.
            if t.client_id != client.client_id {
                break;
            }
            return Ok(json!({
                "active": true, "scope": t.scope, "client_id": t.client_id, "username": t.user_id,
                "sub": t.user_id, "token_type": if kind == "access" { "Bearer" } else { "refresh_token" },
                "exp": t.expires_at, "iat": t.created_at, "iss": authn.public_url.as_ref(),
                "aud": t.client_id,
            }));
        }
    }
    Ok(json!({"active": false}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_vector_of_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_holds(challenge, verifier));
        assert!(!pkce_holds(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"
        ));
        assert!(!pkce_holds(challenge, "short"));
    }
}
