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
    pub cert_fingerprint: Option<&'a str>,
}

/// Issues a grid for `claimed_user`. Unknown and disabled users get a decoy that is
/// made exactly the same way and fails at verification (SPEC §1.9).
pub async fn start_login(
    state: &AppState,
    claimed_user: &str,
    client: &Client<'_>,
) -> Result<IssuedChallenge, OtpError> {
    let settings = &state.auth;
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
        state.instance.clock.now(),
    )
    .await
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
