//! The answer to an AuthnRequest (or an IdP-initiated sign-in) for a signed-in
//! user: access rules, NameID, the request recorded as answered once, and the
//! signed (optionally encrypted) Response — or a SAML error Response.

use passgrid_saml::{
    build_error_response, build_response, jiff, names, AssertionContent, AuthnRequest,
    ContentCipher, Encryption, ResponseOptions, SignParts, Status, StatusCode, SubStatusCode,
};

use super::{
    sign_in::{audit_refusal, brief, refused, replay_refusal, Refusal, SsoAnswer},
    subject::{policy_allows, subject_for, SubjectRefusal},
    IdentityProvider, SamlIdpError, ServiceProvider, ASSERTION_SECS, SKEW_SECS,
};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{
        app_access::{audit_app_refusal, check_application_access, device_shows_certificate},
        login::Client,
        Authenticator,
    },
    sso::SsoSession,
    store::{
        applications::Application,
        saml_requests::{SamlAnswer, SamlRequestRow},
        StoreError,
    },
};

/// The request being answered.
pub(super) struct Target<'a> {
    pub(super) row: &'a SamlRequestRow,
    /// The AuthnRequest itself when answered at once (its RequestedAuthnContext).
    pub(super) req: Option<&'a AuthnRequest>,
    /// Stored and waiting (answered by an update), or new (inserted answered).
    pub(super) pending: bool,
}

/// The AuthnContextClassRef (SAML Authn Context §3.4): a device certificate of the
/// user makes it TLSClient, the grid (an OTP over TLS) alone PasswordProtectedTransport.
/// A RequestedAuthnContext is met when it names that class, PasswordProtectedTransport
/// (which the grid more than meets) or unspecified; else `None` (NoAuthnContext).
pub(super) fn authn_context(with_cert: bool, req: Option<&AuthnRequest>) -> Option<String> {
    use names::authn_context::{PASSWORD_PROTECTED_TRANSPORT as PPT, TLS_CLIENT, UNSPECIFIED};
    let ours = if with_cert { TLS_CLIENT } else { PPT };
    let Some(r) = req.and_then(|r| r.requested_authn_context.as_ref()) else {
        return Some(ours.to_string());
    };
    if r.class_refs.is_empty() {
        return Some(ours.to_string());
    }
    r.class_refs
        .iter()
        .find(|c| *c == ours || *c == PPT || *c == UNSPECIFIED)
        .cloned()
}

/// Decides and builds the answer for a signed-in user: access rules, NameID,
/// the request recorded as answered (once), the signed Response.
pub(super) async fn answer(
    authn: &Authenticator,
    idp: &IdentityProvider,
    sp: &ServiceProvider,
    app: &Application,
    session: Option<&SsoSession>,
    client: &Client<'_>,
    target: Target<'_>,
) -> Result<SsoAnswer, SamlIdpError> {
    let store = &authn.instance.store;
    let now = authn.instance.clock.now();
    let Some(session) = session else {
        return Err(SamlIdpError::Invalid("no session".into()));
    };
    let user_id = &session.user_id;
    let row = target.row;
    // Closes the request without an answer: stored when new, so its ID stays spent.
    let close = || async {
        if target.pending {
            store.close_saml_request(&row.handle_hash, now).await
        } else {
            store.insert_saml_request(row, None).await?;
            store.close_saml_request(&row.handle_hash, now).await
        }
    };
    if let Err(refusal) = check_application_access(authn, app, user_id, client, now).await? {
        close().await.or_else(ignore_conflict)?;
        audit_app_refusal(
            authn,
            Action::SamlRefused,
            user_id,
            &app.name,
            client,
            refusal,
            now,
        )
        .await;
        return Ok(refused(Refusal::Denied, refusal.reason()));
    }
    let Some(user) = store.user(user_id).await? else {
        close().await.or_else(ignore_conflict)?;
        return Ok(refused(Refusal::Denied, "user not active"));
    };
    if let Err(r) = policy_allows(sp, row.name_id_policy.as_deref()) {
        close().await.or_else(ignore_conflict)?;
        audit_refusal(authn, user_id, client.source, &app.name, &r.reason()).await;
        return error_response(idp, authn, sp, row, SubStatusCode::InvalidNameIdPolicy).await;
    }
    let with_cert = client.cert_serial.is_some()
        && device_shows_certificate(authn, user_id, client, now).await?;
    let Some(class_ref) = authn_context(with_cert, target.req) else {
        close().await.or_else(ignore_conflict)?;
        audit_refusal(
            authn,
            user_id,
            client.source,
            &app.name,
            "RequestedAuthnContext cannot be met",
        )
        .await;
        return error_response(idp, authn, sp, row, SubStatusCode::NoAuthnContext).await;
    };
    let subject = match subject_for(store, &idp.entity_id, sp, &user, now).await? {
        Ok(s) => s,
        Err(r @ SubjectRefusal::MissingValue(_)) => {
            close().await.or_else(ignore_conflict)?;
            audit_refusal(authn, user_id, client.source, &app.name, &r.reason()).await;
            return Ok(refused(Refusal::Denied, r.reason()));
        }
        Err(r) => {
            close().await.or_else(ignore_conflict)?;
            audit_refusal(authn, user_id, client.source, &app.name, &r.reason()).await;
            return error_response(idp, authn, sp, row, SubStatusCode::InvalidNameIdPolicy).await;
        }
    };
    let record_answer = SamlAnswer {
        sid: session.sid.clone(),
        session_hash: session.id_hash.clone(),
        user_id: user_id.clone(),
        name_id: subject.name_id.value.clone(),
        name_id_format: subject.name_id.format.clone().unwrap_or_default(),
        at: now,
    };
    // One request, one answer: the claim (or the insert of a new request, whose ID
    // is unique per SP) decides before anything is signed.
    if target.pending {
        if !store
            .answer_saml_request(&row.handle_hash, &record_answer)
            .await?
        {
            let reason = "the request was answered already";
            audit_refusal(authn, user_id, client.source, &app.name, reason).await;
            return Ok(refused(Refusal::Stale, reason));
        }
    } else if let Some(a) = replay_refusal(
        authn,
        store.insert_saml_request(row, Some(&record_answer)).await,
        row,
        client.source,
    )
    .await?
    {
        return Ok(a);
    }
    let keys = idp.keys(&authn.instance).await?;
    let content = AssertionContent {
        idp_entity_id: idp.entity_id.clone(),
        audience: sp.row.entity_id.clone(),
        recipient: row.acs_url.clone(),
        in_response_to: row.request_id.clone(),
        name_id: subject.name_id,
        session_index: session.sid.clone(),
        authn_instant: jiff::Timestamp::from_second(session.auth_time)
            .map_err(|_| SamlIdpError::Invalid("session time".into()))?,
        authn_context_class_ref: class_ref.clone(),
        session_not_on_or_after: None,
        attributes: subject.attributes,
    };
    let encryption = match sp.row.encrypt.as_str() {
        "off" => None,
        method => sp
            .metadata
            .encryption_certificates
            .first()
            .map(|c| Encryption {
                certificate: c,
                method: if method == "aes128-cbc" {
                    ContentCipher::Aes128Cbc
                } else {
                    ContentCipher::Aes256Gcm
                },
            }),
    };
    let options = ResponseOptions {
        now: jiff::Timestamp::from_second(now)
            .map_err(|_| SamlIdpError::Invalid("clock".into()))?,
        lifetime: jiff::SignedDuration::from_secs(ASSERTION_SECS),
        not_before_skew: jiff::SignedDuration::from_secs(SKEW_SECS),
        sign: match sp.row.sign.as_str() {
            "response" => SignParts::Response,
            "both" => SignParts::Both,
            _ => SignParts::Assertion,
        },
        encryption,
    };
    let built = build_response(&content, &options, &keys.active)?;
    let reason = format!(
        "{} {}{}",
        row.request_id
            .as_deref()
            .map(|id| format!("in response to {}", brief(id)))
            .unwrap_or_else(|| "IdP-initiated".into()),
        class_ref.rsplit(':').next().unwrap_or_default(),
        if options.encryption.is_some() {
            ", encrypted"
        } else {
            ""
        }
    );
    record(
        store,
        AuditEvent {
            actor: user_id,
            source: client.source,
            action: Action::SamlAssertion,
            target: &app.name,
            outcome: Outcome::Success,
            reason: &reason,
        },
        now,
    )
    .await;
    Ok(SsoAnswer::Post {
        application: app.name.clone(),
        acs: row.acs_url.clone(),
        xml: built.xml,
        relay_state: row.relay_state.clone(),
    })
}

