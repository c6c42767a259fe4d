//! `passgrid cert …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::{pending::not_yet, CliError, Output};
use crate::{ca::client_cert::ClientProfile, config::DataConfig, instance::Instance};

/// Default validity of a client certificate (SPEC §2.2) until policies exist.
const DEFAULT_VALIDITY_DAYS: i64 = 365;
/// A CSR larger than this is not a CSR.
const MAX_CSR_BYTES: u64 = 64 * 1024;

#[derive(Subcommand, Debug)]
pub enum CertCommand {
    /// Issue a client certificate: from a CSR (`--csr`, the key stays on the device).
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
    /// Revoke a certificate.
    Revoke {
        serial: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub async fn run(cmd: CertCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
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
            let user = instance
                .store
                .user(&id)
                .await?
                .ok_or_else(|| CliError(format!("no user with ID {id:?}")))?;
            let profile = ClientProfile {
                user_id: &user.id,
                email: user.email.as_deref(),
                validity_days: DEFAULT_VALIDITY_DAYS,
            };
            let issued = instance
                .ca
                .issue_client_certificate_from_csr(
                    &instance.store,
                    &csr,
                    &profile,
                    instance.clock.now(),
                )
                .await?;
            crate::accounts::audit(
                &instance.store,
                crate::store::audit::AuditEvent {
                    actor: "cli",
                    source: "local",
                    action: "cert.issue_csr",
                    target: &user.id,
                    outcome: "success",
                    reason: &format!("serial {}", issued.record.serial),
                },
                instance.clock.now(),
            )
            .await;
            instance.store.close().await;
            std::fs::write(&out_path, &issued.cert_pem)
                .map_err(|e| CliError(format!("{}: {e}", out_path.display())))?;
            out.print(
                format!("certificate {} for {} written to {}", issued.record.serial, user.id, out_path.display()),
                json!({ "serial": issued.record.serial, "user": user.id, "not_after": issued.record.not_after, "path": out_path }),
            );
            Ok(())
        }
        CertCommand::Issue { .. } => not_yet("cert issue (PKCS#12, shared, legacy)", "#4"),
        CertCommand::List { .. } | CertCommand::Revoke { .. } => not_yet("cert list/revoke", "#4"),
    }
}
