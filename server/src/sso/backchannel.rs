//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5): a POST
//! of `logout_token=…` to each client's registered URI, over HTTPS (trusting the
//! system's CAs and passgrid's own) or HTTP on loopback, with a short timeout — a
//! client that does not answer must not hold up the user's logout.

use std::{sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Request};
use hyper_util::rt::TokioIo;
use rustls::{pki_types::ServerName, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Sends logout tokens.
pub struct Sender {
    tls: TlsConnector,
}

impl Sender {
    /// A sender that trusts the system's CAs and passgrid's CA certificate `ca_der`.
    pub fn new(ca_der: &[u8]) -> Sender {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let _ = roots.add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()));
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        let config = match config {
            Ok(c) => c,
            // The ring provider supports the default versions; this does not happen.
            Err(_) => ClientConfig::builder()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
        };
        Sender {
            tls: TlsConnector::from(Arc::new(config)),
        }
    }

    /// POSTs the logout token; the HTTP status, or why there is none.
    pub async fn send(&self, uri: &str, logout_token: &str) -> Result<u16, String> {
        tokio::time::timeout(TIMEOUT, self.post(uri, logout_token))
            .await
            .map_err(|_| "timed out".to_string())?
    }

    async fn post(&self, uri: &str, logout_token: &str) -> Result<u16, String> {
        let url = url::Url::parse(uri).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_string();
        let port = url.port_or_known_default().ok_or("no port")?;
        let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| e.to_string())?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let body = format!("logout_token={}", urlencode(logout_token));
        let req = Request::post(path)
            .header(header::HOST, host_header)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        match url.scheme() {
            "https" => {
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                    .map_err(|e| e.to_string())?;
                let stream = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                exchange(TokioIo::new(stream), req).await
            }
            "http" => exchange(TokioIo::new(tcp), req).await,
            other => Err(format!("scheme {other}")),
        }
    }
}

async fn exchange<T>(io: T, req: Request<Full<Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let _ = res.into_body().collect().await;
    Ok(status)
}

/// Form encoding of a JWT's characters (base64url and dots need none, but be exact).
fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
