//! Running a job: each user's step (issue, revoke, delete, mail, print) done whole
//! or not at all, audited, and the job's download put together at the end.

use super::*;
use crate::store::cert_jobs::SealedDownload;

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

/// What one user's step leaves for the job's download.
pub(super) enum Piece {
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

pub(super) async fn run_job(ctx: JobContext, actor: Actor, job: RunningJob, users: Vec<String>) {
    let mut pieces: Vec<(String, Piece)> = Vec::new();
    let mut results: Vec<UserResult> = Vec::with_capacity(users.len());
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
                    }
                    .to_string(),
                    serials,
                    error: None,
                },
                piece,
            ),
            Err(failure) => (
                UserResult {
                    user: id.clone(),
                    outcome: "failed".to_string(),
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
        record_result(&ctx, &job.id, results.len(), &result).await;
        results.push(result);
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
        Action::Issue => match super::packaging::zip_of(&pieces, now) {
            Some(bytes) => Some(("certificates.zip", "application/zip", bytes)),
            None => {
                undo_issue(&ctx, &actor, &job, &mut results, &pieces, now).await;
                None
            }
        },
        Action::Print => Some((
            "notices.html",
            "text/html; charset=utf-8",
            Zeroizing::new(
                notices::render(
                    &std::mem::take(&mut pieces)
                        .into_iter()
                        .filter_map(|(_, p)| match p {
                            Piece::Notice(n) => Some(*n),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                    ctx.settings.shape,
                )
                .into_bytes(),
            ),
        )),
        Action::Revoke | Action::Delete | Action::Mail => None,
    };
    let sealed = match download {
        None => None,
        Some((name, content_type, bytes)) => {
            match ctx
                .instance
                .master_key
                .seal(&bytes, &download_purpose(&job.id))
            {
                Ok(sealed) => Some(SealedDownload {
                    name: name.to_string(),
                    content_type: content_type.to_string(),
                    sealed,
                }),
                Err(err) => {
                    tracing::error!(error = %err, "bulk job: sealing the download failed");
                    if job.action == Action::Issue {
                        undo_issue(&ctx, &actor, &job, &mut results, &pieces, now).await;
                    }
                    None
                }
            }
        }
    };
    // Retried through a failover: the job's end must not be lost.
    for attempt in 0..RECORD_TRIES {
        match ctx
            .instance
            .store
            .finish_cert_job(&job.id, now, sealed.as_ref())
            .await
        {
            Ok(()) => return,
            Err(err) if attempt + 1 == RECORD_TRIES => {
                tracing::error!(error = %err, job = %job.id, "bulk job: could not record its end");
            }
            Err(_) => tokio::time::sleep(RECORD_PAUSE).await,
        }
    }
}

/// A result or a job's end is written again this often, a pause apart, before the
/// job gives up on it (a database failover takes seconds to tens of seconds).
const RECORD_TRIES: u32 = 30;
const RECORD_PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

fn stored(position: usize, r: &UserResult) -> CertJobResult {
    CertJobResult {
        position: i64::try_from(position).unwrap_or(i64::MAX),
        user_id: r.user.clone(),
        outcome: r.outcome.clone(),
        serials: r.serials.clone(),
        error: r.error.clone(),
    }
}

/// Writes one user's result, so every server sees the progress (and, if this server
/// stops, which users were done).
async fn record_result(ctx: &JobContext, job_id: &str, position: usize, r: &UserResult) {
    let row = stored(position, r);
    for attempt in 0..RECORD_TRIES {
        match ctx
            .instance
            .store
            .record_cert_job_result(job_id, &row)
            .await
        {
            Ok(()) => return,
            Err(err) if attempt + 1 == RECORD_TRIES => {
                tracing::error!(error = %err, job = job_id, user = %r.user, "bulk job: could not record a result");
            }
            Err(_) => tokio::time::sleep(RECORD_PAUSE).await,
        }
    }
}

/// The ZIP could not be built: the keys of this job's certificates would be lost, so
/// the certificates go again and their users' results say so (nothing half done).
async fn undo_issue(
    ctx: &JobContext,
    actor: &Actor,
    job: &RunningJob,
    results: &mut [UserResult],
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
        if let Some((position, r)) = results.iter_mut().enumerate().find(|(_, r)| &r.user == id) {
            r.outcome = "failed".to_string();
            r.serials.clear();
            r.error = Some(REASON.to_string());
            if let Err(err) = ctx
                .instance
                .store
                .update_cert_job_result(&job.id, &stored(position, r))
                .await
            {
                tracing::error!(error = %err, "bulk job: could not record a withdrawal");
            }
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
    // Accounts at or above the starter's role are skipped and reported; so is the
    // starter's own when the step would take away their certificates.
    let role = user
        .admin_role
        .as_deref()
        .and_then(crate::accounts::Role::parse);
    if !actor.role.may_act_on(role) {
        return Err("an account at or above your role: not touched".into());
    }
    if user.id == actor.id && matches!(action, Action::Revoke | Action::Delete) {
        return Err("your own account: not touched".into());
    }
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
            let (notice, serial) = delivery::notice_for(
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
