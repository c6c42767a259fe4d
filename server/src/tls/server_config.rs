//! rustls server configuration: TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1, and a client
//! certificate verifier that accepts certificates chaining to passgrid's CA but also
//! lets clients without one in (the login flow decides what they may do).

use std::sync::Arc;

use rustls::{
    crypto::ring,
    server::{danger::ClientCertVerifier, WebPkiClientVerifier},
    RootCertStore, ServerConfig,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("CA certificate is not usable as a trust anchor: {0}")]
    TrustAnchor(rustls::Error),
    #[error("client certificate verifier: {0}")]
    Verifier(String),
    #[error("server certificate or key: {0}")]
    Identity(rustls::Error),
}

/// Builds the listener's TLS configuration.
pub fn server_config(
    ca_cert: &CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = Arc::new(ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_cert.clone())
        .map_err(TlsSetupError::TrustAnchor)?;
    let verifier: Arc<dyn ClientCertVerifier> =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsSetupError::Identity)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsSetupError::Identity)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
