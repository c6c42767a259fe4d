//! The accept loops: HTTPS, and the plain-HTTP redirect. Each connection is admitted
//! against the connection limits (`connections`) and then served in its own task —
//! TLS handshake (with a timeout) included, never in the loop itself: a client that
//! connects and says nothing only holds its own task and its own place, and that place
//! is taken back when it stays silent too long or when a new client needs it.

use std::{convert::Infallible, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{
    body::{Frame, Incoming, SizeHint},
    Request,
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::{
    connections::{idle_expiry, Activity, Admitted, Connections, InFlight, Refused},
    ClientCertificate,
};
use crate::metrics::Metrics;

/// What the connection knows, attached to every request made on it.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// The client's address: the TCP peer, or — on a connection from a trusted proxy —
    /// the client the proxy names (`http::proxy`). Every rate limit, network rule and
    /// audit entry reads it here (or from `ConnectInfo`, which carries the same).
    pub peer: SocketAddr,
    /// The trusted proxy the request came through, when `peer` is the client it named.
    pub forwarded_by: Option<std::net::IpAddr>,
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

/// A response body that keeps its request counted as in flight until it has been sent
/// (or dropped): a long download is not an idle connection.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = <Body as hyper::body::Body>::Data;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn http_builder(limits: ListenerLimits) -> Arc<Builder<TokioExecutor>> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    Arc::new(builder)
}

/// Serves HTTP on `io` until it ends, every request counted on `activity` and given
/// `extend` to add what the connection knows.
async fn serve_http<I>(
    io: I,
    router: Router,
    activity: Arc<Activity>,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: hyper_util::server::graceful::Watcher,
    extend: impl Fn(&mut Request<Body>) + Clone + Send + Sync + 'static,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let in_flight = activity.request_started();
        let mut req = req.map(Body::new);
        extend(&mut req);
        let response = router.clone().oneshot(req);
        async move {
            let response = response.await?;
            Ok::<_, Infallible>(response.map(|inner| {
                Body::new(TrackedBody {
                    inner,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    if let Err(err) = watcher.watch(conn.into_owned()).await {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// Runs `serve` for an admitted connection until it ends, is idle too long, or is
/// closed to make room for a new connection.
async fn within_limits(
    admitted: Admitted,
    connections: Arc<Connections>,
    metrics: Arc<Metrics>,
    serve: impl std::future::Future<Output = ()>,
) {
    let _open = metrics.connection_opened();
    tokio::select! {
        _ = serve => {}
        _ = idle_expiry(&admitted.activity, &connections.limits) => metrics.connection_closed_idle(),
        _ = admitted.close.notified() => metrics.connection_evicted(),
    }
}

/// Admits a new connection or counts why not.
fn admit(connections: &Arc<Connections>, metrics: &Metrics, peer: SocketAddr) -> Option<Admitted> {
    match connections.admit(peer.ip()) {
        Ok(admitted) => Some(admitted),
        Err(refused) => {
            metrics.connection_refused();
            tracing::debug!(%peer, ?refused, "connection refused: every place is busy");
            let _: Refused = refused;
            None
        }
    }
}

/// Accepts the next connection; `None` when `shutdown` came first.
async fn accept(
    listener: &TcpListener,
    shutdown: &mut Pin<&mut impl std::future::Future<Output = ()>>,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => return Some(pair),
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.as_mut() => return None,
        }
    }
}

/// Accepts HTTPS connections until `shutdown` resolves, then lets open connections
/// finish (for at most `drain`).
#[allow(clippy::too_many_arguments)]
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    limits: ListenerLimits,
    connections: Arc<Connections>,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = http_builder(limits);
    tokio::pin!(shutdown);
    while let Some((tcp, peer)) = accept(&listener, &mut shutdown).await {
        let Some(admitted) = admit(&connections, &metrics, peer) else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let task_metrics = metrics.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let activity = admitted.activity.clone();
        let serve = async move {
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(err)) => {
                        task_metrics.handshake_failed();
                        tracing::debug!(%peer, error = %err, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        task_metrics.handshake_timed_out();
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
            task_metrics.handshake_ok(client_certificate.is_some());
            let info = ConnectionInfo {
                peer,
                forwarded_by: None,
                client_certificate,
                tls_version: match session.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                    _ => "unknown",
                },
            };
            serve_http(tls, router, activity, builder, watcher, move |req| {
                req.extensions_mut().insert(info.clone());
                req.extensions_mut().insert(ConnectInfo(info.peer));
            })
            .await;
        };
        tokio::spawn(within_limits(
            admitted,
            connections.clone(),
            metrics.clone(),
            serve,
        ));
    }
    tracing::info!("stopped accepting; draining open connections");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {drain:?}");
    }
}

/// Accepts plain-HTTP connections (the redirect to HTTPS) under the same limits and
/// the same places as the HTTPS listener, until the process ends.
pub async fn serve_plain(
    listener: TcpListener,
    router: Router,
    limits: ListenerLimits,
    connections: Arc<Connections>,
    metrics: Arc<Metrics>,
) {
    let graceful = GracefulShutdown::new();
    let builder = http_builder(limits);
    let never = std::future::pending::<()>();
    tokio::pin!(never);
    while let Some((tcp, peer)) = accept(&listener, &mut never).await {
        let Some(admitted) = admit(&connections, &metrics, peer) else {
            continue;
        };
        let serve = serve_http(
            tcp,
            router.clone(),
            admitted.activity.clone(),
            builder.clone(),
            graceful.watcher(),
            move |req| {
                req.extensions_mut().insert(ConnectInfo(peer));
            },
        );
        tokio::spawn(within_limits(
            admitted,
            connections.clone(),
            metrics.clone(),
            serve,
        ));
    }
}
