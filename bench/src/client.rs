//! What the load generators share: a TLS client trusting passgrid's CA, HTTP/1.1
//! keep-alive connections (optionally from a chosen loopback source address), a JSON
//! POST that keeps the flow cookie, and percentiles.

use std::{net::IpAddr, sync::Arc};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Request};
use hyper_util::rt::TokioIo;
use rustls::{pki_types::ServerName, ClientConfig, RootCertStore};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use tokio::net::TcpSocket;
use tokio_rustls::TlsConnector;

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// The host and port of an `https://HOST:PORT` URL, refused unless it is loopback:
/// these tools measure a server on this machine only.
pub fn loopback_target(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or("--url must be https://HOST:PORT")?;
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or("--url needs a port")?;
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        return Err("only loopback servers may be benchmarked".into());
    }
    Ok((
        host.trim_matches(['[', ']']).to_string(),
        port.parse().map_err(|e| format!("port: {e}"))?,
    ))
}

/// A TLS client that trusts the CA certificates in the PEM file `ca`.
pub fn tls_connector(ca: &str) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    let cas = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{ca}: {e:?}"))?;
    for cert in cas {
        roots
            .add(cert)
            .map_err(|_| format!("{ca} is not a usable CA certificate"))?;
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .map_err(|e| format!("TLS setup: {e}"))?;
    Ok(TlsConnector::from(Arc::new(config)))
}

/// A keep-alive connection, from `source` when given (any 127.0.0.0/8 address is
/// this machine; the server sees it as the client's address).
pub async fn connect(
    host: &str,
    port: u16,
    tls: &TlsConnector,
    source: Option<IpAddr>,
) -> Result<Sender, String> {
    let target = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let socket = if target.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(ip) = source {
        socket
            .bind((ip, 0).into())
            .map_err(|e| format!("bind {ip}: {e}"))?;
    }
    let tcp = socket.connect(target).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

/// POSTs JSON with the flow cookie; returns the status, a new flow cookie if one was
/// set, and the body.
pub async fn post(
    sender: &mut Sender,
    path: &str,
    body: String,
    cookie: &str,
) -> Result<(u16, Option<String>, Bytes), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json");
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("passgrid_flow="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, set_cookie, body))
}

/// The `p` quantile of sorted microsecond latencies, in milliseconds.
pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// One grid login (start → digits at `cells` → verify); `Err` names the step that
/// did not answer 200.
pub async fn login_round(
    sender: &mut Sender,
    cookie: &mut String,
    user: &str,
    cells: &[usize],
) -> Result<(), String> {
    let start = serde_json::json!({ "user": user }).to_string();
    let (status, set, body) = post(sender, "/api/v1/auth/start", start, cookie).await?;
    if let Some(c) = set {
        *cookie = c;
    }
    if status != 200 {
        return Err(format!("start: {status}"));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let digits = v["grid"]["digits"].as_str().ok_or("no digits")?.as_bytes();
    let otp: String = cells
        .iter()
        .map(|&c| {
            digits
                .get(c)
                .map(|&d| char::from(d))
                .ok_or("cell out of range")
        })
        .collect::<Result<_, _>>()?;
    let verify = serde_json::json!({ "challenge": v["challenge"], "otp": otp }).to_string();
    let (status, _, _) = post(sender, "/api/v1/auth/verify", verify, cookie).await?;
    if status != 200 {
        return Err(format!("verify: {status}"));
    }
    Ok(())
}
