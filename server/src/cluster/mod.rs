//! This server's place among the servers sharing one database (SPEC §11): a heartbeat
//! row every few seconds (the console lists the servers), the number of live servers
//! (each takes that share of the rate limits), leases on the scheduled jobs (each runs
//! on one server; another takes it over once the holder stops renewing), and the bulk
//! jobs of servers that stopped.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::{
    auth::LoginGuards, instance::Instance, random::RandomError, store::cluster::Heartbeat,
};

/// How often a server writes its row and renews its leases.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A server not seen for this long is not counted as live.
pub const LIVE_SECS: i64 = 15;
/// A lease lasts this long unless renewed: a stopped holder's jobs move to another
/// server within this plus one heartbeat.
pub const LEASE_SECS: i64 = 15;
/// A bulk job is declared abandoned once its server has not been seen for this long
/// (longer than a database failover, during which no server can beat).
const JOB_DEAD_SECS: i64 = 60;
/// Beats in a row this server must have written before it judges others stopped: a
/// server that was cut off from the database must not declare the others dead.
const BEATS_BEFORE_JUDGING: u32 = 3;
/// Rows of servers not seen for a day are removed.
const FORGET_SECS: i64 = 86_400;

/// The scheduled jobs every server competes for besides one per sync source.
pub const CRL_JOB: &str = "crl";
pub const PURGE_JOB: &str = "purge";

/// The lease name of a sync source's scheduled runs.
pub fn sync_job(source: &str) -> String {
    format!("sync:{source}")
}

/// This server in the cluster.
pub struct Membership {
    /// Random for this process (the heartbeat row's key).
    pub id: String,
    /// Host name and listening address, for people.
    pub name: String,
    pub started_at: i64,
    held: Mutex<BTreeSet<String>>,
}

impl Membership {
    pub fn new(name: String, now: i64) -> Result<Membership, RandomError> {
        Ok(Membership {
            id: crate::random::new_token()?.chars().take(16).collect(),
            name,
            started_at: now,
            held: Mutex::new(BTreeSet::new()),
        })
    }

    /// Whether this server holds the lease of `job` (as of its last heartbeat).
    pub fn holds(&self, job: &str) -> bool {
        self.held().contains(job)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // Plain data: a panic elsewhere cannot leave it half-changed.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Beats until the process ends.
pub async fn run(instance: Instance, me: Arc<Membership>, guards: Arc<LoginGuards>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats_in_a_row = 0u32;
    let mut last_forget = 0i64;
    loop {
        tick.tick().await;
        match beat(&instance, &me).await {
            Ok(live) => {
                beats_in_a_row = beats_in_a_row.saturating_add(1);
                guards
                    .rate_limits
                    .set_servers(u32::try_from(live).unwrap_or(u32::MAX));
            }
            Err(err) => {
                beats_in_a_row = 0;
                tracing::warn!(error = %err, "cluster heartbeat failed");
                continue;
            }
        }
        let now = instance.clock.now();
        if beats_in_a_row >= BEATS_BEFORE_JUDGING {
            crate::bulk_certificates::abandon_jobs_of_stopped_servers(
                &instance,
                now - JOB_DEAD_SECS,
                now,
            )
            .await;
        }
        if now - last_forget >= 3600 {
            last_forget = now;
            if let Err(err) = instance.store.forget_servers(now - FORGET_SECS).await {
                tracing::warn!(error = %err, "forgetting old server rows failed");
            }
        }
    }
}

/// Renews or takes the leases, writes this server's row; returns the live servers.
async fn beat(instance: &Instance, me: &Membership) -> Result<i64, crate::store::StoreError> {
    let store = &instance.store;
    let mut jobs = vec![CRL_JOB.to_string(), PURGE_JOB.to_string()];
    jobs.extend(
        store
            .sync_sources()
            .await?
            .into_iter()
            .map(|s| sync_job(&s.name)),
    );
    let now = instance.clock.now();
    let mut held = BTreeSet::new();
    for job in jobs {
        match store.take_lease(&job, &me.id, now, now + LEASE_SECS).await {
            Ok(true) => {
                held.insert(job);
            }
            Ok(false) => {}
            Err(err) => {
                // Unsure whether the lease still holds: run nothing until it is known.
                me.held().clear();
                return Err(err);
            }
        }
    }
    let list: Vec<String> = held.iter().cloned().collect();
    {
        let mut mine = me.held();
        for gained in held.difference(&mine) {
            tracing::info!(job = %gained, "this server now runs the scheduled job");
        }
        *mine = held;
    }
    store
        .beat(&Heartbeat {
            id: &me.id,
            name: &me.name,
            version: env!("CARGO_PKG_VERSION"),
            started_at: me.started_at,
            now,
            jobs: &list,
        })
        .await?;
    store.live_server_count(now - LIVE_SECS).await
}

/// Gives up this server's leases and row when it stops, so others take over at once.
pub async fn leave(instance: &Instance, me: &Membership) {
    me.held().clear();
    if let Err(err) = instance.store.forget_server(&me.id).await {
        tracing::warn!(error = %err, "could not remove this server's cluster row");
    }
}
