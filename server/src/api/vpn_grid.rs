//! `POST /api/v1/me/vpn-grid`: the portal's "VPN sign-in" grid for programs (SPEC
//! §10.4), with the session cookie and the CSRF token in `X-CSRF-Token`; the grid's
//! digits come back like `auth/start`'s.

use app::grid::digits_from_seed;
use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde_json::json;
use std::net::SocketAddr;

use crate::{
    http::{csrf::csrf_ok, error::AppError, AppState, SignedIn},
    radius::web_grid::{issue_web_grid, VpnGrid},
};

/// POST /api/v1/me/vpn-grid
pub async fn vpn_grid_json(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Err(AppError::Unauthorized);
    };
    let submitted = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !csrf_ok(&headers, submitted) {
        return Err(AppError::BadRequest("csrf"));
    }
    if !state.radius_enabled {
        return Err(AppError::BadRequest("radius_off"));
    }
    let issued = match issue_web_grid(&state, &user.user_id, Some(peer.ip())).await? {
        VpnGrid::Issued(issued) => issued,
        VpnGrid::NotAvailable(code) => return Err(AppError::BadRequest(code)),
        VpnGrid::Refused(refusal) => return Err(AppError::Refused(refusal)),
    };
    let digits: String = digits_from_seed(&issued.seed, issued.shape)
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    let mut res = Json(json!({
        "challenge": issued.id,
        "grid": {
            "rows": issued.shape.rows(),
            "cols": issued.shape.cols(),
            "seed": hex::encode(issued.seed),
            "digits": digits,
        },
        "expires_at": issued.expires_at,
    }))
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
