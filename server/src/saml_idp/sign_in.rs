//! The Web Browser SSO profile (SAML Profiles §4.1): an AuthnRequest taken by either
//! binding (§4.1.4.1), the sign-in when the SSO session cannot serve it, and the
//! signed Response by HTTP-POST to the ACS URL of the SP's metadata (§4.1.4.2,
//! §4.1.4.5); IdP-initiated sign-ins from the portal the same way without a request.
//! Every AuthnRequest, assertion and refusal is audited here, once.

use passgrid_saml::{check_destination, jiff, names, InboundMessage, SubStatusCode};

use super::{
    answer::{answer, error_response, Target},
    IdentityProvider, SamlIdpError, PENDING_SECS, REQUEST_MAX_AGE_SECS, SKEW_SECS,
};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{login::Client, Authenticator},
    random::{new_token, token_hash},
    sso::SsoSession,
    store::{applications::Application, saml_requests::SamlRequestRow, StoreError},
};

/// What the front end answers.
#[derive(Debug)]
pub enum SsoAnswer {
    /// A Response (an assertion, or an error status) to POST to `acs`, which is the
    /// SP's metadata's.
    Post {
        application: String,
        acs: String,
        xml: String,
        relay_state: Option<String>,
    },
    /// The user must sign in (again) first, then continue at this local path.
    SignIn { continue_to: String },
    /// Refused: passgrid's own error page, nothing sent to the SP. Audited.
    Refused { kind: Refusal, reason: String },
}

/// Why a request was refused, for the page's status and words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unreadable, unsigned where a signature is required, a bad signature, not for
    /// this IdP, an ACS URL not in the metadata: a request passgrid will not answer.
    BadRequest,
    /// No SP registered with the request's Issuer (or of that name).
    UnknownSp,
    /// Too old, or its ID was seen before.
    Stale,
    /// The user may not use this SP (groups, networks, hours, certificate), or
    /// lacks what its NameID needs.
    Denied,
}

pub(super) fn refused(kind: Refusal, reason: impl Into<String>) -> SsoAnswer {
    SsoAnswer::Refused {
        kind,
        reason: reason.into(),
    }
}

/// Audits a refusal (actor `-` when no user is known yet).
pub async fn audit_refusal(
    authn: &Authenticator,
    actor: &str,
    source: &str,
    target: &str,
    reason: &str,
) {
    let target: String = target.chars().take(128).collect();
    record(
        &authn.instance.store,
        AuditEvent {
            actor,
            source,
            action: Action::SamlRefused,
            target: &target,
            outcome: Outcome::Failure,
            reason,
        },
        authn.instance.clock.now(),
    )
    .await;
}

/// The local path a sign-in continues to for the waiting request `handle`.
fn continue_path(handle: &str) -> String {
    format!("/saml/continue/{handle}")
}

