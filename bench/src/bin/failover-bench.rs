//! A steady login load that writes down every round: `ok EPOCH_MS SESSION_TOKEN` for a
//! login that succeeded (so a check can find each one's session in the database after
//! a failover) and `fail EPOCH_MS WHAT` for one that did not. Used by
//! bench/cluster.sh (the failover gap) and the cluster tests (nothing acknowledged is
//! lost). Loopback only, bounded in time.
//!
//!     failover-bench --url https://127.0.0.1:15040 --ca ca.pem --user bench \
//!         --cells 3,17,… --connections 4 --seconds 60 --pause-ms 50 --log rounds.log

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Request};
use login_bench::client::{connect, loopback_target, post, tls_connector, Sender};
use tokio_rustls::TlsConnector;

struct Args {
    host: String,
    port: u16,
    ca: String,
    user: String,
    cells: Vec<usize>,
    connections: usize,
    seconds: u64,
    pause: Duration,
    log: String,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut ca, mut user, mut cells, mut log) = (None, None, None, None, None);
    let (mut connections, mut seconds, mut pause_ms) = (4usize, 30u64, 50u64);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => url = Some(val()?),
            "--ca" => ca = Some(val()?),
            "--user" => user = Some(val()?),
            "--cells" => cells = Some(val()?),
            "--log" => log = Some(val()?),
            "--connections" => connections = val()?.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => seconds = val()?.parse().map_err(|e| format!("{e}"))?,
            "--pause-ms" => pause_ms = val()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let (host, port) = loopback_target(&url.ok_or("--url is required")?)?;
    Ok(Args {
        host,
        port,
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
        connections: connections.clamp(1, 64),
        seconds: seconds.clamp(1, 600),
        pause: Duration::from_millis(pause_ms.min(10_000)),
        log: log.ok_or("--log is required")?,
    })
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// One login: start, digits at the cells, verify; the session token on success.
async fn login(sender: &mut Sender, args: &Args) -> Result<String, String> {
    let mut cookie = String::new();
    let start = serde_json::json!({ "user": args.user }).to_string();
    let (status, set, body) = post(sender, "/api/v1/auth/start", start, &cookie).await?;
    if let Some(c) = set {
        cookie = c;
    }
    if status != 200 {
        return Err(format!("start {status}"));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let digits = v["grid"]["digits"].as_str().ok_or("no digits")?.as_bytes();
    let otp: String = args
        .cells
        .iter()
        .map(|&c| digits.get(c).map(|&d| char::from(d)).ok_or("cell"))
        .collect::<Result<_, _>>()?;
    let verify = serde_json::json!({ "challenge": v["challenge"], "otp": otp }).to_string();
    sender.ready().await.map_err(|e| e.to_string())?;
    let req = Request::post("/api/v1/auth/verify")
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie)
        .body(Full::new(Bytes::from(verify)))
        .map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let token = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("passgrid_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let _ = res.into_body().collect().await;
    match (status, token) {
        (200, Some(token)) => Ok(token),
        (200, None) => Err("verify 200 without a session".into()),
        (s, _) => Err(format!("verify {s}")),
    }
}

async fn worker(args: Arc<Args>, tls: TlsConnector, until: Instant, log: Arc<Mutex<Vec<String>>>) {
    let mut sender: Option<Sender> = None;
    while Instant::now() < until {
        if sender.is_none() {
            match connect(&args.host, args.port, &tls, None).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    push(&log, format!("fail {} connect: {e}", epoch_ms()));
                    tokio::time::sleep(args.pause.max(Duration::from_millis(100))).await;
                    continue;
                }
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let round = tokio::time::timeout(Duration::from_secs(15), login(s, &args)).await;
        match round {
            Ok(Ok(token)) => push(&log, format!("ok {} {token}", epoch_ms())),
            Ok(Err(e)) => {
                push(&log, format!("fail {} {e}", epoch_ms()));
                sender = None;
            }
            Err(_) => {
                push(&log, format!("fail {} timeout", epoch_ms()));
                sender = None;
            }
        }
        tokio::time::sleep(args.pause).await;
    }
}

fn push(log: &Mutex<Vec<String>>, line: String) {
    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("failover-bench: {e}");
            std::process::exit(2);
        }
    };
    let tls = tls_connector(&args.ca).unwrap_or_else(|e| {
        eprintln!("failover-bench: {e}");
        std::process::exit(2);
    });
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| tokio::spawn(worker(args.clone(), tls.clone(), until, log.clone())))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let lines = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    let ok = lines.iter().filter(|l| l.starts_with("ok ")).count();
    let written = std::fs::File::create(&args.log).and_then(|mut f| {
        for l in &lines {
            writeln!(f, "{l}")?;
        }
        Ok(())
    });
    if let Err(e) = written {
        eprintln!("failover-bench: {}: {e}", args.log);
        std::process::exit(1);
    }
    println!(
        "{} rounds: {ok} ok, {} failed",
        lines.len(),
        lines.len() - ok
    );
}
