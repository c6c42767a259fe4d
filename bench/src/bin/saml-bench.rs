//! SP-initiated SAML rounds per second against passgrid on this machine, inside a
//! live SSO session: an AuthnRequest by HTTP-Redirect (a fresh ID each round, as an
//! SP sends it) → passgrid's signed Response in its auto-post form, over HTTPS
//! keep-alive connections (bench/saml.sh).
//!
//!   saml-bench --url https://127.0.0.1:PORT --ca CA.pem --sp ENTITY_ID
//!              --cookie 'passgrid_session=…' [--connections 16] [--seconds 10]

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Method, Request};
use login_bench::client::{connect, loopback_target, percentile, tls_connector, Sender};
use passgrid_saml::{encode_redirect, jiff::Timestamp, AuthnRequest, MessageKind};

struct Args {
    url: String,
    ca: String,
    sp: String,
    cookie: String,
    connections: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        url: String::new(),
        ca: String::new(),
        sp: String::new(),
        cookie: String::new(),
        connections: 16,
        seconds: 10,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value.trim_end_matches('/').to_string(),
            "--ca" => args.ca = value,
            "--sp" => args.sp = value,
            "--cookie" => args.cookie = value,
            "--connections" => args.connections = value.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

/// The path and query of a Redirect-binding AuthnRequest with ID `id`.
fn request_path(a: &Args, id: &str) -> Result<String, String> {
    let req = AuthnRequest {
        id: id.to_string(),
        issue_instant: Timestamp::now(),
        destination: Some(format!("{}/saml/sso", a.url)),
        issuer: a.sp.clone(),
        acs_url: None,
        acs_index: None,
        protocol_binding: None,
        attribute_consuming_service_index: None,
        provider_name: None,
        name_id_policy: None,
        force_authn: false,
        is_passive: false,
        requested_authn_context: None,
    };
    let xml = req.to_xml(None).map_err(|e| e.to_string())?;
    let url = encode_redirect("/saml/sso", MessageKind::Request, &xml, Some("bench"), None)
        .map_err(|e| e.to_string())?;
    Ok(url)
}

async fn round(s: &mut Sender, host: &str, a: &Args, id: &str) -> Result<(), String> {
    let path = request_path(a, id)?;
    s.ready().await.map_err(|e| e.to_string())?;
    let req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::HOST, host)
        .header(header::COOKIE, &a.cookie)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let res = s.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    // The answer is the auto-post form with a signed Response, nothing else.
    if status != 200 || !body.windows(12).any(|w| w == b"SAMLResponse") {
        return Err(format!(
            "round {id}: HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("saml-bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let a = std::sync::Arc::new(parse_args()?);
    let (host, port) = loopback_target(&a.url)?;
    let tls = tls_connector(&a.ca)?;
    let host_header = format!("{host}:{port}");
    // Request IDs are unique per SP for ever (replays are refused): this run's prefix.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut s = connect(&host, port, &tls, None).await?;
    // One round first: a setup mistake fails loudly, not as a zero.
    round(&mut s, &host_header, &a, &format!("_b{run_id}x0")).await?;
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let (a, tls, host, host_header) =
            (a.clone(), tls.clone(), host.clone(), host_header.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = connect(&host, port, &tls, None).await?;
            let mut lat = Vec::new();
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                round(&mut s, &host_header, &a, &format!("_b{run_id}c{c}n{n}")).await?;
                lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            }
            Ok::<_, String>(lat)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    let secs = started.elapsed().as_secs_f64().max(a.seconds as f64);
    all.sort_unstable();
    println!(
        "{{\"rounds\":{},\"rounds_per_sec\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"connections\":{}}}",
        all.len(),
        all.len() as f64 / secs,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        a.connections
    );
    Ok(())
}
