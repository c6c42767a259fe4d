//! EAP-MSCHAPv2 (RFC 3579, RFC 2759) for IKEv2 VPNs and 802.1X. The peer proves it
//! knows the password without sending it, so the server tries the answers the
//! pending challenge would accept — the OTP of the portal's grid (`web-grid` users),
//! or the codes of the user's token (`method = totp`) — and then hands the one that
//! matched (or, if none did, an answer that never passes) to the same login decision
//! as every other sign-in: it consumes the challenge, counts the attempt toward the
//! lock-out and audits it. MPPE keys (RFC 3079) go in the final Access-Accept.
//!
//! The conversation between its four round trips is kept in this process's memory
//! (`passgrid_radius::EapMschapv2`): behind a load balancer, a NAS must keep sending
//! one conversation to one server (NAS devices send a conversation to one server
//! until it stops answering).
//!
//! The additional phrase cannot be part of it: its plaintext is never stored (argon2,
//! SPEC §1.3), so users with a phrase sign in by PAP or Access-Challenge.

use passgrid_radius::{EapStep, PendingResponse, Reply, Request};

use super::{
    accept,
    decide::{user_id_of, Decide, REJECT_MESSAGE},
    state,
};
use crate::{
    auth::{
        login::{finish_login, prepare_verify, start_login, Started},
        AuthError,
    },
    otp::{challenge::Decoys, expected::expected_answers, phrase::PhraseMode},
    policy::{LoginMethod, RadiusMode},
};

/// One Access-Request carrying EAP-Message.
pub async fn step(decide: &Decide, request: &Request) -> Result<Reply, AuthError> {
    match decide.eap.step(request) {
        EapStep::Reply(reply) => Ok(reply),
        EapStep::Verify(pending) => verify(decide, request, pending).await,
    }
}

async fn verify(
    decide: &Decide,
    request: &Request,
    pending: PendingResponse,
) -> Result<Reply, AuthError> {
    let Some(user) = user_id_of(pending.identity()) else {
        return Ok(decide.eap.reject(pending, REJECT_MESSAGE));
    };
    let asker = decide.asker(request, user);
    let authn = &decide.authn;
    let settings = authn.settings_for(&asker.user).await?;
    if settings.radius_mode == RadiusMode::Off {
        decide
            .refuse(&asker, "RADIUS sign-in is off for this user")
            .await;
        return Ok(decide.eap.reject(pending, REJECT_MESSAGE));
    }
    if settings.phrase.mode != PhraseMode::Off {
        decide
            .refuse(
                &asker,
                "EAP-MSCHAPv2 cannot carry the additional phrase (use PAP or Access-Challenge)",
            )
            .await;
        return Ok(decide.eap.reject(pending, REJECT_MESSAGE));
    }
    let now = authn.instance.clock.now();
    let store = &authn.instance.store;
    let web_grid = if settings.method == LoginMethod::Totp {
        None
    } else {
        store.radius_web_grid(&asker.user, now).await?
    };
    // The portal's grid when one is pending; otherwise a challenge drawn now, so the
    // start's checks hold and the attempt counts (only a code can pass it).
    let (challenge_id, flow, shown) = match web_grid {
        Some(id) => (id, state::web_grid_flow_hash(&asker.user), true),
        None => {
            let flow = state::one_shot_flow_hash()?;
            match start_login(authn, &asker.user, &asker.client(&flow)).await? {
                Started::Grid(issued) => (issued.id, flow, false),
                Started::DeviceNotRegistered | Started::Refused(_) => {
                    return Ok(decide.eap.reject(pending, REJECT_MESSAGE))
                }
            }
        }
    };
    let decoys = Decoys {
        pattern: &authn.guards.decoy_pattern,
        token: &authn.guards.decoy_token,
    };
    let mut answers = expected_answers(
        store,
        &authn.instance.master_key,
        &challenge_id,
        &flow,
        &asker.user,
        &decoys,
        now,
    )
    .await?;
    // A grid nobody was shown is never an answer.
    answers.retain(|a| shown || !a.from_grid);
    let passwords: Vec<_> = answers.iter().map(|a| a.password()).collect();
    let candidates: Vec<&[u8]> = passwords.iter().map(|p| p.as_bytes()).collect();
    let verified = pending.verify(&candidates);
    let chosen = verified
        .as_ref()
        .and_then(|v| answers.get(v.candidate_index()));
    let (otp, totp) = match chosen {
        Some(a) => (a.otp.as_str(), a.totp.as_ref().map(|t| t.as_str())),
        None => ("", None),
    };
    let outcome = finish_login(
        authn,
        &prepare_verify(authn, &challenge_id).await?,
        &challenge_id,
        otp,
        totp,
        &asker.client(&flow),
    )
    .await?;
    match (
        verified,
        accept::admit(decide, &asker, &settings, outcome).await?,
    ) {
        (Some(verified), Some(attributes)) => {
            Ok(decide.eap.accept(pending, verified, attributes, "Welcome"))
        }
        _ => Ok(decide.eap.reject(pending, REJECT_MESSAGE)),
    }
}
