//! The form side of first-login certificate auto-issue (SPEC §5.2): issue, then the
//! one download of the PKCS#12.

use axum::{
    extract::{ConnectInfo, Multipart, Query, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use serde::Deserialize;
use std::net::SocketAddr;

use super::login::CsrfForm;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    ca::{pkcs12::P12Encoding, CaError},
    delivery::{self, Collect, Format},
    http::{csrf::csrf_ok, error::AppError, AppState, SignedIn},
    issuance::{issue_from_csr, Requester},
    random::is_token,
    store::pickups::Access,
};

/// The signed-in user, when they may issue themselves a certificate: only while
/// auto-issue is on and they hold no valid certificate, so a session cannot mint
/// certificates at will.
/// With the user come the settings of their policy, which the certificate follows.
async fn self_service_user(
    state: &AppState,
    user_id: &str,
    now: i64,
) -> Result<Option<(crate::store::users::User, crate::policy::AuthSettings)>, AppError> {
    let settings = state.settings_for(user_id).await?;
    if !settings.auto_issue_certificate
        || !delivery::has_no_certificate(&state.instance, user_id, now).await?
    {
        return Ok(None);
    }
    Ok(state
        .instance
        .store
        .user(user_id)
        .await?
        .map(|user| (user, settings)))
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/me/certificate?error={code}")).into_response()
}

/// Issues this device's certificate — only while auto-issue is on and the user holds
/// no valid certificate, so a session cannot mint certificates at will.
pub async fn issue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some(Extension(signed_in)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, form.csrf()) {
        return Ok(back("csrf"));
    }
    let instance = &state.instance;
    let now = instance.clock.now();
    if let Some(reauth) = super::login::unless_freshly_proved(&signed_in, now) {
        return Ok(reauth);
    }
    let user_id = &signed_in.user_id;
    let source = peer.ip().to_string();
    let event = |outcome: Outcome, reason: &'static str| AuditEvent {
        actor: user_id,
        source: &source,
        action: Action::CertAutoIssue,
        target: user_id,
        outcome,
        reason,
    };
    let Some((user, settings)) = self_service_user(&state, user_id, now).await? else {
        let why = "not allowed (auto-issue off, or a valid certificate exists)";
        record(&instance.store, event(Outcome::Failure, why), now).await;
        return Ok(back("not_allowed"));
    };
    let requester = Requester {
        actor: user_id,
        source: &source,
        action: Action::CertAutoIssue,
    };
    let prepared = delivery::prepare(
        instance,
        &user,
        &settings,
        Collect::SignedIn,
        requester,
        now,
    )
    .await?;
    let token = prepared.token;
    Ok(Redirect::to(&format!("/me/certificate/download?t={}", token.as_str())).into_response())
}

/// A CSR larger than this is not a CSR.
const MAX_CSR_BYTES: usize = 64 * 1024;

/// The CSR route (SPEC §2.3, "instead of a PKCS#12"): the signed-in user uploads a
/// PKCS#10 request made on the device and gets the certificate back as PEM; the key
/// never leaves the device. Same eligibility and limits as the PKCS#12 issue.
pub async fn csr(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, AppError> {
    let Some(Extension(signed_in)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    let (mut csrf, mut request) = (String::new(), Vec::new());
    while let Some(field) = form.next_field().await? {
        match field.name() {
            Some("csrf") => csrf = field.text().await?,
            Some("csr") => {
                let bytes = field.bytes().await?;
                if bytes.len() > MAX_CSR_BYTES {
                    return Ok(back("csr"));
                }
                request = bytes.to_vec();
            }
            _ => {}
        }
    }
    if !csrf_ok(&headers, &csrf) {
        return Ok(back("csrf"));
    }
    let instance = &state.instance;
    let now = instance.clock.now();
    if let Some(reauth) = super::login::unless_freshly_proved(&signed_in, now) {
        return Ok(reauth);
    }
    let user_id = &signed_in.user_id;
    let source = peer.ip().to_string();
    let Some((user, settings)) = self_service_user(&state, user_id, now).await? else {
        return Ok(back("not_allowed"));
    };
    let requester = Requester {
        actor: user_id,
        source: &source,
        action: Action::CertIssueCsr,
    };
    let issued = issue_from_csr(instance, &settings, &user, &request, requester, now).await;
    let issued = match issued {
        Ok(issued) => issued,
        Err(CaError::BadRequest(_)) => return Ok(back("csr")),
        Err(CaError::LimitReached(_)) => return Ok(back("limit")),
        Err(e) => return Err(e.into()),
    };
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"passgrid-{}.pem\"",
        delivery::file_safe(user_id)
    ))
    .map_err(|_| AppError::BadRequest("file_name"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        issued.cert_pem,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct FileQuery {
    #[serde(default)]
    t: String,
    #[serde(default)]
    encoding: Option<String>,
}

/// A download through a one-time link (mail, print-out): no sign-in, the token is
/// the key, and it works for the allowed number of downloads only.
pub async fn link_file(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<FileQuery>,
) -> Result<Response, AppError> {
    deliver(&state, peer, &query, Access::Link).await
}

/// The one download: the PKCS#12, after which the key exists nowhere but in it.
pub async fn file(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    Query(query): Query<FileQuery>,
) -> Result<Response, AppError> {
    let Some(Extension(signed_in)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    deliver(&state, peer, &query, Access::User(&signed_in.user_id)).await
}

async fn deliver(
    state: &AppState,
    peer: SocketAddr,
    query: &FileQuery,
    access: Access<'_>,
) -> Result<Response, AppError> {
    let format = match query.encoding.as_deref() {
        // Without a choice, the signed-in user's policy picks (SPEC §2.3); a one-time
        // link's user is known only once it is taken: the default policy's.
        None => Format::Pkcs12(match access {
            Access::User(user_id) => state.settings_for(user_id).await?.p12_encoding,
            Access::Link => state.settings_for("").await?.p12_encoding,
        }),
        Some("modern") => Format::Pkcs12(P12Encoding::Modern),
        Some("legacy") => Format::Pkcs12(P12Encoding::Legacy),
        Some("mobileconfig") => Format::IosProfile,
        Some(_) => return Err(AppError::BadRequest("invalid_encoding")),
    };
    let instance = &state.instance;
    let now = instance.clock.now();
    let delivered = if is_token(&query.t) {
        delivery::take(instance, &query.t, access, format, now).await?
    } else {
        None
    };
    let Some(delivered) = delivered else {
        return Ok(match access {
            Access::User(_) => back("gone"),
            Access::Link => Redirect::to("/certificate?error=gone").into_response(),
        });
    };
    record(
        &instance.store,
        AuditEvent {
            actor: &delivered.user_id,
            source: &peer.ip().to_string(),
            action: Action::CertDownload,
            target: &delivered.serial,
            outcome: Outcome::Success,
            reason: format.name(),
        },
        now,
    )
    .await;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", delivered.file_name))
            .map_err(|_| AppError::BadRequest("file_name"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(delivered.content_type),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        delivered.file,
    )
        .into_response())
}
