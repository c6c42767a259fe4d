//! The one place where errors become HTTP answers: every domain and service error is
//! translated here (a stable machine code, a status, and a message only where the
//! text is the caller's own input); the sign-in pages' codes (`/login?error=`) sit
//! next to the JSON codes. Causes of server errors are logged here, once, and never
//! sent to the client.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{
    accounts::AdminTokenError,
    auth::{login::Refusal, AuthError},
    bulk_certificates::BulkError,
    ca::CaError,
    http::metrics_access::MetricsRefusal,
    master_key::SealError,
    otp::{tokens::TokenError, OtpError},
    policy::PolicyError,
    random::RandomError,
    store::StoreError,
    sync::SyncError,
    user_import::ImportError,
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
    Policy(#[from] PolicyError),
}

/// The HTTP status of a login refusal.
pub fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::FORBIDDEN,
    }
}

/// The code the sign-in page shows a message for (`/login?error=`).
pub fn refusal_page_code(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Locked { .. } => "locked",
        Refusal::RateLimited { .. } => "rate_limited",
        Refusal::Network => "network",
        Refusal::Time => "time",
        Refusal::LoginProtect => "login_protect",
    }
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
            AppError::Store(StoreError::Unavailable(_) | StoreError::NoPrimary(_))
            | AppError::Ca(CaError::Store(StoreError::Unavailable(_) | StoreError::NoPrimary(_)))
            | AppError::Otp(OtpError::Store(StoreError::NoPrimary(_))) => {
                // During a database failover: retry soon (never a wrong answer).
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            AppError::Refused(r) => (refusal_status(r), r.code()),
            AppError::Policy(PolicyError::NoSuchPolicy(_) | PolicyError::NoSuchGroup(_)) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            AppError::Policy(PolicyError::GroupTaken { .. } | PolicyError::DefaultIsImplicit) => {
                (StatusCode::CONFLICT, "policy_conflict")
            }
            AppError::Policy(e) if e.is_input() => (StatusCode::BAD_REQUEST, "invalid_policy"),
            AppError::Policy(PolicyError::Store(StoreError::Unavailable(_))) => {
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
            _ if code == "database_unavailable" => Some(2),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Otp(e) => AppError::Otp(e),
            AuthError::Policy(e) => AppError::Policy(e),
            AuthError::Token(e) => e.into(),
        }
    }
}

/// A multipart form that could not be read; the text says why.
impl From<axum::extract::multipart::MultipartError> for AppError {
    fn from(err: axum::extract::multipart::MultipartError) -> Self {
        AppError::InvalidRequest(err.body_text())
    }
}

impl From<RandomError> for AppError {
    fn from(err: RandomError) -> Self {
        AppError::Otp(OtpError::Random(err))
    }
}

impl From<TokenError> for AppError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Otp(o) => AppError::Otp(o),
            TokenError::NoSuchToken(_) | TokenError::NoSuchUser(_) => AppError::NotFound,
            // The file's or the request's fault: the reason names the line or serial,
            // never a seed.
            other => AppError::InvalidRequest(other.to_string()),
        }
    }
}

impl From<BulkError> for AppError {
    fn from(err: BulkError) -> Self {
        match err {
            BulkError::NoUsers => AppError::BadRequest("no_users"),
            BulkError::TooMany => AppError::BadRequest("too_many_users"),
            BulkError::NoMailer => AppError::BadRequest("mail_not_configured"),
            BulkError::Busy => AppError::BadRequest("too_many_jobs"),
            BulkError::Random(e) => e.into(),
            BulkError::Store(e) => AppError::Store(e),
            BulkError::Seal(e) => AppError::Seal(e),
        }
    }
}

impl From<SyncError> for AppError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Store(s) => AppError::Store(s),
            SyncError::Seal(s) => AppError::Seal(s),
            SyncError::Import(e) => e.into(),
            SyncError::NoSuchSource(_) => AppError::NotFound,
            // The administrator's input (a name, a filter, a map) or the directory's
            // answer: the text says which.
            other => AppError::InvalidRequest(other.to_string()),
        }
    }
}

impl From<MetricsRefusal> for AppError {
    fn from(err: MetricsRefusal) -> Self {
        match err {
            MetricsRefusal::NeedsToken => AppError::Unauthorized,
            MetricsRefusal::NotAllowed => AppError::Forbidden,
        }
    }
}

impl From<AdminTokenError> for AppError {
    fn from(err: AdminTokenError) -> Self {
        match err {
            AdminTokenError::Store(s) => AppError::Store(s),
            AdminTokenError::Random(r) => r.into(),
            other => AppError::InvalidRequest(other.to_string()),
        }
    }
}

impl From<ImportError> for AppError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::Store(s) => AppError::Store(s),
            ImportError::Otp(o) => AppError::Otp(o),
            ImportError::Policy(p) if !p.is_input() => AppError::Policy(p),
            // A row or the whole file was refused: nothing was imported.
            other => AppError::InvalidRequest(format!("{other}; nothing imported")),
        }
    }
}

