//! Per-application access (SPEC §6.3 "× application"): at every authorization to an
//! application — an OpenID Connect code, a forward-auth check — the application's own
//! rules (groups, networks, hours, device certificate) and the user's policy rules are
//! checked again, with the sign-in's refusal reasons and audit.

use super::{login::Client, AuthError, Authenticator};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    policy::access_rules::{AccessRules, Refusal as RuleRefusal},
    store::applications::Application,
};

/// Why a signed-in user may not use an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppRefusal {
    /// Disabled or deleted since signing in.
    UserInactive,
    /// Not in one of the application's groups.
    Group,
    /// Not from an allowed network (the application's or the user's policy).
    Network,
    /// Not at an allowed time.
    Time,
    /// The application wants a certificate of the user and the device shows none.
    DeviceNotRegistered,
}

impl AppRefusal {
    /// The stable code (the sign-in's codes where the reason is the same).
    pub fn code(self) -> &'static str {
        match self {
            AppRefusal::UserInactive => "user_inactive",
            AppRefusal::Group => "group_not_allowed",
            AppRefusal::Network => "network_not_allowed",
            AppRefusal::Time => "time_not_allowed",
            AppRefusal::DeviceNotRegistered => "device_not_registered",
        }
    }

    /// The audit reason (the sign-in's wording where the reason is the same).
    pub fn reason(self) -> &'static str {
        match self {
            AppRefusal::UserInactive => "user not active",
            AppRefusal::Group => "not in an allowed group",
            AppRefusal::Network => "network not allowed",
            AppRefusal::Time => "outside the allowed hours",
            AppRefusal::DeviceNotRegistered => "device not registered",
        }
    }
}

fn rule_refusal(r: RuleRefusal) -> AppRefusal {
    match r {
        RuleRefusal::Network => AppRefusal::Network,
        RuleRefusal::Time => AppRefusal::Time,
    }
}

/// Whether `user_id`, signed in, may use `app` now from `client`. Cheapest first: the
/// user's status and groups, the network and hours rules, then the certificate.
pub async fn check_application_access(
    authn: &Authenticator,
    app: &Application,
    user_id: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<Result<(), AppRefusal>, AuthError> {
    let settings = authn.settings_for(user_id).await?;
    Ok(
        access_with_groups(authn, app, &settings, user_id, client, now, false)
            .await?
            .map(|_| ()),
    )
}

/// [`check_application_access`] with the user's settings already resolved (a login
/// decision just did), returning the user's groups on success: a RADIUS Access-Accept
/// maps them to reply attributes (SPEC §10.4) without reading them twice.
pub async fn check_access_returning_groups(
    authn: &Authenticator,
    app: &Application,
    settings: &crate::policy::AuthSettings,
    user_id: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<Result<Vec<String>, AppRefusal>, AuthError> {
    access_with_groups(authn, app, settings, user_id, client, now, true).await
}

async fn access_with_groups(
    authn: &Authenticator,
    app: &Application,
    settings: &crate::policy::AuthSettings,
    user_id: &str,
    client: &Client<'_>,
    now: i64,
    want_groups: bool,
) -> Result<Result<Vec<String>, AppRefusal>, AuthError> {
    let store = &authn.instance.store;
    let active = store
        .user(user_id)
        .await?
        .is_some_and(|u| u.status == "active");
    if !active {
        return Ok(Err(AppRefusal::UserInactive));
    }
    // Read only when a rule or the caller needs them (one query less per OIDC code).
    let groups = if want_groups || !app.allowed_groups.is_empty() {
        store.user_groups(user_id).await?
    } else {
        Vec::new()
    };
    if !app.allowed_groups.is_empty() && !groups.iter().any(|g| app.allowed_groups.contains(g)) {
        return Ok(Err(AppRefusal::Group));
    }
    // A request without a peer address (never over TCP) cannot show its network.
    let ip = client
        .ip
        .unwrap_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    // The user's policy rules hold at every application too, not only at sign-in.
    if let Err(r) = settings.access.check(ip, now) {
        return Ok(Err(rule_refusal(r)));
    }
    if !app.allowed_networks.is_empty() || !app.allowed_hours.is_empty() {
        // Checked when stored; a rule that no longer parses refuses rather than opens.
        let Ok(rules) =
            AccessRules::parse(&app.allowed_networks, &app.allowed_hours, &app.time_zone)
        else {
            return Ok(Err(AppRefusal::Network));
        };
        if let Err(r) = rules.check(ip, now) {
            return Ok(Err(rule_refusal(r)));
        }
    }
    if (app.require_certificate || settings.require_certificate)
        && !super::login_checks::device_registered(authn, user_id, client, now).await?
    {
        return Ok(Err(AppRefusal::DeviceNotRegistered));
    }
    Ok(Ok(groups))
}

/// Whether the device shows a valid, unrevoked certificate of the user (the sign-in's
/// own check), for the `amr` of an authorization.
pub async fn device_shows_certificate(
    authn: &Authenticator,
    user_id: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<bool, AuthError> {
    super::login_checks::device_registered(authn, user_id, client, now).await
}

/// Audits a refusal at an application, as the sign-in audits its refusals.
pub async fn audit_app_refusal(
    authn: &Authenticator,
    action: Action,
    user_id: &str,
    app: &str,
    client: &Client<'_>,
    refusal: AppRefusal,
    now: i64,
) {
    let reason = format!("{} (application {app})", refusal.reason());
    record(
        &authn.instance.store,
        AuditEvent {
            actor: user_id,
            source: client.source,
            action,
            target: app,
            outcome: Outcome::Failure,
            reason: &reason,
        },
        now,
    )
    .await;
}
