//! RADIUS load generator (issue #18): the same loop for passgrid and for a reference
//! RADIUS server (FreeRADIUS), so the two are measured alike.
//!
//! - `--mode challenge`: rounds of Access-Request → Access-Challenge → Access-Request
//!   with the State → Access-Accept. The second password is the digits at `--cells`
//!   of the grid in the challenge's Reply-Message (passgrid), or `--password`.
//! - `--mode pap`: Access-Requests with PAP → Access-Accept. Against passgrid every
//!   accept needs a fresh one-time password: `--web-grids USERS` signs those users in
//!   on the web (HTTPS, `--url`/`--ca`) and, in batches, asks the portal for each
//!   user's VPN grid, then sends the PAP requests; only the PAP requests are timed.
//!
//! Every reply's Response Authenticator is checked, and its Message-Authenticator when
//! present. One UDP socket per client, one request in flight on each.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, header, Request};
use login_bench::client::{connect, loopback_target, percentile, tls_connector, Sender};
use passgrid_radius::{
    authenticator::{
        check_message_authenticator, encode_request, new_request_authenticator,
        verify_response_authenticator, MessageAuthenticatorCheck,
    },
    Attribute, Code, Packet, Secret,
};
use tokio::net::UdpSocket;

struct Args {
    server: SocketAddr,
    secret: String,
    mode: String,
    clients: usize,
    seconds: u64,
    users: Vec<String>,
    cells: Vec<usize>,
    password: String,
    url: Option<String>,
    ca: Option<String>,
    web_grids: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        server: "127.0.0.1:1812".parse().unwrap(),
        secret: String::new(),
        mode: "challenge".into(),
        clients: 32,
        seconds: 10,
        users: vec!["bench".into()],
        cells: Vec::new(),
        password: String::new(),
        url: None,
        ca: None,
        web_grids: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => a.server = value()?.parse().map_err(|e| format!("--server: {e}"))?,
            "--secret" => a.secret = value()?,
            "--mode" => a.mode = value()?,
            "--clients" => a.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--users" => a.users = value()?.split(',').map(str::to_string).collect(),
            "--cells" => {
                a.cells = value()?
                    .split(',')
                    .map(|c| c.parse().map_err(|e| format!("--cells: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--password" => a.password = value()?,
            "--url" => a.url = Some(value()?),
            "--ca" => a.ca = Some(value()?),
            "--web-grids" => a.web_grids = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !a.server.ip().is_loopback() {
        return Err("only loopback servers may be benchmarked".into());
    }
    if a.secret.is_empty() {
        return Err("--secret is required".into());
    }
    Ok(a)
}

/// Sends one Access-Request and waits for its checked reply.
async fn ask(
    socket: &UdpSocket,
    secret: &Secret,
    id: u8,
    user: &str,
    password: &str,
    state: Option<&[u8]>,
) -> Result<Packet, String> {
    let mut request = Packet::new(
        Code::AccessRequest,
        id,
        new_request_authenticator().map_err(|e| e.to_string())?,
    );
    request.push(Attribute::user_name(user.as_bytes()));
    request
        .set_user_password(password.as_bytes(), secret)
        .map_err(|e| e.to_string())?;
    if let Some(s) = state {
        request.push(Attribute::state(s));
    }
    let bytes = encode_request(&request, secret).map_err(|e| e.to_string())?;
    socket.send(&bytes).await.map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(3), socket.recv(&mut buf))
            .await
            .map_err(|_| "no answer".to_string())?
            .map_err(|e| e.to_string())?;
        let raw = &buf[..n];
        if raw.get(1) != Some(&id) {
            continue; // a late answer to an earlier, timed-out request
        }
        if !verify_response_authenticator(raw, &request.authenticator, secret) {
            return Err("bad Response Authenticator".into());
        }
        if check_message_authenticator(raw, &request.authenticator, secret)
            == MessageAuthenticatorCheck::Wrong
        {
            return Err("bad Message-Authenticator".into());
        }
        return Packet::parse(raw).map_err(|e| e.to_string());
    }
}

/// The digits of the grid in a Reply-Message (passgrid's: numbered rows).
fn grid_otp(message: &[u8], cells: &[usize]) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .flat_map(|g| g.bytes())
                .collect::<Vec<_>>()
        })
        .collect();
    cells
        .iter()
        .map(|&c| digits.get(c).map(|&d| char::from(d)))
        .collect()
}