/// A body or query string read as `T`, or a 400 `invalid_request` that says why: the
/// one way handlers take JSON and query parameters.
pub mod extract {
    use axum::extract::{FromRequest, FromRequestParts, Request};
    use axum::http::request::Parts;

    use super::AppError;

    /// A JSON body.
    pub struct JsonBody<T>(pub T);

    impl<S, T> FromRequest<S> for JsonBody<T>
    where
        axum::Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
        S: Send + Sync,
    {
        type Rejection = AppError;

        async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
            axum::Json::<T>::from_request(req, state)
                .await
                .map(|axum::Json(value)| JsonBody(value))
                .map_err(|rejection| AppError::InvalidRequest(rejection.body_text()))
        }
    }

    /// Query parameters.
    pub struct Params<T>(pub T);

    impl<S, T> FromRequestParts<S> for Params<T>
    where
        axum::extract::Query<T>:
            FromRequestParts<S, Rejection = axum::extract::rejection::QueryRejection>,
        S: Send + Sync,
    {
        type Rejection = AppError;

        async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map(|axum::extract::Query(value)| Params(value))
                .map_err(|rejection| AppError::InvalidRequest(rejection.body_text()))
        }
    }
}

impl From<crate::sso::SsoError> for AppError {
    fn from(err: crate::sso::SsoError) -> Self {
        use crate::sso::SsoError;
        match err {
            SsoError::Store(s) => AppError::Store(s),
            SsoError::Auth(a) => a.into(),
            SsoError::Random(r) => r.into(),
            SsoError::NotFound(_) => AppError::NotFound,
            SsoError::Exists(_) => AppError::BadRequest("already_exists"),
            // The administrator's input: the text names the value.
            SsoError::Invalid(text) => AppError::InvalidRequest(text),
            SsoError::Jwt(crate::jwt::JwtError::Store(s)) => AppError::Store(s),
            SsoError::Jwt(crate::jwt::JwtError::Seal(s)) => AppError::Seal(s),
            SsoError::Jwt(other) => {
                tracing::error!(error = %other, "signing failed");
                AppError::Store(StoreError::WriterStopped)
            }
        }
    }
}

impl From<crate::radius_clients::RadiusClientError> for AppError {
    fn from(err: crate::radius_clients::RadiusClientError) -> Self {
        use crate::radius_clients::RadiusClientError as E;
        match err {
            E::Store(s) => AppError::Store(s),
            E::Seal(s) => AppError::Seal(s),
            E::Ca(c) => AppError::Ca(c),
            E::Rules(r) => r.into(),
            E::NotFound(_) => AppError::NotFound,
            E::Exists(_) => AppError::BadRequest("already_exists"),
            // The administrator's input: the text names the value.
            E::Invalid(text) => AppError::InvalidRequest(text),
        }
    }
}

/// The answers of the OpenID Connect front end (RFC 6749 §5.2, RFC 6750 §3, OIDC
/// Core §3.1.2.6): JSON errors with the RFC's codes, never cached, and the error page
/// for requests that must not be redirected.
pub mod oauth {
    use axum::{
        http::{header, HeaderValue, StatusCode},
        response::{Html, IntoResponse, Response},
        Json,
    };
    use serde_json::json;

    use crate::sso::tokens::OAuthRefusal;

    /// Token responses and errors carry `Cache-Control: no-store` (RFC 6749 §5.1).
    pub fn no_store(mut res: Response) -> Response {
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        res
    }

    /// An error of the token, revocation or introspection endpoint: 401 with a
    /// Basic challenge for `invalid_client` (RFC 6749 §5.2), else 400.
    pub fn token_error(r: OAuthRefusal) -> Response {
        let status = if r.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut res = (
            status,
            Json(json!({"error": r.error, "error_description": r.description})),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"passgrid\""),
            );
        }
        no_store(res)
    }

    /// A bearer token that is missing or not valid (RFC 6750 §3.1).
    pub fn invalid_token() -> Response {
        let mut res = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_token"})),
        )
            .into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"passgrid\", error=\"invalid_token\""),
        );
        no_store(res)
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    /// The page shown instead of a redirect when the client or the redirect URI is not
    /// known (RFC 6749 §4.1.2.1: the user agent must not be sent to the URI).
    pub fn error_page(error: &str, description: &str) -> Response {
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title>\
             <link rel=\"stylesheet\" href=\"/pkg/passgrid.css\"></head><body><main>\
             <h1>This sign-in request cannot be used / このサインイン要求は使えません</h1>\
             <p>{}</p><p><code>{}</code></p></main></body></html>",
            escape(description),
            escape(error)
        );
        no_store((StatusCode::BAD_REQUEST, Html(body)).into_response())
    }

    /// A page that sends the browser on to `url` by itself (a meta refresh) — used
    /// after a sign-in form, whose `form-action 'self'` policy would otherwise also
    /// bind the redirects that follow it to passgrid's own origin.
    pub fn continue_page(url: &str) -> Response {
        let url = escape(url);
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>Continue</title></head>\
             <body><p><a id=\"continue\" href=\"{url}\">Continue / 続ける</a></p></body></html>"
        );
        no_store((StatusCode::OK, Html(body)).into_response())
    }
}