/// Takes an AuthnRequest (SP-initiated SSO). `session`: the browser's SSO session.
pub async fn take_authn_request(
    authn: &Authenticator,
    idp: &IdentityProvider,
    inbound: &InboundMessage,
    session: Option<&SsoSession>,
    client: &Client<'_>,
) -> Result<SsoAnswer, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let source = client.source;
    // The unverified Issuer only finds the SP whose metadata decides the rest.
    let issuer = match inbound.peek_issuer() {
        Ok(i) => i,
        Err(e) => {
            let reason = format!("AuthnRequest: {e}");
            audit_refusal(authn, "-", source, "-", &reason).await;
            return Ok(refused(Refusal::BadRequest, reason));
        }
    };
    let Some(sp) = idp.sp_by_entity(store, &issuer).await? else {
        let reason = "AuthnRequest from an unknown SP".to_string();
        audit_refusal(authn, "-", source, &issuer, &reason).await;
        return Ok(refused(Refusal::UnknownSp, reason));
    };
    let app_name = sp.row.application.clone();
    let deny = |kind, reason: String| {
        let app_name = app_name.clone();
        async move {
            audit_refusal(authn, "-", source, &app_name, &reason).await;
            Ok::<_, SamlIdpError>(refused(kind, reason))
        }
    };
    let req = match inbound.authn_request(&sp.signature_policy()) {
        Ok(v) => v.message,
        Err(e) => return deny(Refusal::BadRequest, format!("AuthnRequest: {e}")).await,
    };
    // The verified message must come from the SP whose key verified it.
    if req.issuer != sp.row.entity_id {
        return deny(Refusal::BadRequest, "AuthnRequest: Issuer changed".into()).await;
    }
    if let Err(e) = check_destination(req.destination.as_deref(), &idp.sso_url()) {
        return deny(Refusal::BadRequest, format!("AuthnRequest: {e}")).await;
    }
    let at = |s: i64| jiff::Timestamp::from_second(s).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    if let Err(e) = req.check_issue_instant(
        at(now),
        jiff::SignedDuration::from_secs(REQUEST_MAX_AGE_SECS),
        jiff::SignedDuration::from_secs(SKEW_SECS),
    ) {
        return deny(
            Refusal::Stale,
            format!("AuthnRequest {}: {e}", brief(&req.id)),
        )
        .await;
    }
    // Profiles §4.1.4.1: the ACS URL is the metadata's, whatever the request says.
    let acs = match sp.metadata.acs_for(&req) {
        Ok(a) => a.location.clone(),
        Err(e) => return deny(Refusal::BadRequest, format!("AuthnRequest: {e}")).await,
    };
    let relay_state = inbound.relay_state().map(str::to_string);
    record(
        store,
        AuditEvent {
            actor: "-",
            source,
            action: Action::SamlRequest,
            target: &sp.row.application,
            outcome: Outcome::Success,
            reason: &format!(
                "AuthnRequest {} by {}{}",
                brief(&req.id),
                match inbound.binding() {
                    passgrid_saml::Binding::Redirect => "HTTP-Redirect",
                    passgrid_saml::Binding::Post => "HTTP-POST",
                },
                if req.force_authn { ", ForceAuthn" } else { "" }
            ),
        },
        now,
    )
    .await;
    let app = store
        .application(&sp.row.application)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(sp.row.application.clone()))?;
    let handle = new_token()?;
    let row = SamlRequestRow {
        handle_hash: token_hash(&handle),
        application: sp.row.application.clone(),
        request_id: Some(req.id.clone()),
        acs_url: acs.clone(),
        relay_state: relay_state.clone(),
        force_authn: req.force_authn,
        name_id_policy: req.name_id_policy.as_ref().and_then(|p| p.format.clone()),
        stale_sid: session.filter(|_| req.force_authn).map(|s| s.sid.clone()),
        expires_at: now + PENDING_SECS,
        created_at: now,
    };
    // No second grid inside a live SSO session, unless the SP asks for a fresh
    // authentication (ForceAuthn, Core §3.4.1) or the application's rule does.
    let usable = match session {
        Some(s) if !req.force_authn && fresh_enough(&app, s, now) => {
            !on_initial_pattern(authn, &s.user_id).await?
        }
        _ => false,
    };
    if usable {
        let target = Target {
            row: &row,
            req: Some(&req),
            pending: false,
        };
        return answer(authn, idp, &sp, &app, session, client, target).await;
    }
    if req.is_passive {
        // Core §3.4.1: IsPassive and the user would have to interact.
        if let Some(a) = replay_refusal(
            authn,
            store.insert_saml_request(&row, None).await,
            &row,
            source,
        )
        .await?
        {
            return Ok(a);
        }
        store.close_saml_request(&row.handle_hash, now).await?;
        audit_refusal(
            authn,
            "-",
            source,
            &sp.row.application,
            "IsPassive and no usable session",
        )
        .await;
        return error_response(idp, authn, &sp, &row, SubStatusCode::NoPassive).await;
    }
    if let Some(a) = replay_refusal(
        authn,
        store.insert_saml_request(&row, None).await,
        &row,
        source,
    )
    .await?
    {
        return Ok(a);
    }
    Ok(SsoAnswer::SignIn {
        continue_to: continue_path(&handle),
    })
}

/// Continues a waiting request after the sign-in.
pub async fn continue_request(
    authn: &Authenticator,
    idp: &IdentityProvider,
    handle: &str,
    session: Option<&SsoSession>,
    client: &Client<'_>,
) -> Result<SsoAnswer, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let source = client.source;
    let handle_hash = token_hash(handle);
    let Some(row) = store.pending_saml_request(&handle_hash, now).await? else {
        let reason = "sign-in continued for a request that has expired or was answered";
        audit_refusal(authn, "-", source, "-", reason).await;
        return Ok(refused(Refusal::Stale, reason));
    };
    let Some(sp) = idp.sp_by_name(store, &row.application).await? else {
        audit_refusal(authn, "-", source, &row.application, "the SP was removed").await;
        return Ok(refused(Refusal::UnknownSp, "the SP was removed"));
    };
    let app = store
        .application(&row.application)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(row.application.clone()))?;
    let again = SsoAnswer::SignIn {
        continue_to: continue_path(handle),
    };
    let Some(s) = session else {
        return Ok(again);
    };
    // ForceAuthn: a sign-in made after the request arrived, in another session than
    // the one the browser had then.
    let stale = row.force_authn
        && (s.auth_time < row.created_at || row.stale_sid.as_deref() == Some(s.sid.as_str()));
    if stale || !fresh_enough(&app, s, now) {
        return Ok(again);
    }
    if on_initial_pattern(authn, &s.user_id).await? {
        return Ok(again);
    }
    let target = Target {
        row: &row,
        req: None,
        pending: true,
    };
    answer(authn, idp, &sp, &app, session, client, target).await
}