/// A new request's insert may meet its own replay; the refusal is what matters.
pub(super) fn ignore_conflict(e: StoreError) -> Result<(), StoreError> {
    match e {
        StoreError::Conflict => Ok(()),
        other => Err(other),
    }
}

/// An error Response (no assertion) to the request's ACS (Core §3.2.2.2), signed.
pub(super) async fn error_response(
    idp: &IdentityProvider,
    authn: &Authenticator,
    sp: &ServiceProvider,
    row: &SamlRequestRow,
    sub: SubStatusCode,
) -> Result<SsoAnswer, SamlIdpError> {
    let keys = idp.keys(&authn.instance).await?;
    let now = jiff::Timestamp::from_second(authn.instance.clock.now())
        .map_err(|_| SamlIdpError::Invalid("clock".into()))?;
    let code = if sub == SubStatusCode::NoPassive {
        StatusCode::Responder
    } else {
        StatusCode::Requester
    };
    let built = build_error_response(
        &idp.entity_id,
        &row.acs_url,
        row.request_id.as_deref(),
        &Status::error(code, sub),
        now,
        Some(&keys.active),
    )?;
    Ok(SsoAnswer::Post {
        application: sp.row.application.clone(),
        acs: row.acs_url.clone(),
        xml: built.xml,
        relay_state: row.relay_state.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use passgrid_saml::RequestedAuthnContext;

    fn request(classes: &[&str]) -> AuthnRequest {
        AuthnRequest {
            id: "_r".into(),
            issue_instant: jiff::Timestamp::UNIX_EPOCH,
            destination: None,
            issuer: "sp".into(),
            acs_url: None,
            acs_index: None,
            protocol_binding: None,
            attribute_consuming_service_index: None,
            provider_name: None,
            name_id_policy: None,
            force_authn: false,
            is_passive: false,
            requested_authn_context: Some(RequestedAuthnContext {
                comparison: "exact".into(),
                class_refs: classes.iter().map(|c| c.to_string()).collect(),
            }),
        }
    }

    #[test]
    fn authn_context_class() {
        use names::authn_context::*;
        assert_eq!(
            authn_context(false, None).as_deref(),
            Some(PASSWORD_PROTECTED_TRANSPORT)
        );
        assert_eq!(authn_context(true, None).as_deref(), Some(TLS_CLIENT));
        let smartcard = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard";
        assert_eq!(authn_context(true, Some(&request(&[smartcard]))), None);
        assert_eq!(
            authn_context(
                true,
                Some(&request(&[smartcard, PASSWORD_PROTECTED_TRANSPORT]))
            )
            .as_deref(),
            Some(PASSWORD_PROTECTED_TRANSPORT)
        );
        assert_eq!(
            authn_context(false, Some(&request(&[TLS_CLIENT]))),
            None,
            "no certificate: TLSClient cannot be claimed"
        );
    }
}
