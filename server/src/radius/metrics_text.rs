//! The RADIUS server's counters in `/metrics` (Prometheus text): datagrams and
//! stream packets, what was dropped and why, replies by kind, RadSec handshakes.

use std::sync::{atomic::Ordering::Relaxed, Arc};

use passgrid_radius::Counters;

use super::{decide::Events, radsec::HandshakeCounters};
use crate::metrics::MetricsSource;

#[derive(Debug)]
pub struct RadiusMetrics {
    pub udp: Arc<Counters>,
    pub radsec: Arc<Counters>,
    pub events: Arc<Events>,
    pub handshakes: Arc<HandshakeCounters>,
}

fn family(out: &mut String, name: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
}

impl MetricsSource for RadiusMetrics {
    fn render(&self, out: &mut String) {
        let transports = [
            ("udp", self.udp.snapshot()),
            ("radsec", self.radsec.snapshot()),
        ];
        family(
            out,
            "passgrid_radius_received_total",
            "RADIUS datagrams or RadSec packets received.",
        );
        for (t, s) in &transports {
            out.push_str(&format!(
                "passgrid_radius_received_total{{transport=\"{t}\"}} {}\n",
                s.received
            ));
        }
        family(
            out,
            "passgrid_radius_dropped_total",
            "RADIUS requests dropped without an answer, by reason.",
        );
        for (t, s) in &transports {
            for (reason, n) in [
                ("malformed", s.dropped_malformed),
                ("unknown_client", s.dropped_unknown_client),
                (
                    "missing_message_authenticator",
                    s.dropped_missing_message_authenticator,
                ),
                (
                    "bad_message_authenticator",
                    s.dropped_bad_message_authenticator,
                ),
                (
                    "bad_accounting_authenticator",
                    s.dropped_bad_accounting_authenticator,
                ),
                ("in_flight", s.dropped_in_flight),
                ("overloaded", s.dropped_overloaded),
                ("unanswered", s.handler_silent),
                ("reply_error", s.reply_errors),
            ] {
                out.push_str(&format!(
                    "passgrid_radius_dropped_total{{transport=\"{t}\",reason=\"{reason}\"}} {n}\n"
                ));
            }
        }
        family(
            out,
            "passgrid_radius_duplicates_total",
            "Retransmitted RADIUS requests answered from the duplicate cache.",
        );
        for (t, s) in &transports {
            out.push_str(&format!(
                "passgrid_radius_duplicates_total{{transport=\"{t}\"}} {}\n",
                s.duplicates
            ));
        }
        family(
            out,
            "passgrid_radius_replies_total",
            "RADIUS replies decided, by kind.",
        );
        let e = &self.events;
        for (kind, n) in [
            ("accept", &e.accepts),
            ("reject", &e.rejects),
            ("challenge", &e.challenges),
            ("accounting", &e.accounting),
        ] {
            out.push_str(&format!(
                "passgrid_radius_replies_total{{kind=\"{kind}\"}} {}\n",
                n.load(Relaxed)
            ));
        }
        family(
            out,
            "passgrid_radius_radsec_handshakes_total",
            "RadSec TLS handshakes by result.",
        );
        let h = &self.handshakes;
        for (result, n) in [
            ("ok", &h.ok),
            ("refused", &h.refused),
            ("timeout", &h.timed_out),
        ] {
            out.push_str(&format!(
                "passgrid_radius_radsec_handshakes_total{{result=\"{result}\"}} {}\n",
                n.load(Relaxed)
            ));
        }
    }
}
