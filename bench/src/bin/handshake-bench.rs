//! New mutual-TLS handshakes per second: each of N workers opens a TCP connection,
//! does a full TLS handshake presenting a client certificate (no session resumption),
//! sends one `GET /healthz`, reads the answer and closes. The server's CPU per
//! handshake is measured from outside (`bench/handshake.sh` reads /proc).
//!
//!     handshake-bench --addr 127.0.0.1:8443 --ca data/ca.pem --cert dev.pem \
//!                     --key dev.key [--workers 8] [--seconds 10] [--tls13|--tls12]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rustls::{
    client::Resumption,
    pki_types::{PrivateKeyDer, ServerName},
    ClientConfig, RootCertStore,
};
use rustls_pki_types::{pem::PemObject, CertificateDer};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;

fn fail(msg: String) -> ! {
    eprintln!("handshake-bench: {msg}");
    std::process::exit(2);
}

struct Args {
    addr: String,
    ca: String,
    cert: String,
    key: String,
    workers: usize,
    seconds: u64,
    version: &'static rustls::SupportedProtocolVersion,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let (mut addr, mut ca, mut cert, mut key) = (None, None, None, None);
    let (mut workers, mut seconds) = (8usize, 10u64);
    let mut version = &rustls::version::TLS13;
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| fail(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--addr" => addr = Some(value()),
            "--ca" => ca = Some(value()),
            "--cert" => cert = Some(value()),
            "--key" => key = Some(value()),
            "--workers" => {
                workers = value()
                    .parse()
                    .unwrap_or_else(|e| fail(format!("--workers: {e}")))
            }
            "--seconds" => {
                seconds = value()
                    .parse()
                    .unwrap_or_else(|e| fail(format!("--seconds: {e}")))
            }
            "--tls12" => version = &rustls::version::TLS12,
            "--tls13" => version = &rustls::version::TLS13,
            other => fail(format!("unknown argument {other}")),
        }
    }
    let need =
        |v: Option<String>, name: &str| v.unwrap_or_else(|| fail(format!("{name} is required")));
    Args {
        addr: need(addr, "--addr"),
        ca: need(ca, "--ca"),
        cert: need(cert, "--cert"),
        key: need(key, "--key"),
        workers: workers.clamp(1, 256),
        seconds: seconds.clamp(1, 3600),
        version,
    }
}

fn config(args: &Args) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(&args.ca)
        .unwrap_or_else(|e| fail(format!("{}: {e:?}", args.ca)))
    {
        let ca = ca.unwrap_or_else(|e| fail(format!("{}: {e:?}", args.ca)));
        roots
            .add(ca)
            .unwrap_or_else(|e| fail(format!("{}: {e}", args.ca)));
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&args.cert)
        .and_then(|it| it.collect())
        .unwrap_or_else(|e| fail(format!("{}: {e:?}", args.cert)));
    let key = PrivateKeyDer::from_pem_file(&args.key)
        .unwrap_or_else(|e| fail(format!("{}: {e:?}", args.key)));
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[args.version])
            .unwrap_or_else(|e| fail(format!("TLS setup: {e}")))
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap_or_else(|e| fail(format!("client certificate: {e}")));
    // Every connection pays for a full handshake, as a new device does.
    config.resumption = Resumption::disabled();
    config
}

/// One connection: handshake, one request, the whole answer, close.
async fn once(args: &Args, tls: &TlsConnector, request: &[u8]) -> Result<(), String> {
    let tcp = TcpStream::connect(&args.addr)
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    let mut answer = Vec::with_capacity(512);
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    if answer.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&answer[..answer.len().min(40)]).to_string())
    }
}

#[tokio::main]
async fn main() {
    let args = Arc::new(parse_args());
    let tls = TlsConnector::from(Arc::new(config(&args)));
    let request: Arc<[u8]> = Arc::from(
        format!(
            "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            args.addr
        )
        .into_bytes(),
    );
    let began = Instant::now();
    let until = began + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.workers)
        .map(|_| {
            let (args, tls, request) = (args.clone(), tls.clone(), request.clone());
            tokio::spawn(async move {
                let (mut done, mut errors, mut last_error) = (0u64, 0u64, String::new());
                while Instant::now() < until {
                    match once(&args, &tls, &request).await {
                        Ok(()) => done += 1,
                        Err(e) => {
                            errors += 1;
                            last_error = e;
                        }
                    }
                }
                (done, errors, last_error)
            })
        })
        .collect();
    let (mut done, mut errors, mut last_error) = (0u64, 0u64, String::new());
    for t in tasks {
        if let Ok((d, e, l)) = t.await {
            done += d;
            errors += e;
            if !l.is_empty() {
                last_error = l;
            }
        }
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "{done} handshakes in {secs:.1} s over {} workers: {:.0} handshakes/s, errors {errors}{}",
        args.workers,
        done as f64 / secs,
        if last_error.is_empty() {
            String::new()
        } else {
            format!(" (last: {last_error})")
        }
    );
}