/// An IdP-initiated sign-in to application `name` (a tile of the portal), with the
/// RelayState the SP gets back (Profiles §4.1.5: an unsolicited Response).
pub async fn idp_initiated(
    authn: &Authenticator,
    idp: &IdentityProvider,
    name: &str,
    relay_state: Option<&str>,
    session: Option<&SsoSession>,
    client: &Client<'_>,
) -> Result<SsoAnswer, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let Some(sp) = idp.sp_by_name(store, name).await? else {
        audit_refusal(
            authn,
            "-",
            client.source,
            name,
            "IdP-initiated sign-in to an unknown SP",
        )
        .await;
        return Ok(refused(Refusal::UnknownSp, "no such SAML application"));
    };
    let app = store
        .application(name)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(name.into()))?;
    let mut continue_to = format!("/saml/start/{name}");
    if let Some(rs) = relay_state {
        continue_to.push_str("?RelayState=");
        continue_to
            .push_str(&url::form_urlencoded::byte_serialize(rs.as_bytes()).collect::<String>());
    }
    let Some(s) = session.filter(|s| fresh_enough(&app, s, now)) else {
        return Ok(SsoAnswer::SignIn { continue_to });
    };
    if on_initial_pattern(authn, &s.user_id).await? {
        return Ok(SsoAnswer::SignIn { continue_to });
    }
    let Some(acs) = sp
        .metadata
        .default_acs()
        .filter(|a| a.binding == names::BINDING_POST)
        .or_else(|| {
            sp.metadata
                .assertion_consumer_services
                .iter()
                .find(|a| a.binding == names::BINDING_POST)
        })
    else {
        audit_refusal(
            authn,
            &s.user_id,
            client.source,
            name,
            "no HTTP-POST ACS in the metadata",
        )
        .await;
        return Ok(refused(Refusal::BadRequest, "the SP has no HTTP-POST ACS"));
    };
    let handle = new_token()?;
    let row = SamlRequestRow {
        handle_hash: token_hash(&handle),
        application: name.to_string(),
        request_id: None,
        acs_url: acs.location.clone(),
        relay_state: relay_state.map(str::to_string),
        force_authn: false,
        name_id_policy: None,
        stale_sid: None,
        expires_at: now + PENDING_SECS,
        created_at: now,
    };
    let target = Target {
        row: &row,
        req: None,
        pending: false,
    };
    answer(authn, idp, &sp, &app, session, client, target).await
}

/// Whether the session's last proof is recent enough for the application's rule.
pub(super) fn fresh_enough(app: &Application, s: &SsoSession, now: i64) -> bool {
    app.max_auth_age_secs
        .is_none_or(|age| s.auth_time >= now - age)
}

/// A user still on the initial pattern goes through the first-login steps (a new
/// pattern) before any application sees them.
pub(super) async fn on_initial_pattern(
    authn: &Authenticator,
    user_id: &str,
) -> Result<bool, SamlIdpError> {
    Ok(authn
        .instance
        .store
        .pattern(user_id)
        .await?
        .is_some_and(|p| p.is_initial))
}

/// A request's ID shortened for the audit log (it is the SP's, any text).
pub(super) fn brief(id: &str) -> String {
    id.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// A replayed request ID is refused; other store errors pass through.
pub(super) async fn replay_refusal(
    authn: &Authenticator,
    inserted: Result<(), StoreError>,
    row: &SamlRequestRow,
    source: &str,
) -> Result<Option<SsoAnswer>, SamlIdpError> {
    match inserted {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict) => {
            let reason = format!(
                "AuthnRequest {} replayed (its ID was seen before)",
                brief(row.request_id.as_deref().unwrap_or("-"))
            );
            audit_refusal(authn, "-", source, &row.application, &reason).await;
            Ok(Some(refused(Refusal::Stale, reason)))
        }
        Err(e) => Err(e.into()),
    }
}
