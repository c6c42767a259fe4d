//! passgrid's RADIUS server (SPEC §10.4, RFC 2865/2866/3579/6614): VPNs and network
//! devices sign their users in through the one login decision (`auth::login`), from a
//! UDP datagram or a RadSec stream instead of an HTTP request. The protocol itself
//! (codec, authenticators, Message-Authenticator, EAP-MSCHAPv2, duplicate cache) is
//! the `passgrid-radius` crate; this module gives it passgrid's NAS table, users,
//! policies, audit and metrics.
//!
//! - [`clients`]: the NAS table from the database (secrets opened from their seal).
//! - [`decide`]: what each Access-Request gets: PAP with the portal's grid, an
//!   Access-Challenge with the grid as text, TOTP codes; and accounting.
//! - [`eap`]: EAP-MSCHAPv2, checked against the answers the pending challenge accepts.
//! - [`accept`]: the application's access rules, then Class and per-group attributes.
//! - [`radsec`]: RADIUS over TLS with NAS certificates from passgrid's CA.
//! - [`web_grid`]: the portal's "VPN sign-in" grid.

pub mod accept;
pub mod clients;
pub mod decide;
pub mod eap;
pub mod grid_text;
pub mod radsec;
pub mod state;
pub mod web_grid;

use std::{net::SocketAddr, sync::Arc};

use passgrid_radius::{serve_udp, Counters, EapMschapv2, UdpServerOptions};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio::net::UdpSocket;

use crate::{auth::Authenticator, metrics::Metrics};

/// `[radius]` of the configuration file; RADIUS is off unless `listen` is set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadiusFile {
    /// Authentication (and accounting) over UDP, e.g. "0.0.0.0:1812" (RFC 2865 §3).
    pub listen: Option<SocketAddr>,
    /// A separate accounting port, e.g. "0.0.0.0:1813" (RFC 2866 §3); accounting is
    /// answered on `listen` too.
    pub accounting_listen: Option<SocketAddr>,
    /// RadSec (RFC 6614), e.g. "0.0.0.0:2083": NAS devices with a certificate from
    /// passgrid's CA, over TLS.
    pub radsec_listen: Option<SocketAddr>,
    /// The name passgrid gives itself in EAP-MSCHAPv2 challenges.
    pub server_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RadiusError {
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("RadSec TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Where the RADIUS listeners ended up (for the start banner).
#[derive(Debug, Default, Clone)]
pub struct RadiusAddresses {
    pub auth: Option<SocketAddr>,
    pub accounting: Option<SocketAddr>,
    pub radsec: Option<SocketAddr>,
}

/// What `passgrid serve` hands the RADIUS server.
pub struct RadiusStart<'a> {
    pub authn: Authenticator,
    pub file: &'a RadiusFile,
    pub metrics: Arc<Metrics>,
    /// passgrid's CA certificate: NAS certificates must chain to it (RadSec).
    pub ca_cert: CertificateDer<'static>,
    /// The server's TLS identity (the HTTPS listener's).
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// Binds the configured listeners and serves them in background tasks. Nothing is
/// started when `[radius] listen` and `radsec_listen` are both unset.
pub async fn start(start: RadiusStart<'_>) -> Result<RadiusAddresses, RadiusError> {
    let file = start.file;
    if file.listen.is_none() && file.radsec_listen.is_none() {
        return Ok(RadiusAddresses::default());
    }
    let nas = clients::NasTable::load(&start.authn.instance).await?;
    tokio::spawn(clients::keep_loaded(
        nas.clone(),
        start.authn.instance.clone(),
    ));
    let events = Arc::new(decide::Events::default());
    let udp_counters = Arc::new(Counters::default());
    let radsec_counters = Arc::new(Counters::default());
    let handshakes = Arc::new(radsec::HandshakeCounters::default());
    start
        .metrics
        .add_source(Arc::new(metrics_text::RadiusMetrics {
            udp: udp_counters.clone(),
            radsec: radsec_counters.clone(),
            events: events.clone(),
            handshakes: handshakes.clone(),
        }));
    let server_name = file.server_name.as_deref().unwrap_or("passgrid");
    let decider = Arc::new(decide::Decide {
        authn: start.authn.clone(),
        nas: nas.clone(),
        eap: EapMschapv2::new(server_name),
        events,
    });
    let mut addresses = RadiusAddresses::default();
    let udp_ports = [file.listen, file.accounting_listen];
    for (i, listen) in udp_ports.into_iter().enumerate() {
        let Some(listen) = listen else { continue };
        let socket = UdpSocket::bind(listen)
            .await
            .map_err(|e| RadiusError::Listen(listen, e))?;
        let local = socket
            .local_addr()
            .map_err(|e| RadiusError::Listen(listen, e))?;
        if i == 0 {
            addresses.auth = Some(local);
        } else {
            addresses.accounting = Some(local);
        }
        let options = UdpServerOptions {
            counters: udp_counters.clone(),
            ..UdpServerOptions::default()
        };
        let (nas, decider) = (nas.clone(), decider.clone());
        tokio::spawn(async move {
            if let Err(error) = serve_udp(Arc::new(socket), nas, decider, options).await {
                tracing::error!(%error, "the RADIUS server stopped");
            }
        });
    }
    if let Some(listen) = file.radsec_listen {
        let config = radsec::tls_config(&start.ca_cert, start.chain, start.key, nas.clone())
            .map_err(|e| RadiusError::Tls(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| RadiusError::Listen(listen, e))?;
        addresses.radsec = Some(
            listener
                .local_addr()
                .map_err(|e| RadiusError::Listen(listen, e))?,
        );
        tokio::spawn(radsec::serve(
            listener,
            config,
            nas,
            decider,
            radsec_counters,
            handshakes,
        ));
    }
    Ok(addresses)
}

mod metrics_text;

#[cfg(test)]
mod tests;
