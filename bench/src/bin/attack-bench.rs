//! Logins under attack (SPEC §6): attacker connections loop start → wrong OTP as fast
//! as they can, while legitimate users on other IDs, each from their own address,
//! sign in at a human pace; reports how fast attempts are turned away and the
//! legitimate users' latency.
//!
//!     attack-bench --url https://127.0.0.1:8443 --ca data/ca.pem --cells 3,17,22,40,41,9 \
//!                  --legit-users 40 [--attackers 16] [--mode spray|target] [--seconds 20]
//!
//! spray: every attacker tries ever new IDs from 127.0.0.1 (one address, many IDs).
//! target: every attacker tries the ID `victim` from its own addresses
//! (127.1.x.y; many addresses, one ID). Legitimate users are `legit0`… (each with the
//! pattern `--cells`), from 127.0.3.x, one login every `--pace-ms` per user.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::{Duration, Instant},
};

use login_bench::client::{connect, login_round, loopback_target, percentile, post, tls_connector};
use tokio_rustls::TlsConnector;

struct Args {
    host: String,
    port: u16,
    ca: String,
    cells: Vec<usize>,
    legit_users: usize,
    attackers: usize,
    target: bool,
    seconds: u64,
    pace_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut ca, mut cells) = (None, None, None);
    let mut args = Args {
        host: String::new(),
        port: 0,
        ca: String::new(),
        cells: Vec::new(),
        legit_users: 40,
        attackers: 16,
        target: false,
        seconds: 20,
        pace_ms: 4000,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String, name: &str| v.parse::<u64>().map_err(|e| format!("{name}: {e}"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--ca" => ca = Some(value()?),
            "--cells" => cells = Some(value()?),
            "--legit-users" => args.legit_users = number(value()?, &flag)?.clamp(1, 250) as usize,
            "--attackers" => args.attackers = number(value()?, &flag)?.min(256) as usize,
            "--seconds" => args.seconds = number(value()?, &flag)?.clamp(1, 300),
            "--pace-ms" => args.pace_ms = number(value()?, &flag)?.clamp(10, 60_000),
            "--mode" => {
                args.target = match value()?.as_str() {
                    "spray" => false,
                    "target" => true,
                    other => return Err(format!("--mode: {other} (spray or target)")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    (args.host, args.port) = loopback_target(&url.ok_or("--url is required")?)?;
    args.ca = ca.ok_or("--ca is required")?;
    args.cells = cells
        .ok_or("--cells is required")?
        .split(',')
        .map(|c| {
            c.trim()
                .parse::<usize>()
                .map_err(|e| format!("--cells: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(args)
}

/// One attacker: start → wrong OTP, as fast as answers come; counts answers by status.
async fn attacker(
    args: Arc<Args>,
    tls: TlsConnector,
    index: usize,
    until: Instant,
) -> BTreeMap<u16, u64> {
    let mut seen = BTreeMap::new();
    let mut n: u64 = 0;
    // target mode: a new source address every 64 attempts, so the per-address limit
    // never bites and only the per-ID limit and the lock-out stand in the way.
    let source = |n: u64| -> IpAddr {
        if args.target {
            let k = (index as u64) * 100_000 + n / 64;
            IpAddr::V4(Ipv4Addr::new(127, 1, (k >> 8) as u8, k as u8))
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    };
    let mut current = source(0);
    let Ok(mut sender) = connect(&args.host, args.port, &tls, Some(current)).await else {
        return seen;
    };
    let mut cookie = String::new();
    while Instant::now() < until {
        if source(n) != current {
            current = source(n);
            match connect(&args.host, args.port, &tls, Some(current)).await {
                Ok(s) => sender = s,
                Err(_) => break,
            }
        }
        let user = if args.target {
            "victim".to_string()
        } else {
            format!("guess-{index}-{n}")
        };
        n += 1;
        let start = serde_json::json!({ "user": user }).to_string();
        let Ok((status, set, body)) = post(&mut sender, "/api/v1/auth/start", start, &cookie).await
        else {
            *seen.entry(0).or_default() += 1;
            match connect(&args.host, args.port, &tls, Some(current)).await {
                Ok(s) => sender = s,
                Err(_) => break,
            }
            continue;
        };
        if let Some(c) = set {
            cookie = c;
        }
        if status != 200 {
            *seen.entry(status).or_default() += 1;
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let verify =
            serde_json::json!({ "challenge": v["challenge"], "otp": "000000" }).to_string();
        let status = match post(&mut sender, "/api/v1/auth/verify", verify, &cookie).await {
            Ok((status, _, _)) => status,
            Err(_) => 0,
        };
        *seen.entry(status).or_default() += 1;
    }
    seen
}

/// One legitimate user, from their own address, at a human pace.
async fn legit(
    args: Arc<Args>,
    tls: TlsConnector,
    index: usize,
    until: Instant,
) -> (Vec<u32>, u64) {
    let mut latencies = Vec::new();
    let mut failures = 0;
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 3, index as u8 + 1));
    let user = format!("legit{index}");
    // Spread the users over the pace so they do not all arrive at once.
    let offset = args.pace_ms * index as u64 / args.legit_users as u64;
    tokio::time::sleep(Duration::from_millis(offset)).await;
    let mut cookie = String::new();
    let Ok(mut sender) = connect(&args.host, args.port, &tls, Some(source)).await else {
        return (latencies, 1);
    };
    while Instant::now() < until {
        let t0 = Instant::now();
        match login_round(&mut sender, &mut cookie, &user, &args.cells).await {
            Ok(()) => latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Err(e) => {
                failures += 1;
                eprintln!("attack-bench: {user}: {e}");
                if let Ok(s) = connect(&args.host, args.port, &tls, Some(source)).await {
                    sender = s;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(args.pace_ms).saturating_sub(t0.elapsed())).await;
    }
    (latencies, failures)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("attack-bench: {e}");
            std::process::exit(2);
        }
    };
    let tls = tls_connector(&args.ca).unwrap_or_else(|e| {
        eprintln!("attack-bench: {e}");
        std::process::exit(2);
    });
    let began = Instant::now();
    let until = began + Duration::from_secs(args.seconds);
    let attackers: Vec<_> = (0..args.attackers)
        .map(|i| tokio::spawn(attacker(args.clone(), tls.clone(), i, until)))
        .collect();
    let legits: Vec<_> = (0..args.legit_users)
        .map(|i| tokio::spawn(legit(args.clone(), tls.clone(), i, until)))
        .collect();
    let mut answers: BTreeMap<u16, u64> = BTreeMap::new();
    for t in attackers {
        if let Ok(seen) = t.await {
            for (status, n) in seen {
                *answers.entry(status).or_default() += n;
            }
        }
    }
    // The attack's own duration (legitimate users may still be between rounds).
    let attack_secs = began.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for t in legits {
        if let Ok((l, f)) = t.await {
            latencies.extend(l);
            failures += f;
        }
    }
    latencies.sort_unstable();
    let attempts: u64 = answers.values().sum();
    let summary: Vec<String> = answers.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!(
        "attack ({} x {}): {attempts} attempts in {attack_secs:.1} s = {:.0}/s answered [{}]",
        args.attackers,
        if args.target {
            "one ID, many addresses"
        } else {
            "many IDs, one address"
        },
        attempts as f64 / attack_secs,
        summary.join(", ")
    );
    println!(
        "legitimate users ({}): {} logins, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, failures {failures}",
        args.legit_users,
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    if latencies.is_empty() {
        std::process::exit(1);
    }
}
