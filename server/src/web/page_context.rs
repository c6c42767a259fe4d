//! Loads what a page needs before Leptos renders it: the signed-in user (every
//! request with a session cookie) and the open challenge of the grid page. Pages
//! that need a signed-in user send everybody else to /login.

use app::context::{CertificatePickup, ClientOs, GridChallenge, Viewer};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    auth::session::{session_user, unfinished_step, Unfinished},
    delivery,
    http::{
        cookies::{FLOW_COOKIE, SESSION_COOKIE},
        error::AppError,
        flow::fingerprint_in,
        middleware::cookie,
        AppState, SignedIn,
    },
    random::{is_token, token_hash},
    store::pickups::Access,
};

/// Paths that never render a page or read the signed-in user: static files and
/// infrastructure probes. They skip the session lookup (three queries) entirely, so a
/// page's CSS, JS and WASM requests do not each hit the database.
fn needs_page_context(path: &str) -> bool {
    !(path.starts_with("/pkg/")
        || path.starts_with("/ca/")
        // Single sign-on endpoints read the sessions they need themselves.
        || path.starts_with("/oidc/")
        || path.starts_with("/saml/")
        || path.starts_with("/auth/forward")
        || path.starts_with("/.well-known/")
        || matches!(
            path,
            "/healthz" | "/readyz" | "/metrics" | "/robots.txt" | "/favicon.ico"
        ))
}

pub async fn attach_page_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !needs_page_context(req.uri().path()) {
        return next.run(req).await;
    }
    match load(&state, &mut req).await {
        Ok(None) => next.run(req).await,
        Ok(Some(redirect)) => redirect,
        Err(err) => err.into_response(),
    }
}

