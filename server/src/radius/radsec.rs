//! RadSec (RFC 6614): RADIUS over TLS on port 2083. A NAS shows a certificate that
//! passgrid's CA issued *to that NAS* (`passgrid radius client cert`): the chain is
//! checked against the CA, and the certificate must be one of the NAS certificates on
//! record and unrevoked — a user's device certificate, another CA's certificate or a
//! revoked one fails the handshake itself. No shared secret crosses the wire (the
//! packets use the fixed "radsec", RFC 6614 §2.3). Each handshake runs in its own
//! task with a timeout, so a silent peer holds up nobody.

use std::{
    sync::{atomic::AtomicU64, atomic::Ordering::Relaxed, Arc},
    time::Duration,
};

use passgrid_radius::{serve_stream, ClientInfo, Counters, Transport};
use rustls::{
    client::danger::HandshakeSignatureValid,
    crypto::ring,
    pki_types::UnixTime,
    server::danger::{ClientCertVerified, ClientCertVerifier},
    server::WebPkiClientVerifier,
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{clients::NasTable, decide::Decide};
use crate::tls::ClientCertificate;

/// How long a peer may take for its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// RadSec handshakes by result (for `/metrics`).
#[derive(Debug, Default)]
pub struct HandshakeCounters {
    pub ok: AtomicU64,
    pub refused: AtomicU64,
    pub timed_out: AtomicU64,
}

/// Checks the chain with webpki, then that the certificate is a NAS's and unrevoked.
#[derive(Debug)]
struct NasCertificateVerifier {
    chain: Arc<dyn ClientCertVerifier>,
    nas: NasTable,
}

impl ClientCertVerifier for NasCertificateVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.chain.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.chain
            .verify_client_cert(end_entity, intermediates, now)?;
        let parsed = ClientCertificate::from_der(end_entity.as_ref()).ok_or(
            rustls::Error::InvalidCertificate(CertificateError::BadEncoding),
        )?;
        // Not a NAS certificate, or revoked: refused before any packet is read.
        let nas = self
            .nas
            .certificate(&parsed.serial)
            .ok_or(rustls::Error::InvalidCertificate(CertificateError::Revoked))?;
        let fingerprint = hex::encode(Sha256::digest(end_entity.as_ref()));
        if nas.fingerprint_sha256 != fingerprint {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// The RadSec listener's TLS configuration: passgrid's server identity, NAS
/// certificates required.
pub fn tls_config(
    ca_cert: &CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    nas: NasTable,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(ca_cert.clone())?;
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let verifier = Arc::new(NasCertificateVerifier { chain: webpki, nas });
    // RFC 6614 §2.3 asks for TLS 1.2 at least.
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// Accepts RadSec connections until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    nas: NasTable,
    decider: Arc<Decide>,
    counters: Arc<Counters>,
    handshakes: Arc<HandshakeCounters>,
) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "RadSec accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, nas, decider, counters, handshakes) = (
            acceptor.clone(),
            nas.clone(),
            decider.clone(),
            counters.clone(),
            handshakes.clone(),
        );
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    handshakes.refused.fetch_add(1, Relaxed);
                    tracing::info!(%error, %peer, "RadSec handshake refused");
                    return;
                }
                Err(_) => {
                    handshakes.timed_out.fetch_add(1, Relaxed);
                    return;
                }
            };
            let certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|der| ClientCertificate::from_der(der.as_ref()));
            let Some(name) = certificate
                .and_then(|c| nas.certificate(&c.serial))
                .map(|c| c.client)
            else {
                handshakes.refused.fetch_add(1, Relaxed);
                return;
            };
            // The NAS's address block holds for RadSec too.
            if !nas
                .nas(&name)
                .is_some_and(|n| n.network.contains(peer.ip()))
            {
                handshakes.refused.fetch_add(1, Relaxed);
                tracing::info!(%peer, nas = name, "RadSec peer outside its NAS's addresses");
                return;
            }
            handshakes.ok.fetch_add(1, Relaxed);
            let info = ClientInfo {
                name,
                source: peer,
                transport: Transport::RadSec,
            };
            if let Err(error) = serve_stream(tls, info, decider, counters).await {
                tracing::debug!(%error, %peer, "RadSec connection ended");
            }
        });
    }
}
