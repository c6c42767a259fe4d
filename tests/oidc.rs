//! The OpenID Connect provider (SPEC §10.1, issue #17) with real relying parties:
//! Python authlib (Debian python3-authlib) runs the code flow with PKCE and the
//! attacks; curl plays the browser through passgrid's own sign-in pages; a small
//! HTTP receiver stands for a client's back channel; two servers share one
//! PostgreSQL database.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use integration_tests::*;
use serde_json::{json, Value};

const CELLS: [u64; 7] = [3, 17, 22, 40, 41, 9, 30];

/// A user with their own (not initial) pattern.
fn add_user_with_pattern(server: &TestServer, id: &str, extra: &[&str]) {
    let mut args = vec!["user", "add", id, "--email"];
    let mail = format!("{id}@example.com");
    args.push(&mail);
    args.extend_from_slice(extra);
    cli_value(server, &args);
    set_pattern(server, id);
}

fn set_pattern(server: &TestServer, id: &str) {
    let cells = CELLS.map(|c| c.to_string()).join(",");
    cli_value(server, &["user", "set-pattern", id, "--cells", &cells]);
}

/// Signs in through the JSON API with a cookie jar; returns the session token.
fn sign_in(server: &TestServer, jar: &Path, user: &str, extra: &[&str]) -> String {
    let (status, start) = post_json_with(
        server,
        "/api/v1/auth/start",
        &json!({"user": user}),
        jar,
        extra,
    );
    assert_eq!(status, 200, "{start}");
    let (status, ok) = post_json_with(
        server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp_from(&start, &CELLS)}),
        jar,
        extra,
    );
    assert_eq!(status, 200, "{ok}");
    jar_cookie(jar, "passgrid_session").expect("a session cookie")
}

fn jar_cookie(jar: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(jar)
        .ok()?
        .lines()
        .filter(|l| !l.starts_with("# ") && !l.is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 7 && f[5] == name).then(|| f[6].to_string())
        })
        .next_back()
}

