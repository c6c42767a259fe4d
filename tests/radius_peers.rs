//! passgrid's RADIUS server against the tools sites use (issue #18): FreeRADIUS's
//! `radclient`/`radtest`, FreeRADIUS 3.2 as a proxy in front of passgrid,
//! wpa_supplicant's `eapol_test` (EAP-MSCHAPv2), `pam_radius_auth` with `pamtester`,
//! and `radsecproxy` over RadSec with a NAS certificate from passgrid's CA. All on
//! loopback; the test command installs the Debian packages (`freeradius`,
//! `freeradius-utils`, `eapoltest`, `libpam-radius-auth`, `pamtester`,
//! `radsecproxy`). Every reply that passes the tests' UDP relay is checked by the
//! tests' own code (Response Authenticator and Message-Authenticator), not only by
//! the tool.

#[path = "radius_support/mod.rs"]
mod radius_support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use integration_tests::*;
use radius_support::{cli_on, have, wire, Radius, CELLS, SECRET};

fn need(tools: &[&str]) {
    for tool in tools {
        assert!(
            have(tool),
            "`{tool}` is missing: run the test command (scripts/test-all.sh), which installs \
             freeradius, freeradius-utils, eapoltest, libpam-radius-auth, pamtester, radsecproxy"
        );
    }
}

/// Request and reply datagrams, in the order seen.
type Exchanges = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

/// A UDP relay on 127.0.0.1 in front of `server` that keeps each request and reply,
/// so the test checks the reply octets itself.
struct Relay {
    address: SocketAddr,
    seen: Exchanges,
}

fn relay(server: SocketAddr) -> Relay {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = front.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        back.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 4096];
        let mut reply = [0u8; 4096];
        loop {
            let Ok((n, client)) = front.recv_from(&mut buf) else {
                return;
            };
            back.send_to(&buf[..n], server).unwrap();
            if let Ok((m, _)) = back.recv_from(&mut reply) {
                log.lock()
                    .unwrap()
                    .push((buf[..n].to_vec(), reply[..m].to_vec()));
                let _ = front.send_to(&reply[..m], client);
            }
        }
    });
    Relay { address, seen }
}

impl Relay {
    /// Checks every reply seen so far; returns how many.
    fn check_all(&self, secret: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        for (request, reply) in seen.iter() {
            let auth: [u8; 16] = request[4..20].try_into().unwrap();
            wire::check_reply(reply, &auth, secret.as_bytes(), true);
        }
        seen.len()
    }
}

