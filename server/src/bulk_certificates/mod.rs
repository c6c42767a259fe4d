//! Certificate work on many users at once (SPEC §2.9, §2.8): issue (a ZIP of PKCS#12
//! files and a printable password sheet), revoke, mail one-time download links, print
//! first-login notices. A job runs in the background and reports its progress; each
//! user is done completely or not at all (a certificate whose packaging or mail failed
//! is deleted again), and one user's failure is that user's result, never the job's.
//!
//! Jobs live in the database (`store::cert_jobs`), so any server of a cluster shows
//! their progress and serves their download. The download holds private keys: it is
//! stored sealed under the master key, for its owner only, until it expires. A job
//! whose server stops is marked failed by another server, with each user's state
//! (`abandoned`).

use std::{io::Write, sync::Arc};

use serde::Serialize;
use zeroize::Zeroizing;

mod abandoned;
mod packaging;
mod runner;

pub use abandoned::abandon_jobs_of_stopped_servers;

use crate::{
    audit::{record, Action as AuditAction, AuditEvent, Outcome},
    ca::{pkcs12::P12Encoding, CaError},
    delivery::{self, Collect},
    instance::Instance,
    issuance::{issue_pkcs12, Holder, Requester},
    mail::{certificate_link_body, Mailer},
    notices::{self, Notice},
    policy::AuthSettings,
    store::{
        cert_jobs::{CertJobResult, NewCertJob},
        users::User,
        StoreError,
    },
    user_csv::neutralise_formula,
};

/// Users one job may take (SPEC: 10,000 must work; the list holds 100,000).
pub const MAX_USERS: usize = 100_000;
/// Finished jobs (and their downloads) are forgotten after this.
const KEEP_SECS: i64 = 3600;
/// Jobs kept at once in the database, finished ones included (a finished issue job
/// holds its sealed ZIP, about 2.2 KB per user, until it is forgotten).
const MAX_JOBS: i64 = 8;

/// What a job does to each user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A new certificate with a key made here, packed as PKCS#12 into the download.
    Issue,
    /// Revoke every valid certificate of the user.
    Revoke,
    /// Delete every certificate of the user (valid ones are revoked first).
    Delete,
    /// A new certificate behind a one-time link mailed to the user.
    Mail,
    /// A new certificate behind a one-time link, on a printed notice.
    Print,
}

impl Action {
    fn audit_action(self) -> AuditAction {
        match self {
            Action::Issue => AuditAction::CertIssueP12,
            Action::Revoke => AuditAction::CertRevoke,
            Action::Delete => AuditAction::CertDelete,
            Action::Mail => AuditAction::CertMail,
            Action::Print => AuditAction::CertPrint,
        }
    }

    fn done_word(self) -> &'static str {
        match self {
            Action::Issue => "issued",
            Action::Revoke => "revoked",
            Action::Delete => "deleted",
            Action::Mail => "mailed",
            Action::Print => "printed",
        }
    }
}

/// Why a job could not start.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("no users selected")]
    NoUsers,
    #[error("more than {MAX_USERS} users in one job")]
    TooMany,
    #[error("mail is not configured ([mail] smtp_host)")]
    NoMailer,
    #[error("too many jobs; wait for one to finish")]
    Busy,
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] crate::master_key::SealError),
}

