//! Jobs whose server stopped (SPEC §11.1): another server marks them failed and says,
//! for each user, what happened — nothing half done is left hidden.
//!
//! The keys of an issue job and the notices of a print job were only in the stopped
//! server's memory, so their certificates can never be handed out: they are
//! withdrawn, and those users' results say so. The user whose step was running is
//! named with any certificate they received since the job started; the users never
//! reached are listed as not done.

use super::*;
use crate::store::{cert_jobs::AbandonedJob, Store};

const STOPPED: &str = "the server running this job stopped";
const WITHDRAWN: &str =
    "the server running this job stopped before the download was made; the certificate was withdrawn";

/// Marks failed the running jobs of servers not seen since `seen_since`, and settles
/// each user's result. Any server may call it; each job is taken by one.
pub async fn abandon_jobs_of_stopped_servers(instance: &Instance, seen_since: i64, now: i64) {
    let jobs = match instance
        .store
        .abandon_cert_jobs(seen_since, now, STOPPED)
        .await
    {
        Ok(jobs) => jobs,
        Err(err) => {
            tracing::warn!(error = %err, "looking for bulk jobs of stopped servers failed");
            return;
        }
    };
    for job in jobs {
        tracing::warn!(job = %job.id, "bulk job marked failed: its server stopped");
        if let Err(err) = settle(instance, &job, now).await {
            tracing::error!(error = %err, job = %job.id, "settling a bulk job of a stopped server failed");
        }
    }
}

async fn settle(instance: &Instance, job: &AbandonedJob, now: i64) -> Result<(), StoreError> {
    let store = &instance.store;
    let action = Action::from_name(&job.action);
    let results = store.cert_job_results(&job.id).await?;
    let mut withdrawn = 0;
    if let Some(action @ (Action::Issue | Action::Print)) = action {
        for r in results
            .iter()
            .filter(|r| r.outcome == action.done_word() && !r.serials.is_empty())
        {
            for serial in &r.serials {
                store.delete_undelivered_certificate(serial).await?;
            }
            withdrawn += 1;
            store
                .update_cert_job_result(
                    &job.id,
                    &CertJobResult {
                        outcome: "failed".into(),
                        error: Some(WITHDRAWN.into()),
                        ..r.clone()
                    },
                )
                .await?;
        }
    }
    if let Some(user) = job.users.get(results.len()) {
        let recent = recent_certificates(store, user, job.started_at).await?;
        let error = format!(
            "{STOPPED} during this user's step; certificates issued to the user since the job \
             started: {}",
            if recent.is_empty() {
                "none".to_string()
            } else {
                recent.join(" ")
            }
        );
        store
            .record_cert_job_result(
                &job.id,
                &CertJobResult {
                    position: i64::try_from(results.len()).unwrap_or(i64::MAX),
                    user_id: user.clone(),
                    outcome: "failed".into(),
                    serials: recent,
                    error: Some(error),
                },
            )
            .await?;
    }
    let reached = (results.len() + 1).min(job.users.len());
    record(
        store,
        AuditEvent {
            actor: "system",
            source: "",
            action: AuditAction::CertBulk,
            target: &format!("job {}", job.id),
            outcome: Outcome::Failure,
            reason: &format!(
                "{STOPPED}: {} of {} users reached, {withdrawn} certificates withdrawn",
                reached,
                job.users.len()
            ),
        },
        now,
    )
    .await;
    Ok(())
}

/// The user's valid certificates made since the job started (an hour of slack for a
/// backdated notBefore).
async fn recent_certificates(
    store: &Store,
    user: &str,
    since: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(store
        .client_certificates(Some(user))
        .await?
        .into_iter()
        .filter(|c| c.revoked_at.is_none() && c.not_before >= since - 3600)
        .map(|c| c.serial)
        .collect())
}

/// The users a failed job never reached, after the `recorded` results.
pub(super) async fn users_not_reached(
    store: &Store,
    id: &str,
    recorded: usize,
) -> Result<Vec<UserResult>, StoreError> {
    Ok(store
        .cert_job_users(id)
        .await?
        .into_iter()
        .skip(recorded)
        .map(|user| UserResult {
            user,
            outcome: "not_done".into(),
            serials: Vec::new(),
            error: Some(format!("{STOPPED} before this user")),
        })
        .collect())
}