/// Runs radclient with `attributes`; returns its output.
fn radclient(server: SocketAddr, secret: &str, attributes: &str) -> String {
    let mut child = Command::new("radclient")
        .args([
            "-x",
            "-r",
            "1",
            "-t",
            "3",
            &server.to_string(),
            "auth",
            secret,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(attributes.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The value radclient printed for `name`, e.g. `State = 0x…`.
fn printed(out: &str, name: &str) -> Option<String> {
    out.lines().find_map(|l| {
        l.trim()
            .strip_prefix(&format!("{name} = "))
            .map(str::to_string)
    })
}

/// The Reply-Message radclient printed, with its `\n`s as line breaks.
fn printed_message(out: &str) -> String {
    printed(out, "Reply-Message")
        .unwrap_or_default()
        .trim_matches('"')
        .replace("\\n", "\n")
}

fn pap(user: &str, password: &str) -> String {
    // Message-Authenticator = 0x00 makes radclient compute a real one.
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
    )
}

/// One challenge round through radclient at `server`: returns the second answer.
fn challenge_round(server: SocketAddr, secret: &str, user: &str) -> String {
    let first = radclient(server, secret, &pap(user, "x"));
    assert!(first.contains("Received Access-Challenge"), "{first}");
    let state = printed(&first, "State").unwrap_or_else(|| panic!("no State: {first}"));
    let otp = wire::otp_at(&wire::grid_digits(&printed_message(&first)), &CELLS);
    radclient(
        server,
        secret,
        &format!("User-Name = \"{user}\", User-Password = \"{otp}\", State = {state}, Message-Authenticator = 0x00\n"),
    )
}

/// A server with a "challenge" group whose policy signs in by Access-Challenge.
fn server_with_challenge_group(prefix: &str) -> Radius {
    Radius::start_with(Db::Sqlite, prefix, "", |data, db| {
        cli_on(data, db, &["group", "add", "challenge"]);
        cli_on(
            data,
            db,
            &["policy", "set", "challenge", "radius_mode=challenge"],
        );
        cli_on(
            data,
            db,
            &[
                "policy",
                "attach",
                "challenge",
                "--group",
                "challenge",
                "--priority",
                "10",
            ],
        );
    })
}

fn challenge_user(r: &Radius, id: &str) {
    r.cli(&["user", "add", id, "--group", "challenge"]);
    let cells: Vec<String> = CELLS.iter().map(|c| c.to_string()).collect();
    r.cli(&["user", "set-pattern", id, "--cells", &cells.join(",")]);
}

#[test]
fn radclient_and_radtest_pap_with_the_portals_grid_and_a_challenge_round() {
    need(&["radclient", "radtest"]);
    let r = server_with_challenge_group("radius-radclient");
    r.user("alice");
    challenge_user(&r, "cat");
    let relay = relay(r.udp);
    let jar = r.path("alice.jar");
    r.sign_in("alice", &jar);
    let otp = r.vpn_otp(&jar);
    let radtest = |password: &str| {
        let out = Command::new("radtest")
            .args(["alice", password, &relay.address.to_string(), "0", SECRET])
            .output()
            .expect("radtest");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let out = radtest(&otp);
    assert!(out.contains("Received Access-Accept"), "{out}");
    assert!(out.contains("Class = 0x"), "{out}");
    let out = radtest(&otp);
    assert!(
        out.contains("Received Access-Reject"),
        "the same OTP twice: {out}"
    );

    let out = challenge_round(relay.address, SECRET, "cat");
    assert!(out.contains("Received Access-Accept"), "{out}");
    // Every reply the tools got carried a valid Message-Authenticator.
    assert!(relay.check_all(SECRET) >= 4);

    // radclient with a wrong secret gets nothing back.
    let out = radclient(r.udp, "a-wrong-shared-secret", &pap("alice", "123456"));
    assert!(out.contains("No reply from server"), "{out}");
}

/// A minimal FreeRADIUS 3.2 configuration: a client (radclient), and a realm
/// `passgrid` proxied to passgrid's RADIUS port with the realm stripped — as a site
/// that keeps its FreeRADIUS and sends one realm on.
fn freeradius_config(dir: &Path, port: u16, passgrid: SocketAddr) -> PathBuf {
    let conf = dir.join("freeradius");
    std::fs::create_dir_all(conf.join("run")).unwrap();
    std::fs::create_dir_all(conf.join("log")).unwrap();
    std::fs::write(conf.join("dictionary"), "").unwrap();
    let c = conf.display();
    std::fs::write(
        conf.join("radiusd.conf"),
        format!(
            r#"prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
datarootdir = /usr/share
dictdir = /usr/share/freeradius
raddbdir = {c}
confdir = {c}
modconfdir = {c}
logdir = {c}/log
run_dir = {c}/run
db_dir = {c}
libdir = /usr/lib/freeradius
pidfile = {c}/run/radiusd.pid
name = radiusd
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
log {{
  destination = stdout
}}
security {{
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}}
proxy_requests = yes
proxy server {{
  default_fallback = no
}}
home_server passgrid {{
  type = auth
  ipaddr = {ip}
  port = {pport}
  secret = {SECRET}
  response_window = 5
  require_message_authenticator = yes
}}
home_server_pool passgrid_pool {{
  type = fail-over
  home_server = passgrid
}}
realm passgrid {{
  auth_pool = passgrid_pool
}}
client localhost {{
  ipaddr = 127.0.0.1
  secret = proxy-secret-0123456789
}}
thread pool {{
  start_servers = 2
  max_servers = 4
  min_spare_servers = 1
  max_spare_servers = 4
  max_requests_per_server = 0
}}
modules {{
  realm suffix {{
    format = suffix
    delimiter = "@"
  }}
}}
server default {{
  listen {{
    type = auth
    ipaddr = 127.0.0.1
    port = {port}
  }}
  authorize {{
    suffix
    if (&Stripped-User-Name) {{
      update request {{
        &User-Name := &Stripped-User-Name
      }}
    }}
  }}
  authenticate {{
  }}
}}
"#,
            ip = passgrid.ip(),
            pport = passgrid.port(),
        ),
    )
    .unwrap();
    conf
}

/// A child process killed (with its process group) when dropped.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn freeradius_as_a_proxy_passes_the_challenge_and_state_both_ways() {
    need(&["freeradius", "radclient"]);
    let r = server_with_challenge_group("radius-proxy");
    challenge_user(&r, "dora");
    let port = free_udp_port();
    let conf = freeradius_config(r.dir.path(), port, r.udp);
    let log = std::fs::File::create(r.path("freeradius.log")).unwrap();
    let _fr = Peer(
        Command::new("freeradius")
            .args(["-X", "-d"])
            .arg(&conf)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("freeradius"),
    );
    let proxy: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut out = String::new();
    for _ in 0..50 {
        out = radclient(proxy, "proxy-secret-0123456789", &pap("dora@passgrid", "x"));
        if out.contains("Received Access-") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        out.contains("Received Access-Challenge"),
        "{out}\n{}",
        std::fs::read_to_string(r.path("freeradius.log")).unwrap_or_default()
    );
    let out = challenge_round(proxy, "proxy-secret-0123456789", "dora@passgrid");
    assert!(
        out.contains("Received Access-Accept"),
        "{out}\n{}",
        std::fs::read_to_string(r.path("freeradius.log")).unwrap_or_default()
    );
    assert!(
        out.contains("Class = 0x"),
        "passgrid's Class came back through the proxy: {out}"
    );
    // FreeRADIUS checked passgrid's Message-Authenticator (require_message_authenticator).
    let frlog = std::fs::read_to_string(r.path("freeradius.log")).unwrap_or_default();
    assert!(frlog.contains("Received Access-Accept"), "{frlog}");
    // A wrong OTP through the proxy is refused.
    let first = radclient(proxy, "proxy-secret-0123456789", &pap("dora@passgrid", "x"));
    let state = printed(&first, "State").unwrap();
    let out = radclient(
        proxy,
        "proxy-secret-0123456789",
        &format!("User-Name = \"dora@passgrid\", User-Password = \"000000\", State = {state}, Message-Authenticator = 0x00\n"),
    );
    assert!(out.contains("Received Access-Reject"), "{out}");
}

/// Runs eapol_test (EAP-MSCHAPv2) for `user` with `password`; (success, output).
fn eapol_test(dir: &Path, server: SocketAddr, user: &str, password: &str) -> (bool, String) {
    let config = dir.join(format!("eapol-{user}-{}.conf", password.len()));
    std::fs::write(
        &config,
        format!("network={{\n  key_mgmt=IEEE8021X\n  eap=MSCHAPV2\n  identity=\"{user}\"\n  password=\"{password}\"\n}}\n"),
    )
    .unwrap();
    let out = Command::new("eapol_test")
        .arg(format!("-c{}", config.display()))
        .arg(format!("-a{}", server.ip()))
        .arg(format!("-p{}", server.port()))
        .arg(format!("-s{SECRET}"))
        .arg("-t15")
        .output()
        .expect("eapol_test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.lines().any(|l| l.trim() == "SUCCESS"),
        text,
    )
}

#[test]
fn eapol_test_eap_mschapv2_with_the_portals_grid_and_with_a_totp_code() {
    need(&["eapol_test", "oathtool"]);
    let r = Radius::start_with(Db::Sqlite, "radius-eap", "", |data, db| {
        cli_on(data, db, &["group", "add", "tokens"]);
        cli_on(data, db, &["policy", "set", "tokens", "method=totp"]);
        cli_on(
            data,
            db,
            &[
                "policy",
                "attach",
                "tokens",
                "--group",
                "tokens",
                "--priority",
                "10",
            ],
        );
    });
    r.user("eve");
    let jar = r.path("eve.jar");
    r.sign_in("eve", &jar);
    let otp = r.vpn_otp(&jar);
    let (ok, out) = eapol_test(r.dir.path(), r.udp, "eve", &otp);
    assert!(ok, "{out}");
    // eapol_test compares the MSK it derived with the MPPE keys of the Accept.
    assert!(out.contains("MPPE keys OK: 1  mismatch: 0"), "{out}");
    // Once: the grid is spent.
    let (ok, out) = eapol_test(r.dir.path(), r.udp, "eve", &otp);
    assert!(!ok, "{out}");
    // A wrong OTP on a fresh grid.
    let otp = r.vpn_otp(&jar);
    let wrong: String = otp
        .chars()
        .map(|c| if c == '7' { '8' } else { '7' })
        .collect();
    let (ok, out) = eapol_test(r.dir.path(), r.udp, "eve", &wrong);
    assert!(!ok, "{out}");
    assert!(
        out.contains("EAP-MSCHAPV2: error 691") || out.contains("FAILURE"),
        "{out}"
    );

    // TOTP: a code from oathtool.
    let seed = "3132333435363738393031323334353637383930";
    let csv = r.path("t.csv");
    std::fs::write(&csv, format!("serial,seed\nE-1,{seed}\n")).unwrap();
    r.cli(&["token", "import", csv.to_str().unwrap()]);
    r.cli(&["user", "add", "tom", "--group", "tokens"]);
    let cells: Vec<String> = CELLS.iter().map(|c| c.to_string()).collect();
    r.cli(&["user", "set-pattern", "tom", "--cells", &cells.join(",")]);
    r.cli(&["token", "assign", "E-1", "tom"]);
    let code = String::from_utf8_lossy(
        &Command::new("oathtool")
            .args(["--totp", seed])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    let (ok, out) = eapol_test(r.dir.path(), r.udp, "tom", &code);
    assert!(ok, "{out}");
    assert!(out.contains("MPPE keys OK: 1  mismatch: 0"), "{out}");
    let (ok, out) = eapol_test(r.dir.path(), r.udp, "tom", &code);
    assert!(!ok, "a code is never accepted twice: {out}");
    // An unknown ID fails the same way.
    let (ok, _) = eapol_test(r.dir.path(), r.udp, "nobody-at-all", &code);
    assert!(!ok);
}

/// A PAM service file for the test, removed when dropped.
struct PamService(PathBuf);

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn pam_radius_auth_with_pamtester_shows_the_challenge_and_signs_in() {
    need(&["pamtester"]);
    assert!(
        Path::new("/lib/x86_64-linux-gnu/security/pam_radius_auth.so").exists()
            || Path::new("/usr/lib/x86_64-linux-gnu/security/pam_radius_auth.so").exists(),
        "pam_radius_auth.so is missing (Debian package libpam-radius-auth)"
    );
    let r = server_with_challenge_group("radius-pam");
    challenge_user(&r, "pat");
    // pam_radius_auth 2.0 sends no Message-Authenticator: its NAS entry allows that
    // (the replies still carry one). The running server picks the change up at its
    // next check (every 2 s); three periods leave room for a busy machine.
    r.cli(&["radius", "client", "remove", "vpn"]);
    let secret = r.path("pam.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    r.cli(&[
        "radius",
        "client",
        "add",
        "pam",
        "--address",
        "127.0.0.1",
        "--secret-file",
        secret.to_str().unwrap(),
        "--require-message-authenticator",
        "false",
    ]);
    std::thread::sleep(Duration::from_secs(6));
    let conf = r.path("pam_radius.conf");
    std::fs::write(&conf, format!("{} {SECRET} 5\n", r.udp)).unwrap();
    let service = format!("passgrid-radius-test-{}", std::process::id());
    let _pam = PamService(PathBuf::from(format!("/etc/pam.d/{service}")));
    std::fs::write(
        &_pam.0,
        format!(
            "auth required pam_radius_auth.so conf={}\naccount required pam_permit.so\n",
            conf.display()
        ),
    )
    .expect("write /etc/pam.d (the test command runs as root)");

    // The prompts go to standard error; the test reads both, in order.
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!("exec pamtester -v {service} pat authenticate 2>&1"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pamtester");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The first prompt is the password (the policy asks for nothing here); then the
    // Reply-Message of the Access-Challenge is the prompt: the grid.
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut seen = String::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !seen.contains(needle) && Instant::now() < deadline {
            if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        assert!(seen.contains(needle), "waited for {needle:?}: {seen}");
        seen.clone()
    };
    wait_for("Password:");
    stdin.write_all(b"\n").unwrap();
    let shown = wait_for("pattern's cells");
    assert!(
        shown.contains("   A    B    C"),
        "the grid is the prompt: {shown}"
    );
    let otp = wire::otp_at(&wire::grid_digits(&shown), &CELLS);
    stdin.write_all(format!("{otp}\n").as_bytes()).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let mut done = shown;
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(500)) {
        done.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(status.success(), "{done}");
    assert!(done.contains("successfully authenticated"), "{done}");
}

/// radsecproxy's configuration: radclient in over UDP, passgrid out over RadSec with
/// `cert`/`key`.
fn radsecproxy_config(
    dir: &Path,
    name: &str,
    udp_port: u16,
    radsec: SocketAddr,
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> PathBuf {
    let path = dir.join(format!("radsecproxy-{name}.conf"));
    std::fs::write(
        &path,
        format!(
            r#"ListenUDP 127.0.0.1:{udp_port}
LogLevel 4
LogDestination file://{log}
tls default {{
    CACertificateFile {ca}
    CertificateFile {cert}
    CertificateKeyFile {key}
}}
client radclient {{
    host 127.0.0.1
    type udp
    secret radsecproxy-client-secret
}}
server passgrid {{
    host {ip}
    port {port}
    type tls
    secret radsec
}}
realm * {{
    server passgrid
}}
"#,
            log = dir.join(format!("radsecproxy-{name}.log")).display(),
            ca = ca.display(),
            cert = cert.display(),
            key = key.display(),
            ip = radsec.ip(),
            port = radsec.port(),
        ),
    )
    .unwrap();
    path
}

fn start_radsecproxy(conf: &Path, dir: &Path, name: &str) -> Peer {
    Peer(
        Command::new("radsecproxy")
            .arg("-f")
            .arg("-c")
            .arg(conf)
            .arg("-i")
            .arg(dir.join(format!("radsecproxy-{name}.pid")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("radsecproxy"),
    )
}

#[test]
fn radsecproxy_with_a_passgrid_nas_certificate_and_refusals_at_the_handshake() {
    need(&["radsecproxy", "radclient", "openssl"]);
    let r = server_with_challenge_group("radius-radsec");
    challenge_user(&r, "rex");
    let dir = r.dir.path();
    // The NAS "edge" speaks RadSec only: no shared secret, a certificate instead.
    r.cli(&["radius", "client", "add", "edge", "--address", "127.0.0.1"]);
    let (csr, key) = new_csr(dir, "edge", "ec");
    let cert = dir.join("edge.pem");
    let issued = r.cli(&[
        "--json",
        "radius",
        "client",
        "cert",
        "edge",
        "--csr",
        csr.to_str().unwrap(),
        "--out",
        cert.to_str().unwrap(),
    ]);
    let serial = serde_json::from_str::<serde_json::Value>(&issued).unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(Duration::from_secs(6)); // the server reloads its NAS table (checked every 2 s)
    let ca = r.server.ca_pem();

    let udp = free_udp_port();
    let conf = radsecproxy_config(dir, "good", udp, r.radsec, &ca, &cert, &key);
    let proxy = start_radsecproxy(&conf, dir, "good");
    let front: SocketAddr = format!("127.0.0.1:{udp}").parse().unwrap();
    let mut out = String::new();
    for _ in 0..40 {
        out = radclient(front, "radsecproxy-client-secret", &pap("rex", "x"));
        if out.contains("Received Access-") {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(out.contains("Received Access-Challenge"), "{out}");
    let out = challenge_round(front, "radsecproxy-client-secret", "rex");
    assert!(out.contains("Received Access-Accept"), "{out}");
    drop(proxy);
    let metrics = r.metrics();
    assert!(
        metric(
            &metrics,
            "passgrid_radius_radsec_handshakes_total{result=\"ok\"}"
        ) >= 1.0
    );
    assert!(
        metric(
            &metrics,
            "passgrid_radius_received_total{transport=\"radsec\"}"
        ) >= 3.0
    );

    let refused_before = metric(
        &r.metrics(),
        "passgrid_radius_radsec_handshakes_total{result=\"refused\"}",
    );
    let refused = |name: &str, cert: &Path, key: &Path| {
        let udp = free_udp_port();
        let conf = radsecproxy_config(dir, name, udp, r.radsec, &ca, cert, key);
        let _proxy = start_radsecproxy(&conf, dir, name);
        let front: SocketAddr = format!("127.0.0.1:{udp}").parse().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let out = radclient(front, "radsecproxy-client-secret", &pap("rex", "x"));
        assert!(!out.contains("Received Access-"), "{name}: {out}");
    };
    // Another CA's certificate: refused at the handshake.
    let (foreign_cert, foreign_key) = foreign_client_cert(dir);
    refused("foreign", &foreign_cert, &foreign_key);
    // A user's device certificate from passgrid's own CA: not a NAS's, refused.
    let (user_cert, user_key) = issue_client_cert(&r.server, dir, "someone");
    refused("user", &user_cert, &user_key);
    // The NAS's own certificate once revoked.
    r.cli(&["cert", "revoke", &serial]);
    std::thread::sleep(Duration::from_secs(6));
    refused("revoked", &cert, &key);
    let refused_after = metric(
        &r.metrics(),
        "passgrid_radius_radsec_handshakes_total{result=\"refused\"}",
    );
    assert!(
        refused_after >= refused_before + 3.0,
        "{refused_before} → {refused_after}"
    );
}