impl From<crate::saml_idp::SamlIdpError> for AppError {
    fn from(err: crate::saml_idp::SamlIdpError) -> Self {
        use crate::saml_idp::SamlIdpError;
        match err {
            SamlIdpError::Store(s) => AppError::Store(s),
            SamlIdpError::Seal(s) => AppError::Seal(s),
            SamlIdpError::Ca(c) => AppError::Ca(c),
            SamlIdpError::Auth(a) => a.into(),
            SamlIdpError::Random(r) => r.into(),
            SamlIdpError::NotFound(_) => AppError::NotFound,
            SamlIdpError::Exists(_) => AppError::BadRequest("already_exists"),
            // The administrator's input or the metadata they named: the text says which.
            SamlIdpError::Invalid(text) | SamlIdpError::Fetch(text) => {
                AppError::InvalidRequest(text)
            }
            SamlIdpError::Saml(other) => {
                // What passgrid itself builds failed (a key, a signature): logged, not sent.
                tracing::error!(error = %other, "SAML signing failed");
                AppError::Store(StoreError::WriterStopped)
            }
        }
    }
}

/// The answers of the SAML front end (SAML Bindings §3.4, §3.5): the auto-submitting
/// form that carries a message to an SP, with a policy that lets exactly its one
/// script run and its form go to exactly that SP endpoint; and passgrid's own error
/// page for requests that get no answer at the SP.
pub mod saml {
    use axum::{
        http::{header, HeaderValue, StatusCode},
        response::{Html, IntoResponse, Response},
    };
    use passgrid_saml::{post_form_html, post_form_script_csp_source, MessageKind};

    use super::oauth::no_store;
    use crate::saml_idp::sign_in::Refusal;

    /// The CSP source for a form's target: the URL itself when it can stand in a
    /// policy as it is, else its origin (CSP Level 3 §2.3.1 source expressions).
    fn form_action_source(action: &str) -> String {
        let plain = action
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"'));
        match url::Url::parse(action) {
            Ok(u) if plain && u.query().is_none() => u.to_string(),
            Ok(u) => u.origin().ascii_serialization(),
            Err(_) => "'none'".into(),
        }
    }

    /// The page that POSTs `xml` to `action` (HTTP-POST binding, Bindings §3.5.4),
    /// never stored by caches (it carries an assertion).
    pub fn post_page(
        action: &str,
        kind: MessageKind,
        xml: &str,
        relay_state: Option<&str>,
    ) -> Response {
        let html = match post_form_html(action, kind, xml, relay_state) {
            Ok(h) => h,
            Err(_) => return error_page(Refusal::BadRequest, "the RelayState is too long"),
        };
        let csp = format!(
            "default-src 'none'; script-src {}; form-action {}; base-uri 'none'; \
             frame-ancestors 'none'",
            post_form_script_csp_source(),
            form_action_source(action)
        );
        let mut res = no_store(Html(html).into_response());
        if let Ok(v) = HeaderValue::from_str(&csp) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
        res
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    /// passgrid's page for a refused SAML request: nothing goes to the SP.
    pub fn error_page(kind: Refusal, reason: &str) -> Response {
        let (status, code, en, ja) = match kind {
            Refusal::BadRequest => (
                StatusCode::BAD_REQUEST,
                "saml_request_refused",
                "This sign-in request cannot be used",
                "このサインイン要求は使えません",
            ),
            Refusal::UnknownSp => (
                StatusCode::BAD_REQUEST,
                "saml_unknown_sp",
                "This service is not registered with passgrid",
                "このサービスは passgrid に登録されていません",
            ),
            Refusal::Stale => (
                StatusCode::BAD_REQUEST,
                "saml_request_stale",
                "This sign-in request has expired or was used already",
                "このサインイン要求は期限切れか使用済みです",
            ),
            Refusal::Denied => (
                StatusCode::FORBIDDEN,
                "saml_access_denied",
                "You may not use this service here and now",
                "このサービスは現在ここからは利用できません",
            ),
        };
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title>\
             <link rel=\"stylesheet\" href=\"/pkg/passgrid.css\"></head><body><main>\
             <h1>{en} / {ja}</h1><p>{}</p><p><code data-error=\"{code}\">{code}</code></p>\
             <p><a href=\"/me\">passgrid</a></p></main></body></html>",
            escape(reason)
        );
        no_store((status, Html(body)).into_response())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn form_action_is_the_endpoint_or_its_origin() {
            assert_eq!(
                form_action_source("https://sp.example/saml/acs"),
                "https://sp.example/saml/acs"
            );
            assert_eq!(
                form_action_source("https://sp.example:8443/acs?x=1;y"),
                "https://sp.example:8443"
            );
            assert_eq!(form_action_source("not a url"), "'none'");
        }
    }
}
