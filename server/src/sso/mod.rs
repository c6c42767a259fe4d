//! Single sign-on (SPEC §10.1, §10.2): passgrid as an OpenID Connect provider and as
//! the forward-auth service of reverse proxies, on top of the login decision (`auth`):
//! the SSO session is the passgrid session in the database, so any server of a
//! cluster serves it. Nothing here knows about HTTP requests; `oidc` and
//! `forward_auth` are the front ends.

pub mod backchannel;
pub mod clients;
pub mod forward;
pub mod grants;
pub mod logout;
pub mod tokens;

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::{
    auth::AuthError,
    instance::Instance,
    jwt::{JwtError, KeyRing},
    random::{is_token, token_hash, RandomError},
    store::StoreError,
};

/// Authorization codes live 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_SECS: i64 = 60;
/// ID tokens and logout tokens are short-lived: they are read once, at sign-in.
pub const ID_TOKEN_SECS: i64 = 600;
/// A retired signing key stays published this long: longer than anything it signed.
pub const KEY_KEEP_SECS: i64 = ID_TOKEN_SECS + 300;
/// Opened keys are re-read from the database this often (a rotation by another
/// server or the command line reaches every server within it).
const KEY_CACHE_SECS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jwt(#[from] JwtError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// An administrator's input that cannot be used; the text says why.
    #[error("{0}")]
    Invalid(String),
    #[error("no such application or client: {0}")]
    NotFound(String),
    #[error("{0} exists already")]
    Exists(String),
}

/// `[oidc]` and `[forward_auth]` in the configuration file.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardAuthFile {
    /// Host names (and their subdomains) of the protected sites: a return URL must be
    /// on one of them (no open redirect).
    pub domains: Option<Vec<String>>,
    /// The cookie's Domain attribute (e.g. `example.com` when passgrid is
    /// auth.example.com and the sites are *.example.com); none: passgrid's host only.
    pub cookie_domain: Option<String>,
    /// Lifetime of the forward-auth cookie (it also ends with the passgrid session).
    pub session_secs: Option<i64>,
}

/// The provider: its issuer, the opened signing keys (cached), forward-auth settings
/// and the back-channel logout sender.
pub struct Provider {
    /// `iss` of every token: passgrid's public URL (OpenID Connect Discovery §4.3).
    pub issuer: String,
    pub forward: forward::ForwardSettings,
    keys: RwLock<Option<(i64, Arc<KeyRing>)>>,
    pub backchannel: backchannel::Sender,
}

impl Provider {
    /// Makes sure signing keys exist and builds the provider.
    pub async fn start(
        instance: &Instance,
        issuer: &str,
        forward: &ForwardAuthFile,
    ) -> Result<Provider, SsoError> {
        let now = instance.clock.now();
        crate::jwt::ensure_keys(&instance.store, &instance.master_key, now).await?;
        Ok(Provider {
            issuer: issuer.trim_end_matches('/').to_string(),
            forward: forward::ForwardSettings::from_file(forward)?,
            keys: RwLock::new(None),
            backchannel: backchannel::Sender::new(instance.ca.cert_der()),
        })
    }

    /// The signing keys, re-read from the database when the cached ones are older
    /// than 30 s.
    pub async fn keys(&self, instance: &Instance) -> Result<Arc<KeyRing>, SsoError> {
        let now = instance.clock.now();
        if let Some((at, ring)) = self.keys.read().await.as_ref() {
            if now - at < KEY_CACHE_SECS {
                return Ok(ring.clone());
            }
        }
        let ring = Arc::new(
            KeyRing::load(&instance.store, &instance.master_key, now, KEY_KEEP_SECS).await?,
        );
        *self.keys.write().await = Some((now, ring.clone()));
        Ok(ring)
    }

    /// Fresh from the database (the JWKS endpoint: it must show a key as soon as any
    /// server signs with it).
    pub async fn fresh_keys(&self, instance: &Instance) -> Result<Arc<KeyRing>, SsoError> {
        let now = instance.clock.now();
        let ring = Arc::new(
            KeyRing::load(&instance.store, &instance.master_key, now, KEY_KEEP_SECS).await?,
        );
        *self.keys.write().await = Some((now, ring.clone()));
        Ok(ring)
    }
}

/// The SSO session of a request: the passgrid session, its user and its start.
#[derive(Clone, Debug)]
pub struct SsoSession {
    pub user_id: String,
    /// When the user signed in with the grid (the session's start).
    pub auth_time: i64,
    /// The session's ID for clients (`sid`, Back-Channel Logout §2.1).
    pub sid: String,
    /// The database key of the session.
    pub id_hash: Vec<u8>,
}

/// `sid`: derived one-way from the session's key, so it names the session to
/// clients without being a credential.
pub fn sid_of(id_hash: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"passgrid sid\0");
    h.update(id_hash);
    B64.encode(&h.finalize()[..18])
}

/// The live SSO session of a session cookie's token.
/// A session made with a client certificate serves connections presenting that
/// certificate only (`cert_fingerprint`: the request's).
pub async fn sso_session(
    instance: &Instance,
    token: &str,
    cert_fingerprint: Option<&str>,
) -> Result<Option<SsoSession>, SsoError> {
    if !is_token(token) {
        return Ok(None);
    }
    let id_hash = token_hash(token);
    let now = instance.clock.now();
    Ok(instance
        .store
        .live_session_start(&id_hash, now)
        .await?
        .filter(|(_, _, bound)| {
            bound
                .as_deref()
                .is_none_or(|bound| Some(bound) == cert_fingerprint)
        })
        .map(|(user_id, auth_time, _)| SsoSession {
            user_id,
            auth_time,
            sid: sid_of(&id_hash),
            id_hash,
        }))
}

/// Minute upkeep: codes (kept an hour past expiry to recognise replays), expired
/// tokens, forward-auth sessions, and login notes older than any session can live.
pub async fn purge_expired(store: &crate::store::Store, now: i64) -> Result<(), SsoError> {
    store.purge_oidc_codes(now, 3600).await?;
    store.purge_oidc_tokens(now).await?;
    store.purge_forward_auth_sessions(now).await?;
    store.purge_oidc_logins(now - 31 * 86_400).await?;
    Ok(())
}

/// The latest sign-ins to an application (the console's "recent sign-ins"), from the
/// audit log: OIDC authorizations, forward-auth sign-ins and SAML assertions, newest
/// first.
pub async fn recent_sign_ins(
    store: &crate::store::Store,
    application: &str,
    limit: i64,
) -> Result<Vec<crate::store::audit::AuditEntry>, SsoError> {
    let mut all = Vec::new();
    for action in ["oidc.authorize", "forward_auth.signin", "saml.assertion"] {
        all.extend(
            store
                .search_audit(&crate::store::audit::AuditFilter {
                    actor: None,
                    action: Some(action.into()),
                    target: Some(application.into()),
                    outcome: None,
                    since: None,
                    until: None,
                    before_id: None,
                    limit,
                })
                .await?,
        );
    }
    all.sort_by_key(|e| std::cmp::Reverse(e.id));
    all.truncate(limit.max(0) as usize);
    Ok(all)
}
