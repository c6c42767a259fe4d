//! The checks of a login before and after its answer (rate limits, lock-out, login
//! protect, the certificate gate, access rules) and the audit entries of refusals.

use super::{
    lockout::{self, LockState},
    login::{Client, Refusal},
    rate_limit::Decision,
    AuthError, Authenticator,
};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    policy::{access_rules::Refusal as AccessRefusal, AuthSettings},
    store::login_facts::LoginFacts,
};

pub(super) async fn audit_refusal(
    authn: &Authenticator,
    claimed_user: &str,
    client: &Client<'_>,
    refusal: &Refusal,
    now: i64,
) {
    // A flood of rate-limited attempts is summarised (see `refusal_tally`).
    if matches!(refusal, Refusal::RateLimited { .. })
        && !authn
            .guards
            .refusal_tally
            .record(client.source, claimed_user)
    {
        return;
    }
    record(
        &authn.instance.store,
        AuditEvent {
            actor: claimed_user,
            source: client.source,
            action: Action::AuthRefused,
            target: claimed_user,
            outcome: Outcome::Failure,
            reason: &refusal.reason(),
        },
        now,
    )
    .await;
}

/// Writes one audit row per source for the rate-limited attempts counted since the
/// last call.
pub async fn audit_refusal_summaries(authn: &Authenticator) {
    let now = authn.instance.clock.now();
    for s in authn.guards.refusal_tally.flush() {
        let reason = format!(
            "rate limited: {} more attempts from this address in the last minute",
            s.count
        );
        record(
            &authn.instance.store,
            AuditEvent {
                actor: &s.last_user,
                source: &s.source,
                action: Action::AuthRefused,
                target: &s.last_user,
                outcome: Outcome::Failure,
                reason: &reason,
            },
            now,
        )
        .await;
    }
}

/// The rate limits (memory, installation-wide): checked at a start before anything
/// touches the database, the user's policy included.
pub(super) fn rate_refusal(
    authn: &Authenticator,
    claimed_user: &str,
    client: &Client<'_>,
) -> Option<Refusal> {
    let ip = client.ip?;
    let now_ms = authn.instance.clock.now_ms();
    match authn.guards.rate_limits.check(ip, claimed_user, now_ms) {
        Decision::Limited { retry_after_secs } => Some(Refusal::RateLimited {
            retry_after: retry_after_secs,
        }),
        _ => None,
    }
}

/// The access rules (memory): networks and hours.
pub(super) fn access_refusal(
    settings: &AuthSettings,
    client: &Client<'_>,
    now: i64,
) -> Option<Refusal> {
    if settings.access.is_open() {
        return None;
    }
    // A request without a peer address (never over TCP) cannot show its network.
    let ip = client
        .ip
        .unwrap_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    match settings.access.check(ip, now) {
        Err(AccessRefusal::Network) => Some(Refusal::Network),
        Err(AccessRefusal::Time) => Some(Refusal::Time),
        Ok(()) => None,
    }
}

/// The checks of the user's policy that come before a grid, cheapest first: access
/// rules, lock-out, login protect (database).
pub(super) async fn start_refusal(
    authn: &Authenticator,
    settings: &AuthSettings,
    facts: &LoginFacts,
    claimed_user: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<Option<Refusal>, AuthError> {
    if let Some(refusal) = access_refusal(settings, client, now) {
        return Ok(Some(refusal));
    }
    if let LockState::Locked { until } = lockout::state_of(facts.failures, now) {
        return Ok(Some(Refusal::Locked { until }));
    }
    if settings.login_protect && !login_window_open(authn, claimed_user, now).await? {
        return Ok(Some(Refusal::LoginProtect));
    }
    Ok(None)
}

/// Login protect: a window opened from a signed-in device, or the first login (a user
/// who still has the initial pattern has no signed-in device to open one from).
pub(super) async fn login_window_open(
    authn: &Authenticator,
    user: &str,
    now: i64,
) -> Result<bool, AuthError> {
    let store = &authn.instance.store;
    if store.login_window(user, now).await?.is_some() {
        return Ok(true);
    }
    Ok(store.pattern(user).await?.is_some_and(|p| p.is_initial))
}

/// Whether the device holds a certificate that passgrid issued, that is unrevoked and
/// unexpired now — checked in the database on every request, so a revocation holds
/// from the next one on (SPEC §2.7) — and that belongs to `user`.
pub(super) async fn device_registered(
    authn: &Authenticator,
    user: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<bool, AuthError> {
    let (Some(serial), Some(fingerprint)) = (client.cert_serial, client.cert_fingerprint) else {
        return Ok(false);
    };
    let Some(record) = authn.instance.store.client_certificate(serial).await? else {
        return Ok(false);
    };
    Ok(record.revoked_at.is_none()
        && record.not_after > now
        && record.fingerprint_sha256 == fingerprint
        && (record.user_id.as_deref() == Some(user)
            || record
                .shared_profile
                .as_deref()
                .is_some_and(|p| authn.auth.shared_profile_allows(p, user))))
}

/// First login with auto-issue on (SPEC §5.2): a user who still has the initial pattern
/// and was never issued a certificate may sign in from a device without one, to
/// receive it. (Never issued, not merely none valid: a revoked certificate must not
/// reopen the way in.)
/// (This tells such users apart from others to whoever tries IDs without a
/// certificate; an organisation that turns auto-issue on accepts that.)
pub(super) async fn first_login_exempt(
    authn: &Authenticator,
    settings: &AuthSettings,
    user: &str,
) -> Result<bool, AuthError> {
    if !settings.auto_issue_certificate {
        return Ok(false);
    }
    let initial = authn
        .instance
        .store
        .pattern(user)
        .await?
        .is_some_and(|p| p.is_initial);
    Ok(initial
        && authn
            .instance
            .store
            .client_certificates(Some(user))
            .await?
            .is_empty())
}

/// The device check of a certificate-gated login: the user's own certificate, or the
/// first-login exemption.
pub(super) async fn device_allowed(
    authn: &Authenticator,
    settings: &AuthSettings,
    user: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<bool, AuthError> {
    Ok(device_registered(authn, user, client, now).await?
        || first_login_exempt(authn, settings, user).await?)
}

pub(super) async fn audit_unregistered(
    authn: &Authenticator,
    claimed_user: &str,
    client: &Client<'_>,
    now: i64,
) {
    let reason = match client.cert_serial {
        Some(serial) => format!("device not registered (certificate {serial})"),
        None => "device not registered (no certificate)".to_string(),
    };
    record(
        &authn.instance.store,
        AuditEvent {
            actor: claimed_user,
            source: client.source,
            action: Action::AuthDevice,
            target: claimed_user,
            outcome: Outcome::Failure,
            reason: &reason,
        },
        now,
    )
    .await;
}
