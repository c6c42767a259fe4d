//! `GET /api/v1/whoami`: the verified client certificate of this connection (and, once
//! sessions exist, the session).

use axum::{extract::State, Extension, Json};
use serde_json::{json, Value};

use crate::{error::AppError, tls::ConnectionInfo, web::AppState};

pub async fn whoami(
    State(state): State<AppState>,
    conn: Option<Extension<ConnectionInfo>>,
) -> Result<Json<Value>, AppError> {
    let Some(Extension(conn)) = conn else {
        return Ok(Json(
            json!({ "certificate": null, "certificate_status": "none", "session": null }),
        ));
    };
    let Some(cert) = conn.client_certificate.as_ref() else {
        return Ok(Json(json!({
            "certificate": null,
            "certificate_status": "none",
            "session": null,
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
        "user": record.map(|r| r.user_id),
        "session": null,
        "tls_version": conn.tls_version,
    })))
}
