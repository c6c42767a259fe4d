//! The HTTPS accept loop. Each connection's TLS handshake runs in its own task with a
//! timeout, never in the loop itself: a client that connects and says nothing only
//! holds its own task, and everyone else's handshake proceeds at once.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::ClientCertificate;
use crate::metrics::Metrics;

/// What the connection knows, attached to every request made on it.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub peer: SocketAddr,
    /// The client certificate rustls verified against passgrid's CA, if one was sent.
    pub client_certificate: Option<Arc<ClientCertificate>>,
    pub tls_version: &'static str,
}

/// Limits of the listener.
#[derive(Clone, Copy, Debug)]
pub struct ListenerLimits {
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
}

/// Accepts connections until `shutdown` resolves, then lets open connections finish
/// (for at most `drain`).
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    limits: ListenerLimits,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let metrics = metrics.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(err)) => {
                        metrics.handshake_failed();
                        tracing::debug!(%peer, error = %err, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        metrics.handshake_timed_out();
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let (_, session) = tls.get_ref();
            let client_certificate = session
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|der| ClientCertificate::from_der(der))
                .map(Arc::new);
            metrics.handshake_ok(client_certificate.is_some());
            let info = ConnectionInfo {
                peer,
                client_certificate,
                tls_version: match session.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                    _ => "unknown",
                },
            };
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(info.clone());
                req.extensions_mut().insert(ConnectInfo(info.peer));
                router.clone().oneshot(req)
            });
            let _open = metrics.connection_opened();
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(err) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    tracing::info!("stopped accepting; draining open connections");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {drain:?}");
    }
}
