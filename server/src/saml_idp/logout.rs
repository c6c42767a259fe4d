//! Single Logout (SAML Profiles §4.4) through the browser. An SP's LogoutRequest
//! ends passgrid's session (and with it every OIDC and forward-auth session it
//! made); then, and after passgrid's own logout, every other SP the session signed
//! in to is sent a LogoutRequest in turn, each answering back here; the initiating
//! SP gets its LogoutResponse last (§4.4.3.2-§4.4.3.4).

use passgrid_saml::{
    encode_redirect, jiff, names, Binding, InboundMessage, LogoutRequest, LogoutResponse,
    MessageKind, NameId, SignaturePolicy, Status,
};

use super::{sign_in::audit_refusal, IdentityProvider, SamlIdpError, ServiceProvider, LOGOUT_SECS};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::Authenticator,
    random::{new_token, token_hash},
    sso::Provider,
    store::saml_requests::{SamlLogoutChain, SamlParticipant},
};

/// What the front end does next.
#[derive(Debug)]
pub enum LogoutStep {
    /// Send the browser here (an HTTP-Redirect message with its query signature).
    Redirect(String),
    /// POST `xml` to `action` (HTTP-POST binding, the message signed).
    Post {
        action: String,
        kind: MessageKind,
        xml: String,
        relay_state: Option<String>,
    },
    /// Keep the chain's handle (a cookie) and go on at the chain's next step.
    Continue { handle: String },
    /// Nothing left: the signed-out page.
    Done,
    /// Refused (audited): an error page, no session ended.
    Refused { reason: String },
}

fn stamp(now: i64) -> Result<jiff::Timestamp, SamlIdpError> {
    jiff::Timestamp::from_second(now).map_err(|_| SamlIdpError::Invalid("clock".into()))
}

/// The NameID as it was issued to `sp` (qualified for persistent and transient
/// identifiers, see `subject`), for a LogoutRequest the SP recognises.
fn issued_name_id(idp: &IdentityProvider, sp: &ServiceProvider, p: &SamlParticipant) -> NameId {
    let mut id = NameId::new(p.name_id.clone(), &p.name_id_format);
    if matches!(sp.row.name_id.as_str(), "persistent" | "transient") {
        id.name_qualifier = Some(idp.entity_id.clone());
        id.sp_name_qualifier = Some(sp.row.entity_id.clone());
    }
    id
}

/// Sends `xml` to an SLO endpoint of `sp`: HTTP-Redirect when it has one (the query
/// signed, Bindings §3.4.4.1), else HTTP-POST (the message signed).
async fn send(
    idp: &IdentityProvider,
    authn: &Authenticator,
    sp: &ServiceProvider,
    kind: MessageKind,
    build: impl Fn(&str, Option<&passgrid_saml::IdpSigningKey>) -> Result<String, SamlIdpError>,
    relay_state: Option<&str>,
) -> Result<Option<LogoutStep>, SamlIdpError> {
    let keys = idp.keys(&authn.instance).await?;
    let endpoint_of = |b: &str| {
        sp.metadata.slo_endpoint(b).map(|e| match kind {
            // Metadata §2.2.2: responses go to ResponseLocation when there is one.
            MessageKind::Response => e.response_location.clone().unwrap_or(e.location.clone()),
            MessageKind::Request => e.location.clone(),
        })
    };
    if let Some(to) = endpoint_of(names::BINDING_REDIRECT) {
        let xml = build(&to, None)?;
        let url = encode_redirect(&to, kind, &xml, relay_state, Some(&keys.active))?;
        return Ok(Some(LogoutStep::Redirect(url)));
    }
    if let Some(to) = endpoint_of(names::BINDING_POST) {
        let xml = build(&to, Some(&keys.active))?;
        return Ok(Some(LogoutStep::Post {
            action: to,
            kind,
            xml,
            relay_state: relay_state.map(str::to_string),
        }));
    }
    Ok(None)
}

/// Starts the chain for session `sid` after it has ended: a handle when some SP it
/// signed in to has a SingleLogoutService, else `None`.
pub async fn start_chain(
    authn: &Authenticator,
    idp: &IdentityProvider,
    chain: &SamlLogoutChain,
) -> Result<Option<String>, SamlIdpError> {
    let store = &authn.instance.store;
    let mut any = chain.reply_application.is_some();
    for p in store.saml_participants(&chain.sid).await? {
        if let Some(sp) = idp.sp_by_name(store, &p.application).await? {
            any |= sp
                .metadata
                .single_logout_services
                .iter()
                .any(|e| Binding::from_uri(&e.binding).is_some());
        }
    }
    if !any {
        return Ok(None);
    }
    let now = authn.instance.clock.now();
    let handle = new_token()?;
    store
        .insert_saml_logout(&token_hash(&handle), chain, now + LOGOUT_SECS, now)
        .await?;
    Ok(Some(handle.to_string()))
}

