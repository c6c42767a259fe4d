//! Lock-out (SPEC §6.1): N consecutive failed logins lock the login ID for a time, or
//! until an operator unlocks it. Counted per claimed ID, existing or not, so a locked
//! answer tells nothing about which IDs exist. The counters are in the database: every
//! server of a cluster sees the same count.

use super::Authenticator;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    policy::LockoutRule,
    store::{
        lockouts::{Claim, LOCKED_UNTIL_UNLOCKED},
        Store, StoreError,
    },
};

/// Whether a login ID may try now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// `had_failures`: a success must clear the count.
    Open { had_failures: bool },
    /// Locked until this time (`None`: until an operator unlocks).
    Locked { until: Option<i64> },
}

pub async fn lock_state(store: &Store, login_id: &str, now: i64) -> Result<LockState, StoreError> {
    Ok(state_of(store.login_failures(login_id).await?, now))
}

/// The lock state a failure count (read with a login's facts) stands for at `now`.
pub fn state_of(count: Option<crate::store::lockouts::FailureCount>, now: i64) -> LockState {
    match count {
        None => LockState::Open {
            had_failures: false,
        },
        Some(count) => match count.locked_until {
            Some(until) if until > now => LockState::Locked {
                until: (until != LOCKED_UNTIL_UNLOCKED).then_some(until),
            },
            _ => LockState::Open { had_failures: true },
        },
    }
}

/// What an attempt under `rule` takes from its ID's budget (none when lock-out is
/// off): counted before the answer is checked (see `store::lockouts::claim_statement`).
pub fn claim(rule: LockoutRule, now: i64) -> Option<Claim> {
    (rule.threshold > 0).then(|| Claim {
        threshold: i64::from(rule.threshold),
        lock_until: if rule.lock_secs == 0 {
            LOCKED_UNTIL_UNLOCKED
        } else {
            now.saturating_add(rule.lock_secs)
        },
    })
}

/// The failure that reached the threshold locked its ID (the lock was set when it was
/// counted): audited, and mailed by policy.
pub async fn report_lock(
    authn: &Authenticator,
    rule: LockoutRule,
    login_id: &str,
    source: &str,
    now: i64,
) {
    let reason = if rule.lock_secs == 0 {
        format!(
            "{} consecutive failures; locked until unlocked",
            rule.threshold
        )
    } else {
        format!(
            "{} consecutive failures; locked for {} s",
            rule.threshold, rule.lock_secs
        )
    };
    record(
        &authn.instance.store,
        AuditEvent {
            actor: login_id,
            source,
            action: Action::AuthLockout,
            target: login_id,
            outcome: Outcome::Success,
            reason: &reason,
        },
        now,
    )
    .await;
    if rule.notify {
        // In the background, lookups included: the failed login's answer must not wait
        // for a mail relay, nor take longer for an ID that exists.
        let (authn, login_id) = (authn.clone(), login_id.to_owned());
        tokio::spawn(async move { notify_locked(&authn, &login_id, &reason).await });
    }
}

/// Mails the user (when the ID is a user with a mail address) and every administrator
/// with one. Failures are logged, never raised: the lock stands either way.
async fn notify_locked(authn: &Authenticator, login_id: &str, reason: &str) {
    let Some(mailer) = authn.mailer.as_ref() else {
        return;
    };
    let store = &authn.instance.store;
    let user = match store.user(login_id).await {
        Ok(Some(user)) => user,
        // Unknown IDs are counted and locked too, but nobody is told about them.
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, "lock-out mail: reading the user failed");
            return;
        }
    };
    let mut recipients: Vec<(String, bool)> = Vec::new();
    if let Some(mail) = &user.email {
        recipients.push((mail.clone(), true));
    }
    match store.admin_emails().await {
        Ok(admins) => recipients.extend(admins.into_iter().map(|m| (m, false))),
        Err(err) => tracing::warn!(error = %err, "lock-out mail: reading administrators failed"),
    }
    for (to, is_user) in recipients {
        let body = crate::mail::lockout_body(login_id, reason, is_user, &authn.public_url);
        let subject = "passgrid: sign-in locked / サインインがロックされました";
        if let Err(err) = mailer.send(&to, subject, body).await {
            tracing::warn!(error = %err, "lock-out mail could not be sent");
        }
    }
}

/// Lifts a lock (an operator's action); returns whether anything was locked or counted.
pub async fn unlock(
    store: &Store,
    login_id: &str,
    actor: &str,
    source: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = store.clear_login_failures(login_id).await;
    let (outcome, reason) = match &result {
        Ok(true) => (Outcome::Success, "failures cleared"),
        Ok(false) => (Outcome::Success, "was not locked"),
        Err(_) => (Outcome::Failure, "database error"),
    };
    record(
        store,
        AuditEvent {
            actor,
            source,
            action: Action::UserUnlock,
            target: login_id,
            outcome,
            reason,
        },
        now,
    )
    .await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::scratch_store;

    #[tokio::test]
    async fn locked_until_the_time_then_open_with_the_count_to_clear() {
        let (_dir, store) = scratch_store().await;
        let t0 = 5_000;
        for _ in 0..2 {
            store
                .record_login_failure("bo", t0, 2, t0 + 900)
                .await
                .unwrap();
        }
        assert_eq!(
            lock_state(&store, "bo", t0 + 899).await.unwrap(),
            LockState::Locked {
                until: Some(t0 + 900)
            }
        );
        assert_eq!(
            lock_state(&store, "bo", t0 + 900).await.unwrap(),
            LockState::Open { had_failures: true }
        );
        for _ in 0..2 {
            store
                .record_login_failure("cy", t0, 2, LOCKED_UNTIL_UNLOCKED)
                .await
                .unwrap();
        }
        assert_eq!(
            lock_state(&store, "cy", t0 + 10 * 365 * 86_400)
                .await
                .unwrap(),
            LockState::Locked { until: None },
            "only an operator lifts it"
        );
        assert!(unlock(&store, "cy", "op", "local", t0).await.unwrap());
        assert_eq!(
            lock_state(&store, "cy", t0).await.unwrap(),
            LockState::Open {
                had_failures: false
            }
        );
    }
}