/// GET with headers shown: (status, Location, body).
fn get(
    server: &TestServer,
    path: &str,
    jar: &Path,
    extra: &[&str],
) -> (u16, Option<String>, String) {
    let jar = jar.to_str().unwrap();
    let mut args = vec!["-D", "-", "-b", jar, "-c", jar];
    args.extend_from_slice(extra);
    let (status, text) = server.curl(path, &args);
    let location = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .map(|l| l[9..].trim().to_string());
    (status, location, text)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

struct Rp {
    client_id: String,
    secret: String,
}

fn add_client(server: &TestServer, name: &str, redirect: &str, extra: &[&str]) -> Rp {
    let mut args = vec!["oidc", "client", "add", name, "--redirect-uri", redirect];
    args.extend_from_slice(extra);
    let v = cli_value(server, &args);
    Rp {
        client_id: v["client_id"].as_str().unwrap().to_string(),
        secret: v["client_secret"].as_str().unwrap_or("").to_string(),
    }
}

fn admin_token(server: &TestServer) -> String {
    cli_value(
        server,
        &["admin", "create", "root-admin", "--role", "admin"],
    );
    cli_value(server, &["admin", "token", "create", "root-admin"])["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn audit(server: &TestServer, token: &str, action: &str) -> Vec<Value> {
    let auth = format!("Authorization: Bearer {token}");
    let v = server.curl_json(
        &format!("/api/v1/admin/audit?action={action}&limit=1000"),
        &["-H", &auth],
    );
    v["entries"].as_array().cloned().unwrap_or_default()
}

fn authorize_url(rp: &Rp, redirect: &str, extra: &str) -> String {
    format!(
        "/oidc/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile%20groups&state=st&nonce=nn{extra}",
        rp.client_id,
        url_encode(redirect)
    )
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Exchanges a code with client_secret_post; (status, body).
fn exchange(server: &TestServer, rp: &Rp, code: &str, redirect: &str) -> (u16, Value) {
    let (status, body) = server.curl(
        "/oidc/token",
        &[
            "-d",
            "grant_type=authorization_code",
            "-d",
            &format!("code={code}"),
            "--data-urlencode",
            &format!("redirect_uri={redirect}"),
            "-d",
            &format!("client_id={}", rp.client_id),
            "-d",
            &format!("client_secret={}", rp.secret),
        ],
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn claims_of(id_token: &str) -> Value {
    let payload = id_token.split('.').nth(1).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import sys,base64;p=sys.argv[1];sys.stdout.write(base64.urlsafe_b64decode(p+'='*(-len(p)%4)).decode())", payload])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

on_both_databases! {
    fn an_independent_relying_party_and_the_attacks_it_tries(db: Db) {
        let dir = TempDir::new("oidc-authlib");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let issuer = server.url("");
        let redirect = "https://rp.example/callback";
        let rp = add_client(&server, "authlib-rp", redirect, &[]);
        add_user_with_pattern(&server, "alice", &["--name", "Alice Example"]);
        let token = sign_in(&server, &dir.path().join("jar"), "alice", &[]);
        let out = Command::new("/usr/bin/python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/authlib_rp.py"))
            .args([&issuer, server.ca_pem().to_str().unwrap(), &rp.client_id, &rp.secret, redirect, &token])
            .output()
            .expect("python3 with authlib (Debian python3-authlib)");
        assert!(out.status.success(), "authlib RP failed: {}", String::from_utf8_lossy(&out.stderr));
        let r: Value = serde_json::from_slice(&out.stdout).expect("JSON findings");
        // The flow: discovery, PKCE, a signature that verifies against the JWKS, the nonce.
        assert_eq!(r["issuer_matches"], true);
        assert_eq!((r["authorize_status"].clone(), r["redirected_to_client"].clone()), (json!(302), json!(true)));
        assert_eq!(r["id_token_alg"], "ES256");
        assert_eq!(r["id_token_sub"], "alice");
        assert_eq!(r["amr"], json!(["otp"]), "no certificate took part");
        assert_eq!((r["has_auth_time"].clone(), r["has_sid"].clone()), (json!(true), json!(true)));
        assert_eq!(r["userinfo"]["preferred_username"], "alice");
        assert_eq!(r["userinfo"]["name"], "Alice Example");
        assert_eq!(r["userinfo"]["email"], "alice@example.com");
        // The attacks, each refused with the RFC's error and nothing issued.
        assert_eq!(r["reused_code"], json!([400, "invalid_grant", false]));
        assert_eq!(r["first_access_token_after_reuse"], 401, "a replayed code revokes what it gave");
        assert_eq!(r["wrong_verifier"], json!([400, "invalid_grant", false]));
        assert_eq!(r["prefix_redirect"], json!([400, null]), "an error page, never a redirect");
        assert_eq!(r["shorter_redirect"], json!([400, null]));
        assert_eq!(r["alg_none"], json!([400, null, 401]));
        assert_eq!(r["hs256"], json!([400, null, 401]));
        assert_eq!(r["refresh"], json!([200, true, true]), "refresh rotates the token");
        assert_eq!(r["refresh_reuse"], json!([400, "invalid_grant", false]));
        assert_eq!(r["rotated_after_reuse"], "invalid_grant", "the whole family is revoked");
        assert_eq!(r["access_after_reuse"], 401);
        assert_eq!(r["wrong_secret"], json!([401, "invalid_client"]));
        assert_eq!(r["unknown_client"], json!([400, null]));
        assert_eq!(r["oversized_state"], json!([302, true]));
        assert_eq!(r["repeated_param"], json!([400, null]));
        // The forged hints did not log alice out.
        let (status, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &dir.path().join("jar"), &[]);
        assert_eq!(status, 302);
        assert!(location.unwrap().contains("code="));
        // Audited: authorizations, tokens, refusals, replays.
        let admin = admin_token(&server);
        assert!(audit(&server, &admin, "oidc.authorize").len() >= 4);
        assert!(audit(&server, &admin, "oidc.token").len() >= 2);
        assert_eq!(audit(&server, &admin, "oidc.code_reuse").len(), 1);
        assert_eq!(audit(&server, &admin, "oidc.refresh_reuse").len(), 1);
        let refused = audit(&server, &admin, "oidc.refused");
        for reason in ["PKCE verifier does not match", "redirect URI not registered", "unknown client", "client authentication failed", "malformed request parameters", "a parameter is too long or malformed"] {
            assert!(refused.iter().any(|e| e["reason"] == reason), "{reason} in {refused:?}");
        }
        let metrics = server.curl("/metrics", &[]).1;
        assert!(metric(&metrics, "passgrid_sso_events_total{application=\"authlib-rp\",event=\"token\"}") >= 2.0);
        assert!(metric(&metrics, "passgrid_sso_events_total{application=\"authlib-rp\",event=\"refused\"}") >= 4.0);
    }
}

on_both_databases! {
    fn the_sign_in_continues_to_the_application(db: Db) {
        let dir = TempDir::new("oidc-continue");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let redirect = "https://app.example/cb";
        let rp = add_client(&server, "app", redirect, &[]);
        add_user_with_pattern(&server, "bob", &[]);
        let jar = dir.path().join("jar");
        // Not signed in: to passgrid's sign-in, carrying the request.
        let (status, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &jar, &[]);
        assert_eq!(status, 302);
        let cont = location.unwrap();
        assert!(cont.starts_with("/login/continue?to=%2Foidc%2Fauthorize"), "{cont}");
        // prompt=none without a session: back to the client with login_required.
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, "&prompt=none"), &jar, &[]);
        assert!(location.unwrap().starts_with("https://app.example/cb?error=login_required&"));
        // The continuation is only ever a local path.
        let (_, location, _) = get(&server, "/login/continue?to=https%3A%2F%2Fevil.example%2F", &jar, &[]);
        assert_eq!(location.as_deref(), Some("/login"));
        assert!(jar_cookie(&jar, "passgrid_continue").is_none());
        let (status, location, _) = get(&server, &cont, &jar, &[]);
        assert_eq!((status, location.as_deref()), (303, Some("/login")));
        // The sign-in form (grid from the API start, bound to the same flow cookie).
        let (_, _, page) = get(&server, "/login", &jar, &[]);
        let csrf = csrf_field(&page);
        let (_, start) = post_json(&server, "/api/v1/auth/start", &json!({"user": "bob"}), &jar);
        let jar_s = jar.to_str().unwrap();
        let (status, page) = server.curl("/login/verify", &[
            "-b", jar_s, "-c", jar_s,
            "-d", &format!("csrf={csrf}"),
            "-d", &format!("challenge={}", start["challenge"].as_str().unwrap()),
            "-d", &format!("otp={}", otp_from(&start, &CELLS)),
        ]);
        assert_eq!(status, 200, "{page}");
        let next = page.split("url=").nth(1).and_then(|r| r.split('"').next()).expect("a page that moves on").replace("&amp;", "&");
        assert!(next.starts_with("/oidc/authorize?client_id="), "{next}");
        let (status, location, _) = get(&server, &next, &jar, &[]);
        assert_eq!(status, 302);
        let location = location.unwrap();
        assert!(location.starts_with("https://app.example/cb?code="), "{location}");
        assert_eq!(query_param(&location, "state").as_deref(), Some("st"));
        let (status, tokens) = exchange(&server, &rp, &query_param(&location, "code").unwrap(), redirect);
        assert_eq!(status, 200, "{tokens}");
        let claims = claims_of(tokens["id_token"].as_str().unwrap());
        assert_eq!((claims["sub"].as_str(), claims["nonce"].as_str()), (Some("bob"), Some("nn")));
        // Signed in: SSO, no second grid…
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &jar, &[]);
        assert!(location.unwrap().contains("code="));
        // …unless the client asks for one (prompt=login, max_age) or its policy does.
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, "&prompt=login"), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"));
        std::thread::sleep(Duration::from_secs(2));
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, "&max_age=1"), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"));
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, "&max_age=3600"), &jar, &[]);
        assert!(location.unwrap().contains("code="));
        cli_value(&server, &["app", "set", "app", "--max-auth-age", "1"]);
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"), "the application's own rule");
        // A pg_after in the future is refused, not looped on.
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, "&pg_after=99999999999"), &jar, &[]);
        assert!(location.unwrap().contains("error=invalid_request"));
    }
}

