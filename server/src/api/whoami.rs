//! `GET /api/v1/whoami`: the verified client certificate of this connection (and, once
//! sessions exist, the session).

use axum::{extract::State, Extension, Json};
use serde_json::{json, Value};

use crate::{
    http::{error::AppError, AppState, SignedIn},
    tls::ConnectionInfo,
};

pub async fn whoami(
    State(state): State<AppState>,
    conn: Option<Extension<ConnectionInfo>>,
    signed_in: Option<Extension<SignedIn>>,
) -> Result<Json<Value>, AppError> {
    let session = match signed_in {
        Some(Extension(s)) => json!({ "user": s.user_id }),
        None => Value::Null,
    };
    let Some(Extension(conn)) = conn else {
        return Ok(Json(
            json!({ "certificate": null, "certificate_status": "none", "session": null }),
        ));
    };
    let Some(cert) = conn.client_certificate.as_ref() else {
        return Ok(Json(json!({
            "certificate": null,
            "certificate_status": "none",
            "session": session,
            "tls_version": conn.tls_version,
        })));
    };
    // rustls checked the chain and validity; the database knows about revocation.
    let record = state
        .instance
        .store
        .client_certificate(&cert.serial)
        .await?;
    let status = match &record {
        Some(r) if r.revoked_at.is_some() => "revoked",
        Some(_) => "verified",
        None => "verified_unknown_serial",
    };
    Ok(Json(json!({
        "certificate": cert.as_ref(),
        "certificate_status": status,
        "shared_profile": record.as_ref().and_then(|r| r.shared_profile.clone()),
        "user": record.and_then(|r| r.user_id),
        "session": session,
        "tls_version": conn.tls_version,
    })))
}
