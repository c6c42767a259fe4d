//! Start and finish a grid login, with the audit entry for every attempt.

pub use super::login_checks::audit_refusal_summaries;
use super::{
    lockout,
    login_checks::{
        access_refusal, audit_refusal, audit_unregistered, device_allowed, rate_refusal,
        start_refusal,
    },
    AuthError, Authenticator,
};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    otp::{
        challenge::{
            check_login_answer, issue_challenge, login_verdict, open_to, Answer, Binding, Decoys,
            IssuedChallenge, Purpose, Verdict,
        },
        phrase::PhraseMode,
    },
    policy::{AuthSettings, LoginMethod},
    random::{new_token, token_hash},
    store::{login_facts::LoginFacts, login_writes::SuccessRows, sessions::SessionRow},
};

/// Who is asking, as far as the transport knows.
pub struct Client<'a> {
    pub source: &'a str,
    /// The peer address (`source` is its text form, kept for the audit log).
    pub ip: Option<std::net::IpAddr>,
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
    /// Refused before any grid was drawn or OTP checked.
    Refused(Refusal),
}

/// Why a login is refused before its OTP counts. None of these counts toward
/// lock-out, and each is audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Locked after consecutive failures, until then (`None`: until an operator
    /// unlocks).
    Locked { until: Option<i64> },
    /// Too many starts from this address or for this ID (SPEC §6.2).
    RateLimited { retry_after: u64 },
    /// Not from an allowed network (SPEC §6.3).
    Network,
    /// Not at an allowed time (SPEC §6.3).
    Time,
    /// Login protect is on and no window is open (SPEC §1.10).
    LoginProtect,
}

impl Refusal {
    /// The stable code (JSON `error`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Locked { .. } => "account_locked",
            Refusal::RateLimited { .. } => "rate_limited",
            Refusal::Network => "network_not_allowed",
            Refusal::Time => "time_not_allowed",
            Refusal::LoginProtect => "login_protect",
        }
    }

    /// Seconds until trying again can help, when known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The audit reason.
    pub(super) fn reason(&self) -> String {
        match self {
            Refusal::Locked { until: Some(t) } => format!("locked until {t}"),
            Refusal::Locked { until: None } => "locked until unlocked".into(),
            Refusal::RateLimited { retry_after } => {
                format!("rate limited (retry after {retry_after} s)")
            }
            Refusal::Network => "network not allowed".into(),
            Refusal::Time => "outside the allowed hours".into(),
            Refusal::LoginProtect => "login protect: no window open".into(),
        }
    }
}

/// What the policy asks for: the same for every ID under it, known or not, holding a
/// token or not (a user without one answers with the grid; see `verify_challenge`).
fn login_purpose(settings: &AuthSettings) -> Purpose {
    match settings.method {
        LoginMethod::Grid => Purpose::Login,
        LoginMethod::Totp => Purpose::LoginTotp,
        LoginMethod::Both => Purpose::LoginBoth,
    }
}

/// What a verify knows before it consumes the grid: the facts of the ID the grid was
/// drawn for (one statement) and that ID's settings (its policy, from memory).
pub struct Verification {
    pub settings: Arc<AuthSettings>,
    facts: LoginFacts,
}

/// Reads what the verify of `challenge_id` needs, once; unknown challenges and IDs
/// get the default policy, by the same statement.
pub async fn prepare_verify(
    authn: &Authenticator,
    challenge_id: &str,
) -> Result<Verification, AuthError> {
    let facts = authn
        .instance
        .store
        .login_facts_of_challenge(challenge_id)
        .await?;
    let settings = authn.settings_of(&facts).await?;
    Ok(Verification { settings, facts })
}

/// The settings of the user a login challenge was issued for: the configuration with
/// that user's effective policy (the default one for an unknown challenge or user).
pub async fn settings_for_challenge(
    authn: &Authenticator,
    challenge_id: &str,
) -> Result<AuthSettings, AuthError> {
    Ok((*prepare_verify(authn, challenge_id).await?.settings).clone())
}

