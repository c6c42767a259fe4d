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

use crate::{
    audit::{record, Action as AuditAction, AuditEvent, Outcome},
    ca::{pkcs12::P12Encoding, CaError},
    delivery::{self, Collect},
    instance::Instance,
    issuance::{issue_pkcs12, Holder, Requester},
    mail::{certificate_link_body, Mailer},
    notices::{self, Notice},
    otp::patterns::open_pattern,
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
struct StepFailure {
    reason: String,
    audited: bool,
}

impl StepFailure {
    fn audited(reason: String) -> StepFailure {
        StepFailure {
            reason,
            audited: true,
        }
    }
}

impl From<String> for StepFailure {
    fn from(reason: String) -> StepFailure {
        StepFailure {
            reason,
            audited: false,
        }
    }
}

impl From<&str> for StepFailure {
    fn from(reason: &str) -> StepFailure {
        reason.to_string().into()
    }
}

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
        tokio::spawn(run_job(ctx, actor, job, users));
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

/// What one user's step leaves for the job's download.
enum Piece {
    None,
    P12 {
        file: Zeroizing<Vec<u8>>,
        password: Zeroizing<String>,
        serial: String,
        not_after: i64,
        name: String,
    },
    Notice(Box<Notice>),
}

async fn run_job(ctx: JobContext, actor: Actor, job: Arc<Job>, users: Vec<String>) {
    let mut pieces: Vec<(String, Piece)> = Vec::new();
    for id in &users {
        let now = ctx.instance.clock.now();
        let step = one_user(&ctx, &actor, job.action, id, now).await;
        // Issuing steps were audited by the issuance; the rest is audited here.
        let audited = match &step {
            Ok(_) => matches!(job.action, Action::Issue | Action::Mail | Action::Print),
            Err(f) => f.audited,
        };
        let (result, piece) = match step {
            Ok((serials, piece)) => (
                UserResult {
                    user: id.clone(),
                    outcome: if serials.is_empty() {
                        "skipped"
                    } else {
                        job.action.done_word()
                    },
                    serials,
                    error: None,
                },
                piece,
            ),
            Err(failure) => (
                UserResult {
                    user: id.clone(),
                    outcome: "failed",
                    serials: Vec::new(),
                    error: Some(failure.reason),
                },
                Piece::None,
            ),
        };
        if result.outcome != "skipped" && !audited {
            let reason = match &result.error {
                Some(e) => e.clone(),
                None => format!("bulk, serial {}", result.serials.join(" ")),
            };
            record(
                &ctx.instance.store,
                AuditEvent {
                    actor: &actor.id,
                    source: &actor.source,
                    action: job.action.audit_action(),
                    target: id,
                    outcome: if result.error.is_some() {
                        Outcome::Failure
                    } else {
                        Outcome::Success
                    },
                    reason: &reason,
                },
                now,
            )
            .await;
        }
        if !matches!(piece, Piece::None) {
            pieces.push((id.clone(), piece));
        }
        lock(&job.inner).results.push(result);
    }
    let now = ctx.instance.clock.now();
    if matches!(job.action, Action::Revoke | Action::Delete) {
        // One new CRL for the whole job; logins read revocations from the database,
        // so they hold already.
        if let Err(err) = ctx.instance.ca.publish_crl(&ctx.instance.store, now).await {
            tracing::error!(error = %err, "could not publish the CRL after a bulk revocation");
        }
    }
    let download = match job.action {
        Action::Issue => match zip_of(&pieces, now) {
            Some(bytes) => Some(Download {
                name: "certificates.zip",
                content_type: "application/zip",
                bytes: Arc::new(bytes),
            }),
            None => {
                undo_issue(&ctx, &actor, &job, &pieces, now).await;
                None
            }
        },
        Action::Print => Some(Download {
            name: "notices.html",
            content_type: "text/html; charset=utf-8",
            bytes: Arc::new(Zeroizing::new(
                notices::render(
                    &pieces
                        .into_iter()
                        .filter_map(|(_, p)| match p {
                            Piece::Notice(n) => Some(*n),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                    ctx.settings.shape,
                )
                .into_bytes(),
            )),
        }),
        Action::Revoke | Action::Delete | Action::Mail => None,
    };
    let mut inner = lock(&job.inner);
    inner.download = download;
    inner.finished_at = Some(now);
}

/// The ZIP could not be built: the keys of this job's certificates would be lost, so
/// the certificates go again and their users' results say so (nothing half done).
async fn undo_issue(
    ctx: &JobContext,
    actor: &Actor,
    job: &Job,
    pieces: &[(String, Piece)],
    now: i64,
) {
    const REASON: &str = "the download could not be built; the certificate was withdrawn";
    tracing::error!("bulk issue: building the ZIP failed; withdrawing its certificates");
    for (id, piece) in pieces {
        let Piece::P12 { serial, .. } = piece else {
            continue;
        };
        if let Err(err) = ctx
            .instance
            .store
            .delete_undelivered_certificate(serial)
            .await
        {
            tracing::error!(error = %err, serial, "could not withdraw an undelivered certificate");
        }
        record(
            &ctx.instance.store,
            AuditEvent {
                actor: &actor.id,
                source: &actor.source,
                action: job.action.audit_action(),
                target: id,
                outcome: Outcome::Failure,
                reason: REASON,
            },
            now,
        )
        .await;
        let mut inner = lock(&job.inner);
        if let Some(r) = inner.results.iter_mut().find(|r| &r.user == id) {
            r.outcome = "failed";
            r.serials.clear();
            r.error = Some(REASON.to_string());
        }
    }
}

/// Does the action for one user: the serials touched and the piece for the download,
/// or why not (nothing of this user is left half done).
async fn one_user(
    ctx: &JobContext,
    actor: &Actor,
    action: Action,
    id: &str,
    now: i64,
) -> Result<(Vec<String>, Piece), StepFailure> {
    let store = &ctx.instance.store;
    let user = store
        .user(id)
        .await
        .map_err(store_failure)?
        .ok_or("no such user")?;
    if !matches!(action, Action::Revoke | Action::Delete) && user.status != "active" {
        return Err(format!("the user is {}", user.status).into());
    }
    // Certificates follow the user's policy (validity, key, limits, encoding).
    let settings = if action == Action::Revoke {
        None
    } else {
        let policy = crate::policy::effective_policy_for(store, &ctx.settings, id)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "bulk certificate job: policy");
                "the user's policy cannot be read".to_string()
            })?;
        Some(policy.settings)
    };
    let settings = settings.as_ref().unwrap_or(&ctx.settings);
    match action {
        Action::Issue => issue_one(ctx, actor, settings, &user, now).await,
        Action::Revoke => {
            let serials = store
                .revoke_user_certificates(id, "cessationOfOperation", now)
                .await
                .map_err(store_failure)?;
            Ok((serials, Piece::None))
        }
        Action::Delete => {
            let serials = store
                .delete_user_certificates(id, "cessationOfOperation", now)
                .await
                .map_err(store_failure)?;
            Ok((serials, Piece::None))
        }
        Action::Mail => {
            let email = user.email.clone().ok_or("no mail address")?;
            let mailer = ctx.mailer.as_ref().ok_or("mail is not configured")?;
            let requester = actor.requester(AuditAction::CertMail);
            let prepared = delivery::prepare(
                &ctx.instance,
                &user,
                settings,
                Collect::Link,
                requester,
                now,
            )
            .await
            .map_err(|e| StepFailure::audited(ca_failure(e)))?;
            let public = &ctx.public_url;
            let link = format!("{public}/certificate?t={}", prepared.token.as_str());
            let body = certificate_link_body(
                &user.id,
                &format!("{public}/login"),
                &link,
                &notices::rfc3339(prepared.expires_at),
            );
            if let Err(err) = mailer
                .send(&email, "passgrid: your client certificate", body)
                .await
            {
                // Not delivered: the certificate and its key go, as if never issued.
                let _ = store.delete_undelivered_certificate(&prepared.serial).await;
                return Err(format!("mail not sent: {err}").into());
            }
            Ok((vec![prepared.serial], Piece::None))
        }
        Action::Print => {
            let requester = actor.requester(AuditAction::CertPrint);
            let (notice, serial) = notice_for(
                &ctx.instance,
                &user,
                settings,
                &ctx.public_url,
                requester,
                now,
            )
            .await
            .map_err(|e| StepFailure::audited(e.to_string()))?;
            Ok((vec![serial], Piece::Notice(Box::new(notice))))
        }
    }
}

