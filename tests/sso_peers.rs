//! Single sign-on with real peers from Debian (issue #17 acceptance): nginx
//! `auth_request` in front of a static upstream, and Apache httpd with
//! `mod_auth_openidc` protecting a CGI page. curl with a cookie jar is the browser;
//! the sign-in goes through passgrid's own forms.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use std::os::unix::process::CommandExt;

use integration_tests::*;
use serde_json::json;

const CELLS: [u64; 7] = [3, 17, 22, 40, 41, 9, 30];
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) passgrid-test";

fn add_user(server: &TestServer, id: &str, groups: &[&str]) {
    let mut args = vec!["user", "add", id, "--name", "Test User", "--email"];
    let mail = format!("{id}@example.com");
    args.push(&mail);
    for g in groups {
        args.extend_from_slice(&["--group", g]);
    }
    cli_value(server, &args);
    let cells = CELLS.map(|c| c.to_string()).join(",");
    cli_value(server, &["user", "set-pattern", id, "--cells", &cells]);
}

/// A browser request: (status, Location, body); `url` absolute.
fn browse(ca: &Path, jar: &Path, url: &str, extra: &[&str]) -> (u16, Option<String>, String) {
    let jar = jar.to_str().unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-A",
            BROWSER,
            "-H",
            "Accept: text/html",
            "--cacert",
        ])
        .arg(ca)
        .args([
            "-b",
            jar,
            "-c",
            jar,
            "-D",
            "-",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let location = body
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .map(|l| l[9..].trim().to_string());
    (code.trim().parse().unwrap_or(0), location, body.to_string())
}

fn absolute(server: &TestServer, location: &str) -> String {
    if location.starts_with('/') {
        server.url(location)
    } else {
        location.to_string()
    }
}

/// Follows redirects (and passgrid's "continue" pages) until a page that is neither,
/// or until `stop` says so; returns the last answer and its URL.
fn follow(
    server: &TestServer,
    ca: &Path,
    jar: &Path,
    mut url: String,
    stop: impl Fn(&str) -> bool,
) -> (u16, String, String) {
    for _ in 0..12 {
        if stop(&url) {
            return (0, url, String::new());
        }
        let (status, location, body) = browse(ca, jar, &url, &[]);
        match location {
            Some(l)
                if (300..400).contains(&status)
                    || status == 401 && l.contains("/auth/forward/signin") =>
            {
                url = absolute(server, &l);
            }
            _ => {
                if status == 200 && body.contains("http-equiv=\"refresh\"") {
                    let next = body
                        .split("url=")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap()
                        .replace("&amp;", "&");
                    url = absolute(server, &next);
                    continue;
                }
                return (status, url, body);
            }
        }
    }
    panic!("too many redirects from {url}");
}

/// Passgrid's sign-in form, driven as a browser does (the grid's digits come from
/// an API start on the same flow cookie). Returns the next URL (a continuation or /me).
fn sign_in_form(server: &TestServer, ca: &Path, jar: &Path, user: &str) -> String {
    let (_, _, page) = browse(ca, jar, &server.url("/login"), &[]);
    let csrf = csrf_field(&page);
    let (_, start) = post_json(server, "/api/v1/auth/start", &json!({"user": user}), jar);
    let (status, location, body) = browse(
        ca,
        jar,
        &server.url("/login/verify"),
        &[
            "-d",
            &format!("csrf={csrf}"),
            "-d",
            &format!("challenge={}", start["challenge"].as_str().unwrap()),
            "-d",
            &format!("otp={}", otp_from(&start, &CELLS)),
        ],
    );
    if status == 200 {
        let next = body
            .split("url=")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("continue page")
            .replace("&amp;", "&");
        return absolute(server, &next);
    }
    absolute(server, &location.expect("a redirect after sign-in"))
}

fn logout_at_passgrid(server: &TestServer, ca: &Path, jar: &Path) {
    let (_, _, page) = browse(ca, jar, &server.url("/login"), &[]);
    let csrf = csrf_field(&page);
    let (status, _, _) = browse(
        ca,
        jar,
        &server.url("/logout"),
        &["-d", &format!("csrf={csrf}")],
    );
    assert_eq!(status, 303);
}

/// A child process killed on drop.
struct Peer(Child);

impl Drop for Peer {
    /// SIGTERM first: nginx's and Apache's masters then stop their workers (a SIGKILL
    /// would leave the workers behind).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(port: u16, what: &str, log: &Path) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A self-signed TLS certificate for 127.0.0.1 (the proxy's own), and a bundle that
/// trusts it and passgrid's CA (for curl).
fn proxy_certificate(dir: &Path, passgrid_ca: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (cert, key) = (dir.join("proxy.pem"), dir.join("proxy.key"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]);
    let bundle = dir.join("trust.pem");
    let mut both = std::fs::read_to_string(passgrid_ca).unwrap();
    both.push_str(&std::fs::read_to_string(&cert).unwrap());
    std::fs::write(&bundle, both).unwrap();
    (cert, key, bundle)
}

on_both_databases! {
    fn nginx_auth_request_in_front_of_an_upstream(db: Db) {
        let dir = TempDir::new("fwd-nginx");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(&config, "[forward_auth]\ndomains = [\"127.0.0.1\"]\nsession_secs = 3600\n").unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        cli_value(&server, &["group", "add", "wiki-readers"]);
        cli_value(&server, &["app", "add", "wiki", "--domain", "127.0.0.1", "--group", "wiki-readers"]);
        add_user(&server, "alice", &["wiki-readers"]);
        add_user(&server, "mallory", &[]);
        let (cert, key, trust) = proxy_certificate(dir.path(), &server.ca_pem());
        let passgrid_ca = dir.path().join("passgrid-ca.pem");
        std::fs::copy(server.ca_pem(), &passgrid_ca).unwrap();
        let (port, upstream) = (free_port(), free_port());
        let d = dir.path().display();
        let conf = format!(r#"
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/ngx-body; proxy_temp_path {d}/ngx-proxy;
  fastcgi_temp_path {d}/ngx-fcgi; uwsgi_temp_path {d}/ngx-uwsgi; scgi_temp_path {d}/ngx-scgi;
  server {{
    listen 127.0.0.1:{upstream};
    location / {{ default_type text/plain;
      return 200 "user=$http_remote_user name=$http_remote_name email=$http_remote_email groups=$http_remote_groups\n"; }}
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert}; ssl_certificate_key {key};
    location = /_passgrid {{
      internal;
      proxy_pass https://127.0.0.1:{pg}/auth/forward;
      # passgrid's Location is for the browser: nginx must not rewrite it.
      proxy_redirect off;
      proxy_ssl_trusted_certificate {passgrid_ca}; proxy_ssl_verify on; proxy_ssl_name localhost; proxy_ssl_server_name on;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }}
    location / {{
      auth_request /_passgrid;
      auth_request_set $pg_user $upstream_http_remote_user;
      auth_request_set $pg_name $upstream_http_remote_name;
      auth_request_set $pg_email $upstream_http_remote_email;
      auth_request_set $pg_groups $upstream_http_remote_groups;
      auth_request_set $pg_signin $upstream_http_location;
      error_page 401 =302 $pg_signin;
      proxy_set_header Remote-User $pg_user;
      proxy_set_header Remote-Name $pg_name;
      proxy_set_header Remote-Email $pg_email;
      proxy_set_header Remote-Groups $pg_groups;
      proxy_pass http://127.0.0.1:{upstream};
    }}
  }}
}}
"#, cert = cert.display(), key = key.display(), pg = server.port, passgrid_ca = passgrid_ca.display());
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = dir.path().join("nginx-error.log");
        let child = Command::new("/usr/sbin/nginx")
            .args(["-p", &d.to_string(), "-c", conf_path.to_str().unwrap()])
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (Debian package nginx)");
        let _nginx = Peer(child);
        wait_port(port, "nginx", &log);
        let site = format!("https://127.0.0.1:{port}/docs/page?x=1");

        // Not signed in: to passgrid's sign-in carrying the original URL; the forged
        // header changes nothing.
        let jar = dir.path().join("alice.jar");
        let (status, location, body) = browse(&trust, &jar, &site, &["-H", "Remote-User: admin"]);
        assert_eq!(status, 302, "{body}\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        let signin = location.unwrap();
        assert!(signin.starts_with(&server.url("/auth/forward/signin?rd=https%3A%2F%2F127.0.0.1%3A")), "{signin}");
        // Sign in; passgrid sets the site's cookie and sends the browser back.
        let (status, cont, _) = browse(&trust, &jar, &signin, &[]);
        assert_eq!(status, 302);
        browse(&trust, &jar, &absolute(&server, &cont.unwrap()), &[]);
        let next = sign_in_form(&server, &trust, &jar, "alice");
        assert!(next.contains("/auth/forward/signin?rd="), "{next}");
        let (status, back, _) = browse(&trust, &jar, &next, &[]);
        assert_eq!((status, back.as_deref()), (302, Some(site.as_str())));
        // Signed in: the upstream sees passgrid's answer, not the client's header.
        let (status, _, body) = browse(&trust, &jar, &site, &["-H", "Remote-User: admin", "-H", "Remote-Groups: admins"]);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("user=alice name=Test User email=alice@example.com groups=wiki-readers"), "{body}");
        // Straight at passgrid, a forged header is no credential either.
        let (status, _) = server.curl("/auth/forward", &["-H", "Remote-User: alice", "-H", &format!("X-Original-URL: {site}")]);
        assert_eq!(status, 401);
        // A return address off the protected domains: an error page, never a redirect.
        let (status, location, _) = browse(&trust, &jar, &server.url("/auth/forward/signin?rd=https%3A%2F%2Fevil.example%2F"), &[]);
        assert_eq!((status, location), (400, None));

        // mallory is signed in but not in the group: 403, and 403 again (no loop).
        let mjar = dir.path().join("mallory.jar");
        let (_, location, _) = browse(&trust, &mjar, &site, &[]);
        let (_, cont, _) = browse(&trust, &mjar, &location.unwrap(), &[]);
        browse(&trust, &mjar, &absolute(&server, &cont.unwrap()), &[]);
        let next = sign_in_form(&server, &trust, &mjar, "mallory");
        let (status, _, _) = browse(&trust, &mjar, &next, &[]);
        assert_eq!(status, 302);
        for _ in 0..2 {
            let (status, location, body) = browse(&trust, &mjar, &site, &[]);
            assert_eq!((status, location), (403, None), "{body}");
        }
        let admin = {
            cli_value(&server, &["admin", "create", "fa-admin", "--role", "admin"]);
            cli_value(&server, &["admin", "token", "create", "fa-admin"])["token"].as_str().unwrap().to_string()
        };
        let refused = server.curl_json("/api/v1/admin/audit?action=forward_auth.refused", &["-H", &format!("Authorization: Bearer {admin}")]);
        assert!(refused["entries"].as_array().unwrap().iter().any(|e| e["actor"] == "mallory" && e["reason"] == "not in an allowed group (application wiki)"), "{refused}");

        // Logging out of passgrid ends the site's session too.
        logout_at_passgrid(&server, &trust, &jar);
        let (status, location, _) = browse(&trust, &jar, &site, &[]);
        assert_eq!(status, 302);
        assert!(location.unwrap().contains("/auth/forward/signin?rd="));
    }
}

