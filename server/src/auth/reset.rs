//! Self-service reset (SPEC §9.3): "forgot my pattern" sends a one-time, expiring
//! link to the user's registered mail; following it (and pressing the button, so a
//! mail scanner's prefetch does not spend it) gives a new initial pattern, shown once,
//! and the user registers their own at the next sign-in. The request page answers
//! the same whether or not the ID exists, has a mail address, or mail is configured,
//! and the mail goes out in the background so timing does not tell either.

use zeroize::Zeroizing;

use super::{AuthError, Authenticator};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    otp::patterns::{generate_initial_pattern, open_pattern, store_pattern},
    random::{new_token, token_hash},
};

/// How long a mailed link works.
pub const LINK_SECS: i64 = 30 * 60;
/// How long after the reset its new pattern may be shown (once).
const REVEAL_SECS: i64 = 10 * 60;

/// Handles a request; never tells the caller whether anything was sent.
pub async fn request_reset(
    authn: &Authenticator,
    claimed_user: &str,
    source: &str,
    now: i64,
) -> Result<(), AuthError> {
    let store = &authn.instance.store;
    let user = store.user(claimed_user).await?;
    let (outcome, reason) = match (&user, authn.mailer.as_ref()) {
        (None, _) => (Outcome::Failure, "unknown user"),
        (Some(u), _) if u.status != "active" => (Outcome::Failure, "user not active"),
        (Some(u), _) if u.email.is_none() => (Outcome::Failure, "no mail address"),
        (Some(_), None) => (Outcome::Failure, "mail not configured"),
        (Some(_), Some(_)) => (Outcome::Success, "link mailed"),
    };
    record(
        store,
        AuditEvent {
            actor: claimed_user,
            source,
            action: Action::AuthResetRequest,
            target: claimed_user,
            outcome,
            reason,
        },
        now,
    )
    .await;
    match user {
        Some(user) if outcome == Outcome::Success => send_link(authn, &user, now).await,
        _ => Ok(()),
    }
}

/// Creates the link and mails it in the background (the caller checked that the
/// user is active, has a mail address and a relay is configured).
async fn send_link(
    authn: &Authenticator,
    user: &crate::store::users::User,
    now: i64,
) -> Result<(), AuthError> {
    let store = &authn.instance.store;
    let (Some(email), Some(mailer)) = (user.email.clone(), authn.mailer.clone()) else {
        return Ok(());
    };
    let token = new_token()?;
    store
        .create_reset_token(&user.id, &token_hash(&token), now + LINK_SECS, now)
        .await?;
    let link = Zeroizing::new(format!(
        "{}/login/reset?t={}",
        authn.public_url,
        token.as_str()
    ));
    let body = crate::mail::reset_body(&user.id, &link, LINK_SECS / 60);
    tokio::spawn(async move {
        if let Err(err) = mailer
            .send(
                &email,
                "passgrid: reset your pattern / パターンの再設定",
                body,
            )
            .await
        {
            tracing::warn!(error = %err, "the reset mail could not be sent");
        }
    });
    Ok(())
}

/// Uses a link: a new initial pattern for its user (who must then register their
/// own), the lock-out count cleared. `None` when the link is unknown, used or expired.
pub async fn perform_reset(
    authn: &Authenticator,
    token: &str,
    source: &str,
    now: i64,
) -> Result<Option<String>, AuthError> {
    let store = &authn.instance.store;
    let Some(user_id) = store.use_reset_token(&token_hash(token), now).await? else {
        return Ok(None);
    };
    let settings = authn.settings_for(&user_id).await?;
    let cells = generate_initial_pattern(settings.shape, &settings.rules)?;
    store_pattern(
        store,
        &authn.instance.master_key,
        &user_id,
        &cells,
        settings.pattern_policy(),
        true,
        now,
    )
    .await?;
    store.clear_login_failures(&user_id).await?;
    record(
        store,
        AuditEvent {
            actor: &user_id,
            source,
            action: Action::AuthReset,
            target: &user_id,
            outcome: Outcome::Success,
            reason: "new initial pattern by mailed link",
        },
        now,
    )
    .await;
    Ok(Some(user_id))
}

/// The new initial pattern of a reset link just used, shown once: (user, cells).
pub async fn reveal_reset_pattern(
    authn: &Authenticator,
    token: &str,
    now: i64,
) -> Result<Option<(String, Zeroizing<Vec<u16>>)>, AuthError> {
    let store = &authn.instance.store;
    let Some(user_id) = store
        .reveal_reset(&token_hash(token), now, REVEAL_SECS)
        .await?
    else {
        return Ok(None);
    };
    let Some(pattern) = store.pattern(&user_id).await?.filter(|p| p.is_initial) else {
        return Ok(None);
    };
    let cells = open_pattern(&authn.instance.master_key, &user_id, &pattern.sealed)?;
    Ok(Some((user_id, cells)))
}
