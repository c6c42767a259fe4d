//! Running a job: each user's step (issue, revoke, delete, mail, print) done whole
//! or not at all, audited, and the job's download put together at the end.

use super::*;

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

pub(super) async fn run_job(ctx: JobContext, actor: Actor, job: Arc<Job>, users: Vec<String>) {
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
        Action::Issue => match super::packaging::zip_of(&pieces, now) {
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