struct Tally {
    latencies: Vec<u32>,
    done: u64,
    failed: u64,
    first_error: Option<String>,
}

/// User IDs and the passwords to send for them, shared by the PAP clients.
type Work = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// One client: challenge rounds or PAP requests until `until`, or until `work` runs
/// out (PAP with one-time passwords).
async fn client(args: Arc<Args>, index: usize, until: Instant, work: Option<Work>) -> Tally {
    let secret = Secret::from(args.secret.as_str());
    let mut tally = Tally {
        latencies: Vec::new(),
        done: 0,
        failed: 0,
        first_error: None,
    };
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0").await else {
        return tally;
    };
    if socket.connect(args.server).await.is_err() {
        return tally;
    }
    let mut id = (index % 256) as u8;
    let mut n = index;
    while Instant::now() < until {
        let begun = Instant::now();
        let result: Result<(), String> = async {
            if args.mode == "challenge" {
                let user = &args.users[n % args.users.len()];
                id = id.wrapping_add(1);
                let first = ask(&socket, &secret, id, user, "x", None).await?;
                if first.code != Code::AccessChallenge {
                    return Err(format!("first answer {:?}", first.code));
                }
                let state = first.state().ok_or("no State")?.to_vec();
                let password = if args.cells.is_empty() {
                    args.password.clone()
                } else {
                    grid_otp(&first.reply_message().unwrap_or_default(), &args.cells)
                        .ok_or("no grid in Reply-Message")?
                };
                id = id.wrapping_add(1);
                let second = ask(&socket, &secret, id, user, &password, Some(&state)).await?;
                if second.code != Code::AccessAccept {
                    return Err(format!("second answer {:?}", second.code));
                }
            } else {
                let (user, password) = match &work {
                    Some(w) => match w.lock().map(|mut w| w.pop()).ok().flatten() {
                        Some(job) => job,
                        None => return Err("done".into()),
                    },
                    None => (
                        args.users[n % args.users.len()].clone(),
                        args.password.clone(),
                    ),
                };
                id = id.wrapping_add(1);
                let reply = ask(&socket, &secret, id, &user, &password, None).await?;
                if reply.code != Code::AccessAccept {
                    return Err(format!("answer {:?}", reply.code));
                }
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                tally.done += 1;
                tally
                    .latencies
                    .push(begun.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            }
            Err(e) if e == "done" => break,
            Err(e) => {
                tally.failed += 1;
                tally.first_error.get_or_insert(e);
            }
        }
        n += args.clients;
    }
    tally
}

/// A web session for one user: its cookies (session and CSRF) and the CSRF token.
struct WebUser {
    id: String,
    cookies: String,
    csrf: String,
}

async fn send(
    sender: &mut Sender,
    method: &str,
    path: &str,
    cookies: &str,
    extra: &[(&str, &str)],
    body: String,
) -> Result<(u16, Vec<String>, Bytes), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json");
    if !cookies.is_empty() {
        req = req.header(header::COOKIE, cookies);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = sender
        .send_request(
            req.body(Full::new(Bytes::from(body)))
                .map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let set: Vec<String> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, set, body))
}

fn otp_of(v: &serde_json::Value, cells: &[usize]) -> Result<String, String> {
    let digits = v["grid"]["digits"].as_str().ok_or("no digits")?.as_bytes();
    cells
        .iter()
        .map(|&c| {
            digits
                .get(c)
                .map(|&d| char::from(d))
                .ok_or("cell".to_string())
        })
        .collect()
}

/// Signs `user` in on the web with the grid, then visits a page for the CSRF cookie.
async fn web_sign_in(sender: &mut Sender, user: &str, cells: &[usize]) -> Result<WebUser, String> {
    let (status, set, body) = send(
        sender,
        "POST",
        "/api/v1/auth/start",
        "",
        &[],
        serde_json::json!({"user": user}).to_string(),
    )
    .await?;
    if status != 200 {
        return Err(format!("start {user}: {status}"));
    }
    let mut jar: Vec<String> = set;
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let verify = serde_json::json!({"challenge": v["challenge"], "otp": otp_of(&v, cells)?});
    let (status, set, _) = send(
        sender,
        "POST",
        "/api/v1/auth/verify",
        &jar.join("; "),
        &[],
        verify.to_string(),
    )
    .await?;
    if status != 200 {
        return Err(format!("verify {user}: {status}"));
    }
    jar.extend(set);
    let (_, set, _) = send(sender, "GET", "/me", &jar.join("; "), &[], String::new()).await?;
    jar.extend(set);
    let csrf = jar
        .iter()
        .find_map(|c| c.strip_prefix("passgrid_csrf="))
        .ok_or("no CSRF cookie")?
        .to_string();
    Ok(WebUser {
        id: user.to_string(),
        cookies: jar.join("; "),
        csrf,
    })
}