/// The chain's next step: a LogoutRequest to the next SP, or at the end the
/// LogoutResponse to the SP that asked.
pub async fn next_step(
    authn: &Authenticator,
    idp: &IdentityProvider,
    handle: &str,
    source: &str,
) -> Result<LogoutStep, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let handle_hash = token_hash(handle);
    let Some(chain) = store.saml_logout(&handle_hash, now).await? else {
        return Ok(LogoutStep::Done);
    };
    for p in store.saml_participants(&chain.sid).await? {
        if Some(&p.application) == chain.reply_application.as_ref() {
            continue;
        }
        // Each SP once, even if this step is repeated (a reload).
        if !store
            .saml_logged_out(&chain.sid, &p.application, now)
            .await?
        {
            continue;
        }
        let Some(sp) = idp.sp_by_name(store, &p.application).await? else {
            continue;
        };
        let request = LogoutRequest {
            id: passgrid_saml::new_id()?,
            issue_instant: stamp(now)?,
            destination: None,
            issuer: idp.entity_id.clone(),
            name_id: issued_name_id(idp, &sp, &p),
            session_indexes: vec![chain.sid.clone()],
            not_on_or_after: Some(stamp(now + LOGOUT_SECS)?),
            reason: Some("urn:oasis:names:tc:SAML:2.0:logout:user".into()),
        };
        let build = |to: &str, key: Option<&passgrid_saml::IdpSigningKey>| {
            let mut r = request.clone();
            r.destination = Some(to.to_string());
            Ok(r.to_xml(key)?)
        };
        if let Some(step) = send(idp, authn, &sp, MessageKind::Request, build, None).await? {
            record(
                store,
                AuditEvent {
                    actor: &chain.user_id,
                    source,
                    action: Action::SamlLogout,
                    target: &p.application,
                    outcome: Outcome::Success,
                    reason: "LogoutRequest sent to the SP",
                },
                now,
            )
            .await;
            return Ok(step);
        }
    }
    store.delete_saml_logout(&handle_hash).await?;
    let (Some(app), Some(request_id)) = (&chain.reply_application, &chain.reply_request_id) else {
        return Ok(LogoutStep::Done);
    };
    let Some(sp) = idp.sp_by_name(store, app).await? else {
        return Ok(LogoutStep::Done);
    };
    let response = LogoutResponse {
        id: passgrid_saml::new_id()?,
        in_response_to: Some(request_id.clone()),
        issue_instant: stamp(now)?,
        destination: None,
        issuer: idp.entity_id.clone(),
        status: Status::success(),
    };
    let build = |to: &str, key: Option<&passgrid_saml::IdpSigningKey>| {
        let mut r = response.clone();
        r.destination = Some(to.to_string());
        Ok(r.to_xml(key)?)
    };
    let relay = chain.reply_relay_state.as_deref();
    Ok(send(idp, authn, &sp, MessageKind::Response, build, relay)
        .await?
        .unwrap_or(LogoutStep::Done))
}

