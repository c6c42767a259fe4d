//! The CA certificate for download (to be trusted by browsers and clients).

use axum::{extract::State, http::header, response::IntoResponse};

use crate::{http::error::AppError, http::AppState};

pub async fn ca_pem(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"passgrid-ca.pem\"",
            ),
        ],
        state.instance.ca.cert_pem().to_string(),
    )
}

/// The current CRL (DER), regenerated first when it is close to its nextUpdate.
pub async fn crl_der(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let now = state.instance.clock.now();
    let crl = state.instance.ca.crl(&state.instance.store, now).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-crl"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"passgrid.crl\"",
            ),
            // Relying parties may cache it briefly; a revocation publishes a new one.
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        crl.der,
    ))
}