on_both_databases! {
    fn apache_mod_auth_openidc_signs_in_refreshes_and_logs_out(db: Db) {
        let dir = TempDir::new("rp-apache");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        add_user(&server, "alice", &[]);
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let redirect = format!("{base}/app/redirect_uri");
        let client = cli_value(&server, &[
            "oidc", "client", "add", "apache", "--redirect-uri", &redirect,
            "--post-logout-uri", &format!("{base}/bye.html"),
            "--backchannel-logout-uri", &format!("{redirect}?logout=backchannel"),
            // Short, so that mod_auth_openidc refreshes it within the test.
            "--access-token-secs", "35",
        ]);
        // The Apache tree, readable by its worker user.
        let root = dir.path().join("apache");
        std::fs::create_dir_all(root.join("cgi")).unwrap();
        std::fs::create_dir_all(root.join("htdocs")).unwrap();
        std::fs::write(root.join("htdocs/bye.html"), "bye\n").unwrap();
        std::fs::copy(server.ca_pem(), root.join("ca.pem")).unwrap();
        let cgi = root.join("cgi/whoami.cgi");
        std::fs::write(&cgi, "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"user=$OIDC_CLAIM_preferred_username\"\necho \"token=$OIDC_access_token\"\n").unwrap();
        Command::new("chmod").args(["-R", "a+rX", root.to_str().unwrap()]).status().unwrap();
        Command::new("chmod").args(["755", cgi.to_str().unwrap()]).status().unwrap();
        let m = "/usr/lib/apache2/modules";
        let r = root.display();
        let conf = format!(r#"
ServerRoot "{r}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile {r}/httpd.pid
ErrorLog {r}/error.log
LogLevel warn auth_openidc:info
LoadModule mpm_prefork_module {m}/mod_mpm_prefork.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule alias_module {m}/mod_alias.so
LoadModule cgi_module {m}/mod_cgi.so
LoadModule auth_openidc_module {m}/mod_auth_openidc.so
User www-data
Group www-data
DocumentRoot {r}/htdocs
<Directory {r}/htdocs>
  Require all granted
</Directory>
ScriptAlias /app/ {r}/cgi/
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCCABundlePath {r}/ca.pem
OIDCClientID {id}
OIDCClientSecret {secret}
OIDCRedirectURI {redirect}
OIDCCryptoPassphrase {pass}
OIDCPKCEMethod S256
OIDCScope "openid profile email"
OIDCRefreshAccessTokenBeforeExpiry 30
<Location /app/>
  AuthType openid-connect
  Require valid-user
</Location>
"#, issuer = server.url(""), id = client["client_id"].as_str().unwrap(), secret = client["client_secret"].as_str().unwrap(),
            pass = client["client_id"].as_str().unwrap().chars().rev().collect::<String>());
        let conf_path = root.join("httpd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = root.join("error.log");
        let child = Command::new("/usr/sbin/apache2")
            .args(["-f", conf_path.to_str().unwrap(), "-DFOREGROUND"])
            // Its own process group: Apache stops by signalling its whole group.
            .process_group(0)
            .env("APACHE_RUN_DIR", &root)
            .env("APACHE_LOCK_DIR", &root)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("error.log")).unwrap())
            .spawn()
            .expect("apache2 (Debian packages apache2, libapache2-mod-auth-openidc)");
        let _apache = Peer(child);
        wait_port(port, "apache", &log);
        let ca = server.ca_pem();
        let jar = dir.path().join("jar");
        let page = format!("{base}/app/whoami.cgi");

        // The protected page sends the browser to passgrid, with PKCE S256 (from discovery).
        let (status, location, _) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 302, "{}", std::fs::read_to_string(&log).unwrap_or_default());
        let authorize = location.unwrap();
        assert!(authorize.starts_with(&server.url("/oidc/authorize?")), "{authorize}");
        assert!(authorize.contains("code_challenge_method=S256"), "{authorize}");
        // passgrid's sign-in, then back to Apache, which shows its own claim.
        let (_, location, _) = browse(&ca, &jar, &authorize, &[]);
        browse(&ca, &jar, &absolute(&server, &location.unwrap()), &[]);
        let next = sign_in_form(&server, &ca, &jar, "alice");
        let (status, _, body) = follow(&server, &ca, &jar, next, |_| false);
        assert_eq!(status, 200, "{body}\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        assert!(body.contains("user=alice"), "{body}");
        let token_of = |b: &str| b.lines().find_map(|l| l.strip_prefix("token=")).unwrap_or("").to_string();
        let first = token_of(&body);
        assert!(!first.is_empty());
        // After a few seconds the 35 s token is within 30 s of its end: Apache refreshes.
        std::thread::sleep(Duration::from_secs(6));
        let (status, _, body) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 200, "{body}");
        let second = token_of(&body);
        assert!(!second.is_empty() && second != first, "refreshed: {first} -> {second}");

        // Logging out at passgrid reaches Apache on the back channel.
        logout_at_passgrid(&server, &ca, &jar);
        let (status, location, _) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 302, "Apache's session ended");
        assert!(location.unwrap().starts_with(&server.url("/oidc/authorize?")));

        // Sign in again; then Apache's logout goes through passgrid's end-session: both end.
        let (_, location, _) = browse(&ca, &jar, &page, &[]);
        let (_, cont, _) = browse(&ca, &jar, &location.unwrap(), &[]);
        browse(&ca, &jar, &absolute(&server, &cont.unwrap()), &[]);
        let next = sign_in_form(&server, &ca, &jar, "alice");
        let (status, _, body) = follow(&server, &ca, &jar, next, |_| false);
        assert!(status == 200 && body.contains("user=alice"), "{body}");
        let logout = format!("{redirect}?logout={}", url_encode(&format!("{base}/bye.html")));
        let (status, _, body) = follow(&server, &ca, &jar, logout, |_| false);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("bye"), "{body}");
        let (status, location, _) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 302);
        let (_, location, _) = browse(&ca, &jar, &location.unwrap(), &[]);
        assert!(location.unwrap().starts_with("/login/continue"), "passgrid's session ended too");
        let admin = {
            cli_value(&server, &["admin", "create", "rp-admin", "--role", "admin"]);
            cli_value(&server, &["admin", "token", "create", "rp-admin"])["token"].as_str().unwrap().to_string()
        };
        let bearer = format!("Authorization: Bearer {admin}");
        let refreshes = server.curl_json("/api/v1/admin/audit?action=oidc.refresh", &["-H", &bearer]);
        assert!(!refreshes["entries"].as_array().unwrap().is_empty());
        let bc = server.curl_json("/api/v1/admin/audit?action=oidc.backchannel_logout", &["-H", &bearer]);
        assert!(bc["entries"].as_array().unwrap().iter().any(|e| e["outcome"] == "success"), "{bc}");
    }
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
