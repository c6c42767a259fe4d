//! Who may call the administrators' API (SPEC §9.1): a bearer token of an active
//! administrator, or the session of an administrator signed in with the grid (the
//! console), checked on every request against the administrator's role *now* (a
//! demoted administrator's tokens and sessions lose their powers at once). A session
//! must also send the CSRF token (header `X-CSRF-Token`, the double-submit cookie's
//! value) with every request that changes something.

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, Method},
};

use crate::{
    auth::session::session_user,
    http::{cookies::SESSION_COOKIE, csrf::csrf_ok, error::AppError, middleware::cookie, AppState},
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
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Permission::ReadUsers => &["admin", "user-admin", "operator", "auditor"],
            Permission::WriteUsers => &["admin", "user-admin"],
            Permission::Operate => &["admin", "user-admin", "operator"],
            Permission::ReadAudit => &["admin", "auditor"],
            Permission::Admin => &["admin"],
        }
    }
}

/// An authenticated administrator.
#[derive(Clone, Debug)]
pub struct Admin {
    pub id: String,
    pub role: String,
    /// The peer address, for the audit log.
    pub source: String,
}

impl Admin {
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if permission.roles().contains(&self.role.as_str()) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Tokens look like `pgt_<prefix>_<secret>`; the whole string is the credential.
pub fn is_admin_token(token: &str) -> bool {
    token.len() <= 128
        && token.starts_with("pgt_")
        && token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
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
            return Ok(Admin {
                id: holder.admin_id,
                role: holder.role,
                source,
            });
        }
        let session = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
        let user_id = session_user(store, session, now)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let user = store
            .user(&user_id)
            .await?
            .filter(|u| u.status == "active")
            .ok_or(AppError::Unauthorized)?;
        // Signed in, but not an administrator.
        let role = user.admin_role.ok_or(AppError::Forbidden)?;
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
}