on_both_databases! {
    fn application_rules_refuse_with_the_sign_in_reasons(db: Db) {
        let dir = TempDir::new("oidc-rules");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        cli_value(&server, &["group", "add", "staff"]);
        let redirect = "https://app.example/cb";
        let rp = add_client(&server, "payroll", redirect, &["--group", "staff"]);
        add_user_with_pattern(&server, "carol", &[]);
        // dave: in the group, with a device certificate.
        let (cert, key) = issue_client_cert(&server, dir.path(), "dave");
        set_pattern(&server, "dave");
        let admin = admin_token(&server);
        let auth = format!("Authorization: Bearer {admin}");
        let (status, _) = server.curl("/api/v1/admin/users/dave", &["-X", "PATCH", "-H", &auth, "-H", "Content-Type: application/json", "--data-binary", "{\"groups\":[\"staff\"]}"]);
        assert_eq!(status, 200);
        let carol_jar = dir.path().join("carol");
        sign_in(&server, &carol_jar, "carol", &[]);
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &carol_jar, &[]);
        let location = location.unwrap();
        assert!(location.starts_with("https://app.example/cb?error=access_denied"), "{location}");
        assert!(!location.contains("code="));
        let refusals = audit(&server, &admin, "oidc.refused");
        assert!(refusals.iter().any(|e| e["actor"] == "carol" && e["reason"] == "not in an allowed group (application payroll)"), "{refusals:?}");
        // dave with his certificate: allowed, and the certificate shows in amr.
        let dave_jar = dir.path().join("dave");
        let tls = ["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()];
        sign_in(&server, &dave_jar, "dave", &tls);
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &dave_jar, &tls);
        let code = query_param(&location.unwrap(), "code").expect("a code for dave");
        let (_, tokens) = exchange(&server, &rp, &code, redirect);
        let claims = claims_of(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["amr"], json!(["otp", "swk", "mfa"]));
        assert_eq!(claims["acr"], "urn:passgrid:acr:grid+device");
        assert_eq!(claims["groups"], json!(["staff"]));
        // The application wants a device certificate: without one, refused as the sign-in
        // refuses (erin signed in from a device without a certificate).
        cli_value(&server, &["app", "set", "payroll", "--require-certificate", "true"]);
        add_user_with_pattern(&server, "erin", &[]);
        let (status, _) = server.curl("/api/v1/admin/users/erin", &["-X", "PATCH", "-H", &auth, "-H", "Content-Type: application/json", "--data-binary", "{\"groups\":[\"staff\"]}"]);
        assert_eq!(status, 200);
        let erin_jar = dir.path().join("erin");
        sign_in(&server, &erin_jar, "erin", &[]);
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &erin_jar, &[]);
        assert!(location.unwrap().contains("error=access_denied"));
        assert!(audit(&server, &admin, "oidc.refused").iter().any(|e| e["reason"] == "device not registered (application payroll)"));
        // dave's session is bound to his certificate: from a connection without it there
        // is no session at all, so the application sends him to sign in.
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &dave_jar, &[]);
        let location = location.unwrap();
        assert!(location.contains("/login"), "{location}");
        assert!(!location.contains("code="), "{location}");
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &dave_jar, &tls);
        assert!(location.unwrap().contains("code="));
        // Networks: loopback is not in 10.0.0.0/8.
        cli_value(&server, &["app", "set", "payroll", "--network", "10.0.0.0/8"]);
        let (_, location, _) = get(&server, &authorize_url(&rp, redirect, ""), &dave_jar, &tls);
        assert!(location.unwrap().contains("error=access_denied"));
        assert!(audit(&server, &admin, "oidc.refused").iter().any(|e| e["reason"] == "network not allowed (application payroll)"));
        // The console's recent sign-ins.
        let v = server.curl_json("/api/v1/admin/applications/payroll", &["-H", &auth]);
        assert!(v["recent_sign_ins"].as_array().unwrap().iter().all(|e| e["actor"] == "dave"));
        assert!(!v["recent_sign_ins"].as_array().unwrap().is_empty());
    }
}

