//! The form side of the sign-in pages: start, verify, log out. Every answer is a
//! redirect (post/redirect/get); errors go back to /login with a code that never says
//! which factor failed.

use axum::{
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use serde::Deserialize;
use std::net::SocketAddr;

use crate::{
    audit::{record, Action, Outcome},
    auth::login::{
        finish_login_with_session, prepare_verify, start_login, LoginOutcome, SessionWanted,
        Started,
    },
    delivery,
    http::{
        cookies::{self, SESSION_COOKIE},
        csrf::csrf_ok,
        error::{refusal_page_code, AppError},
        flow::{
            flow_token_or_new, is_challenge_id, normalised_otp, request_flow_hash, with_cookie,
            Transport,
        },
        middleware::cookie,
        AppState, SignedIn,
    },
    tls::ConnectionInfo,
};

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_id: String,
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    otp: String,
    /// The TOTP code where the login asks for the grid and a code.
    #[serde(default)]
    totp: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl CsrfForm {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A change that needs a fresh proof (a new pattern, token, phrase or certificate)
/// from a sign-in older than that: sign in again first. `None`: go ahead.
pub fn unless_freshly_proved(user: &SignedIn, now: i64) -> Option<Response> {
    (!user.freshly_proved(now)).then(|| back_to_login("reauth"))
}

fn back_to_login(code: &str) -> Response {
    Redirect::to(&format!("/login?error={code}")).into_response()
}

pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(back_to_login("csrf"));
    }
    let user = form.user_id.trim();
    if user.is_empty() || user.len() > 256 || user.chars().any(char::is_control) {
        return Ok(back_to_login("failed"));
    }
    let (flow, fresh) = flow_token_or_new(&headers)?;
    let transport = Transport::of(&conn, Some(peer.ip()));
    let started = start_login(
        &state,
        user,
        &transport.client(&crate::random::token_hash(&flow)),
    )
    .await?;
    let res = match started {
        Started::Grid(issued) => {
            Redirect::to(&format!("/login/grid?c={}", issued.id)).into_response()
        }
        Started::DeviceNotRegistered => back_to_login("device"),
        Started::Refused(refusal) => back_to_login(refusal_page_code(&refusal)),
    };
    // The ID stays in the form after an error (the same for every ID typed).
    let res = with_cookie(res, &super::login_hint::remember(user));
    Ok(if fresh {
        with_cookie(res, &cookies::flow_cookie(&flow))
    } else {
        res
    })
}

pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    conn: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(back_to_login("csrf"));
    }
    let challenge = form.challenge.trim().to_ascii_lowercase();
    if !is_challenge_id(&challenge) {
        return Ok(back_to_login("expired"));
    }
    let otp = normalised_otp(&form.otp);
    let flow_hash = request_flow_hash(&headers);
    let transport = Transport::of(&conn, Some(peer.ip()));
    let totp = normalised_otp(&form.totp);
    let verification = prepare_verify(&state, &challenge).await?;
    let settings = verification.settings.clone();
    // A new session at every sign-in (the old one ends): no session fixation.
    let (outcome, token) = finish_login_with_session(
        &state,
        &verification,
        &challenge,
        &otp,
        (!totp.is_empty()).then_some(totp.as_str()),
        &transport.client(&flow_hash),
        Some(SessionWanted {
            replaces: cookie(&headers, SESSION_COOKIE),
        }),
    )
    .await?;
    Ok(match (outcome, token) {
        (
            LoginOutcome::Success {
                user_id,
                must_change_pattern,
                must_enrol_token,
                must_set_phrase,
            },
            Some(token),
        ) => {
            let now = state.instance.clock.now();
            // First login with auto-issue: the certificate comes before the pattern —
            // unless this device already shows one of passgrid's (a shared terminal).
            let next = if settings.auto_issue_certificate
                && !transport.has_certificate()
                && delivery::has_no_certificate(&state.instance, &user_id, now).await?
            {
                "/me/certificate"
            } else if must_change_pattern {
                "/me/pattern"
            } else if must_set_phrase {
                "/me/phrase"
            } else if must_enrol_token {
                "/me/token"
            } else {
                "/me"
            };
            let session_cookie = cookies::session_cookie(&token);
            // An application waiting for this sign-in (OIDC, forward-auth) comes next.
            if next == "/me" {
                if let Some(res) = crate::web::continuation::follow(&headers, Some(&session_cookie))
                {
                    return Ok(with_cookie(res, &super::login_hint::forget()));
                }
            }
            with_cookie(
                with_cookie(Redirect::to(next).into_response(), &session_cookie),
                &super::login_hint::forget(),
            )
        }
        (LoginOutcome::Success { .. }, None) | (LoginOutcome::Failed, _) => back_to_login("failed"),
        (LoginOutcome::ChallengeExpired | LoginOutcome::ChallengeInvalid, _) => {
            back_to_login("expired")
        }
        (LoginOutcome::DeviceNotRegistered, _) => back_to_login("device"),
        (LoginOutcome::Refused(refusal), _) => back_to_login(refusal_page_code(&refusal)),
    })
}

pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(Redirect::to("/me").into_response());
    }
    let mut saml_chain = None;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let now = state.instance.clock.now();
        let id_hash = crate::random::token_hash(token);
        let user = state
            .instance
            .store
            .live_session_start(&id_hash, now)
            .await?;
        // Everywhere: the applications it signed in to are logged out too (SPEC §10.1).
        crate::sso::logout::end_sso_session(&state, &state.sso, token, &peer.ip().to_string())
            .await?;
        // SAML SPs hear it through the browser, one after the other (Profiles §4.4).
        if let Some((user_id, _, _)) = user.filter(|_| crate::random::is_token(token)) {
            let sid = crate::sso::sid_of(&id_hash);
            saml_chain = crate::saml::slo::after_passgrid_logout(&state, &sid, &user_id).await?;
        }
    }
    Ok(with_cookie(
        saml_chain.unwrap_or_else(|| Redirect::to("/login").into_response()),
        &cookies::expired_session_cookie(),
    ))
}

/// "Allow a sign-in now" on the portal (login protect): opens this user's window.
pub async fn open_login_window(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, &form.csrf) || !state.settings_for(&user.user_id).await?.login_protect {
        return Ok(Redirect::to("/me").into_response());
    }
    let now = state.instance.clock.now();
    crate::auth::login_protect::open_window(&state, &user.user_id, &peer.ip().to_string(), now)
        .await?;
    Ok(Redirect::to("/me").into_response())
}

#[derive(Deserialize)]
pub struct PhraseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phrase: zeroize::Zeroizing<String>,
    #[serde(default)]
    again: zeroize::Zeroizing<String>,
}

/// Sets the signed-in user's additional phrase (SPEC §1.3).
pub async fn set_phrase(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<PhraseForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(Redirect::to("/me/phrase?error=csrf").into_response());
    }
    if let Some(reauth) = unless_freshly_proved(&user, state.instance.clock.now()) {
        return Ok(reauth);
    }
    let rule = state.settings_for(&user.user_id).await?.phrase;
    let checked = rule.check(&form.phrase).and_then(|()| {
        if *form.phrase == *form.again {
            Ok(())
        } else {
            Err(crate::otp::phrase::PhraseProblem::Mismatch)
        }
    });
    if let Err(problem) = checked {
        return Ok(Redirect::to(&format!("/me/phrase?error={}", problem.code())).into_response());
    }
    let hash = state.guards.phrase_hasher.hash(&form.phrase).await?;
    let now = state.instance.clock.now();
    state
        .instance
        .store
        .set_user_phrase(&user.user_id, &hash, now)
        .await?;
    record(
        &state.instance.store,
        crate::audit::AuditEvent {
            actor: &user.user_id,
            source: &peer.ip().to_string(),
            action: Action::PhraseSet,
            target: &user.user_id,
            outcome: Outcome::Success,
            reason: "",
        },
        now,
    )
    .await;
    Ok(Redirect::to("/me?phrase=1").into_response())
}
