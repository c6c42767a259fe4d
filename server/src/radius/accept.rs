//! After a successful login decision: the first-login steps (a user on the initial
//! pattern, or owing a phrase or a token, finishes them on the web first: a RADIUS
//! client cannot show them), the NAS application's access rules (SPEC §6.3, "VPN
//! users must be in group vpn"), then what the Access-Accept carries: a Class the NAS
//! echoes in accounting (RFC 2865 §5.25) and the reply attributes of the user's
//! groups.

use passgrid_radius::Attribute;

use super::decide::{Asker, Decide};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{
        app_access::{audit_app_refusal, check_access_returning_groups},
        login::LoginOutcome,
        AuthError,
    },
    policy::AuthSettings,
    random::os_random,
};

/// The attributes of the Access-Accept, or `None` for an Access-Reject (audited).
pub async fn admit(
    decide: &Decide,
    asker: &Asker,
    settings: &AuthSettings,
    outcome: LoginOutcome,
) -> Result<Option<Vec<Attribute>>, AuthError> {
    let LoginOutcome::Success {
        user_id,
        must_change_pattern,
        must_enrol_token,
        must_set_phrase,
    } = outcome
    else {
        return Ok(None);
    };
    let unfinished = if must_change_pattern {
        Some("own pattern")
    } else if must_set_phrase {
        Some("additional phrase")
    } else if must_enrol_token {
        Some("token")
    } else {
        None
    };
    if let Some(step) = unfinished {
        let reason = format!("first sign-in not finished ({step}): finish it on the web");
        decide.refuse(asker, &reason).await;
        return Ok(None);
    }
    let authn = &decide.authn;
    let now = authn.instance.clock.now();
    let Some(nas) = decide.nas.nas(&asker.nas) else {
        decide.refuse(asker, "the RADIUS client was removed").await;
        return Ok(None);
    };
    let client = asker.client(&[]);
    let groups = match check_access_returning_groups(
        authn,
        &nas.application,
        settings,
        &user_id,
        &client,
        now,
    )
    .await?
    {
        Ok(groups) => groups,
        Err(refusal) => {
            audit_app_refusal(
                authn,
                Action::RadiusRefused,
                &user_id,
                &asker.nas,
                &client,
                refusal,
                now,
            )
            .await;
            return Ok(None);
        }
    };
    let mut id = [0u8; 8];
    os_random(&mut id)?;
    let class = format!("passgrid:{}", hex::encode(id));
    let mut attributes = vec![Attribute::class(class.as_bytes())];
    attributes.extend(decide.nas.replies_for(&groups));
    let reason = format!("class={class} groups={}", groups.join(","));
    record(
        &authn.instance.store,
        AuditEvent {
            actor: &user_id,
            source: &asker.source,
            action: Action::RadiusAccept,
            target: &asker.nas,
            outcome: Outcome::Success,
            reason: &reason,
        },
        now,
    )
    .await;
    Ok(Some(attributes))
}