async fn issue_one(
    ctx: &JobContext,
    actor: &Actor,
    settings: &AuthSettings,
    user: &User,
    now: i64,
) -> Result<(Vec<String>, Piece), StepFailure> {
    let requester = actor.requester(AuditAction::CertIssueP12);
    let holder = Holder::User(user);
    let made = issue_pkcs12(
        &ctx.instance,
        settings,
        holder,
        &user.id,
        ctx.encoding,
        requester,
        now,
    )
    .await
    .map_err(|e| StepFailure::audited(ca_failure(e)))?;
    Ok((
        vec![made.serial.clone()],
        Piece::P12 {
            file: made.file,
            password: made.password,
            serial: made.serial,
            not_after: made.not_after,
            name: user.display_name.clone(),
        },
    ))
}

/// One user's first-login notice: a certificate behind a one-time link, and the
/// initial pattern while the user still has it. Returns the notice and the serial.
pub async fn notice_for(
    instance: &Instance,
    user: &User,
    settings: &AuthSettings,
    public: &str,
    requester: Requester<'_>,
    now: i64,
) -> Result<(Notice, String), CaError> {
    let pattern = match instance.store.pattern(&user.id).await? {
        Some(p) if p.is_initial => Some(
            open_pattern(&instance.master_key, &user.id, &p.sealed)
                .map_err(|e| CaError::Corrupt(e.to_string()))?
                .to_vec(),
        ),
        _ => None,
    };
    let prepared =
        delivery::prepare(instance, user, settings, Collect::Link, requester, now).await?;
    Ok((
        Notice {
            user_id: user.id.clone(),
            display_name: user.display_name.clone(),
            login_url: format!("{public}/login"),
            link: format!("{public}/certificate?t={}", prepared.token.as_str()),
            link_valid_until: notices::rfc3339(prepared.expires_at),
            password: prepared.password.to_string(),
            pattern,
        },
        prepared.serial,
    ))
}

