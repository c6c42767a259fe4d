//! Grid login rounds per second: each of N connections (HTTPS, HTTP/1.1 keep-alive)
//! loops start → read the digits at the pattern's cells → verify, for a bounded time,
//! and the latency of every round is recorded.
//!
//!     login-bench --url https://127.0.0.1:8443 --ca data/ca.pem --user alice \
//!                 --cells 3,17,17,40,9,26,44 [--connections 16] [--seconds 10] [--users N]
//!
//! With `--users N`, `--user` is a prefix and the rounds go to users PREFIX0 … PREFIX(N-1)
//! (all with the same pattern), connection c taking c, c + connections, … in turn: no
//! two connections sign in as one user at once, as people do (one user's attempts in
//! flight at once are bounded by the lock-out threshold).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use login_bench::client::{connect, login_round, loopback_target, percentile, tls_connector};
use tokio_rustls::TlsConnector;

struct Args {
    host: String,
    port: u16,
    ca: String,
    user: String,
    cells: Vec<usize>,
    connections: usize,
    seconds: u64,
    /// Users PREFIX0 … PREFIX(users-1); 0: `user` itself.
    users: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut ca, mut user, mut cells) = (None, None, None, None);
    let (mut connections, mut seconds, mut users) = (16usize, 10u64, 0usize);
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
            "--users" => users = value()?.parse().map_err(|e| format!("--users: {e}"))?,
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
        connections: connections.clamp(1, 256),
        seconds: seconds.clamp(1, 120),
        users,
    })
}

/// One connection's loop; returns the latency of each successful round (µs) and errors.
async fn worker(
    args: Arc<Args>,
    tls: TlsConnector,
    until: Instant,
    index: usize,
) -> (Vec<u32>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let Ok(mut sender) = connect(&args.host, args.port, &tls, None).await else {
        return (latencies, 1);
    };
    let mut cookie = String::new();
    let mut next = index;
    while Instant::now() < until {
        let user = if args.users == 0 {
            args.user.clone()
        } else {
            format!("{}{}", args.user, next % args.users)
        };
        next += args.connections;
        let t0 = Instant::now();
        match login_round(&mut sender, &mut cookie, &user, &args.cells).await {
            Ok(()) => latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Err(e) => {
                if errors < 3 && std::env::var_os("BENCH_DEBUG").is_some() {
                    eprintln!("login-bench: {user}: {e}");
                }
                errors += 1;
                match connect(&args.host, args.port, &tls, None).await {
                    Ok(s) => sender = s,
                    Err(_) => return (latencies, errors),
                }
            }
        }
    }
    (latencies, errors)
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
    let tls = tls_connector(&args.ca).unwrap_or_else(|e| {
        eprintln!("login-bench: {e}");
        std::process::exit(2);
    });
    let began = Instant::now();
    let until = began + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.connections)
        .map(|i| tokio::spawn(worker(args.clone(), tls.clone(), until, i)))
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
