//! Runs each sync source on its interval inside `serve`. In a cluster each source is
//! run by the server holding its lease (`cluster`), which another server takes over
//! when the holder stops; the per-run database lock (`store::job_locks`) and a second
//! look at the last run keep two runs from overlapping even while a lease moves.

use std::{sync::Arc, time::Duration};

use crate::{
    cluster::{sync_job, Membership},
    instance::Instance,
    policy::AuthSettings,
    store::sync::SyncSource,
};

/// How often the schedule is looked at.
const TICK: Duration = Duration::from_secs(15);

/// Whether `source` should run at `now`: an interval after its last run. A new
/// source's first scheduled run comes an interval after it was added: time for the
/// administrator's dry run and first run by hand.
fn is_due(source: &SyncSource, now: i64) -> bool {
    source.last_run_at.unwrap_or(source.created_at) + source.interval_secs <= now
}

pub async fn run_schedule(
    instance: Instance,
    settings: Arc<AuthSettings>,
    notices: Option<super::Notices>,
    me: Arc<Membership>,
) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        let sources = match instance.store.sync_sources().await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(error = %err, "reading sync sources failed");
                continue;
            }
        };
        let now = instance.clock.now();
        for source in sources {
            if !me.holds(&sync_job(&source.name)) || !is_due(&source, now) {
                continue;
            }
            let lock = match instance
                .store
                .try_job_lock(&format!("sync {}", source.name))
                .await
            {
                Ok(Some(lock)) => lock,
                // Another server runs it.
                Ok(None) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, source = %source.name, "sync lock failed");
                    continue;
                }
            };
            // The previous holder may have run it just before its lease moved here.
            match instance.store.sync_source(&source.name).await {
                Ok(Some(fresh)) if is_due(&fresh, instance.clock.now()) => {}
                Ok(_) => {
                    lock.release().await;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, source = %source.name, "reading the sync source failed");
                    lock.release().await;
                    continue;
                }
            }
            match super::run_source(&instance, &settings, &source.name, false, notices.as_ref())
                .await
            {
                Ok((run, _)) => {
                    tracing::info!(source = %source.name, outcome = %run.outcome, adds = run.adds, changes = run.changes, disables = run.disables, "sync run")
                }
                Err(err) => tracing::warn!(source = %source.name, error = %err, "sync run failed"),
            }
            lock.release().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_runs_an_interval_after_its_last_run_or_its_creation() {
        let mut s = SyncSource {
            name: "corp".into(),
            kind: "ldap".into(),
            settings: "{}".into(),
            secret_sealed: None,
            interval_secs: 900,
            max_disable_percent: 20,
            created_at: 1_000,
            last_run_at: None,
        };
        assert!(!is_due(&s, 1_000 + 899));
        assert!(is_due(&s, 1_000 + 900));
        s.last_run_at = Some(5_000);
        assert!(!is_due(&s, 5_899));
        assert!(is_due(&s, 5_900));
    }
}