/// An SP's LogoutRequest (Profiles §4.4.3.1). It must be signed with the SP's key —
/// or, unsigned, come from the browser of the very session it names (the binding's
/// own assurance, §4.4.4.1) — before a session ends.
pub async fn take_logout_request(
    authn: &Authenticator,
    provider: &Provider,
    idp: &IdentityProvider,
    inbound: &InboundMessage,
    browser_sid: Option<&str>,
    source: &str,
) -> Result<LogoutStep, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let refuse = |target: String, reason: String| async move {
        audit_refusal(authn, "-", source, &target, &reason).await;
        Ok::<_, SamlIdpError>(LogoutStep::Refused { reason })
    };
    let issuer = match inbound.peek_issuer() {
        Ok(i) => i,
        Err(e) => return refuse("-".into(), format!("LogoutRequest: {e}")).await,
    };
    let Some(sp) = idp.sp_by_entity(store, &issuer).await? else {
        return refuse(issuer, "LogoutRequest from an unknown SP".into()).await;
    };
    let app = sp.row.application.clone();
    let policy = SignaturePolicy {
        certificates: &sp.metadata.signing_certificates,
        required: false,
        allow_sha1: false,
    };
    let verified = match inbound.logout_request(&policy) {
        Ok(v) => v,
        Err(e) => return refuse(app, format!("LogoutRequest: {e}")).await,
    };
    let req = verified.message;
    if req.issuer != sp.row.entity_id {
        return refuse(app, "LogoutRequest: Issuer changed".into()).await;
    }
    if let Err(e) = passgrid_saml::check_destination(req.destination.as_deref(), &idp.slo_url()) {
        return refuse(app, format!("LogoutRequest: {e}")).await;
    }
    let skew = jiff::SignedDuration::from_secs(super::SKEW_SECS);
    if let Err(e) = req.check_not_expired(stamp(now)?, skew) {
        return refuse(app, format!("LogoutRequest: {e}")).await;
    }
    let sessions = store.saml_sessions_of(&app, &req.name_id.value).await?;
    let session = sessions
        .into_iter()
        .find(|s| req.session_indexes.is_empty() || req.session_indexes.contains(&s.sid));
    let Some(session) = session else {
        // Nothing to end (logged out already): the SP still gets its answer.
        let chain = SamlLogoutChain {
            sid: String::new(),
            user_id: "-".into(),
            reply_application: Some(app),
            reply_request_id: Some(req.id),
            reply_relay_state: inbound.relay_state().map(str::to_string),
        };
        return chain_step(authn, idp, &chain).await;
    };
    if !verified.signature_verified && browser_sid != Some(session.sid.as_str()) {
        return refuse(
            app,
            "unsigned LogoutRequest for a session not of this browser".into(),
        )
        .await;
    }
    crate::sso::logout::end_sso_session_by_hash(authn, provider, &session.session_hash, source)
        .await
        .map_err(|e| SamlIdpError::Invalid(e.to_string()))?;
    store.saml_logged_out(&session.sid, &app, now).await?;
    record(
        store,
        AuditEvent {
            actor: &session.user_id,
            source,
            action: Action::SamlLogout,
            target: &app,
            outcome: Outcome::Success,
            reason: if verified.signature_verified {
                "signed LogoutRequest from the SP: passgrid session ended"
            } else {
                "LogoutRequest from the SP (this browser's session): passgrid session ended"
            },
        },
        now,
    )
    .await;
    let chain = SamlLogoutChain {
        sid: session.sid,
        user_id: session.user_id,
        reply_application: Some(app),
        reply_request_id: Some(req.id),
        reply_relay_state: inbound.relay_state().map(str::to_string),
    };
    chain_step(authn, idp, &chain).await
}

async fn chain_step(
    authn: &Authenticator,
    idp: &IdentityProvider,
    chain: &SamlLogoutChain,
) -> Result<LogoutStep, SamlIdpError> {
    Ok(match start_chain(authn, idp, chain).await? {
        Some(handle) => LogoutStep::Continue { handle },
        None => LogoutStep::Done,
    })
}

/// An SP's LogoutResponse to passgrid's LogoutRequest: audited; the chain goes on.
pub async fn take_logout_response(
    authn: &Authenticator,
    idp: &IdentityProvider,
    inbound: &InboundMessage,
    source: &str,
) -> Result<(), SamlIdpError> {
    let store = &authn.instance.store;
    let Ok(issuer) = inbound.peek_issuer() else {
        audit_refusal(authn, "-", source, "-", "LogoutResponse without an Issuer").await;
        return Ok(());
    };
    let Some(sp) = idp.sp_by_entity(store, &issuer).await? else {
        audit_refusal(
            authn,
            "-",
            source,
            &issuer,
            "LogoutResponse from an unknown SP",
        )
        .await;
        return Ok(());
    };
    let policy = SignaturePolicy {
        certificates: &sp.metadata.signing_certificates,
        required: false,
        allow_sha1: false,
    };
    let (outcome, reason) = match inbound.logout_response(&policy) {
        Ok(v) if v.message.status.is_success() => (
            Outcome::Success,
            "LogoutResponse: the SP logged out".to_string(),
        ),
        Ok(v) => (
            Outcome::Failure,
            format!("LogoutResponse: {:?}", v.message.status.code),
        ),
        Err(e) => (Outcome::Failure, format!("LogoutResponse: {e}")),
    };
    record(
        store,
        AuditEvent {
            actor: "-",
            source,
            action: Action::SamlLogout,
            target: &sp.row.application,
            outcome,
            reason: &reason,
        },
        authn.instance.clock.now(),
    )
    .await;
    Ok(())
}