/// Asks the portal for a VPN grid for each user: (user, OTP) pairs.
async fn issue_grids(
    senders: &mut [Sender],
    users: &[WebUser],
    cells: &[usize],
) -> Result<Vec<(String, String)>, String> {
    let mut tasks = Vec::new();
    let chunk = users.len().div_ceil(senders.len());
    for (sender, group) in senders.iter_mut().zip(users.chunks(chunk)) {
        tasks.push(async move {
            let mut out = Vec::new();
            for u in group {
                let (status, _, body) = send(
                    sender,
                    "POST",
                    "/api/v1/me/vpn-grid",
                    &u.cookies,
                    &[("x-csrf-token", &u.csrf)],
                    String::new(),
                )
                .await?;
                if status != 200 {
                    return Err(format!("vpn-grid {}: {status} {body:?}", u.id));
                }
                let v: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                out.push((u.id.clone(), otp_of(&v, cells)?));
            }
            Ok::<_, String>(out)
        });
    }
    let mut all = Vec::new();
    for r in futures::future::join_all(tasks).await {
        all.extend(r?);
    }
    Ok(all)
}

async fn futures_join<F>(tasks: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

fn report(label: &str, tallies: Vec<Tally>, elapsed: Duration) {
    let mut all: Vec<u32> = Vec::new();
    let (mut done, mut failed, mut error) = (0u64, 0u64, None);
    for t in tallies {
        all.extend(t.latencies);
        done += t.done;
        failed += t.failed;
        if error.is_none() {
            error = t.first_error;
        }
    }
    all.sort_unstable();
    let secs = elapsed.as_secs_f64();
    println!(
        "{label}: {done} in {secs:.1} s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, failed {failed}{}",
        done as f64 / secs,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        error.map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("radius-bench: {e}");
            std::process::exit(2);
        }
    };
    if !(args.mode == "pap" && args.web_grids) {
        let until = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..args.clients)
            .map(|i| client(args.clone(), i, until, None))
            .collect();
        let tallies = futures_join(tasks).await;
        let label = if args.mode == "challenge" {
            "challenge rounds"
        } else {
            "PAP accepts"
        };
        report(label, tallies, started.elapsed());
        return;
    }
    // PAP with the portal's grids: sign the users in, then batches of grids + PAP.
    let (Some(url), Some(ca)) = (&args.url, &args.ca) else {
        eprintln!("radius-bench: --web-grids needs --url and --ca");
        std::process::exit(2);
    };
    let result: Result<(), String> = async {
        let (host, port) = loopback_target(url)?;
        let tls = tls_connector(ca)?;
        let mut senders = Vec::new();
        for _ in 0..8 {
            senders.push(connect(&host, port, &tls, None).await?);
        }
        let mut users = Vec::new();
        for u in &args.users {
            users.push(web_sign_in(&mut senders[0], u, &args.cells).await?);
        }
        let mut tallies = Vec::new();
        let mut timed = Duration::ZERO;
        while timed < Duration::from_secs(args.seconds) {
            let jobs = issue_grids(&mut senders, &users, &args.cells).await?;
            let work = Arc::new(std::sync::Mutex::new(jobs));
            let started = Instant::now();
            let far = started + Duration::from_secs(3600);
            let tasks: Vec<_> = (0..args.clients)
                .map(|i| client(args.clone(), i, far, Some(work.clone())))
                .collect();
            tallies.extend(futures_join(tasks).await);
            timed += started.elapsed();
        }
        report("PAP accepts (portal grids)", tallies, timed);
        Ok(())
    }
    .await;
    if let Err(e) = result {
        eprintln!("radius-bench: {e}");
        std::process::exit(1);
    }
}
