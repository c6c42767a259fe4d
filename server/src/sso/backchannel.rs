//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5): a POST
//! of `logout_token=…` to each client's registered URI, over HTTPS (trusting the
//! system's CAs and passgrid's own) or HTTP on loopback, with a short timeout — a
//! client that does not answer must not hold up the user's logout. The same client
//! fetches a SAML SP's metadata from its URL (GET, bounded in size).

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

    /// GETs `uri` (HTTPS, or HTTP on loopback only): the status and at most
    /// `max_bytes` of body, or why there is none.
    pub async fn get(&self, uri: &str, max_bytes: usize) -> Result<(u16, Vec<u8>), String> {
        tokio::time::timeout(TIMEOUT, self.fetch(uri, max_bytes))
            .await
            .map_err(|_| "timed out".to_string())?
    }

    async fn fetch(&self, uri: &str, max_bytes: usize) -> Result<(u16, Vec<u8>), String> {
        let url = url::Url::parse(uri).map_err(|e| e.to_string())?;
        let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || url.host_str() == Some("localhost");
        if url.scheme() == "http" && !loopback {
            return Err("plain http:// only on loopback; use https://".into());
        }
        let (host, port, path) = target(&url)?;
        let req = Request::get(path)
            .header(header::HOST, host_header(&url, &host))
            .header(
                header::ACCEPT,
                "application/samlmetadata+xml, application/xml, text/xml",
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
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
                exchange_body(TokioIo::new(stream), req, max_bytes).await
            }
            "http" => exchange_body(TokioIo::new(tcp), req, max_bytes).await,
            other => Err(format!("scheme {other}")),
        }
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

/// Host, port and path with query of `url`.
fn target(url: &url::Url) -> Result<(String, u16, String), String> {
    let host = url.host_str().ok_or("no host")?.to_string();
    let port = url.port_or_known_default().ok_or("no port")?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Ok((host, port, path))
}

fn host_header(url: &url::Url, host: &str) -> String {
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// One request; the status and a body of at most `max_bytes` (refused if longer).
async fn exchange_body<T>(
    io: T,
    req: Request<Full<Bytes>>,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = http_body_util::Limited::new(res.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, body.to_vec()))
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
