//! The one place where errors become HTTP responses: a stable machine code, a status,
//! and a generic message. Causes are logged here, once, and never sent to the client.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{
    auth::login::Refusal, ca::CaError, master_key::SealError, otp::OtpError, store::StoreError,
};

/// Everything a request handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A body that could not be read as the expected JSON; the text says why.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("not found")]
    NotFound,
    /// No (valid) administrator credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Credentials whose role does not allow this.
    #[error("forbidden")]
    Forbidden,
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("certificate authority: {0}")]
    Ca(#[from] CaError),
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
    #[error("one-time password: {0}")]
    Otp(#[from] OtpError),
    /// A login refused before its OTP counted (lock-out, rate limit, access rules,
    /// login protect).
    #[error("login refused: {0:?}")]
    Refused(Refusal),
    /// A policy change that is not acceptable (the message names the key), or a
    /// stored policy that cannot be read.
    #[error("policy: {0}")]
    Policy(#[from] crate::policy::PolicyError),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(code) => (StatusCode::BAD_REQUEST, code),
            AppError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            AppError::Otp(OtpError::Rules(_)) => (StatusCode::BAD_REQUEST, "pattern_refused"),
            AppError::Otp(OtpError::Busy) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            AppError::Otp(OtpError::Store(StoreError::Unavailable(_))) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Ca(CaError::BadRequest(_) | CaError::BadImport(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            AppError::Ca(CaError::UnknownCertificate(_)) => {
                (StatusCode::NOT_FOUND, "unknown_certificate")
            }
            AppError::Ca(CaError::AlreadyRevoked(_)) => (StatusCode::CONFLICT, "already_revoked"),
            AppError::Ca(CaError::LimitReached(_)) => (StatusCode::CONFLICT, "limit_reached"),
            AppError::Store(StoreError::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            AppError::Refused(r) => (r.status(), r.code()),
            AppError::Policy(
                crate::policy::PolicyError::NoSuchPolicy(_)
                | crate::policy::PolicyError::NoSuchGroup(_),
            ) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Policy(
                crate::policy::PolicyError::GroupTaken { .. }
                | crate::policy::PolicyError::DefaultIsImplicit,
            ) => (StatusCode::CONFLICT, "policy_conflict"),
            AppError::Policy(e) if e.is_input() => (StatusCode::BAD_REQUEST, "invalid_policy"),
            AppError::Policy(crate::policy::PolicyError::Store(StoreError::Unavailable(_))) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            AppError::Store(_)
            | AppError::Ca(_)
            | AppError::Seal(_)
            | AppError::Otp(_)
            | AppError::Policy(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            // The cause may hold database or crypto detail: log it, never send it.
            tracing::error!(error = %self, code, "request failed");
        }
        let body = match &self {
            AppError::InvalidRequest(reason) => json!({ "error": code, "message": reason }),
            // Input errors only: their text names the key and value, nothing internal.
            AppError::Policy(e) if e.is_input() => {
                json!({ "error": code, "message": e.to_string() })
            }
            AppError::Otp(OtpError::Rules(rules)) => json!({ "error": code, "rules": rules }),
            AppError::Refused(r) => match r.retry_after() {
                Some(secs) => json!({ "error": code, "retry_after": secs }),
                None => json!({ "error": code }),
            },
            _ => json!({ "error": code }),
        };
        let mut res = (status, Json(body)).into_response();
        let retry_after = match &self {
            AppError::Refused(r) => r.retry_after(),
            AppError::Otp(OtpError::Busy) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}
