//! The CA certificate for download (to be trusted by browsers and clients).

use axum::{extract::State, http::header, response::IntoResponse};

use crate::web::AppState;

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
