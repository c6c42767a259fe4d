//! Applications and OpenID Connect clients: registration and changes, shared by the
//! command line and the administrators' API, with every check in one place.

use serde::Deserialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::SsoError;
use crate::{
    jwt::Alg,
    policy::access_rules::AccessRules,
    random::{new_token, os_random, token_hash},
    store::{applications::Application, oidc_clients::OidcClient, Store, StoreError},
};

/// The scopes passgrid knows (OIDC Core §5.4, plus `groups`).
pub const KNOWN_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];
const DEFAULT_SCOPES: &str = "openid profile email groups";

/// The rules of an application, as an administrator gives them; `None` leaves a rule
/// as it is.
#[derive(Debug, Default, Deserialize)]
pub struct AppRules {
    pub description: Option<String>,
    pub allowed_groups: Option<Vec<String>>,
    pub allowed_networks: Option<Vec<String>>,
    pub allowed_hours: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub require_certificate: Option<bool>,
    /// 0 clears it.
    pub max_auth_age_secs: Option<i64>,
    /// Forward-auth applications: the host name.
    pub domain: Option<String>,
}

/// An OIDC client's settings, as an administrator gives them; `None` leaves a
/// setting as it is (or takes the default for a new client).
#[derive(Debug, Default, Deserialize)]
pub struct ClientSettings {
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_uris: Option<Vec<String>>,
    /// Empty string clears it.
    pub backchannel_logout_uri: Option<String>,
    pub alg: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub access_token_secs: Option<i64>,
    pub refresh_token_secs: Option<i64>,
}

/// A new client, with its secret shown once.
pub struct NewClient {
    pub client: OidcClient,
    pub secret: Option<Zeroizing<String>>,
}

fn invalid(msg: impl Into<String>) -> SsoError {
    SsoError::Invalid(msg.into())
}

/// Application names: 1-64 of letters, digits, `.`, `_`, `-`.
pub fn check_app_name(name: &str) -> Result<(), SsoError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid(format!(
            "{name:?} is not a usable application name (1-64 letters, digits, '.', '_', '-')"
        )));
    }
    Ok(())
}

