//! Authorization-code rounds per second against an OpenID provider on this machine:
//! authorize with an existing SSO session (cookie) → code → token exchange (PKCE,
//! client_secret_basic) → userinfo, over HTTPS keep-alive connections. The endpoints
//! come from the provider's discovery document, so the same rounds run against
//! passgrid and a reference provider (bench/oidc.sh).
//!
//!   oidc-bench --issuer https://127.0.0.1:PORT --ca CA.pem --client-id ID --secret S
//!              --redirect-uri URI --cookie 'name=value; …' [--connections 16] [--seconds 10]

use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Method, Request};
use login_bench::client::{connect, loopback_target, percentile, tls_connector, Sender};

/// RFC 7636 appendix B: a fixed verifier is fine, every round gets a new code.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Args {
    issuer: String,
    ca: String,
    client_id: String,
    secret: String,
    redirect_uri: String,
    cookie: String,
    connections: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        issuer: String::new(),
        ca: String::new(),
        client_id: String::new(),
        secret: String::new(),
        redirect_uri: String::new(),
        cookie: String::new(),
        connections: 16,
        seconds: 10,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--issuer" => args.issuer = value,
            "--ca" => args.ca = value,
            "--client-id" => args.client_id = value,
            "--secret" => args.secret = value,
            "--redirect-uri" => args.redirect_uri = value,
            "--cookie" => args.cookie = value,
            "--connections" => args.connections = value.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The path and query of an absolute URL on the provider.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.find('/')
        .map(|i| rest[i..].to_string())
        .unwrap_or_else(|| "/".into())
}

async fn send(
    sender: &mut Sender,
    host: &str,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, String)],
    body: String,
) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, host);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, headers, body))
}

struct Endpoints {
    authorize: String,
    token: String,
    userinfo: String,
}

async fn round(
    s: &mut Sender,
    host: &str,
    e: &Endpoints,
    a: &Args,
    basic: &str,
    n: u64,
) -> Result<(), String> {
    let url = format!(
        "{}?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile%20email&state=s{n}&nonce=n{n}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        e.authorize,
        enc(&a.client_id),
        enc(&a.redirect_uri)
    );
    let (status, headers, _) = send(
        s,
        host,
        Method::GET,
        &url,
        &[(header::COOKIE, a.cookie.clone())],
        String::new(),
    )
    .await?;
    let location = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let code = location
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("code=")))
        .ok_or(format!("authorize: {status} {location}"))?;
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&a.redirect_uri)
    );
    let (status, _, body) = send(
        s,
        host,
        Method::POST,
        &e.token,
        &[
            (header::AUTHORIZATION, basic.to_string()),
            (
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        form,
    )
    .await?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| format!("token: {status}"))?;
    let at = v["access_token"]
        .as_str()
        .ok_or(format!("token: {status} {v}"))?;
    let (status, _, _) = send(
        s,
        host,
        Method::GET,
        &e.userinfo,
        &[(header::AUTHORIZATION, format!("Bearer {at}"))],
        String::new(),
    )
    .await?;
    if status != 200 {
        return Err(format!("userinfo: {status}"));
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("oidc-bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let a = std::sync::Arc::new(parse_args()?);
    let (host, port) = loopback_target(&a.issuer)?;
    let tls = tls_connector(&a.ca)?;
    let host_header = format!("{host}:{port}");
    let mut s = connect(&host, port, &tls, None).await?;
    let (_, _, body) = send(
        &mut s,
        &host_header,
        Method::GET,
        &format!(
            "{}/.well-known/openid-configuration",
            path_of(&a.issuer).trim_end_matches('/')
        ),
        &[],
        String::new(),
    )
    .await?;
    let d: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("discovery: {e}"))?;
    let ep = |k: &str| {
        d[k].as_str()
            .map(path_of)
            .ok_or(format!("discovery has no {k}"))
    };
    let e = std::sync::Arc::new(Endpoints {
        authorize: ep("authorization_endpoint")?,
        token: ep("token_endpoint")?,
        userinfo: ep("userinfo_endpoint")?,
    });
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&a.client_id),
            enc(&a.secret)
        ))
    );
    // One round first: a setup mistake fails loudly, not as a zero.
    round(&mut s, &host_header, &e, &a, &basic, 0).await?;
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let (a, e, tls, basic, host, host_header) = (
            a.clone(),
            e.clone(),
            tls.clone(),
            basic.clone(),
            host.clone(),
            host_header.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut s = connect(&host, port, &tls, None).await?;
            let mut lat = Vec::new();
            let mut n = (c as u64) << 32;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                round(&mut s, &host_header, &e, &a, &basic, n).await?;
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