/// A back channel: a small HTTP server recording every POST body, one per line.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let port = free_port();
        let log = dir.join("backchannel.log");
        let script = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        b = self.rfile.read(int(self.headers['Content-Length'])).decode()
        open(sys.argv[2], 'a').write(self.path + ' ' + b + '\n')
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"#;
        let child = Command::new("python3")
            .args(["-c", script, &port.to_string(), log.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let r = Receiver { child, port, log };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("receiver did not start");
    }

    fn bodies(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

on_both_databases! {
    fn logging_out_ends_the_session_everywhere(db: Db) {
        let dir = TempDir::new("oidc-logout");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let rx = Receiver::start(dir.path());
        let bc = |p: &str| format!("http://127.0.0.1:{}/{p}", rx.port);
        let a = add_client(&server, "app-a", "https://a.example/cb", &["--backchannel-logout-uri", &bc("a"), "--post-logout-uri", "https://a.example/bye"]);
        let b = add_client(&server, "app-b", "https://b.example/cb", &["--backchannel-logout-uri", &bc("b"), "--alg", "RS256"]);
        add_user_with_pattern(&server, "erin", &[]);
        let jar = dir.path().join("jar");
        sign_in(&server, &jar, "erin", &[]);
        let mut refresh = vec![];
        let mut id_token = String::new();
        for (rp, redirect) in [(&a, "https://a.example/cb"), (&b, "https://b.example/cb")] {
            let (_, location, _) = get(&server, &authorize_url(rp, redirect, ""), &jar, &[]);
            let (status, tokens) = exchange(&server, rp, &query_param(&location.unwrap(), "code").unwrap(), redirect);
            assert_eq!(status, 200);
            refresh.push(tokens["refresh_token"].as_str().unwrap().to_string());
            id_token = tokens["id_token"].as_str().unwrap().to_string();
        }
        assert_eq!(id_token.split('.').next().map(|h| claims_of(&format!("x.{h}.y"))["alg"].clone()), Some(json!("RS256")));
        // A post-logout URI that is not registered: an error page, nobody logged out.
        let (status, location, _) = get(&server, &format!("/oidc/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", a.client_id), &jar, &[]);
        assert_eq!((status, location), (400, None));
        // Without an ID token of this user, passgrid asks first.
        let (status, _, page) = get(&server, "/oidc/logout", &jar, &[]);
        assert_eq!(status, 200);
        assert!(page.contains("confirm-logout"));
        assert!(rx.bodies().is_empty());
        // Logging out at passgrid (the portal's form): every client hears it.
        let (_, _, me) = get(&server, "/login", &jar, &[]);
        let csrf = csrf_field(&me);
        let jar_s = jar.to_str().unwrap();
        let (status, _) = server.curl("/logout", &["-b", jar_s, "-c", jar_s, "-d", &format!("csrf={csrf}")]);
        assert_eq!(status, 303);
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        let sid = claims_of(&id_token)["sid"].clone();
        for (path, body) in [("/a", &bodies.iter().find(|b| b.starts_with("/a ")).unwrap()), ("/b", &bodies.iter().find(|b| b.starts_with("/b ")).unwrap())] {
            let token = body.split("logout_token=").nth(1).unwrap();
            let claims = claims_of(token);
            assert_eq!(claims["sub"], "erin", "{path}");
            assert_eq!(claims["sid"], sid);
            assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
            assert!(claims.get("nonce").is_none());
        }
        // The refresh tokens died with the session; so did the SSO session.
        for (rp, rt) in [(&a, &refresh[0]), (&b, &refresh[1])] {
            let (status, body) = server.curl("/oidc/token", &["-u", &format!("{}:{}", rp.client_id, rp.secret), "-d", "grant_type=refresh_token", "-d", &format!("refresh_token={rt}")]);
            assert_eq!(status, 400, "{body}");
        }
        let (_, location, _) = get(&server, &authorize_url(&a, "https://a.example/cb", ""), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"));
        // RP-initiated logout with an ID token of this session: at once, back to the registered URI.
        sign_in(&server, &jar, "erin", &[]);
        let (_, location, _) = get(&server, &authorize_url(&a, "https://a.example/cb", ""), &jar, &[]);
        let (_, tokens) = exchange(&server, &a, &query_param(&location.unwrap(), "code").unwrap(), "https://a.example/cb");
        let hint = tokens["id_token"].as_str().unwrap();
        let (status, location, _) = get(&server, &format!("/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fa.example%2Fbye&state=s9"), &jar, &[]);
        assert_eq!((status, location.as_deref()), (302, Some("https://a.example/bye?state=s9")));
        assert_eq!(rx.bodies().len(), 3, "app-a heard the second logout too");
        let (_, location, _) = get(&server, &authorize_url(&a, "https://a.example/cb", ""), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"));
        // Without a hint: the user confirms (CSRF-checked form), then goes back by a page.
        sign_in(&server, &jar, "erin", &[]);
        let ask = format!("/oidc/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fa.example%2Fbye", a.client_id);
        let (status, _, page) = get(&server, &ask, &jar, &[]);
        assert_eq!(status, 200);
        let csrf = csrf_field(&page);
        let (status, _) = server.curl("/oidc/logout", &["-b", jar_s, "-c", jar_s, "-d", "csrf=wrong", "-d", &format!("client_id={}", a.client_id)]);
        assert_eq!(status, 400, "a forged confirmation");
        let (status, page) = server.curl("/oidc/logout", &["-b", jar_s, "-c", jar_s, "-d", &format!("csrf={csrf}"), "-d", &format!("client_id={}", a.client_id), "--data-urlencode", "post_logout_redirect_uri=https://a.example/bye"]);
        assert_eq!(status, 200);
        assert!(page.contains("url=https://a.example/bye"), "{page}");
        let (_, location, _) = get(&server, &authorize_url(&a, "https://a.example/cb", ""), &jar, &[]);
        assert!(location.unwrap().starts_with("/login/continue"));
    }
}

on_both_databases! {
    fn clients_keys_and_applications_from_the_cli_and_the_api(db: Db) {
        let dir = TempDir::new("oidc-admin");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        // Bad input is refused with the reason, nothing stored.
        for args in [
            vec!["oidc", "client", "add", "x", "--redirect-uri", "http://app.example/cb"],
            vec!["oidc", "client", "add", "x", "--redirect-uri", "https://app.example/cb#frag"],
            vec!["oidc", "client", "add", "x", "--redirect-uri", "https://a.example/cb", "--alg", "HS256"],
            vec!["oidc", "client", "add", "x", "--redirect-uri", "https://a.example/cb", "--group", "nosuch"],
            vec!["oidc", "client", "add", "bad name", "--redirect-uri", "https://a.example/cb"],
        ] {
            let out = server.cli(&args);
            assert!(!out.status.success(), "{args:?}");
        }
        assert_eq!(cli_value(&server, &["oidc", "client", "list"]), json!([]));
        let public = cli_value(&server, &["oidc", "client", "add", "spa", "--public", "--redirect-uri", "http://127.0.0.1:3000/cb"]);
        assert_eq!((public["public"].clone(), public["client_secret"].clone()), (json!(true), Value::Null));
        let shown = cli_value(&server, &["oidc", "client", "show", "spa"]);
        assert_eq!(shown["application"]["kind"], "oidc");
        cli_value(&server, &["oidc", "client", "set", "spa", "--alg", "RS256", "--redirect-uri", "http://127.0.0.1:3000/cb2"]);
        let shown = cli_value(&server, &["oidc", "client", "show", "spa"]);
        assert_eq!((shown["alg"].as_str(), shown["redirect_uris"].clone()), (Some("RS256"), json!(["http://127.0.0.1:3000/cb2"])));
        // A public client must use PKCE S256.
        add_user_with_pattern(&server, "fay", &[]);
        let jar = dir.path().join("jar");
        sign_in(&server, &jar, "fay", &[]);
        let rp = Rp { client_id: public["client_id"].as_str().unwrap().into(), secret: String::new() };
        let (_, location, _) = get(&server, &authorize_url(&rp, "http://127.0.0.1:3000/cb2", ""), &jar, &[]);
        assert!(location.unwrap().contains("error=invalid_request"));
        let (_, location, _) = get(&server, &authorize_url(&rp, "http://127.0.0.1:3000/cb2", "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain"), &jar, &[]);
        assert!(location.unwrap().contains("error=invalid_request"));
        let (_, location, _) = get(&server, &authorize_url(&rp, "http://127.0.0.1:3000/cb2", "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"), &jar, &[]);
        let code = query_param(&location.unwrap(), "code").unwrap();
        let (status, body) = server.curl("/oidc/token", &["-d", "grant_type=authorization_code", "-d", &format!("code={code}"), "--data-urlencode", "redirect_uri=http://127.0.0.1:3000/cb2", "-d", &format!("client_id={}", rp.client_id), "-d", "code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]);
        assert_eq!(status, 200, "{body}");
        let tokens: Value = serde_json::from_str(&body).unwrap();
        let header = claims_of(&format!("x.{}.y", tokens["id_token"].as_str().unwrap().split('.').next().unwrap()));
        assert_eq!(header["alg"], "RS256");
        // Key rotation: the old keys stay published beside the new ones.
        let before = server.curl_json("/oidc/jwks", &[]);
        let rotated = cli_value(&server, &["oidc", "rotate-key"]);
        let after = server.curl_json("/oidc/jwks", &[]);
        let kids = |v: &Value| v["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(kids(&after).len(), 4);
        for kid in kids(&before).iter().chain(rotated["kids"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect::<Vec<_>>().iter()) {
            assert!(kids(&after).contains(kid), "{kid}");
        }
        // The API: admins only; the secret once.
        let admin = admin_token(&server);
        cli_value(&server, &["admin", "create", "ops", "--role", "user-admin"]);
        let ops = cli_value(&server, &["admin", "token", "create", "ops"])["token"].as_str().unwrap().to_string();
        let send = |method: &str, path: &str, token: &str, body: &Value| {
            let auth = format!("Authorization: Bearer {token}");
            let b = body.to_string();
            let (s, t) = server.curl(path, &["-X", method, "-H", &auth, "-H", "Content-Type: application/json", "--data-binary", &b]);
            (s, serde_json::from_str::<Value>(&t).unwrap_or(Value::Null))
        };
        let new = json!({"name": "wiki", "redirect_uris": ["https://wiki.example/cb"], "rules": {"require_certificate": true}});
        assert_eq!(send("POST", "/api/v1/admin/oidc-clients", &ops, &new).0, 403);
        let (status, made) = send("POST", "/api/v1/admin/oidc-clients", &admin, &new);
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["client_secret"].as_str().map(str::len), Some(43));
        assert_eq!(send("POST", "/api/v1/admin/oidc-clients", &admin, &new).1["error"], "already_exists");
        let (status, bad) = send("POST", "/api/v1/admin/oidc-clients", &admin, &json!({"name": "w2", "redirect_uris": ["ftp://x/"]}));
        assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_request")));
        let (status, _) = send("PATCH", "/api/v1/admin/oidc-clients/wiki", &admin, &json!({"scopes": ["openid", "email"]}));
        assert_eq!(status, 200);
        let (status, app) = send("POST", "/api/v1/admin/applications", &admin, &json!({"name": "grafana", "domain": "grafana.example", "allowed_hours": ["Mon-Fri 08:00-19:00"], "time_zone": "Asia/Tokyo"}));
        assert_eq!(status, 201, "{app}");
        let (status, _) = send("POST", "/api/v1/admin/applications", &admin, &json!({"name": "g2", "domain": "grafana.example"}));
        assert_eq!(status, 400, "one application per domain");
        let (status, list) = send("GET", "/api/v1/admin/applications", &ops, &Value::Null);
        assert_eq!(status, 403, "{list}");
        let (_, list) = send("GET", "/api/v1/admin/applications", &admin, &Value::Null);
        assert_eq!(list["applications"].as_array().unwrap().len(), 3);
        assert_eq!(send("DELETE", "/api/v1/admin/applications/grafana", &admin, &Value::Null).0, 204);
        assert_eq!(send("DELETE", "/api/v1/admin/applications/grafana", &admin, &Value::Null).0, 404);
        let doc = server.curl_json("/api/openapi.json", &[]);
        assert_eq!(doc["paths"]["/api/v1/admin/oidc-clients"]["post"]["x-passgrid-roles"], json!(["admin"]));
        cli_value(&server, &["oidc", "client", "remove", "spa"]);
        assert_eq!(cli_value(&server, &["oidc", "client", "list"]).as_array().unwrap().len(), 1);
    }
}

/// SPEC §11.1: a code issued by one server is redeemed at another of the cluster.
#[test]
fn a_code_from_one_server_is_redeemed_at_another() {
    let dir = TempDir::new("oidc-cluster");
    let database = TestDb::new(Db::Postgres);
    let one = TestServer::start(&dir.path().join("data"), &database, &[]);
    let two = TestServer::start(&dir.path().join("data"), &database, &[]);
    let redirect = "https://app.example/cb";
    let rp = add_client(&one, "clustered", redirect, &[]);
    add_user_with_pattern(&one, "gus", &[]);
    let jar = dir.path().join("jar");
    sign_in(&one, &jar, "gus", &[]);
    // The session made on one is the SSO session on two: two issues the code…
    let (_, location, _) = get(&two, &authorize_url(&rp, redirect, ""), &jar, &[]);
    let code = query_param(&location.unwrap(), "code").expect("server two issued a code");
    // …one redeems it; the access token works at two.
    let (status, tokens) = exchange(&one, &rp, &code, redirect);
    assert_eq!(status, 200, "{tokens}");
    let bearer = format!(
        "Authorization: Bearer {}",
        tokens["access_token"].as_str().unwrap()
    );
    assert_eq!(two.curl("/oidc/userinfo", &["-H", &bearer]).0, 200);
    // The same code at two: refused, and the replay revokes what the code gave, on both.
    assert_eq!(
        exchange(&two, &rp, &code, redirect).1["error"],
        "invalid_grant"
    );
    assert_eq!(one.curl("/oidc/userinfo", &["-H", &bearer]).0, 401);
    // One key set in the database: the JWKS is the same at either server.
    assert_eq!(
        one.curl_json("/oidc/jwks", &[]),
        two.curl_json("/oidc/jwks", &[])
    );
}
