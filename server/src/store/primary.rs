//! Several PostgreSQL hosts, one writable primary (SPEC §11.1): sqlx connects to one
//! host per URL, so passgrid reads libpq's multi-host URLs itself
//! (`postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write`, or several
//! URLs separated by spaces), finds the host that takes writes and points its pools
//! at it. A watcher checks that host every second; when it stops answering or turns
//! read-only (a demoted primary answers SQLSTATE 25006 to writes), the pools are
//! emptied and pointed at whichever host the failover manager promoted.
//!
//! Never a wrong answer: passgrid reads from the primary only, so a request during a
//! failover waits for the new primary (up to the pool's acquire timeout) or fails
//! with 503 — it never reads a standby that may lag behind.
//!
//! Split brain: a former primary started again may take writes for a moment before
//! its manager demotes it. Promotion starts a new timeline, so passgrid never moves
//! to a writable host on an older timeline than one it has used, and prefers the
//! newest timeline when two hosts claim to be primary; and it never leaves a primary
//! that still takes writes.

use std::{
    str::FromStr,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use sqlx::{
    any::{AnyConnectOptions, AnyRow},
    AnyConnection, AnyPool, ConnectOptions, Connection, Row,
};
use tokio::sync::Notify;

use super::StoreError;

/// How often the watcher asks the primary whether it still is one.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long one probe of a host may take (connect + query).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a starting server waits for a writable primary before it gives up.
const STARTUP_WAIT: Duration = Duration::from_secs(60);

/// Whether the connection's server refuses writes: a standby, or a server set to
/// read-only (libpq's `target_session_attrs=read-write` asks the same).
pub(super) const READ_ONLY_SQL: &str =
    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'";

/// The probe: read-only, and on a primary the WAL file name, whose first eight hex
/// digits are the timeline (a standby cannot report its insert position).
const PROBE_SQL: &str =
    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on', \
     CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_walfile_name(pg_current_wal_lsn()) END";

/// One host of the list, as a single-host URL sqlx understands.
#[derive(Clone)]
pub(crate) struct Host {
    url: String,
    /// `host:port`, for logs and errors (the URL holds the password).
    pub label: String,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// Splits a PostgreSQL URL (or several, separated by white space) into one URL per
/// host, in order. `target_session_attrs` may be `read-write` or `primary` (passgrid
/// writes, so it always looks for the primary) and is taken out.
pub(crate) fn hosts_of(urls: &str) -> Result<Vec<Host>, StoreError> {
    let mut hosts = Vec::new();
    for url in urls.split_whitespace() {
        hosts.extend(hosts_of_one(url)?);
    }
    if hosts.is_empty() {
        return Err(StoreError::BadUrl("no host".into()));
    }
    Ok(hosts)
}

fn hosts_of_one(url: &str) -> Result<Vec<Host>, StoreError> {
    let bad = |why: &str| StoreError::BadUrl(why.to_string());
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "postgres" || *s == "postgresql")
        .ok_or_else(|| bad("expected postgres://…"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // The password may hold '@' only percent-encoded, but the host list never does.
    let (userinfo, host_list) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("target_session_attrs", value)) => {
                if !matches!(value, "read-write" | "primary" | "any") {
                    return Err(bad(
                        "target_session_attrs: passgrid writes, so only read-write or primary",
                    ));
                }
            }
            _ if pair.is_empty() => {}
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    if host_list.is_empty() {
        // A socket directory given as ?host=…: one host, as written.
        return Ok(vec![Host {
            url: format!("{scheme}://{userinfo}{path}{query}"),
            label: "(socket)".into(),
        }]);
    }
    let mut hosts = Vec::new();
    for host in host_list.split(',') {
        let (name, port) = split_port(host).ok_or_else(|| bad("a host:port is not valid"))?;
        if name.is_empty() {
            return Err(bad("an empty host name"));
        }
        let label = format!("{name}:{port}");
        hosts.push(Host {
            url: format!("{scheme}://{userinfo}{label}{path}{query}"),
            label,
        });
    }
    Ok(hosts)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` → (host as written, port).
fn split_port(host: &str) -> Option<(&str, u16)> {
    if host.starts_with('[') {
        let close = host.find(']')?;
        let (name, after) = host.split_at(close + 1);
        return match after.strip_prefix(':') {
            Some(p) => Some((name, p.parse().ok()?)),
            None if after.is_empty() => Some((name, 5432)),
            None => None,
        };
    }
    match host.split_once(':') {
        Some((name, p)) => Some((name, p.parse().ok()?)),
        None => Some((host, 5432)),
    }
}

impl Host {
    pub(super) fn options(&self) -> Result<AnyConnectOptions, StoreError> {
        Ok(AnyConnectOptions::from_str(&self.url)
            .map_err(StoreError::Unavailable)?
            .log_statements(tracing::log::LevelFilter::Trace))
    }
}

/// What a probe of one host found.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    Primary { timeline: u32 },
    ReadOnly,
}

async fn probe(host: &Host) -> Result<Probe, String> {
    let run = async {
        let mut conn = AnyConnection::connect_with(&host.options().map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
        let row = sqlx::query(PROBE_SQL)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        probe_of(&row).map_err(|e| e.to_string())
    };
    tokio::time::timeout(PROBE_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| Err("no answer in time".into()))
}

fn probe_of(row: &AnyRow) -> Result<Probe, sqlx::Error> {
    let read_only: bool = row.try_get(0)?;
    let walfile: String = row.try_get(1)?;
    if read_only {
        return Ok(Probe::ReadOnly);
    }
    let timeline = walfile
        .get(..8)
        .and_then(|t| u32::from_str_radix(t, 16).ok())
        .unwrap_or(0);
    Ok(Probe::Primary { timeline })
}

/// Of the probes (host order), the host to use: a primary on the newest timeline, at
/// least `floor`; the first in the list on a tie. `Err`: why none is usable.
fn choose(results: &[(usize, Result<Probe, String>)], floor: u32) -> Result<(usize, u32), String> {
    let mut best: Option<(usize, u32)> = None;
    for (i, r) in results {
        if let Ok(Probe::Primary { timeline }) = r {
            if *timeline >= floor && best.is_none_or(|(_, t)| *timeline > t) {
                best = Some((*i, *timeline));
            }
        }
    }
    best.ok_or_else(|| "no writable primary".to_string())
}

/// The current primary and the watcher's findings, shared by the pools' hooks.
pub(crate) struct Primary {
    hosts: Vec<Host>,
    current: AtomicUsize,
    writable: AtomicBool,
    /// The newest timeline used so far: a writable host on an older one is a former
    /// primary.
    timeline: AtomicU32,
    started: Instant,
    /// When the pools were last emptied (ms after `started`); connections older than
    /// that are closed instead of used.
    switched_ms: AtomicU64,
    /// Why no primary could be found, for the start-up error and the log.
    last_problem: Mutex<String>,
    wake: Notify,
}

impl std::fmt::Debug for Primary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Primary")
            .field("hosts", &self.hosts)
            .field("current", &self.current_label())
            .field("writable", &self.is_writable())
            .finish()
    }
}

impl Primary {
    /// Finds the primary among `hosts`, waiting for one up to a minute (a server may
    /// start during a failover).
    pub(super) async fn find(hosts: Vec<Host>) -> Result<Arc<Primary>, StoreError> {
        let primary = Arc::new(Primary {
            hosts,
            current: AtomicUsize::new(0),
            writable: AtomicBool::new(false),
            timeline: AtomicU32::new(0),
            started: Instant::now(),
            switched_ms: AtomicU64::new(0),
            last_problem: Mutex::new(String::new()),
            wake: Notify::new(),
        });
        let deadline = Instant::now() + STARTUP_WAIT;
        loop {
            match primary.search().await {
                Ok(index) => {
                    primary.current.store(index, Ordering::Relaxed);
                    primary.writable.store(true, Ordering::Relaxed);
                    return Ok(primary);
                }
                Err(why) if Instant::now() >= deadline => {
                    return Err(StoreError::NoPrimary(why));
                }
                Err(why) => {
                    tracing::warn!(problem = %why, "waiting for a writable PostgreSQL primary");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Probes every host at once; the index of the one to use, or why none.
    async fn search(&self) -> Result<usize, String> {
        let mut probes = tokio::task::JoinSet::new();
        for (i, host) in self.hosts.iter().enumerate() {
            let host = host.clone();
            probes.spawn(async move { (i, probe(&host).await) });
        }
        let mut results = Vec::new();
        while let Some(done) = probes.join_next().await {
            if let Ok(r) = done {
                results.push(r);
            }
        }
        results.sort_by_key(|(i, _)| *i);
        let floor = self.timeline.load(Ordering::Relaxed);
        match choose(&results, floor) {
            Ok((index, timeline)) => {
                for (i, r) in &results {
                    if let Ok(Probe::Primary { timeline: t }) = r {
                        if *i != index {
                            tracing::warn!(host = %self.hosts[*i].label, timeline = t, chosen = %self.hosts[index].label,
                                "another host takes writes too (a former primary?); not used");
                        }
                    }
                }
                self.timeline.store(timeline, Ordering::Relaxed);
                Ok(index)
            }
            Err(_) => {
                let why = results
                    .iter()
                    .map(|(i, r)| {
                        let state = match r {
                            Ok(Probe::ReadOnly) => "read-only (a standby)".to_string(),
                            Ok(Probe::Primary { timeline }) => {
                                format!("writable but on timeline {timeline}, older than {floor} (a former primary)")
                            }
                            Err(e) => e.clone(),
                        };
                        format!("{}: {state}", self.hosts[*i].label)
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let why = format!("no writable PostgreSQL primary ({why})");
                *self.last_problem.lock().unwrap_or_else(|e| e.into_inner()) = why.clone();
                Err(why)
            }
        }
    }

    pub(super) fn current_host(&self) -> &Host {
        &self.hosts[self.current.load(Ordering::Relaxed)]
    }

    pub(crate) fn current_label(&self) -> String {
        self.current_host().label.clone()
    }

    /// Whether the watcher last found the current host taking writes.
    pub(crate) fn is_writable(&self) -> bool {
        self.writable.load(Ordering::Relaxed)
    }

    /// Why no primary is known (empty while one is).
    pub(crate) fn problem(&self) -> String {
        self.last_problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asks the watcher to look now (a new connection found the host read-only).
    pub(super) fn alarm(&self) {
        self.wake.notify_one();
    }

    fn since_start(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether a pool connection of this age was opened after the last switch.
    pub(super) fn is_current(&self, age: Duration) -> bool {
        let opened = self.since_start().saturating_sub(age);
        opened.as_millis() as u64 >= self.switched_ms.load(Ordering::Relaxed)
    }

    /// Empties the pools (their connections are closed when next taken) and points
    /// new connections at host `index`.
    fn switch_to(&self, index: usize, pools: &[AnyPool]) {
        self.current.store(index, Ordering::Relaxed);
        if let Ok(options) = self.hosts[index].options() {
            for pool in pools {
                pool.set_connect_options(options.clone());
            }
        }
        self.drop_connections();
    }

    fn drop_connections(&self) {
        // One millisecond ahead, so that a connection opened this very millisecond
        // (possibly to the old host) counts as old.
        let now = self.since_start().as_millis() as u64 + 1;
        self.switched_ms.store(now, Ordering::Relaxed);
    }

    /// Checks the primary every second (or when alarmed) until the pools close.
    pub(super) async fn watch(self: Arc<Self>, pools: Vec<AnyPool>) {
        let mut conn: Option<AnyConnection> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = self.wake.notified() => {}
            }
            if pools.iter().any(|p| p.is_closed()) {
                return;
            }
            match self.still_primary(&mut conn).await {
                Ok(()) => {
                    if !self.writable.swap(true, Ordering::Relaxed) {
                        tracing::info!(host = %self.current_label(), "PostgreSQL primary is back");
                    }
                    continue;
                }
                Err(why) => {
                    conn = None;
                    if self.writable.swap(false, Ordering::Relaxed) {
                        tracing::warn!(host = %self.current_label(), problem = %why,
                            "lost the PostgreSQL primary; looking for the new one");
                        // Every connection to it is suspect: a dead one fails its next
                        // statement, a demoted one refuses writes.
                        self.drop_connections();
                    }
                    *self.last_problem.lock().unwrap_or_else(|e| e.into_inner()) =
                        format!("{}: {why}", self.current_label());
                }
            }
            match self.search().await {
                Ok(index) => {
                    let before = self.current.load(Ordering::Relaxed);
                    self.switch_to(index, &pools);
                    self.writable.store(true, Ordering::Relaxed);
                    self.last_problem
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                    tracing::warn!(from = %self.hosts[before].label, to = %self.hosts[index].label,
                        "PostgreSQL primary found; connections moved");
                }
                Err(why) => tracing::warn!(problem = %why, "no PostgreSQL primary yet"),
            }
        }
    }

    /// Whether the current host still takes writes, over the watcher's own
    /// connection (opened again when needed).
    async fn still_primary(&self, conn: &mut Option<AnyConnection>) -> Result<(), String> {
        let check = async {
            if conn.is_none() {
                let options = self.current_host().options().map_err(|e| e.to_string())?;
                *conn = Some(
                    AnyConnection::connect_with(&options)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            let Some(c) = conn.as_mut() else {
                return Err("no connection".to_string());
            };
            let row = sqlx::query(PROBE_SQL)
                .fetch_one(c)
                .await
                .map_err(|e| e.to_string())?;
            match probe_of(&row).map_err(|e| e.to_string())? {
                Probe::ReadOnly => Err("read-only (demoted to a standby)".to_string()),
                Probe::Primary { timeline } => {
                    self.timeline.fetch_max(timeline, Ordering::Relaxed);
                    Ok(())
                }
            }
        };
        tokio::time::timeout(PROBE_TIMEOUT, check)
            .await
            .unwrap_or_else(|_| Err("no answer in time".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<(String, String)> {
        hosts_of(text)
            .unwrap()
            .into_iter()
            .map(|h| (h.url, h.label))
            .collect()
    }

    #[test]
    fn libpq_multi_host_urls_become_one_url_per_host() {
        assert_eq!(
            urls("postgres://pg:s%40cret@h1:5432,h2:5433/auth?target_session_attrs=read-write&sslmode=disable"),
            vec![
                ("postgres://pg:s%40cret@h1:5432/auth?sslmode=disable".to_string(), "h1:5432".to_string()),
                ("postgres://pg:s%40cret@h2:5433/auth?sslmode=disable".to_string(), "h2:5433".to_string()),
            ]
        );
        assert_eq!(
            urls("postgresql://[::1],db2/x"),
            vec![
                (
                    "postgresql://[::1]:5432/x".to_string(),
                    "[::1]:5432".to_string()
                ),
                (
                    "postgresql://db2:5432/x".to_string(),
                    "db2:5432".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_list_of_urls_is_a_list_of_hosts() {
        let hosts = urls("postgres://u@a:1/d  postgres://u@b:2/d");
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[1].1, "b:2");
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for bad in [
            "mysql://h/db",
            "postgres://h1:x/db",
            "postgres://h1,,h2/db",
            "postgres://h/db?target_session_attrs=read-only",
            "",
        ] {
            assert!(hosts_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_newest_timeline_wins_and_older_ones_are_never_used() {
        let probes = vec![
            (0, Ok(Probe::Primary { timeline: 1 })),
            (1, Ok(Probe::Primary { timeline: 2 })),
            (2, Ok(Probe::ReadOnly)),
        ];
        assert_eq!(choose(&probes, 0), Ok((1, 2)));
        // The old primary alone, after passgrid used timeline 2: refused.
        let probes = vec![
            (0, Ok(Probe::Primary { timeline: 1 })),
            (1, Err("down".into())),
        ];
        assert!(choose(&probes, 2).is_err());
        // First in the list on a tie.
        let probes = vec![
            (0, Ok(Probe::Primary { timeline: 3 })),
            (1, Ok(Probe::Primary { timeline: 3 })),
        ];
        assert_eq!(choose(&probes, 0), Ok((0, 3)));
    }
}
