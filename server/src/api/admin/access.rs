//! Who may call the administrators' API (SPEC §9.1): a bearer token of an active
//! administrator, or the session of an administrator signed in with the grid (the
//! console), checked on every request against the administrator's role *now* (a
//! demoted administrator's tokens and sessions lose their powers at once). A session
//! must also send the CSRF token (header `X-CSRF-Token`, the double-submit cookie's
//! value) with every request that changes something.
//!
//! The check runs in the route layer, before any handler: the route's permission comes
//! from the permission table (`route_table`), a route that is not in the table is
//! refused, and a handler learns who acts only through [`Admin`], which exists only
//! after the check passed.

use axum::{
    extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State},
    http::{request::Parts, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::route_table::{route_of, Target};
use crate::{
    accounts::Role,
    auth::session::{session_user, unfinished_step},
    http::{
        cookies::SESSION_COOKIE, csrf::csrf_ok, error::AppError, flow::fingerprint_in,
        middleware::cookie, AppState,
    },
    random::token_hash,
    tls::ConnectionInfo,
};

/// What an administrator role may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See users, groups, certificates.
    ReadUsers,
    /// Add, change, delete users and groups.
    WriteUsers,
    /// Unlock users, hand out new initial patterns.
    Operate,
    /// Read the audit log.
    ReadAudit,
    /// Settings and integrations.
    Admin,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadUsers => "read-users",
            Permission::WriteUsers => "write-users",
            Permission::Operate => "operate",
            Permission::ReadAudit => "read-audit",
            Permission::Admin => "admin",
        }
    }

    /// The roles that hold it (SPEC §9.1: admin everything; user admin users and
    /// their certificates and tokens; operator unlock and new initial patterns;
    /// auditor read-only and the audit log).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::ReadUsers => &[Role::Admin, Role::UserAdmin, Role::Operator, Role::Auditor],
            Permission::WriteUsers => &[Role::Admin, Role::UserAdmin],
            Permission::Operate => &[Role::Admin, Role::UserAdmin, Role::Operator],
            Permission::ReadAudit => &[Role::Admin, Role::Auditor],
            Permission::Admin => &[Role::Admin],
        }
    }

    pub fn held_by(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// An authenticated administrator whose role holds the route's permission.
#[derive(Clone, Debug)]
pub struct Admin {
    pub id: String,
    pub role: Role,
    /// The peer address, for the audit log.
    pub source: String,
}

/// Tokens look like `pgt_<prefix>_<secret>`; the whole string is the credential.
pub fn is_admin_token(token: &str) -> bool {
    token.len() <= 128
        && token.starts_with("pgt_")
        && token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The route layer of the administrators' API: finds the route's permission in the
/// table, authenticates the caller, checks the role, and hands the handler its
/// [`Admin`].
pub async fn enforce_route_permission(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| route_of(req.method().as_str(), p.as_str()));
    let Some((permission, target)) = route.and_then(|r| Some((r.permission?, r.target))) else {
        // Served but not declared: nobody may call it until the table says who.
        tracing::error!(path = %req.uri().path(), "an admin route missing from the permission table");
        return AppError::Forbidden.into_response();
    };
    let (mut parts, body) = req.into_parts();
    let refusal = match authenticate(&mut parts, &state).await {
        Ok(admin) if permission.held_by(admin.role) => {
            match target_allowed(&mut parts, &state, &admin, target).await {
                Ok(()) => {
                    parts.extensions.insert(admin);
                    req = Request::from_parts(parts, body);
                    return next.run(req).await;
                }
                Err(err) => err,
            }
        }
        Ok(_) => AppError::Forbidden,
        Err(err) => err,
    };
    // A small body is read before the refusal: a client still sending it would
    // otherwise see its stream reset instead of the answer.
    let small = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= DRAIN_BEFORE_REFUSAL);
    if small {
        let _ = axum::body::to_bytes(body, DRAIN_BEFORE_REFUSAL).await;
    }
    refusal.into_response()
}

/// Bodies up to this size are read before a refusal is sent.
const DRAIN_BEFORE_REFUSAL: usize = 64 * 1024;

/// Whether `admin` may act on the account the route names (SPEC §9.1: only accounts
/// below its role; administrators on administrators too). An account that does not
/// exist is the handler's to answer (404).
async fn target_allowed(
    parts: &mut Parts,
    state: &AppState,
    admin: &Admin,
    target: Target,
) -> Result<(), AppError> {
    let param = match target {
        Target::Nobody => return Ok(()),
        Target::UserInPath => "id",
        Target::CertificateHolder => "serial",
    };
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    let Some(value) = params.iter().find(|(k, _)| *k == param).map(|(_, v)| v) else {
        return Err(AppError::NotFound);
    };
    let store = &state.instance.store;
    let user_id = match target {
        Target::CertificateHolder => match store.client_certificate(value).await? {
            Some(record) => record.user_id,
            None => None,
        },
        _ => Some(value.to_string()),
    };
    // A shared-terminal certificate, or no such account: nothing above anyone.
    let Some(user_id) = user_id else {
        return Ok(());
    };
    match account_role(state, &user_id).await? {
        Some(role) if !admin.role.may_act_on(role) => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}

/// The role of account `user_id`: `Some(None)` for a plain user, `None` when there is
/// no such account.
pub(crate) async fn account_role(
    state: &AppState,
    user_id: &str,
) -> Result<Option<Option<Role>>, AppError> {
    Ok(state
        .instance
        .store
        .user(user_id)
        .await?
        .map(|u| u.admin_role.as_deref().and_then(Role::parse)))
}

/// Who calls, by bearer token or console session (with its CSRF header).
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Admin, AppError> {
    let now = state.instance.clock.now();
    let store = &state.instance.store;
    let source = parts
        .extensions
        .get::<ConnectionInfo>()
        .map(|c| c.peer.ip().to_string())
        .unwrap_or_default();
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer {
        if !is_admin_token(token) {
            return Err(AppError::Unauthorized);
        }
        let holder = store
            .admin_token_holder(&token_hash(token), now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let role = Role::parse(&holder.role).ok_or(AppError::Forbidden)?;
        return Ok(Admin {
            id: holder.admin_id,
            role,
            source,
        });
    }
    let session = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
    let fingerprint = fingerprint_in(&parts.extensions);
    let live = session_user(store, session, fingerprint.as_deref(), now)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let user = store
        .user(&live.user_id)
        .await?
        .filter(|u| u.status == "active")
        .ok_or(AppError::Unauthorized)?;
    // Signed in, but not an administrator.
    let role = user
        .admin_role
        .as_deref()
        .and_then(Role::parse)
        .ok_or(AppError::Forbidden)?;
    // A sign-in that still owes its own pattern, phrase or token is good for that only.
    let settings = state.settings_for(&user.id).await?;
    if unfinished_step(store, &settings, &user.id).await?.is_some() {
        return Err(AppError::Forbidden);
    }
    let reads_only = matches!(parts.method, Method::GET | Method::HEAD);
    if !reads_only {
        let submitted = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !csrf_ok(&parts.headers, submitted) {
            return Err(AppError::BadRequest("csrf"));
        }
    }
    Ok(Admin {
        id: user.id,
        role,
        source,
    })
}

/// The administrator the route layer let through; a handler mounted outside that
/// layer cannot get one and so cannot run.
impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Admin>()
            .cloned()
            .ok_or(AppError::Forbidden)
    }
}