/// A URI a client registers: absolute, no fragment (RFC 6749 §3.1.2), HTTPS — or HTTP
/// on a loopback host only (RFC 8252 §7.3) — and at most 2,000 characters.
pub fn check_client_uri(uri: &str, what: &str) -> Result<(), SsoError> {
    let parsed = url::Url::parse(uri).map_err(|e| invalid(format!("{what} {uri:?}: {e}")))?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(parsed.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || parsed.host_str() == Some("localhost");
    let ok_scheme = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !ok_scheme || parsed.fragment().is_some() || uri.len() > 2000 || parsed.host().is_none() {
        return Err(invalid(format!(
            "{what} {uri:?}: must be https:// (http:// only on loopback), without a fragment"
        )));
    }
    Ok(())
}

pub(crate) fn apply_rules(app: &mut Application, rules: &AppRules) -> Result<(), SsoError> {
    if let Some(d) = &rules.description {
        if d.len() > 500 || d.chars().any(char::is_control) {
            return Err(invalid(
                "description: at most 500 characters, no control characters",
            ));
        }
        app.description = d.clone();
    }
    if let Some(g) = &rules.allowed_groups {
        app.allowed_groups = g
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Some(n) = &rules.allowed_networks {
        app.allowed_networks = n
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Some(h) = &rules.allowed_hours {
        app.allowed_hours = h
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Some(tz) = &rules.time_zone {
        app.time_zone = tz.trim().to_string();
    }
    if let Some(c) = rules.require_certificate {
        app.require_certificate = c;
    }
    if let Some(age) = rules.max_auth_age_secs {
        if !(0..=30 * 24 * 3600).contains(&age) {
            return Err(invalid("max_auth_age_secs: 0 (off) to 30 days"));
        }
        app.max_auth_age_secs = (age > 0).then_some(age);
    }
    if let Some(d) = &rules.domain {
        let d = d.trim().to_ascii_lowercase();
        if app.kind != "forward_auth" {
            return Err(invalid(
                "a domain belongs to forward-auth applications only",
            ));
        }
        if d.is_empty()
            || d.len() > 253
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        {
            return Err(invalid(format!("domain {d:?} is not a host name")));
        }
        app.domain = Some(d);
    }
    for g in app
        .allowed_groups
        .iter()
        .chain(&app.allowed_networks)
        .chain(&app.allowed_hours)
    {
        if g.contains(';') || g.chars().any(char::is_control) {
            return Err(invalid(format!("{g:?}: no ';' or control characters")));
        }
    }
    // The rules must parse now, so that a check never meets one that does not.
    AccessRules::parse(&app.allowed_networks, &app.allowed_hours, &app.time_zone)
        .map_err(|e| invalid(e.to_string()))?;
    Ok(())
}

pub(crate) async fn check_groups_exist(store: &Store, app: &Application) -> Result<(), SsoError> {
    let missing = store.missing_groups(&app.allowed_groups).await?;
    if !missing.is_empty() {
        return Err(invalid(format!("no such group: {}", missing.join(", "))));
    }
    Ok(())
}

pub(crate) fn new_application(name: &str, kind: &str, now: i64) -> Application {
    Application {
        name: name.to_string(),
        kind: kind.to_string(),
        description: String::new(),
        allowed_groups: vec![],
        allowed_networks: vec![],
        allowed_hours: vec![],
        time_zone: "UTC".into(),
        require_certificate: false,
        max_auth_age_secs: None,
        domain: None,
        created_at: now,
        updated_at: now,
    }
}

fn apply_client(client: &mut OidcClient, s: &ClientSettings) -> Result<(), SsoError> {
    if let Some(uris) = &s.redirect_uris {
        client.redirect_uris = uris.clone();
    }
    if client.redirect_uris.is_empty() || client.redirect_uris.len() > 20 {
        return Err(invalid("a client needs 1 to 20 redirect URIs"));
    }
    for u in &client.redirect_uris {
        check_client_uri(u, "redirect URI")?;
    }
    if let Some(uris) = &s.post_logout_uris {
        client.post_logout_uris = uris.clone();
    }
    for u in &client.post_logout_uris {
        check_client_uri(u, "post-logout URI")?;
    }
    if let Some(b) = &s.backchannel_logout_uri {
        client.backchannel_logout_uri = (!b.is_empty()).then(|| b.clone());
    }
    if let Some(b) = &client.backchannel_logout_uri {
        check_client_uri(b, "back-channel logout URI")?;
    }
    if let Some(alg) = &s.alg {
        let alg = Alg::parse(&alg.to_ascii_uppercase())
            .ok_or_else(|| invalid(format!("alg {alg:?}: ES256 or RS256")))?;
        client.id_token_alg = alg.as_str().into();
    }
    if let Some(scopes) = &s.scopes {
        let mut list: Vec<String> = scopes
            .iter()
            .flat_map(|s| s.split([' ', ',']))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(bad) = list.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
            return Err(invalid(format!(
                "scope {bad:?}: one of {}",
                KNOWN_SCOPES.join(", ")
            )));
        }
        if !list.iter().any(|s| s == "openid") {
            list.insert(0, "openid".into());
        }
        list.dedup();
        client.scopes = list;
    }
    if let Some(a) = s.access_token_secs {
        if !(30..=86_400).contains(&a) {
            return Err(invalid("access_token_secs: 30 s to 1 day"));
        }
        client.access_token_secs = a;
    }
    if let Some(r) = s.refresh_token_secs {
        if !(60..=30 * 86_400).contains(&r) {
            return Err(invalid("refresh_token_secs: 60 s to 30 days"));
        }
        client.refresh_token_secs = r;
    }
    Ok(())
}

/// Registers a client and its application (of the same name). A confidential
/// client's secret is returned once; only its SHA-256 is stored (it is 256 random
/// bits, so a slow hash would add nothing).
pub async fn add_client(
    store: &Store,
    name: &str,
    public: bool,
    settings: &ClientSettings,
    rules: &AppRules,
    now: i64,
) -> Result<NewClient, SsoError> {
    check_app_name(name)?;
    let mut app = new_application(name, "oidc", now);
    apply_rules(&mut app, rules)?;
    check_groups_exist(store, &app).await?;
    let mut id = [0u8; 16];
    os_random(&mut id)?;
    let secret = if public { None } else { Some(new_token()?) };
    let mut client = OidcClient {
        client_id: hex::encode(id),
        application: name.to_string(),
        secret_hash: secret.as_ref().map(|s| token_hash(s)),
        id_token_alg: "ES256".into(),
        redirect_uris: vec![],
        post_logout_uris: vec![],
        backchannel_logout_uri: None,
        scopes: DEFAULT_SCOPES.split(' ').map(str::to_string).collect(),
        access_token_secs: 600,
        refresh_token_secs: 12 * 3600,
        created_at: now,
        updated_at: now,
    };
    apply_client(&mut client, settings)?;
    match store.insert_oidc_client(&app, &client).await {
        Err(StoreError::Conflict) => return Err(SsoError::Exists(format!("application {name:?}"))),
        other => other?,
    }
    Ok(NewClient { client, secret })
}

/// Changes a client (by application name or client ID) and its application's rules.
pub async fn update_client(
    store: &Store,
    name_or_id: &str,
    settings: &ClientSettings,
    rules: &AppRules,
    now: i64,
) -> Result<OidcClient, SsoError> {
    let mut client = find_client(store, name_or_id).await?;
    apply_client(&mut client, settings)?;
    client.updated_at = now;
    let mut app = store
        .application(&client.application)
        .await?
        .ok_or_else(|| SsoError::NotFound(name_or_id.into()))?;
    apply_rules(&mut app, rules)?;
    check_groups_exist(store, &app).await?;
    app.updated_at = now;
    store.update_oidc_client(&client).await?;
    store.update_application(&app).await?;
    Ok(client)
}

/// A client by its application's name or its client ID.
pub async fn find_client(store: &Store, name_or_id: &str) -> Result<OidcClient, SsoError> {
    if let Some(c) = store.oidc_client_of(name_or_id).await? {
        return Ok(c);
    }
    store
        .oidc_client(name_or_id)
        .await?
        .ok_or_else(|| SsoError::NotFound(name_or_id.into()))
}

/// Registers a forward-auth application for `domain`.
pub async fn add_forward_app(
    store: &Store,
    name: &str,
    rules: &AppRules,
    now: i64,
) -> Result<Application, SsoError> {
    check_app_name(name)?;
    let mut app = new_application(name, "forward_auth", now);
    apply_rules(&mut app, rules)?;
    if app.domain.is_none() {
        return Err(invalid("a forward-auth application needs its domain"));
    }
    check_groups_exist(store, &app).await?;
    match store.insert_application(&app).await {
        Err(StoreError::Conflict) => Err(SsoError::Exists(format!(
            "application {name:?} or its domain"
        ))),
        other => Ok(other.map(|()| app)?),
    }
}

/// Changes an application's rules (either kind).
pub async fn update_app(
    store: &Store,
    name: &str,
    rules: &AppRules,
    now: i64,
) -> Result<Application, SsoError> {
    let mut app = store
        .application(name)
        .await?
        .ok_or_else(|| SsoError::NotFound(name.into()))?;
    apply_rules(&mut app, rules)?;
    check_groups_exist(store, &app).await?;
    app.updated_at = now;
    match store.update_application(&app).await {
        Err(StoreError::Conflict) => Err(SsoError::Exists(format!("domain of {name:?}"))),
        other => Ok(other.map(|_| app)?),
    }
}

/// Whether `secret` is the client's (constant time; public clients have none).
pub fn secret_matches(client: &OidcClient, secret: &str) -> bool {
    match &client.secret_hash {
        Some(hash) => bool::from(token_hash(secret).ct_eq(hash)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_uris() {
        assert!(check_client_uri("https://app.example.com/cb", "r").is_ok());
        assert!(check_client_uri("http://127.0.0.1:8080/cb", "r").is_ok());
        assert!(check_client_uri("http://localhost/cb", "r").is_ok());
        assert!(check_client_uri("http://app.example.com/cb", "r").is_err());
        assert!(check_client_uri("https://app.example.com/cb#x", "r").is_err());
        assert!(check_client_uri("javascript:alert(1)", "r").is_err());
        assert!(check_client_uri("/relative", "r").is_err());
    }

    #[test]
    fn secrets_compare_by_hash() {
        let client = OidcClient {
            client_id: "c".into(),
            application: "a".into(),
            secret_hash: Some(token_hash("s3cret")),
            id_token_alg: "ES256".into(),
            redirect_uris: vec![],
            post_logout_uris: vec![],
            backchannel_logout_uri: None,
            scopes: vec![],
            access_token_secs: 60,
            refresh_token_secs: 60,
            created_at: 0,
            updated_at: 0,
        };
        assert!(secret_matches(&client, "s3cret"));
        assert!(!secret_matches(&client, "s3cre"));
    }
}
