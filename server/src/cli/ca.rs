//! `passgrid ca …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::{CliError, Output};
use crate::{config::DataConfig, instance::Instance};

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
