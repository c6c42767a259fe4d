//! The portal's "VPN sign-in" grid (PassLogic's way, SPEC §10.4): a signed-in user
//! asks for a fresh grid, bound to them and valid for the challenge lifetime; the VPN
//! client then sends its one-time password by PAP (or EAP-MSCHAPv2) and the pending
//! challenge is consumed by that one sign-in. Issued through the login decision's
//! start, so rate limits, lock-out, access rules and login protect hold here too.

use std::net::IpAddr;

use super::state::web_grid_flow_hash;
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{
        login::{start_login, Client, Refusal, Started},
        session::unfinished_step,
        AuthError, Authenticator,
    },
    otp::challenge::IssuedChallenge,
    policy::{LoginMethod, RadiusMode},
};

/// What asking for a VPN grid gave.
pub enum VpnGrid {
    Issued(IssuedChallenge),
    /// The user's policy has no use for it: `radius_off`, `uses_totp` (the VPN takes
    /// the authenticator's code), `certificate_required` (RADIUS carries no device
    /// certificate), or `unfinished` (the first sign-in's steps come first).
    NotAvailable(&'static str),
    Refused(Refusal),
}

/// Why a user's policy gives them no VPN grid, if it does not.
pub fn unavailable_reason(settings: &crate::policy::AuthSettings) -> Option<&'static str> {
    if settings.radius_mode == RadiusMode::Off {
        Some("radius_off")
    } else if settings.method == LoginMethod::Totp {
        Some("uses_totp")
    } else if settings.require_certificate {
        Some("certificate_required")
    } else {
        None
    }
}

/// Issues a VPN grid for the signed-in `user_id` (asking from `ip`).
pub async fn issue_web_grid(
    authn: &Authenticator,
    user_id: &str,
    ip: Option<IpAddr>,
) -> Result<VpnGrid, AuthError> {
    let settings = authn.settings_for(user_id).await?;
    if let Some(reason) = unavailable_reason(&settings) {
        return Ok(VpnGrid::NotAvailable(reason));
    }
    let store = &authn.instance.store;
    if unfinished_step(store, &settings, user_id).await?.is_some() {
        return Ok(VpnGrid::NotAvailable("unfinished"));
    }
    let flow = web_grid_flow_hash(user_id);
    let source = ip.map(|ip| ip.to_string()).unwrap_or_default();
    // No device certificate in the binding: the grid is answered over RADIUS, which
    // has none to show.
    let client = Client {
        source: &source,
        ip,
        flow_hash: &flow,
        cert_serial: None,
        cert_fingerprint: None,
    };
    let issued = match start_login(authn, user_id, &client).await? {
        Started::Grid(issued) => issued,
        Started::Refused(refusal) => return Ok(VpnGrid::Refused(refusal)),
        Started::DeviceNotRegistered => return Ok(VpnGrid::NotAvailable("certificate_required")),
    };
    let now = authn.instance.clock.now();
    store
        .set_radius_web_grid(user_id, &issued.id, issued.expires_at, now)
        .await?;
    record(
        store,
        AuditEvent {
            actor: user_id,
            source: &source,
            action: Action::RadiusWebGrid,
            target: user_id,
            outcome: Outcome::Success,
            reason: "",
        },
        now,
    )
    .await;
    Ok(VpnGrid::Issued(issued))
}
