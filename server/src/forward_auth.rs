//! Forward-auth for reverse proxies (SPEC §10.2): nginx `auth_request`, Caddy
//! `forward_auth`, Traefik ForwardAuth ask `GET /auth/forward` about each request.
//!
//! - 200 with `Remote-User`, `Remote-Name`, `Remote-Email`, `Remote-Groups` for a
//!   signed-in user the application's rules allow (the proxy copies them to the
//!   upstream; passgrid never reads such headers from a client);
//! - 401 when nobody is signed in, with `Location` (and a page that moves on by itself,
//!   for proxies that pass the answer through) to `/auth/forward/signin?rd=URL`;
//! - 403 for a signed-in user the rules refuse: never a redirect, so never a loop.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use serde::Deserialize;

use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::app_access::{audit_app_refusal, check_application_access},
    http::{
        cookies::SESSION_COOKIE,
        error::{oauth, AppError},
        flow::{with_cookie, Transport},
        middleware::cookie,
        AppState,
    },
    oidc::authorize::found,
    sso::{
        forward::{forward_user, start_forward_session, FORWARD_COOKIE},
        sso_session,
    },
    tls::ConnectionInfo,
};

/// The URL the user asked the proxy for: nginx sends `X-Original-URL`; Caddy and
/// Traefik send `X-Forwarded-Proto`, `-Host` and `-Uri`.
fn original_url(headers: &HeaderMap) -> Option<String> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(u) = h("x-original-url") {
        return Some(u.to_string());
    }
    let host = h("x-forwarded-host")?;
    let proto = h("x-forwarded-proto").unwrap_or("https");
    let uri = h("x-forwarded-uri").unwrap_or("/");
    Some(format!("{proto}://{host}{uri}"))
}

/// The client as the proxy saw it. Its address is the proxy's own; the application's
/// network rules see the user's address only through a trusted proxy's
/// `X-Forwarded-For` (the `[serve] trusted_proxies` that certificates come through).
fn user_address(state: &AppState, headers: &HeaderMap, peer: std::net::IpAddr) -> std::net::IpAddr {
    let trusted = state
        .proxy
        .as_ref()
        .is_some_and(|p| p.trusted.iter().any(|c| c.contains(peer)));
    if !trusted {
        return peer;
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next_back())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

fn header_value(text: &str) -> HeaderValue {
    // UTF-8 names go as raw bytes (what Authelia and others send); control characters never.
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    HeaderValue::from_bytes(clean.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn check(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let now = state.instance.clock.now();
    let original = original_url(&headers);
    let target = original
        .as_deref()
        .and_then(|u| state.sso.forward.return_url(u));
    let user = match cookie(&headers, FORWARD_COOKIE) {
        Some(t) => forward_user(&state.instance.store, t, now).await?,
        None => None,
    };
    let Some((user_id, _auth_time)) = user else {
        let signin = match &target {
            Some(rd) => format!(
                "{}/auth/forward/signin?{}",
                state.sso.issuer,
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("rd", rd)
                    .finish()
            ),
            None => format!("{}/login", state.sso.issuer),
        };
        let mut res = oauth::continue_page(&signin);
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        if let Ok(v) = HeaderValue::from_str(&signin) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(res);
    };
    let host = target
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()));
    let app = match &host {
        Some(h) => state.instance.store.application_for_domain(h).await?,
        None => None,
    };
    let transport = Transport::of(&conn, Some(peer.ip()));
    let ip = user_address(&state, &headers, peer.ip());
    let source = ip.to_string();
    let mut client = transport.client(&[]);
    client.ip = Some(ip);
    client.source = &source;
    let Some(app) = app else {
        // Default deny: a host nobody registered is nobody's to enter.
        let reason = format!(
            "no application for {}",
            host.as_deref().unwrap_or("(unknown host)")
        );
        record(
            &state.instance.store,
            AuditEvent {
                actor: &user_id,
                source: &source,
                action: Action::ForwardAuthRefused,
                target: host.as_deref().unwrap_or("-"),
                outcome: Outcome::Failure,
                reason: &reason,
            },
            now,
        )
        .await;
        return Ok((StatusCode::FORBIDDEN, "forbidden\n").into_response());
    };
    if let Err(refusal) = check_application_access(&state, &app, &user_id, &client, now).await? {
        audit_app_refusal(
            &state,
            Action::ForwardAuthRefused,
            &user_id,
            &app.name,
            &client,
            refusal,
            now,
        )
        .await;
        state.metrics.sso_event(&app.name, "refused");
        return Ok((
            StatusCode::FORBIDDEN,
            format!("forbidden: {}\n", refusal.code()),
        )
            .into_response());
    }
    state.metrics.sso_event(&app.name, "forward");
    let Some(user) = state.instance.store.user(&user_id).await? else {
        return Ok((StatusCode::FORBIDDEN, "forbidden\n").into_response());
    };
    let groups = state.instance.store.user_groups(&user_id).await?;
    let mut res = (StatusCode::OK, "ok\n").into_response();
    let h = res.headers_mut();
    h.insert("remote-user", header_value(&user.id));
    h.insert("remote-name", header_value(&user.display_name));
    h.insert(
        "remote-email",
        header_value(user.email.as_deref().unwrap_or("")),
    );
    h.insert("remote-groups", header_value(&groups.join(",")));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
pub struct SigninQuery {
    #[serde(default)]
    rd: String,
}

/// GET /auth/forward/signin?rd=URL: with a passgrid session, the protected domain's
/// cookie is made and the browser goes back to URL; without one, it signs in first.
pub async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<axum::Extension<crate::tls::ConnectionInfo>>,
    headers: HeaderMap,
    Query(q): Query<SigninQuery>,
) -> Result<Response, AppError> {
    let Some(rd) = state.sso.forward.return_url(&q.rd) else {
        return Ok(oauth::error_page(
            "invalid_request",
            "the return address is not a protected site",
        ));
    };
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(t) => {
            let fingerprint = crate::http::flow::cert_fingerprint(&conn);
            sso_session(&state.instance, t, fingerprint.as_deref()).await?
        }
        None => None,
    };
    let Some(session) = session else {
        let here = format!(
            "/auth/forward/signin?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("rd", &rd)
                .finish()
        );
        let to = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("to", &here)
            .finish();
        return Ok(found(&format!("/login/continue?{to}")));
    };
    let now = state.instance.clock.now();
    let token =
        start_forward_session(&state.instance.store, &state.sso.forward, &session, now).await?;
    let host = url::Url::parse(&rd)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_default();
    // Audited under the application's name when one serves the host.
    let target = match state.instance.store.application_for_domain(&host).await? {
        Some(app) => app.name,
        None => host,
    };
    record(
        &state.instance.store,
        AuditEvent {
            actor: &session.user_id,
            source: &peer.ip().to_string(),
            action: Action::ForwardAuthSignin,
            target: &target,
            outcome: Outcome::Success,
            reason: "",
        },
        now,
    )
    .await;
    Ok(oauth::no_store(with_cookie(
        found(&rd),
        &state.sso.forward.cookie(&token),
    )))
}
