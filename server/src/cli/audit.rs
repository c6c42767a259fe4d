//! `passgrid audit …`

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output};
use crate::{
    audit::chain::{seal_pending, verify_chain, ChainKey, ChainReport},
    instance::DataConfig,
    instance::Instance,
};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; names the first entry that does not fit.
    Verify,
}

pub async fn run(cmd: AuditCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        AuditCommand::Verify => {
            let instance = Instance::open(data).await?;
            let key = ChainKey::from_master(&instance.master_key);
            // Entries written since the server's last pass are linked first, so the
            // check covers everything up to now.
            seal_pending(&instance.store, &key).await?;
            let report = verify_chain(&instance.store, &key).await?;
            instance.store.close().await;
            match report {
                ChainReport::Intact { entries, unsealed } => {
                    out.print(
                        format!("audit log intact: {entries} entries chained, {unsealed} not yet sealed"),
                        json!({ "ok": true, "entries": entries, "unsealed": unsealed }),
                    );
                    Ok(())
                }
                ChainReport::Broken {
                    entry_id,
                    position,
                    reason,
                } => {
                    if out.json {
                        println!(
                            "{}",
                            json!({ "ok": false, "entry": entry_id, "position": position, "reason": reason })
                        );
                    }
                    Err(CliError(format!("audit log broken: {reason}")))
                }
            }
        }
    }
}
