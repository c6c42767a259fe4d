//! The console's calls to the administrators' JSON API, from the browser. The session
//! cookie goes along by itself; every change carries the CSRF token in
//! `X-CSRF-Token` (the double-submit cookie's value, handed to the island).
//! On the server these are never called (islands only act once hydrated).

use serde_json::Value;

/// The answer's JSON, or the reason as a person should read it.
pub type Answer = Result<Value, String>;

#[cfg(feature = "hydrate")]
async fn finish(resp: Result<gloo_net::http::Response, gloo_net::Error>) -> Answer {
    let resp = resp.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(reason(status, &body))
    }
}

/// `message` when the server gave one, else its error code and the status.
pub fn reason(status: u16, body: &Value) -> String {
    match (body["message"].as_str(), body["error"].as_str()) {
        (Some(m), _) => m.to_string(),
        (None, Some(code)) => format!("{code} ({status})"),
        (None, None) => format!("HTTP {status}"),
    }
}

pub async fn get(url: String) -> Answer {
    #[cfg(feature = "hydrate")]
    {
        finish(gloo_net::http::Request::get(&url).send().await).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
        Err(String::new())
    }
}

/// POST, PATCH, PUT or DELETE with a JSON body (or none).
pub async fn send(method: &'static str, url: String, csrf: String, body: Option<Value>) -> Answer {
    #[cfg(feature = "hydrate")]
    {
        use gloo_net::http::{Method, RequestBuilder};
        let method = match method {
            "PATCH" => Method::PATCH,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            _ => Method::POST,
        };
        let builder = RequestBuilder::new(&url)
            .method(method)
            .header("X-CSRF-Token", &csrf);
        let request = match body {
            Some(b) => builder.json(&b).map_err(|e| e.to_string())?,
            None => builder.build().map_err(|e| e.to_string())?,
        };
        finish(request.send().await).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, url, csrf, body);
        Err(String::new())
    }
}

/// POSTs a file chosen in an `<input type=file>` as the request body.
#[cfg(feature = "hydrate")]
pub async fn post_file(url: String, csrf: String, file: web_sys::File) -> Answer {
    let request = gloo_net::http::Request::post(&url)
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "text/csv")
        .body(wasm_bindgen::JsValue::from(file))
        .map_err(|e| e.to_string())?;
    finish(request.send().await).await
}

/// POSTs a token seed file; an encrypted PSKC file's key goes in a header, never in
/// the address.
#[cfg(feature = "hydrate")]
pub async fn post_token_file(csrf: String, file: web_sys::File, psk_hex: String) -> Answer {
    let mut request = gloo_net::http::Request::post("/api/v1/admin/token-imports")
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "application/octet-stream");
    if !psk_hex.is_empty() {
        request = request.header("X-PSKC-Key", &psk_hex);
    }
    let request = request
        .body(wasm_bindgen::JsValue::from(file))
        .map_err(|e| e.to_string())?;
    finish(request.send().await).await
}

/// `key=value` pairs, each value percent-encoded, for a query string.
pub fn query(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Unix seconds as `YYYY-MM-DD HH:MM` (UTC), without a date library in the WASM.
pub fn utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `YYYY-MM-DD` (a date input's value) as Unix seconds at 00:00 UTC.
pub fn day_start(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days-from-civil algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_escape_what_they_must() {
        assert_eq!(
            query(&[
                ("q", "a b&c".into()),
                ("group", String::new()),
                ("after", "x".into())
            ]),
            "?q=a%20b%26c&after=x"
        );
        assert_eq!(query(&[("q", "営業".into())]), "?q=%E5%96%B6%E6%A5%AD");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_795_000_000), "2026-11-18 11:06");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
    }

    #[test]
    fn dates_become_the_start_of_their_day_in_utc() {
        assert_eq!(day_start("1970-01-01"), Some(0));
        assert_eq!(day_start("2000-02-29"), Some(951_782_400));
        assert_eq!(
            day_start("2026-11-18"),
            Some(1_795_000_000 - (11 * 3600 + 6 * 60 + 40))
        );
        assert_eq!(day_start("2026-13-01"), None);
        assert_eq!(day_start("yesterday"), None);
    }
}
