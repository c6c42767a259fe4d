//! Start and finish a grid login, with the audit entry for every attempt.

use crate::{
    accounts::audit,
    otp::{
        challenge::{
            issue_challenge, verify_challenge, Binding, IssuedChallenge, Purpose, Verdict,
        },
        OtpError,
    },
    store::audit::AuditEvent,
    web::AppState,
};

/// Who is asking, as far as the transport knows.
pub struct Client<'a> {
    pub source: &'a str,
    pub flow_hash: &'a [u8],
    /// The verified client certificate of the connection, if any.
    pub cert_serial: Option<&'a str>,
    pub cert_fingerprint: Option<&'a str>,
}

/// What a login start gives the client.
pub enum Started {
    Grid(IssuedChallenge),
    /// The policy wants a certificate of this user and the device has none (SPEC
    /// §2.6): no grid at all.
    DeviceNotRegistered,
}

/// Whether the device holds a certificate that passgrid issued, that is unrevoked and
/// unexpired now — checked in the database on every request, so a revocation holds
/// from the next one on (SPEC §2.7) — and that belongs to `user`.
async fn device_registered(
    state: &AppState,
    user: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<bool, OtpError> {
    let (Some(serial), Some(fingerprint)) = (client.cert_serial, client.cert_fingerprint) else {
        return Ok(false);
    };
    let Some(record) = state.instance.store.client_certificate(serial).await? else {
        return Ok(false);
    };
    Ok(record.revoked_at.is_none()
        && record.not_after > now
        && record.fingerprint_sha256 == fingerprint
        && (record.user_id.as_deref() == Some(user)
            || record
                .shared_profile
                .as_deref()
                .is_some_and(|p| state.auth.shared_profile_allows(p, user))))
}

/// First login with auto-issue on (SPEC §5.2): a user who still has the initial pattern
/// and was never issued a certificate may sign in from a device without one, to
/// receive it. (Never issued, not merely none valid: a revoked certificate must not
/// reopen the way in.)
/// (This tells such users apart from others to whoever tries IDs without a
/// certificate; an organisation that turns auto-issue on accepts that.)
async fn first_login_exempt(state: &AppState, user: &str) -> Result<bool, OtpError> {
    if !state.auth.auto_issue_certificate {
        return Ok(false);
    }
    let initial = state
        .instance
        .store
        .pattern(user)
        .await?
        .is_some_and(|p| p.is_initial);
    Ok(initial
        && state
            .instance
            .store
            .client_certificates(Some(user))
            .await?
            .is_empty())
}

/// The device check of a certificate-gated login: the user's own certificate, or the
/// first-login exemption.
async fn device_allowed(
    state: &AppState,
    user: &str,
    client: &Client<'_>,
    now: i64,
) -> Result<bool, OtpError> {
    Ok(device_registered(state, user, client, now).await?
        || first_login_exempt(state, user).await?)
}

async fn audit_unregistered(state: &AppState, claimed_user: &str, client: &Client<'_>, now: i64) {
    let reason = match client.cert_serial {
        Some(serial) => format!("device not registered (certificate {serial})"),
        None => "device not registered (no certificate)".to_string(),
    };
    audit(
        &state.instance.store,
        AuditEvent {
            actor: claimed_user,
            source: client.source,
            action: "auth.device",
            target: claimed_user,
            outcome: "failure",
            reason: &reason,
        },
        now,
    )
    .await;
}

/// Issues a grid for `claimed_user`. Unknown and disabled users get a decoy that is
/// made exactly the same way and fails at verification (SPEC §1.9).
pub async fn start_login(
    state: &AppState,
    claimed_user: &str,
    client: &Client<'_>,
) -> Result<Started, OtpError> {
    let settings = &state.auth;
    let now = state.instance.clock.now();
    // The same answer whether or not the user exists: the check is on the device.
    if settings.require_certificate && !device_allowed(state, claimed_user, client, now).await? {
        audit_unregistered(state, claimed_user, client, now).await;
        return Ok(Started::DeviceNotRegistered);
    }
    issue_challenge(
        &state.instance.store,
        Purpose::Login,
        claimed_user,
        settings.shape,
        &Binding {
            flow_hash: client.flow_hash,
            cert_fingerprint: client.cert_fingerprint,
        },
        settings.challenge_ttl_secs,
        now,
    )
    .await
    .map(Started::Grid)
}

/// The result of a login attempt as the caller may tell it.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    Success {
        user_id: String,
        must_change_pattern: bool,
    },
    /// Wrong OTP — or unknown user, or no pattern: never said which.
    Failed,
    ChallengeExpired,
    ChallengeInvalid,
    /// The certificate went away or was revoked since the grid was given.
    DeviceNotRegistered,
}

pub async fn finish_login(
    state: &AppState,
    challenge_id: &str,
    otp: &str,
    client: &Client<'_>,
) -> Result<LoginOutcome, OtpError> {
    let now = state.instance.clock.now();
    let verdict = verify_challenge(
        &state.instance.store,
        &state.instance.master_key,
        challenge_id,
        otp.as_bytes(),
        &Binding {
            flow_hash: client.flow_hash,
            cert_fingerprint: client.cert_fingerprint,
        },
        &state.decoy_pattern,
        now,
    )
    .await?;
    let (actor, outcome, reason, result) = match verdict {
        // The challenge is bound to the certificate of its start; this catches a
        // revocation in between: no session for a device that is no longer allowed.
        Verdict::Accepted { user_id, .. }
            if state.auth.require_certificate
                && !device_allowed(state, &user_id, client, now).await? =>
        {
            audit_unregistered(state, &user_id, client, now).await;
            return Ok(LoginOutcome::DeviceNotRegistered);
        }
        Verdict::Accepted {
            user_id,
            initial_pattern,
        } => (
            user_id.clone(),
            "success",
            if initial_pattern {
                "initial pattern"
            } else {
                ""
            },
            LoginOutcome::Success {
                user_id,
                must_change_pattern: initial_pattern,
            },
        ),
        Verdict::Rejected { claimed_user } => (
            claimed_user,
            "failure",
            "otp rejected",
            LoginOutcome::Failed,
        ),
        Verdict::Expired { claimed_user } => (
            claimed_user,
            "failure",
            "challenge expired",
            LoginOutcome::ChallengeExpired,
        ),
        Verdict::Invalid => (
            String::new(),
            "failure",
            "unknown or used challenge",
            LoginOutcome::ChallengeInvalid,
        ),
    };
    audit(
        &state.instance.store,
        AuditEvent {
            actor: &actor,
            source: client.source,
            action: "auth.grid",
            target: &actor,
            outcome,
            reason,
        },
        now,
    )
    .await;
    Ok(result)
}
