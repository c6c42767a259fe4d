//! Forward-auth (SPEC §10.2) for nginx `auth_request`, Caddy `forward_auth` and
//! Traefik ForwardAuth: a protected domain's own opaque cookie, made from the passgrid
//! session after sign-in and ended with it, and the return URLs that may be followed
//! (only to the configured protected domains: no open redirect).

use super::{ForwardAuthFile, SsoError, SsoSession};
use crate::{
    random::{is_token, new_token, token_hash},
    store::Store,
};

/// The cookie on the protected domain.
pub const FORWARD_COOKIE: &str = "passgrid_fa";
const DEFAULT_SESSION_SECS: i64 = 12 * 3600;

/// `[forward_auth]`, checked.
#[derive(Clone, Debug, Default)]
pub struct ForwardSettings {
    pub domains: Vec<String>,
    pub cookie_domain: Option<String>,
    pub session_secs: i64,
}

fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

impl ForwardSettings {
    pub fn from_file(f: &ForwardAuthFile) -> Result<ForwardSettings, SsoError> {
        let domains: Vec<String> = f
            .domains
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
            .collect();
        if let Some(bad) = domains.iter().find(|d| !is_host(d)) {
            return Err(SsoError::Invalid(format!(
                "[forward_auth] domains: {bad:?} is not a host name"
            )));
        }
        let cookie_domain = f
            .cookie_domain
            .as_ref()
            .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase());
        if let Some(d) = &cookie_domain {
            if !is_host(d) {
                return Err(SsoError::Invalid(format!(
                    "[forward_auth] cookie_domain {d:?} is not a host name"
                )));
            }
        }
        let session_secs = f.session_secs.unwrap_or(DEFAULT_SESSION_SECS);
        if !(60..=30 * 86_400).contains(&session_secs) {
            return Err(SsoError::Invalid(
                "[forward_auth] session_secs: 60 s to 30 days".into(),
            ));
        }
        Ok(ForwardSettings {
            domains,
            cookie_domain,
            session_secs,
        })
    }

    /// Whether `host` is a protected domain or below one.
    pub fn protects(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    }

    /// `url` when it may be returned to after sign-in: http(s), absolute, on a
    /// protected domain, no credentials in it.
    pub fn return_url(&self, url: &str) -> Option<String> {
        if url.len() > 4096 {
            return None;
        }
        let parsed = url::Url::parse(url).ok()?;
        let host = parsed.host_str()?;
        let ok = matches!(parsed.scheme(), "https" | "http")
            && parsed.username().is_empty()
            && parsed.password().is_none()
            && self.protects(host.trim_matches(['[', ']']));
        ok.then(|| parsed.to_string())
    }

    /// The Set-Cookie value of a forward-auth session.
    pub fn cookie(&self, token: &str) -> String {
        let domain = self
            .cookie_domain
            .as_ref()
            .map(|d| format!("; Domain={d}"))
            .unwrap_or_default();
        format!(
            "{FORWARD_COOKIE}={token}; Path=/; Max-Age={}{domain}; Secure; HttpOnly; SameSite=Lax",
            self.session_secs
        )
    }
}

/// A new forward-auth cookie for the SSO session.
pub async fn start_forward_session(
    store: &Store,
    settings: &ForwardSettings,
    session: &SsoSession,
    now: i64,
) -> Result<zeroize::Zeroizing<String>, SsoError> {
    let token = new_token()?;
    store
        .insert_forward_auth_session(
            &token_hash(&token),
            &session.id_hash,
            &session.user_id,
            now + settings.session_secs,
            now,
        )
        .await?;
    Ok(token)
}

/// The user (and sign-in time) of a forward-auth cookie, while its passgrid session lives.
pub async fn forward_user(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<(String, i64)>, SsoError> {
    if !is_token(token) {
        return Ok(None);
    }
    Ok(store.forward_auth_user(&token_hash(token), now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_stay_on_protected_domains() {
        let s = ForwardSettings::from_file(&ForwardAuthFile {
            domains: Some(vec!["example.com".into(), "127.0.0.1".into()]),
            ..Default::default()
        })
        .unwrap();
        assert!(s.return_url("https://app.example.com/x?y=1").is_some());
        assert!(s.return_url("https://example.com/").is_some());
        assert!(s.return_url("https://127.0.0.1:8443/").is_some());
        assert!(s.return_url("https://evilexample.com/").is_none());
        assert!(s.return_url("https://example.com.evil.net/").is_none());
        assert!(s.return_url("https://user:pw@app.example.com/").is_none());
        assert!(s.return_url("javascript:alert(1)").is_none());
        assert!(s.return_url("//example.com/").is_none());
    }
}
