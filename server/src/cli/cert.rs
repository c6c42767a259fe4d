//! `passgrid cert …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::{CliError, Output};
use crate::{
    audit::Action,
    ca::{
        crl::{normalize_serial, parse_reason},
        pkcs12::P12Encoding,
    },
    config::FileConfig,
    delivery::{self, Collect},
    instance::DataConfig,
    instance::Instance,
    issuance::{issue_from_csr, issue_pkcs12, Holder, Requester},
    mail::{certificate_link_body, Mailer},
    policy::effective_policy_for,
    store::{client_certs::ClientCertRecord, users::User},
};

/// A CSR larger than this is not a CSR.
const MAX_CSR_BYTES: u64 = 64 * 1024;

#[derive(Subcommand, Debug)]
pub enum CertCommand {
    /// Issue a client certificate: a PKCS#12 with a new key (its password is printed
    /// once), or from a CSR (`--csr`, the key stays on the device).
    Issue {
        id: String,
        #[arg(long)]
        csr: Option<PathBuf>,
        #[arg(long)]
        shared: Option<String>,
        #[arg(long)]
        legacy: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// List certificates.
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Issue a certificate and mail its one-time download link to the user (the page
    /// behind the link shows the certificate password).
    Mail { id: String },
    /// Issue certificates and write printable first-login notices, one page per user
    /// (user ID, login URL, one-time link, certificate password, initial pattern).
    /// All users or none.
    Print {
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke a certificate.
    Revoke {
        serial: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub async fn run(
    cmd: CertCommand,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    let settings = file.auth.settings()?;
    let auth = &settings;
    match cmd {
        CertCommand::Issue {
            id,
            csr: Some(csr_path),
            shared: None,
            legacy: false,
            out: out_path,
        } => {
            let size = std::fs::metadata(&csr_path)
                .map_err(|e| CliError(format!("{}: {e}", csr_path.display())))?
                .len();
            if size > MAX_CSR_BYTES {
                return Err(CliError(format!(
                    "{}: too large for a certificate request",
                    csr_path.display()
                )));
            }
            let csr = std::fs::read(&csr_path)
                .map_err(|e| CliError(format!("{}: {e}", csr_path.display())))?;
            let instance = Instance::open(data).await?;
            let user = existing_user(&instance, &id).await?;
            let policy = effective_policy_for(&instance.store, auth, &user.id).await?;
            let issued = issue_from_csr(
                &instance,
                &policy.settings,
                &user,
                &csr,
                Requester::cli(Action::CertIssueCsr),
                instance.clock.now(),
            )
            .await?;
            instance.store.close().await;
            std::fs::write(&out_path, &issued.cert_pem)
                .map_err(|e| CliError(format!("{}: {e}", out_path.display())))?;
            out.print(
                format!("certificate {} for {} written to {}", issued.record.serial, user.id, out_path.display()),
                json!({ "serial": issued.record.serial, "user": user.id, "not_after": issued.record.not_after, "path": out_path }),
            );
            Ok(())
        }
        CertCommand::Issue {
            csr: Some(_),
            legacy: true,
            ..
        } => Err(CliError(
            "--legacy is a PKCS#12 encoding; a CSR gets a PEM certificate".into(),
        )),
        CertCommand::Issue {
            id,
            csr: None,
            shared,
            legacy,
            out: out_path,
        } => {
            let instance = Instance::open(data).await?;
            // The owner's policy picks the encoding unless --legacy asks for the old one
            // (a shared certificate has no owner: the default policy's).
            let owner_id = if shared.is_some() { "" } else { id.as_str() };
            let policy = effective_policy_for(&instance.store, auth, owner_id).await?;
            let encoding = if legacy {
                P12Encoding::Legacy
            } else {
                policy.settings.p12_encoding
            };
            let now = instance.clock.now();
            let user;
            let holder = match &shared {
                // A shared-terminal certificate names its profile; ID labels the
                // terminal (the file's friendly name).
                Some(name) => {
                    if !auth.shared_profiles.contains_key(name) {
                        return Err(CliError(format!(
                            "no shared-terminal profile {name:?} (define it under [auth.shared_profiles])"
                        )));
                    }
                    Holder::Shared(name)
                }
                None => {
                    user = existing_user(&instance, &id).await?;
                    Holder::User(&user)
                }
            };
            let owner = match &shared {
                Some(name) => format!("shared:{name} (terminal {id})"),
                None => id.clone(),
            };
            let made = issue_pkcs12(
                &instance,
                &policy.settings,
                holder,
                &id,
                Some(encoding),
                Requester::cli(Action::CertIssueP12),
                now,
            )
            .await?;
            let (serial, p12, password) = (made.serial, made.file, made.password);
            instance.store.close().await;
            write_private(&out_path, &p12)?;
            out.print(
                format!(
                    "certificate {serial} for {} written to {} ({} PKCS#12)\n\
                     certificate password (shown once, not stored): {}",
                    owner,
                    out_path.display(),
                    encoding.name(),
                    password.as_str()
                ),
                json!({ "serial": serial, "user": shared.is_none().then_some(&id), "shared_profile": &shared, "path": out_path, "encoding": encoding.name(), "password": password.as_str(), "not_after": made.not_after }),
            );
            Ok(())
        }
        CertCommand::Issue { .. } => Err(CliError(
            "--shared issues a PKCS#12 (a shared terminal's key is made here); it does not take --csr".into(),
        )),
        CertCommand::List { user } => {
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let certs = instance.store.client_certificates(user.as_deref()).await?;
            instance.store.close().await;
            if out.json {
                let rows: Vec<_> = certs
                    .iter()
                    .map(|c| json!({ "serial": c.serial, "user": c.user_id, "shared_profile": c.shared_profile, "state": state(c, now), "not_after": c.not_after, "revoked_at": c.revoked_at, "fingerprint_sha256": c.fingerprint_sha256 }))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if certs.is_empty() {
                println!("no certificates");
            } else {
                println!("{:<34} {:<20} {:<8} not after", "serial", "user", "state");
                for c in &certs {
                    println!(
                        "{:<34} {:<20} {:<8} {}",
                        c.serial,
                        c.owner(),
                        state(c, now),
                        date(c.not_after)
                    );
                }
            }
            Ok(())
        }
        CertCommand::Mail { id } => {
            // Everything that can be checked is checked before anything is issued.
            let mailer = Mailer::from_config(&file.mail)?;
            let public = public_url(file)?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let user = existing_user(&instance, &id).await?;
            let Some(email) = user.email.clone() else {
                instance.store.close().await;
                return Err(CliError(format!("{id} has no mail address")));
            };
            let policy = effective_policy_for(&instance.store, auth, &user.id).await?;
            let prepared =
                delivery::prepare(
                    &instance,
                    &user,
                    &policy.settings,
                    Collect::Link,
                    Requester::cli(Action::CertMail),
                    now,
                )
                .await?;
            let link = format!("{public}/certificate?t={}", prepared.token.as_str());
            let until = date(prepared.expires_at);
            let body = certificate_link_body(&user.id, &format!("{public}/login"), &link, &until);
            let sent = mailer
                .send(&email, "passgrid: your client certificate", body)
                .await;
            if sent.is_err() {
                // Not delivered: the certificate and its key go, as if never issued.
                instance
                    .store
                    .delete_undelivered_certificate(&prepared.serial)
                    .await?;
            }
            let reason = format!("serial {}, link to {email}", prepared.serial);
            crate::audit::record_cli(&instance.store, Action::CertMail, &user.id, &sent, &reason, now).await;
            instance.store.close().await;
            sent?;
            out.print(
                format!(
                    "certificate {} for {} issued; its one-time download link was mailed to {email} (valid until {until})",
                    prepared.serial, user.id
                ),
                json!({ "serial": prepared.serial, "user": user.id, "mailed_to": email, "link_expires_at": prepared.expires_at }),
            );
            Ok(())
        }
        CertCommand::Print { ids, out: out_path } => {
            let public = public_url(file)?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            // Every user is checked before anything is issued.
            let mut users = Vec::with_capacity(ids.len());
            for id in &ids {
                users.push(existing_user(&instance, id).await?);
            }
            let mut notices = Vec::with_capacity(users.len());
            let mut issued: Vec<String> = Vec::new();
            let mut failure = None;
            for user in &users {
                // The certificate follows the user's policy.
                let settings = match effective_policy_for(&instance.store, auth, &user.id).await {
                    Ok(policy) => policy.settings,
                    Err(err) => {
                        failure = Some(CliError(format!("{}: {err}", user.id)));
                        break;
                    }
                };
                match crate::delivery::notice_for(
                    &instance,
                    user,
                    &settings,
                    &public,
                    Requester::cli(Action::CertPrint),
                    now,
                )
                    .await
                {
                    Ok((notice, serial)) => {
                        notices.push(notice);
                        issued.push(serial);
                    }
                    Err(err) => {
                        failure = Some(CliError(format!("{}: {err}", user.id)));
                        break;
                    }
                }
            }
            let written = match failure {
                Some(err) => Err(err),
                None => write_private(&out_path, crate::notices::render(&notices, auth.shape).as_bytes()),
            };
            if written.is_err() {
                // All or nothing: the certificates of this run go again.
                for serial in &issued {
                    instance.store.delete_undelivered_certificate(serial).await?;
                }
            }
            let reason = format!("{} notice(s), serials {}", issued.len(), issued.join(" "));
            let outcome = written.as_ref().map_err(|e| e.0.clone());
            crate::audit::record_cli(&instance.store, Action::CertPrint, &ids.join(","), &outcome, &reason, now).await;
            instance.store.close().await;
            written?;
            out.print(
                format!("{} notice(s) written to {} (one page per user)", notices.len(), out_path.display()),
                json!({ "users": ids, "serials": issued, "path": out_path }),
            );
            Ok(())
        }
        CertCommand::Revoke { serial, reason } => {
            let serial = normalize_serial(&serial)?;
            let reason = parse_reason(reason.as_deref())?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = instance
                .ca
                .revoke(&instance.store, &serial, reason, now)
                .await;
            crate::audit::record_cli(&instance.store, Action::CertRevoke, &serial, &result, reason, now).await;
            instance.store.close().await;
            let record = result?;
            out.print(
                format!(
                    "certificate {} of {} revoked ({reason}); the CRL is updated",
                    record.serial,
                    record.owner()
                ),
                json!({ "serial": record.serial, "user": record.user_id, "shared_profile": record.shared_profile, "revoked_at": record.revoked_at, "reason": reason }),
            );
            Ok(())
        }
    }
}

/// The https address users reach passgrid at, for links in mails and notices.
pub(crate) fn public_url(file: &FileConfig) -> Result<String, CliError> {
    file.serve
        .public_url
        .as_deref()
        .filter(|u| u.starts_with("https://"))
        .map(|u| u.trim_end_matches('/').to_string())
        .ok_or_else(|| {
            CliError("set [serve] public_url (https://…) so there is a link to give".into())
        })
}

async fn existing_user(instance: &Instance, id: &str) -> Result<User, CliError> {
    instance
        .store
        .user(id)
        .await?
        .ok_or_else(|| CliError(format!("no user with ID {id:?}")))
}

/// Writes a file only its owner may read: it holds a private key.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    file.write_all(bytes)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))
}

fn state(c: &ClientCertRecord, now: i64) -> &'static str {
    if c.revoked_at.is_some() {
        "revoked"
    } else if c.not_after <= now {
        "expired"
    } else {
        "valid"
    }
}

fn date(unix: i64) -> String {
    crate::notices::rfc3339(unix)
}
