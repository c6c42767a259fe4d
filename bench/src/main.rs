//! Grid login rounds per second: each of N connections (HTTPS, HTTP/1.1 keep-alive)
//! loops start → read the digits at the pattern's cells → verify, for a bounded time,
//! and the latency of every round is recorded.
//!
//!     login-bench --url https://127.0.0.1:8443 --ca data/ca.pem --user alice \
//!                 --cells 3,17,17,40,9,26,44 [--connections 16] [--seconds 10]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Request};
use hyper_util::rt::TokioIo;
use rustls::{pki_types::ServerName, ClientConfig, RootCertStore};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Args {
    host: String,
    port: u16,
    ca: String,
    user: String,
    cells: Vec<usize>,
    connections: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut ca, mut user, mut cells) = (None, None, None, None);
    let (mut connections, mut seconds) = (16usize, 10u64);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--ca" => ca = Some(value()?),
            "--user" => user = Some(value()?),
            "--cells" => cells = Some(value()?),
            "--connections" => {
                connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            "--seconds" => seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let url = url.ok_or("--url is required")?;
    let rest = url
        .strip_prefix("https://")
        .ok_or("--url must be https://HOST:PORT")?;
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or("--url needs a port")?;
    // Loopback only: this tool is for measuring a server on this machine.
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        return Err("only loopback servers may be benchmarked".into());
    }
    Ok(Args {
        host: host.trim_matches(['[', ']']).to_string(),
        port: port.parse().map_err(|e| format!("port: {e}"))?,
        ca: ca.ok_or("--ca is required")?,
        user: user.ok_or("--user is required")?,
        cells: cells
            .ok_or("--cells is required")?
            .split(',')
            .map(|c| {
                c.trim()
                    .parse::<usize>()
                    .map_err(|e| format!("--cells: {e}"))
            })
            .collect::<Result<_, _>>()?,
        connections: connections.clamp(1, 256),
        seconds: seconds.clamp(1, 120),
    })
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(args: &Args, tls: &TlsConnector) -> Result<Sender, String> {
    let tcp = TcpStream::connect((args.host.as_str(), args.port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(args.host.clone()).map_err(|e| e.to_string())?;
    let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn post(
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

/// One connection's loop; returns the latency of each successful round (µs) and errors.
async fn worker(args: Arc<Args>, tls: TlsConnector, until: Instant) -> (Vec<u32>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let Ok(mut sender) = connect(&args, &tls).await else {
        return (latencies, 1);
    };
    let mut cookie = String::new();
    let start_body = serde_json::json!({ "user": args.user }).to_string();
    while Instant::now() < until {
        let t0 = Instant::now();
        let round = async {
            let (status, set, body) = post(
                &mut sender,
                "/api/v1/auth/start",
                start_body.clone(),
                &cookie,
            )
            .await?;
            if let Some(c) = set {
                cookie = c;
            }
            if status != 200 {
                return Err(format!("start: {status}"));
            }
            let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            let digits = v["grid"]["digits"].as_str().ok_or("no digits")?.as_bytes();
            let otp: String = args.cells.iter().map(|&c| char::from(digits[c])).collect();
            let verify = serde_json::json!({ "challenge": v["challenge"], "otp": otp }).to_string();
            let (status, _, _) = post(&mut sender, "/api/v1/auth/verify", verify, &cookie).await?;
            if status != 200 {
                return Err(format!("verify: {status}"));
            }
            Ok::<(), String>(())
        };
        match round.await {
            Ok(()) => latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Err(_) => {
                errors += 1;
                match connect(&args, &tls).await {
                    Ok(s) => sender = s,
                    Err(_) => return (latencies, errors),
                }
            }
        }
    }
    (latencies, errors)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("login-bench: {e}");
            std::process::exit(2);
        }
    };
    let mut roots = RootCertStore::empty();
    let cas = CertificateDer::pem_file_iter(&args.ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| {
            eprintln!("login-bench: {}: {e:?}", args.ca);
            std::process::exit(2);
        });
    for ca in cas {
        if roots.add(ca).is_err() {
            eprintln!("login-bench: {} is not a usable CA certificate", args.ca);
            std::process::exit(2);
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .unwrap_or_else(|e| {
                eprintln!("login-bench: TLS setup: {e}");
                std::process::exit(2);
            });
    let tls = TlsConnector::from(Arc::new(config));
    let began = Instant::now();
    let until = began + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| tokio::spawn(worker(args.clone(), tls.clone(), until)))
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "{} rounds in {:.1} s over {} connections: {:.0} rounds/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        all.len(),
        elapsed,
        args.connections,
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        errors
    );
    if all.is_empty() {
        std::process::exit(1);
    }
}