/// Issues a grid for `claimed_user`. Unknown and disabled users get a decoy that is
/// made exactly the same way and fails at verification (SPEC §1.9).
pub async fn start_login(
    authn: &Authenticator,
    claimed_user: &str,
    client: &Client<'_>,
) -> Result<Started, AuthError> {
    let now = authn.instance.clock.now();
    if let Some(refusal) = rate_refusal(authn, claimed_user, client) {
        audit_refusal(authn, claimed_user, client, &refusal, now).await;
        return Ok(Started::Refused(refusal));
    }
    // One statement, the same for unknown IDs (they get the default policy, like a
    // known user without a group policy: SPEC §1.9); the policy comes from memory.
    let facts = authn.instance.store.login_facts(claimed_user).await?;
    let settings = &*authn.settings_of(&facts).await?;
    if let Some(refusal) = start_refusal(authn, settings, &facts, claimed_user, client, now).await?
    {
        audit_refusal(authn, claimed_user, client, &refusal, now).await;
        return Ok(Started::Refused(refusal));
    }
    // The check is on the device. With a group policy that requires certificates,
    // "not registered" for an ID that would get a grid under the default tells that
    // the ID is in such a group: SPEC §1.9 and §2.6 accept this one exception.
    if settings.require_certificate
        && !device_allowed(authn, settings, claimed_user, client, now).await?
    {
        audit_unregistered(authn, claimed_user, client, now).await;
        return Ok(Started::DeviceNotRegistered);
    }
    let purpose = login_purpose(settings);
    issue_challenge(
        &authn.instance.store,
        purpose,
        claimed_user,
        // Installation-wide (see policy.rs): patterns are cells of this grid.
        authn.auth.shape,
        &Binding {
            flow_hash: client.flow_hash,
            cert_fingerprint: client.cert_fingerprint,
        },
        authn.auth.challenge_ttl_secs,
        now,
    )
    .await
    .map(Started::Grid)
    .map_err(AuthError::from)
}

/// The result of a login attempt as the caller may tell it.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    Success {
        user_id: String,
        must_change_pattern: bool,
        /// The policy wants a TOTP token and the user has none yet.
        must_enrol_token: bool,
        /// The policy wants an additional phrase and the user has set none yet.
        must_set_phrase: bool,
    },
    /// Wrong OTP — or unknown user, or no pattern: never said which.
    Failed,
    ChallengeExpired,
    ChallengeInvalid,
    /// The certificate went away or was revoked since the grid was given.
    DeviceNotRegistered,
    /// Refused whatever the OTP (e.g. locked meanwhile); not counted as a failure.
    Refused(Refusal),
}

/// What a front end that keeps sessions wants made on a success, in the same group
/// commit as the success's audit entry (one transaction instead of three).
pub struct SessionWanted<'a> {
    /// The session the browser had: ended (a new token at every sign-in, no fixation).
    pub replaces: Option<&'a str>,
}

/// Verifies a login (see [`finish_login_with_session`]) for a front end that keeps no
/// session (the API for programs that only verify, RADIUS).
pub async fn finish_login(
    authn: &Authenticator,
    verification: &Verification,
    challenge_id: &str,
    otp: &str,
    totp: Option<&str>,
    client: &Client<'_>,
) -> Result<LoginOutcome, AuthError> {
    finish_login_with_session(authn, verification, challenge_id, otp, totp, client, None)
        .await
        .map(|(outcome, _)| outcome)
}