/// One user's result.
#[derive(Clone, Debug, Serialize)]
pub struct UserResult {
    pub user: String,
    /// `issued`, `revoked`, `mailed`, `printed`, `skipped` or `failed` (or, when the
    /// job's server stopped, `not_done` for the users it never reached).
    pub outcome: String,
    pub serials: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job as its owner sees it.
#[derive(Serialize)]
pub struct JobView {
    pub id: String,
    pub action: Action,
    /// `running`, `finished`, or `failed` (the server running it stopped).
    pub state: String,
    /// Why a failed job failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The server (cluster_servers id) that runs or ran it.
    pub server: String,
    pub total: usize,
    pub done: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `certificates.zip` or `notices.html`, once the job is finished.
    pub download: Option<String>,
    /// Each user's result, once the job is finished (while it runs, the counts say
    /// enough, and a poll of a 10,000-user job stays small).
    pub results: Vec<UserResult>,
}

/// A finished job's file.
pub struct Download {
    pub name: String,
    pub content_type: String,
    pub bytes: Zeroizing<Vec<u8>>,
}

/// A job being run by this server.
pub(crate) struct RunningJob {
    pub id: String,
    pub action: Action,
}

/// Starts, shows and serves the jobs; `server_id` names this server in the jobs it
/// runs (its heartbeat row), so the others can tell when it stopped.
#[derive(Clone)]
pub struct BulkJobs {
    server_id: Arc<str>,
}

/// Everything a job needs from the server.
pub struct JobContext {
    pub instance: Instance,
    /// The `[auth]` configuration; each user's policy is overlaid on it.
    pub settings: Arc<AuthSettings>,
    pub mailer: Option<Arc<Mailer>>,
    pub public_url: Arc<str>,
    /// The PKCS#12 encoding asked for; `None`: each user's policy's.
    pub encoding: Option<P12Encoding>,
}

/// Who started a job, for the audit log.
pub struct Actor {
    pub id: String,
    pub source: String,
    /// The job touches only accounts below this role (SPEC §9.1).
    pub role: crate::accounts::Role,
}

impl Actor {
    fn requester(&self, action: AuditAction) -> Requester<'_> {
        Requester {
            actor: &self.id,
            source: &self.source,
            action,
        }
    }
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Revoke => "revoke",
            Action::Delete => "delete",
            Action::Mail => "mail",
            Action::Print => "print",
        }
    }

    fn from_name(name: &str) -> Option<Action> {
        [
            Action::Issue,
            Action::Revoke,
            Action::Delete,
            Action::Mail,
            Action::Print,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// The master key's purpose for a job's download: a sealed file opens only as the
/// download of its own job.
fn download_purpose(job_id: &str) -> String {
    format!("bulk certificate job download {job_id}")
}

impl BulkJobs {
    pub fn new(server_id: &str) -> BulkJobs {
        BulkJobs {
            server_id: server_id.into(),
        }
    }

    /// Starts `action` for `users` (unique IDs, in order) in the background.
    pub async fn start(
        &self,
        ctx: JobContext,
        actor: Actor,
        action: Action,
        users: Vec<String>,
    ) -> Result<String, BulkError> {
        if users.is_empty() {
            return Err(BulkError::NoUsers);
        }
        if users.len() > MAX_USERS {
            return Err(BulkError::TooMany);
        }
        if action == Action::Mail && ctx.mailer.is_none() {
            return Err(BulkError::NoMailer);
        }
        let store = &ctx.instance.store;
        let now = ctx.instance.clock.now();
        store.purge_cert_jobs(now - KEEP_SECS).await?;
        if store.kept_cert_jobs(now - KEEP_SECS).await? >= MAX_JOBS {
            return Err(BulkError::Busy);
        }
        let id = crate::random::new_token()?
            .chars()
            .take(24)
            .collect::<String>();
        store
            .insert_cert_job(&NewCertJob {
                id: &id,
                owner: &actor.id,
                action: action.name(),
                users: &users,
                server_id: &self.server_id,
                started_at: now,
            })
            .await?;
        let job = RunningJob {
            id: id.clone(),
            action,
        };
        tokio::spawn(runner::run_job(ctx, actor, job, users));
        Ok(id)
    }

    /// The job, if it exists and `admin` started it.
    pub async fn view(
        &self,
        instance: &Instance,
        id: &str,
        admin: &str,
    ) -> Result<Option<JobView>, BulkError> {
        let store = &instance.store;
        let Some(job) = store.cert_job(id).await?.filter(|j| j.owner == admin) else {
            return Ok(None);
        };
        let Some(action) = Action::from_name(&job.action) else {
            return Ok(None);
        };
        // While it runs, the counts say enough (a poll of a 10,000-user job stays small).
        let results = if job.state == "running" {
            Vec::new()
        } else {
            let mut results: Vec<UserResult> = store
                .cert_job_results(id)
                .await?
                .into_iter()
                .map(|r| UserResult {
                    user: r.user_id,
                    outcome: r.outcome,
                    serials: r.serials,
                    error: r.error,
                })
                .collect();
            if job.state == "failed" {
                results.extend(abandoned::users_not_reached(store, id, results.len()).await?);
            }
            results
        };
        let failed = usize::try_from(job.failed).unwrap_or(0);
        let done = usize::try_from(job.done).unwrap_or(0);
        Ok(Some(JobView {
            id: job.id,
            action,
            state: job.state,
            failure: job.failure,
            server: job.server_id,
            total: usize::try_from(job.total).unwrap_or(0),
            done,
            succeeded: done.saturating_sub(failed),
            failed,
            started_at: job.started_at,
            finished_at: job.finished_at,
            download: job.download_name,
            results,
        }))
    }

    /// The job's file, opened, if the job is `admin`'s and has one.
    pub async fn download(
        &self,
        instance: &Instance,
        id: &str,
        admin: &str,
    ) -> Result<Option<Download>, BulkError> {
        let store = &instance.store;
        if store
            .cert_job(id)
            .await?
            .filter(|j| j.owner == admin)
            .is_none()
        {
            return Ok(None);
        }
        let Some(file) = store.cert_job_download(id).await? else {
            return Ok(None);
        };
        let bytes = instance
            .master_key
            .open(&file.sealed, &download_purpose(id))?;
        Ok(Some(Download {
            name: file.name,
            content_type: file.content_type,
            bytes,
        }))
    }
}
