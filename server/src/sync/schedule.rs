//! Runs each sync source on its interval inside `serve`; with PostgreSQL only one
//! server of a cluster runs a given source at a time (`store::job_locks`).

use std::{sync::Arc, time::Duration};

use crate::{auth::AuthSettings, instance::Instance};

/// How often the schedule is looked at.
const TICK: Duration = Duration::from_secs(15);

pub async fn run_schedule(
    instance: Instance,
    settings: Arc<AuthSettings>,
    notices: Option<super::Notices>,
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
            let due = source
                .last_run_at
                .is_none_or(|last| last + source.interval_secs <= now);
            if !due {
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