async fn load(state: &AppState, req: &mut Request) -> Result<Option<Response>, AppError> {
    let now = state.instance.clock.now();
    let store = &state.instance.store;
    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
    let mut viewer = None;
    // The signed-in user's settings (their policy), for the pages that depend on it.
    let mut viewer_settings = None;
    let mut admin_role = None;
    let mut unfinished = None;
    if let Some(token) = token {
        let fingerprint = fingerprint_in(req.extensions());
        if let Some(live) = session_user(store, &token, fingerprint.as_deref(), now).await? {
            let user_id = live.user_id.clone();
            if let Some(user) = store.user(&user_id).await?.filter(|u| u.status == "active") {
                let settings = state.settings_for(&user_id).await?;
                unfinished = unfinished_step(store, &settings, &user_id).await?;
                let must_change_pattern = unfinished == Some(Unfinished::Pattern);
                let login_window_until = if settings.login_protect {
                    store.login_window(&user_id, now).await?
                } else {
                    None
                };
                viewer = Some(Viewer {
                    is_admin: user.admin_role.is_some(),
                    user_id: user.id.clone(),
                    display_name: user.display_name,
                    must_change_pattern,
                    login_protect: settings.login_protect,
                    login_window_until,
                    uses_totp: settings.method != crate::policy::LoginMethod::Grid,
                    vpn: state.radius_enabled
                        && settings.radius_mode != crate::policy::RadiusMode::Off,
                });
                viewer_settings = Some(settings);
                admin_role = user.admin_role.clone();
                req.extensions_mut().insert(SignedIn {
                    user_id: user.id,
                    proved_at: live.proved_at,
                });
            }
        }
    }
    let path = req.uri().path().to_string();
    let is_get = req.method() == axum::http::Method::GET;
    if is_get && (path == "/me" || path.starts_with("/me/")) && viewer.is_none() {
        return Ok(Some(Redirect::to("/login").into_response()));
    }
    // A first sign-in not finished (own pattern, phrase, token): that comes first
    // (SPEC §5.2), before the portal and the console.
    if let (true, Some(step)) = (is_get, unfinished) {
        if path == "/me" || app::is_console_path(&path) {
            return Ok(Some(Redirect::to(step.page()).into_response()));
        }
    }
    // Signed in and past the first-login steps: an application waiting for this
    // sign-in (OIDC, forward-auth) comes next.
    if is_get && path == "/me" && viewer.is_some() && unfinished.is_none() {
        if let Some(res) = crate::web::continuation::follow(req.headers(), None) {
            return Ok(Some(res));
        }
    }
    if is_get && app::is_console_path(&path) {
        match &viewer {
            None => return Ok(Some(Redirect::to("/login").into_response())),
            Some(v) => {
                // A signed-in non-administrator gets the page's refusal (403).
                if let Some(role) = admin_role {
                    req.extensions_mut().insert(app::context::AdminViewer {
                        user_id: v.user_id.clone(),
                        role,
                    });
                }
            }
        }
    }
    let signed_in = viewer.as_ref().map(|v| v.user_id.clone());
    if let Some(v) = viewer {
        req.extensions_mut().insert(v);
    }
    if is_get {
        let token = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("t=")))
            .filter(|t| is_token(t))
            .map(str::to_string);
        // The download page: the signed-in user's (auto-issue), or a one-time link's.
        let pickup = match (path.as_str(), &signed_in, token.clone()) {
            ("/me/certificate/download", Some(user_id), Some(token)) => Some((
                token,
                Access::User(user_id),
                "/me/certificate/file",
                "/me/certificate/install",
            )),
            ("/certificate", _, Some(token)) => Some((
                token,
                Access::Link,
                "/certificate/file",
                "/certificate/install",
            )),
            _ => None,
        };
        if let Some((token, access, file_path, next_path)) = pickup {
            if let Some(view) = delivery::view(&state.instance, &token, access, now).await? {
                req.extensions_mut().insert(CertificatePickup {
                    token,
                    file_path: file_path.into(),
                    next_path: next_path.into(),
                    serial: view.serial,
                    password: view.password.to_string(),
                });
            }
        }
        if path.starts_with("/setup/") {
            super::setup::page_context(state, &path, token.as_deref(), req.extensions_mut())
                .await?;
        }
        // The portal's tiles: the SAML SPs this user may use from here and now.
        if let ("/me", Some(user_id)) = (path.as_str(), &signed_in) {
            let conn = req
                .extensions()
                .get::<crate::tls::ConnectionInfo>()
                .cloned()
                .map(axum::Extension);
            let peer = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            let transport = crate::http::flow::Transport::of(&conn, peer);
            let tiles = portal_tiles(state, &transport, user_id, now).await?;
            req.extensions_mut()
                .insert(app::context::PortalTiles(tiles));
        }
        if path == "/login/reset" {
            let valid = match &token {
                Some(t) => store.reset_token_valid(&token_hash(t), now).await?,
                None => false,
            };
            req.extensions_mut().insert(app::context::ResetLink {
                token: token.clone().unwrap_or_default(),
                valid,
            });
        }
        if let ("/login/reset/done", Some(t)) = (path.as_str(), &token) {
            if let Some((user_id, cells)) =
                crate::auth::reset::reveal_reset_pattern(state, t, now).await?
            {
                req.extensions_mut().insert(app::context::ResetDone {
                    user_id,
                    cells: cells.to_vec(),
                    blocks_across: state.auth.shape.blocks_across,
                    blocks_down: state.auth.shape.blocks_down,
                });
            }
        }
        if let ("/me/phrase", Some(user_id), Some(settings)) =
            (path.as_str(), &signed_in, &viewer_settings)
        {
            let rule = settings.phrase;
            req.extensions_mut().insert(app::context::PhraseState {
                mode: phrase_mode_name(rule.mode).to_string(),
                min_len: rule.min_len,
                max_len: rule.max_len,
                has_phrase: store.user_phrase(user_id).await?.is_some(),
            });
        }
        if let ("/me/vpn" | "/me/vpn/grid", Some(user_id), Some(settings)) =
            (path.as_str(), &signed_in, &viewer_settings)
        {
            let query = req.uri().query().map(str::to_string);
            let page = vpn_page(state, query.as_deref(), user_id, settings, now).await?;
            req.extensions_mut().insert(page);
        }
        if let ("/me/token", Some(user_id)) = (path.as_str(), &signed_in) {
            req.extensions_mut()
                .insert(super::token::token_state(state, user_id, now).await?);
        }
        if path == "/me/certificate/install" || path == "/certificate/install" {
            let ua = req
                .headers()
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let os = ClientOs::from_user_agent(ua);
            req.extensions_mut().insert(os);
        }
    }
    let purposes: Option<&[&str]> = match path.as_str() {
        "/login/grid" => Some(&["login", "login-totp", "login-both"]),
        "/me/pattern/confirm" => Some(&["confirm"]),
        _ => None,
    };
    if let Some(purposes) = purposes {
        let challenge_id = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("c=")))
            .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string);
        let flow = cookie(req.headers(), FLOW_COOKIE)
            .filter(|v| is_token(v))
            .map(token_hash);
        if let (Some(id), Some(flow)) = (challenge_id, flow) {
            if let Some(open) = store.open_challenge(&id, purposes, &flow, now).await? {
                // The phrase field follows the policy of the challenge's user.
                let phrase = crate::auth::login::settings_for_challenge(state, &id)
                    .await?
                    .phrase
                    .mode;
                let method = match open.purpose.as_str() {
                    "login-totp" => "totp",
                    "login-both" => "both",
                    _ => "grid",
                };
                req.extensions_mut().insert(GridChallenge {
                    id,
                    // Every login page has its grid: under a code-only policy, for the
                    // user who has no token yet (shown on request).
                    seed_hex: hex::encode(open.seed),
                    blocks_across: open.blocks_across as u8,
                    blocks_down: open.blocks_down as u8,
                    expires_at: open.expires_at,
                    canvas_only: state.auth.grid_canvas_only,
                    method: method.to_string(),
                    phrase: phrase_mode_name(phrase).to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// The "VPN sign-in" page: why no grid can be had, or the open grid of `?c=` (only
/// the signed-in user's own: it is bound to them).
async fn vpn_page(
    state: &AppState,
    query: Option<&str>,
    user_id: &str,
    settings: &crate::policy::AuthSettings,
    now: i64,
) -> Result<app::context::VpnSignIn, AppError> {
    let unavailable = if state.radius_enabled {
        crate::radius::web_grid::unavailable_reason(settings)
    } else {
        Some("radius_off")
    };
    if let Some(code) = unavailable {
        return Ok(app::context::VpnSignIn {
            unavailable: Some(code.to_string()),
            grid: None,
        });
    }
    let challenge_id = query
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("c=")))
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    let flow = crate::radius::state::web_grid_flow_hash(user_id);
    let mut grid = None;
    if let Some(id) = challenge_id {
        let purposes = ["login", "login-totp", "login-both"];
        if let Some(open) = state
            .instance
            .store
            .open_challenge(&id, &purposes, &flow, now)
            .await?
        {
            let method = match open.purpose.as_str() {
                "login-both" => "both",
                _ => "grid",
            };
            grid = Some(GridChallenge {
                id,
                seed_hex: hex::encode(open.seed),
                blocks_across: open.blocks_across as u8,
                blocks_down: open.blocks_down as u8,
                expires_at: open.expires_at,
                canvas_only: state.auth.grid_canvas_only,
                method: method.to_string(),
                phrase: phrase_mode_name(settings.phrase.mode).to_string(),
            });
        }
    }
    Ok(app::context::VpnSignIn {
        unavailable: None,
        grid,
    })
}

fn phrase_mode_name(mode: crate::otp::phrase::PhraseMode) -> &'static str {
    use crate::otp::phrase::PhraseMode;
    match mode {
        PhraseMode::Off => "",
        PhraseMode::Before => "before",
        PhraseMode::After => "after",
    }
}

/// The SAML SPs `user_id` may open from the portal (IdP-initiated sign-in): those
/// whose access rules let this user in from this device, network and time.
async fn portal_tiles(
    state: &AppState,
    transport: &crate::http::flow::Transport,
    user_id: &str,
    now: i64,
) -> Result<Vec<(String, String)>, AppError> {
    let store = &state.instance.store;
    let sps = store.saml_sps().await?;
    if sps.is_empty() {
        return Ok(Vec::new());
    }
    let client = transport.client(&[]);
    let mut tiles = Vec::new();
    for sp in sps {
        let Some(app) = store.application(&sp.application).await? else {
            continue;
        };
        let allowed =
            crate::auth::app_access::check_application_access(state, &app, user_id, &client, now)
                .await?;
        if allowed.is_ok() {
            tiles.push((app.name, app.description));
        }
    }
    Ok(tiles)
}

#[cfg(test)]
mod tests {
    #[test]
    fn static_files_and_probes_skip_the_session_lookup() {
        for p in ["/pkg/passgrid.wasm", "/ca/ca.pem", "/healthz", "/metrics"] {
            assert!(!super::needs_page_context(p), "{p}");
        }
        for p in ["/", "/me", "/me/pattern", "/login/grid", "/api/v1/whoami"] {
            assert!(super::needs_page_context(p), "{p}");
        }
    }
}
