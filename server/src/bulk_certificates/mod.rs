//! Certificate work on many users at once (SPEC §2.9, §2.8): issue (a ZIP of PKCS#12
//! files and a printable password sheet), revoke, mail one-time download links, print
//! first-login notices. A job runs in the background and reports its progress; each
//! user is done completely or not at all (a certificate whose packaging or mail failed
//! is deleted again), and one user's failure is that user's result, never the job's.
//!
//! Jobs live in this process: the administrator who started one polls and downloads
//! from the same server. A download holds private keys, so it stays in memory only,
//! for its owner, until it expires.

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex},
};

use serde::Serialize;
use zeroize::Zeroizing;

mod packaging;
mod runner;

use crate::{
    audit::{record, Action as AuditAction, AuditEvent, Outcome},
    ca::{pkcs12::P12Encoding, CaError},
    delivery::{self, Collect},
    instance::Instance,
    issuance::{issue_pkcs12, Holder, Requester},
    mail::{certificate_link_body, Mailer},
    notices::{self, Notice},
    policy::AuthSettings,
    store::{users::User, StoreError},
    user_csv::neutralise_formula,
};

/// Users one job may take (SPEC: 10,000 must work; the list holds 100,000).
pub const MAX_USERS: usize = 100_000;
/// Finished jobs (and their downloads) are forgotten after this.
const KEEP_SECS: i64 = 3600;
/// Jobs one process keeps at once, finished ones included (a finished issue job holds
/// its ZIP, about 2.2 KB per user, in memory until it is forgotten).
const MAX_JOBS: usize = 8;

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
    #[error("too many jobs on this server; wait for one to finish")]
    Busy,
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
}

/// One user's result.
#[derive(Clone, Debug, Serialize)]
pub struct UserResult {
    pub user: String,
    /// `issued`, `revoked`, `mailed`, `printed`, `skipped` or `failed`.
    pub outcome: &'static str,
    pub serials: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job as its owner sees it.
#[derive(Serialize)]
pub struct JobView {
    pub id: String,
    pub action: Action,
    pub state: &'static str,
    pub total: usize,
    pub done: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `certificates.zip` or `notices.html`, once the job is finished.
    pub download: Option<&'static str>,
    /// Each user's result, once the job is finished (while it runs, the counts say
    /// enough, and a poll of a 10,000-user job stays small).
    pub results: Vec<UserResult>,
}

/// A finished job's file.
pub struct Download {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: Arc<Zeroizing<Vec<u8>>>,
}

struct Job {
    owner: String,
    action: Action,
    total: usize,
    started_at: i64,
    inner: Mutex<JobInner>,
}

#[derive(Default)]
struct JobInner {
    results: Vec<UserResult>,
    finished_at: Option<i64>,
    download: Option<Download>,
}

/// The jobs of this process.
#[derive(Clone, Default)]
pub struct BulkJobs {
    jobs: Arc<Mutex<HashMap<String, Arc<Job>>>>,
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

/// Why one user's step failed, and whether the issuance already audited it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data; go on with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl BulkJobs {
    /// Starts `action` for `users` (unique IDs, in order) in the background.
    pub fn start(
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
        let now = ctx.instance.clock.now();
        let id = crate::random::new_token()?
            .chars()
            .take(24)
            .collect::<String>();
        let job = Arc::new(Job {
            owner: actor.id.clone(),
            action,
            total: users.len(),
            started_at: now,
            inner: Mutex::new(JobInner::default()),
        });
        {
            let mut jobs = lock(&self.jobs);
            jobs.retain(|_, j| {
                lock(&j.inner)
                    .finished_at
                    .is_none_or(|at| now - at < KEEP_SECS)
            });
            if jobs.len() >= MAX_JOBS {
                return Err(BulkError::Busy);
            }
            jobs.insert(id.clone(), job.clone());
        }
        tokio::spawn(runner::run_job(ctx, actor, job, users));
        Ok(id)
    }

    /// The job, if it exists and `admin` started it.
    fn job(&self, id: &str, admin: &str) -> Option<Arc<Job>> {
        lock(&self.jobs)
            .get(id)
            .filter(|j| j.owner == admin)
            .cloned()
    }

    pub fn view(&self, id: &str, admin: &str) -> Option<JobView> {
        let job = self.job(id, admin)?;
        let inner = lock(&job.inner);
        let failed = inner
            .results
            .iter()
            .filter(|r| r.outcome == "failed")
            .count();
        let finished = inner.finished_at.is_some();
        Some(JobView {
            id: id.to_string(),
            action: job.action,
            state: if finished { "finished" } else { "running" },
            total: job.total,
            // One result per user done.
            done: inner.results.len(),
            succeeded: inner.results.len() - failed,
            failed,
            started_at: job.started_at,
            finished_at: inner.finished_at,
            download: inner.download.as_ref().map(|d| d.name),
            results: if finished {
                inner.results.clone()
            } else {
                Vec::new()
            },
        })
    }

    pub fn download(&self, id: &str, admin: &str) -> Option<Download> {
        let job = self.job(id, admin)?;
        let inner = lock(&job.inner);
        inner.download.as_ref().map(|d| Download {
            name: d.name,
            content_type: d.content_type,
            bytes: d.bytes.clone(),
        })
    }
}