fn store_failure(err: StoreError) -> String {
    tracing::error!(error = %err, "bulk certificate job: database");
    "database error".to_string()
}

fn ca_failure(err: CaError) -> String {
    match err {
        CaError::LimitReached(_) => "the user holds the most valid certificates allowed".into(),
        CaError::BadRequest(reason) => reason,
        other => {
            tracing::error!(error = %other, "bulk certificate job");
            "the certificate could not be made".into()
        }
    }
}

/// The download of an issue job: `USER.p12` per user, `passwords.html` (printable)
/// and `passwords.csv`.
fn zip_of(pieces: &[(String, Piece)], now: i64) -> Option<Zeroizing<Vec<u8>>> {
    use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .unix_permissions(0o600);
    let mut csv_bytes = Zeroizing::new(Vec::new());
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut *csv_bytes);
    csv.write_record([
        "user_id",
        "display_name",
        "file",
        "serial",
        "password",
        "not_after",
    ])
    .ok()?;
    let mut rows = String::new();
    for (id, piece) in pieces {
        let Piece::P12 {
            file,
            password,
            serial,
            not_after,
            name,
        } = piece
        else {
            continue;
        };
        let file_name = format!("{id}.p12");
        zip.start_file(file_name.as_str(), stored).ok()?;
        zip.write_all(file).ok()?;
        let until = notices::rfc3339(*not_after);
        csv.write_record([
            &*neutralise_formula(id),
            &neutralise_formula(name),
            &file_name,
            serial,
            password.as_str(),
            &until,
        ])
        .ok()?;
        rows.push_str(&format!(
            "<tr><td class=\"user\">{}</td><td>{}</td><td>{}</td><td class=\"password\">{}</td><td>{}</td></tr>",
            notices::html(id),
            notices::html(name),
            notices::html(&file_name),
            notices::html(password),
            notices::html(&until),
        ));
    }
    let sheet = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>passgrid — certificate passwords</title>\
         <style>body{{font-family:system-ui,sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #888;padding:4px 8px;text-align:left}}\
         td.password{{font-family:ui-monospace,monospace;font-size:13pt}}</style></head><body>\
         <h1>Certificate passwords / 証明書パスワード</h1><p>Made {}. Hand each password only to its user; \
         destroy this sheet after distribution.</p>\
         <table><thead><tr><th>User ID</th><th>Name</th><th>File</th><th>Password</th><th>Valid until</th></tr></thead>\
         <tbody>{rows}</tbody></table></body></html>",
        notices::rfc3339(now)
    );
    csv.flush().ok()?;
    drop(csv);
    let sheet = Zeroizing::new(sheet);
    zip.start_file("passwords.html", stored).ok()?;
    zip.write_all(sheet.as_bytes()).ok()?;
    zip.start_file("passwords.csv", stored).ok()?;
    zip.write_all(&csv_bytes).ok()?;
    let cursor = zip.finish().ok()?;
    Some(Zeroizing::new(cursor.into_inner()))
}
