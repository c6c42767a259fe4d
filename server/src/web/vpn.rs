//! The portal's "VPN sign-in" (SPEC §10.4): the form that asks for a grid (the page
//! shows it). The grid is issued by `radius::web_grid`, through the login decision's
//! start; `api::vpn_grid` gives the same to programs.

use axum::{
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use std::net::SocketAddr;

use super::login::CsrfForm;
use crate::{
    http::{
        csrf::csrf_ok,
        error::{refusal_page_code, AppError},
        AppState, SignedIn,
    },
    radius::web_grid::{issue_web_grid, VpnGrid},
};

/// POST /me/vpn/grid: a grid for the VPN, shown at GET /me/vpn/grid?c=….
pub async fn show_grid(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed_in: Option<Extension<SignedIn>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some(Extension(user)) = signed_in else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !csrf_ok(&headers, form.csrf()) {
        return Ok(Redirect::to("/me/vpn?error=csrf").into_response());
    }
    if !state.radius_enabled {
        return Ok(Redirect::to("/me/vpn?error=radius_off").into_response());
    }
    let to = match issue_web_grid(&state, &user.user_id, Some(peer.ip())).await? {
        VpnGrid::Issued(issued) => format!("/me/vpn/grid?c={}", issued.id),
        VpnGrid::NotAvailable(code) => format!("/me/vpn?error={code}"),
        VpnGrid::Refused(refusal) => format!("/me/vpn?error={}", refusal_page_code(&refusal)),
    };
    Ok(Redirect::to(&to).into_response())
}
