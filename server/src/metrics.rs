//! Counters for `/metrics` in the Prometheus text format. Plain atomics: a handful of
//! counters does not need a metrics framework.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

#[derive(Default, Debug)]
pub struct Metrics {
    handshakes_ok: AtomicU64,
    handshakes_with_client_cert: AtomicU64,
    handshakes_failed: AtomicU64,
    handshakes_timed_out: AtomicU64,
    connections_open: AtomicI64,
    connections_refused: AtomicU64,
    connections_evicted: AtomicU64,
    connections_closed_idle: AtomicU64,
    responses: [AtomicU64; 5],
    /// Single sign-on events per application: (application, event) → count.
    sso: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), u64>>,
    /// Front ends outside HTTP (RADIUS) that add their own counters.
    sources: std::sync::RwLock<Vec<std::sync::Arc<dyn MetricsSource>>>,
}

/// Counters kept elsewhere that `/metrics` shows too (the RADIUS server's).
pub trait MetricsSource: Send + Sync + std::fmt::Debug {
    /// Appends Prometheus exposition text (with HELP and TYPE lines).
    fn render(&self, out: &mut String);
}

/// Decrements the open-connection gauge when dropped.
pub struct OpenConnection<'a>(&'a Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    pub fn handshake_ok(&self, with_client_cert: bool) {
        self.handshakes_ok.fetch_add(1, Relaxed);
        if with_client_cert {
            self.handshakes_with_client_cert.fetch_add(1, Relaxed);
        }
    }
    pub fn handshake_failed(&self) {
        self.handshakes_failed.fetch_add(1, Relaxed);
    }
    pub fn handshake_timed_out(&self) {
        self.handshakes_timed_out.fetch_add(1, Relaxed);
    }
    pub fn connection_opened(&self) -> OpenConnection<'_> {
        self.connections_open.fetch_add(1, Relaxed);
        OpenConnection(self)
    }
    /// A new connection found every place busy and was closed at once.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }
    /// An idle connection was closed to make room for a new one.
    pub fn connection_evicted(&self) {
        self.connections_evicted.fetch_add(1, Relaxed);
    }
    /// A connection was closed for bringing no request in time.
    pub fn connection_closed_idle(&self) {
        self.connections_closed_idle.fetch_add(1, Relaxed);
    }
    /// Counts a response by status class (1xx … 5xx).
    pub fn response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Relaxed);
    }

    /// Counts a single sign-on event (`authorize`, `token`, `refresh`, `refused`, …) of
    /// an application.
    pub fn sso_event(&self, application: &str, event: &'static str) {
        if let Ok(mut map) = self.sso.lock() {
            *map.entry((application.to_string(), event)).or_insert(0) += 1;
        }
    }

    /// Adds a source of counters to the exposition.
    pub fn add_source(&self, source: std::sync::Arc<dyn MetricsSource>) {
        if let Ok(mut sources) = self.sources.write() {
            sources.push(source);
        }
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(sources) = self.sources.read() {
            for source in sources.iter() {
                source.render(&mut out);
            }
        }
        out.push_str("# HELP passgrid_sso_events_total Single sign-on events per application.\n");
        out.push_str("# TYPE passgrid_sso_events_total counter\n");
        if let Ok(map) = self.sso.lock() {
            for ((app, event), n) in map.iter() {
                // Label values escaped as the exposition format says (\\, \").
                let app = app.replace('\\', "\\\\").replace('"', "\\\"");
                out.push_str(&format!(
                    "passgrid_sso_events_total{{application=\"{app}\",event=\"{event}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP passgrid_tls_handshakes_total TLS handshakes by result.\n");
        out.push_str("# TYPE passgrid_tls_handshakes_total counter\n");
        for (result, v) in [
            ("ok", &self.handshakes_ok),
            ("failed", &self.handshakes_failed),
            ("timeout", &self.handshakes_timed_out),
        ] {
            out.push_str(&format!(
                "passgrid_tls_handshakes_total{{result=\"{result}\"}} {}\n",
                v.load(Relaxed)
            ));
        }
        out.push_str("# HELP passgrid_tls_client_certificates_total Handshakes that presented a verified client certificate.\n");
        out.push_str("# TYPE passgrid_tls_client_certificates_total counter\n");
        out.push_str(&format!(
            "passgrid_tls_client_certificates_total {}\n",
            self.handshakes_with_client_cert.load(Relaxed)
        ));
        out.push_str("# HELP passgrid_connections_open HTTPS connections open now.\n");
        out.push_str("# TYPE passgrid_connections_open gauge\n");
        out.push_str(&format!(
            "passgrid_connections_open {}\n",
            self.connections_open.load(Relaxed)
        ));
        out.push_str(
            "# HELP passgrid_connections_closed_total Connections the server closed, by reason.\n",
        );
        out.push_str("# TYPE passgrid_connections_closed_total counter\n");
        for (reason, v) in [
            ("refused", &self.connections_refused),
            ("evicted", &self.connections_evicted),
            ("idle", &self.connections_closed_idle),
        ] {
            out.push_str(&format!(
                "passgrid_connections_closed_total{{reason=\"{reason}\"}} {}\n",
                v.load(Relaxed)
            ));
        }
        out.push_str("# HELP passgrid_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE passgrid_http_responses_total counter\n");
        for (i, v) in self.responses.iter().enumerate() {
            out.push_str(&format!(
                "passgrid_http_responses_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                v.load(Relaxed)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_gauge() {
        let m = Metrics::default();
        m.handshake_ok(true);
        m.handshake_failed();
        m.response(200);
        m.response(404);
        m.response(999);
        {
            let _c = m.connection_opened();
            assert!(m.render().contains("passgrid_connections_open 1\n"));
        }
        let text = m.render();
        assert!(text.contains("passgrid_tls_handshakes_total{result=\"ok\"} 1\n"));
        assert!(text.contains("passgrid_tls_client_certificates_total 1\n"));
        assert!(text.contains("passgrid_http_responses_total{class=\"4xx\"} 1\n"));
        assert!(text.contains("passgrid_http_responses_total{class=\"5xx\"} 1\n"));
        assert!(text.contains("passgrid_connections_open 0\n"));
    }
}
