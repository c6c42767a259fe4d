//! A browser made of curl and a cookie jar, for the single sign-on tests: requests
//! with headers, redirects and passgrid's "continue" pages followed, passgrid's own
//! sign-in form, the auto-submitting forms SAML uses, and the peers (Apache, nginx)
//! started and stopped as child processes.

use std::{
    path::Path,
    process::{Child, Command},
    time::Duration,
};

use serde_json::json;

use super::{csrf_field, otp_from, post_json, TestServer};

pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) passgrid-test";

/// A browser request: (status, Location, body with headers); `url` absolute.
pub fn browse(ca: &Path, jar: &Path, url: &str, extra: &[&str]) -> (u16, Option<String>, String) {
    let jar = jar.to_str().unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-A",
            BROWSER_UA,
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

/// `location` made absolute against passgrid.
pub fn absolute(server: &TestServer, location: &str) -> String {
    if location.starts_with('/') {
        server.url(location)
    } else {
        location.to_string()
    }
}

/// The target of a meta-refresh "continue" page, if `body` is one.
pub fn refresh_target(body: &str) -> Option<String> {
    if !body.contains("http-equiv=\"refresh\"") {
        return None;
    }
    body.split("url=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(html_unescape)
}

/// Follows redirects (and passgrid's "continue" pages) until a page that is neither,
/// or until `stop` says so; returns the last answer and its URL.
pub fn follow(
    server: &TestServer,
    ca: &Path,
    jar: &Path,
    mut url: String,
    stop: impl Fn(&str) -> bool,
) -> (u16, String, String) {
    for _ in 0..16 {
        if stop(&url) {
            return (0, url, String::new());
        }
        let (status, location, body) = browse(ca, jar, &url, &[]);
        match location {
            Some(l) if (300..400).contains(&status) => url = absolute(server, &l),
            _ => match (status, refresh_target(&body)) {
                (200, Some(next)) => url = absolute(server, &next),
                _ => return (status, url, body),
            },
        }
    }
    panic!("too many redirects from {url}");
}

/// passgrid's sign-in form, driven as a browser does (the grid's digits come from an
/// API start on the same flow cookie). Returns the next URL (a continuation or /me).
pub fn sign_in_form(
    server: &TestServer,
    ca: &Path,
    jar: &Path,
    user: &str,
    cells: &[u64],
    extra: &[&str],
) -> String {
    let (_, _, page) = browse(ca, jar, &server.url("/login"), extra);
    let csrf = csrf_field(&page);
    let (_, start) = post_json(server, "/api/v1/auth/start", &json!({"user": user}), jar);
    let mut args = vec![
        "-d".to_string(),
        format!("csrf={csrf}"),
        "-d".to_string(),
        format!(
            "challenge={}",
            start["challenge"].as_str().expect("a challenge")
        ),
        "-d".to_string(),
        format!("otp={}", otp_from(&start, cells)),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, location, body) = browse(ca, jar, &server.url("/login/verify"), &args);
    if status == 200 {
        return absolute(server, &refresh_target(&body).expect("continue page"));
    }
    absolute(server, &location.expect("a redirect after sign-in"))
}

/// HTML attribute text back to text.
pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The action and hidden fields of the (first) form in `html`.
pub fn form_of(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = html.split("<form").nth(1)?;
    let action = form
        .split("action=\"")
        .nth(1)?
        .split('"')
        .next()
        .map(html_unescape)?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|i| {
            let name = i.split("name=\"").nth(1)?.split('"').next()?;
            let value = i.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), html_unescape(value)))
        })
        .collect();
    Some((action, fields))
}

/// The value of field `name` of a form.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Form encoding (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A child process stopped on drop: SIGTERM first, so that nginx's and Apache's
/// masters stop their workers (a SIGKILL would leave them behind).
pub struct Peer(pub Child);

impl Drop for Peer {
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

/// Waits until something listens on `port` (up to 5 s), else fails with `log`.
pub fn wait_port(port: u16, what: &str, log: &Path) {
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