/// Verifies a login and, on a success with `session`, makes the session (bound to the
/// client's certificate) and returns its cookie token. `verification` is what
/// [`prepare_verify`] read for the challenge (the caller needs its settings too).
///
/// The answer is checked first, against the challenge as read; then one atomic step
/// consumes the grid, counts the attempt toward the ID's lock-out and — for a right
/// answer within the budget — clears the count and writes the session and the audit
/// entry. N answers at once take N places of the budget and none succeeds past it
/// (SPEC §6.1), and a success costs one transaction.
pub async fn finish_login_with_session(
    authn: &Authenticator,
    verification: &Verification,
    challenge_id: &str,
    otp: &str,
    totp: Option<&str>,
    client: &Client<'_>,
    session: Option<SessionWanted<'_>>,
) -> Result<(LoginOutcome, Option<Zeroizing<String>>), AuthError> {
    let settings = &*verification.settings;
    let facts = &verification.facts;
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    // Held until the grid is settled.
    let Some(_verifying) = authn.guards.verifying.enter(challenge_id) else {
        let event = login_audit("", client, Outcome::Failure, UNKNOWN_OR_USED);
        record(store, event, now).await;
        return Ok((LoginOutcome::ChallengeInvalid, None));
    };
    let claim = lockout::claim(settings.lockout, now);
    let binding = Binding {
        flow_hash: client.flow_hash,
        cert_fingerprint: client.cert_fingerprint,
    };
    // Rules that may have changed since the grid was given (the network, the hour)
    // win over the answer, right or wrong: it is not even checked.
    let refusal = access_refusal(settings, client, now);
    let claimed = facts.login_id.as_deref().unwrap_or_default();
    let open = facts
        .challenge
        .as_ref()
        .filter(|c| refusal.is_none() && open_to(c, &binding, now));
    let checked = match open {
        Some(challenge) => {
            check_login_answer(
                store,
                &authn.instance.master_key,
                claimed,
                challenge,
                &Answer {
                    otp: otp.as_bytes(),
                    totp,
                    phrase: Some((&authn.guards.phrase_hasher, settings.phrase)),
                },
                &Decoys {
                    pattern: &authn.guards.decoy_pattern,
                    token: &authn.guards.decoy_token,
                },
                facts.subject.as_ref(),
                now,
            )
            .await?
        }
        None => None,
    };
    // The challenge is bound to the certificate of its start; this catches a
    // revocation in between. Asked whatever the answer, so a right one takes no longer.
    let device_ok = match &checked {
        Some(_) if settings.require_certificate => {
            device_allowed(authn, settings, claimed, client, now).await?
        }
        _ => true,
    };
    let right = checked.as_ref().is_some_and(|c| c.right);
    let succeeds = right && device_ok;
    let token = match (&session, succeeds) {
        (Some(_), true) => Some(new_token()?),
        _ => None,
    };
    let on_success = succeeds.then(|| {
        let initial = checked.as_ref().is_some_and(|c| c.initial_pattern);
        SuccessRows::new(
            token.as_ref().map(|token| SessionRow {
                id_hash: token_hash(token),
                user_id: claimed.to_owned(),
                created_at: now,
                idle_expires_at: now + settings.session_idle_secs,
                absolute_expires_at: now + settings.session_absolute_secs,
                cert_fingerprint: client.cert_fingerprint.map(str::to_owned),
            }),
            &login_audit(claimed, client, Outcome::Success, success_reason(initial)).as_insert(),
            now,
        )
    });
    let settled = store
        .settle_login(
            challenge_id,
            client.flow_hash,
            client.cert_fingerprint,
            claim,
            on_success,
            now,
        )
        .await?;
    let verdict = login_verdict(settled, claim, checked.as_ref(), now);
    if let (Some(refusal), Verdict::Accepted { .. } | Verdict::Rejected { .. }) =
        (refusal, &verdict)
    {
        audit_refusal(authn, claimed, client, &refusal, now).await;
        return Ok((LoginOutcome::Refused(refusal), None));
    }
    let (actor, reason, result) = match verdict {
        Verdict::Locked {
            claimed_user,
            until,
        } => {
            let refusal = Refusal::Locked { until };
            audit_refusal(authn, &claimed_user, client, &refusal, now).await;
            return Ok((LoginOutcome::Refused(refusal), None));
        }
        Verdict::Rejected { claimed_user, .. } if right && !device_ok => {
            audit_unregistered(authn, &claimed_user, client, now).await;
            return Ok((LoginOutcome::DeviceNotRegistered, None));
        }
        Verdict::Accepted {
            user_id,
            initial_pattern,
        } => {
            // The success's audit entry, cleared count and session are written.
            let must_enrol_token =
                settings.method != LoginMethod::Grid && store.user_token(&user_id).await?.is_none();
            let must_set_phrase = settings.phrase.mode != PhraseMode::Off
                && store.user_phrase(&user_id).await?.is_none();
            if let Some(old) = session.and_then(|s| s.replaces) {
                super::session::end_session(store, old).await?;
            }
            // One window, one sign-in.
            if settings.login_protect {
                store.close_login_window(&user_id).await?;
            }
            let outcome = LoginOutcome::Success {
                user_id,
                must_change_pattern: initial_pattern,
                must_enrol_token,
                must_set_phrase,
            };
            return Ok((outcome, token));
        }
        Verdict::Rejected {
            claimed_user,
            locked_now,
        } => {
            if locked_now {
                lockout::report_lock(authn, settings.lockout, &claimed_user, client.source, now)
                    .await;
            }
            (claimed_user, "otp rejected", LoginOutcome::Failed)
        }
        Verdict::Expired { claimed_user } => (
            claimed_user,
            "challenge expired",
            LoginOutcome::ChallengeExpired,
        ),
        Verdict::Invalid => (
            String::new(),
            UNKNOWN_OR_USED,
            LoginOutcome::ChallengeInvalid,
        ),
    };
    let event = login_audit(&actor, client, Outcome::Failure, reason);
    record(store, event, now).await;
    Ok((result, None))
}

/// The audit reason of a verify that found no open challenge of this client.
const UNKNOWN_OR_USED: &str = "unknown or used challenge";

fn success_reason(initial_pattern: bool) -> &'static str {
    if initial_pattern {
        "initial pattern"
    } else {
        ""
    }
}

/// The audit entry of a login attempt by `actor`.
fn login_audit<'a>(
    actor: &'a str,
    client: &Client<'a>,
    outcome: Outcome,
    reason: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        actor,
        source: client.source,
        action: Action::AuthLogin,
        target: actor,
        outcome,
        reason,
    }
}
