//! Registering one's own pattern (SPEC §1.6): the drawn pattern is checked against the
//! rules and kept as a sealed draft; it is saved only after the user typed its OTP
//! correctly on two fresh grids.

use super::{AuthError, Authenticator};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    otp::{
        challenge::{
            issue_challenge, verify_draft_challenge, Binding, DraftVerdict, IssuedChallenge,
            Purpose,
        },
        patterns::{check_new_pattern, open_pattern, seal_pattern, store_pattern},
    },
};

/// How many fresh grids must confirm a new pattern.
pub const CONFIRMATIONS_NEEDED: i64 = 2;
/// How long a draft waits for its confirmations.
const DRAFT_LIFETIME_SECS: i64 = 15 * 60;

/// Where the registration stands after a confirmation attempt.
pub enum RegistrationStep {
    /// Confirm again on this new grid (`done` confirmations so far).
    Next {
        challenge: IssuedChallenge,
        done: i64,
    },
    /// Saved: the new pattern is the user's pattern now.
    Saved,
    /// Wrong OTP or a stale grid: the draft is dropped, draw again.
    Failed,
}

/// Checks and stores the draft, then issues the first confirmation grid.
pub async fn begin_registration(
    authn: &Authenticator,
    user_id: &str,
    cells: &[u16],
    binding: &Binding<'_>,
) -> Result<IssuedChallenge, AuthError> {
    let store = &authn.instance.store;
    let key = &authn.instance.master_key;
    let now = authn.instance.clock.now();
    // The pattern rules of the user's policy.
    let settings = authn.settings_for(user_id).await?;
    check_new_pattern(store, key, user_id, cells, settings.pattern_policy(), false).await?;
    let sealed = seal_pattern(key, user_id, cells)?;
    store
        .put_pattern_draft(user_id, &sealed, now + DRAFT_LIFETIME_SECS, now)
        .await?;
    issue_confirmation(authn, user_id, binding, now).await
}

/// A fresh grid for confirming the draft of `user_id`.
async fn issue_confirmation(
    authn: &Authenticator,
    user_id: &str,
    binding: &Binding<'_>,
    now: i64,
) -> Result<IssuedChallenge, AuthError> {
    let settings = &authn.auth;
    issue_challenge(
        &authn.instance.store,
        Purpose::Confirm,
        user_id,
        settings.shape,
        binding,
        settings.challenge_ttl_secs,
        now,
    )
    .await
    .map_err(AuthError::from)
}

pub async fn confirm_registration(
    authn: &Authenticator,
    user_id: &str,
    challenge_id: &str,
    otp: &str,
    binding: &Binding<'_>,
    source: &str,
) -> Result<RegistrationStep, AuthError> {
    let store = &authn.instance.store;
    let key = &authn.instance.master_key;
    let now = authn.instance.clock.now();
    let verdict = verify_draft_challenge(
        store,
        key,
        challenge_id,
        otp.as_bytes(),
        binding,
        user_id,
        now,
    )
    .await?;
    let step = match verdict {
        DraftVerdict::Confirmed { confirmations } if confirmations >= CONFIRMATIONS_NEEDED => {
            let Some((sealed, _)) = store.pattern_draft(user_id, now).await? else {
                return Ok(RegistrationStep::Failed);
            };
            let cells = open_pattern(key, user_id, &sealed)?;
            let settings = authn.settings_for(user_id).await?;
            store_pattern(
                store,
                key,
                user_id,
                &cells,
                settings.pattern_policy(),
                false,
                now,
            )
            .await?;
            store.delete_pattern_draft(user_id).await?;
            RegistrationStep::Saved
        }
        DraftVerdict::Confirmed { confirmations } => RegistrationStep::Next {
            challenge: issue_confirmation(authn, user_id, binding, now).await?,
            done: confirmations,
        },
        DraftVerdict::Rejected | DraftVerdict::Expired | DraftVerdict::Invalid => {
            store.delete_pattern_draft(user_id).await?;
            RegistrationStep::Failed
        }
    };
    let (outcome, reason) = match &step {
        RegistrationStep::Saved => (Outcome::Success, "saved"),
        RegistrationStep::Next { .. } => (Outcome::Success, "confirmed once"),
        RegistrationStep::Failed => (Outcome::Failure, "confirmation failed"),
    };
    record(
        store,
        AuditEvent {
            actor: user_id,
            source,
            action: Action::UserPatternRegister,
            target: user_id,
            outcome,
            reason,
        },
        now,
    )
    .await;
    Ok(step)
}
