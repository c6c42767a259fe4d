//! `passgrid ca …`

use clap::Subcommand;
use serde_json::json;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use super::{CliError, Output};
use crate::{
    audit::Action,
    ca::CertificateAuthority,
    instance::{DataConfig, Instance},
};

#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Write the CA certificate (PEM) to a file, or print it.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the current CRL (DER).
    Crl {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Replace passgrid's CA with an existing one (certificate and PKCS#8 key, PEM).
    /// Running servers use it after their next start.
    Import {
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        /// Replace it even though client certificates of the current CA are valid
        /// (they stop working).
        #[arg(long)]
        force: bool,
    },
}

/// A CA certificate or key larger than this is not one.
const MAX_PEM_BYTES: u64 = 256 * 1024;

fn read_pem(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let size = std::fs::metadata(path)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?
        .len();
    if size > MAX_PEM_BYTES {
        return Err(CliError(format!(
            "{}: too large for a PEM file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map(Zeroizing::new)
        .map_err(|_| CliError(format!("{}: not a PEM text file", path.display())))
}

pub async fn run(cmd: CaCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        CaCommand::Export { out: file } => {
            let instance = Instance::open(data).await?;
            let pem = instance.ca.cert_pem().to_string();
            let subject = instance.ca.subject();
            instance.store.close().await;
            match file {
                Some(path) => {
                    std::fs::write(&path, &pem)
                        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
                    out.print(
                        format!("CA certificate ({subject}) written to {}", path.display()),
                        json!({ "subject": subject, "path": path }),
                    );
                }
                None if out.json => println!("{}", json!({ "subject": subject, "pem": pem })),
                None => print!("{pem}"),
            }
            Ok(())
        }
        CaCommand::Import { cert, key, force } => {
            let cert_pem = read_pem(&cert)?;
            let key_pem = read_pem(&key)?;
            let instance = Instance::open(data.clone()).await?;
            let now = instance.clock.now();
            let checked = crate::ca::import::check(&cert_pem, &key_pem, now);
            let imported = match checked {
                Ok(checked) => CertificateAuthority::import(
                    &instance.store,
                    &instance.master_key,
                    &checked,
                    force,
                    now,
                )
                .await
                .map(|ca| (ca, checked.subject)),
                Err(err) => Err(err),
            };
            let subject = imported
                .as_ref()
                .map(|(_, subject)| subject.clone())
                .unwrap_or_default();
            crate::audit::record_cli(
                &instance.store,
                Action::CaImport,
                "ca",
                &imported,
                &subject,
                now,
            )
            .await;
            instance.store.close().await;
            let (ca, subject) = imported?;
            let ca_file = data.ca_pem_path();
            std::fs::write(&ca_file, ca.cert_pem())
                .map_err(|e| CliError(format!("{}: {e}", ca_file.display())))?;
            out.print(
                format!(
                    "CA imported: {subject}; {} updated. Restart running servers: they use it from their next start.",
                    ca_file.display()
                ),
                json!({ "subject": subject, "ca_pem": ca_file }),
            );
            Ok(())
        }
        CaCommand::Crl { out: file } => {
            let instance = Instance::open(data).await?;
            let crl = instance.ca.crl(&instance.store, instance.clock.now()).await;
            instance.store.close().await;
            let crl = crl?;
            match file {
                Some(path) => {
                    std::fs::write(&path, &crl.der)
                        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
                    out.print(
                        format!("CRL number {} written to {}", crl.crl_number, path.display()),
                        json!({ "crl_number": crl.crl_number, "next_update": crl.next_update, "path": path }),
                    );
                }
                None if out.json => println!(
                    "{}",
                    json!({ "crl_number": crl.crl_number, "next_update": crl.next_update, "der_base64": base64_der(&crl.der) })
                ),
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&crl.der)
                        .map_err(|e| CliError(format!("stdout: {e}")))?;
                }
            }
            Ok(())
        }
    }
}

fn base64_der(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(der)
}
