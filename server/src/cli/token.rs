//! `passgrid token …`: hardware TOTP tokens (SPEC §4.2).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use zeroize::Zeroizing;

use super::{CliError, Output};
use crate::{
    audit::{record_cli, Action},
    instance::DataConfig,
    instance::Instance,
    otp::{
        token_files::MAX_FILE_BYTES,
        tokens::{assign_token, import_token_file},
    },
};

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Import hardware token seeds from the vendor's file: CSV (serial,seed[,algorithm,
    /// digits,period]) or PSKC (RFC 6030). All tokens of the file or none.
    Import {
        file: PathBuf,
        /// A file holding the PSKC pre-shared key in hex (for encrypted PSKC files).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Assign a hardware token to a user (replacing the user's token).
    Assign { serial: String, user: String },
    /// List tokens (never their seeds).
    List {
        #[arg(long)]
        user: Option<String>,
    },
}

pub async fn run(cmd: TokenCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        TokenCommand::Import { file, key_file } => {
            let size = std::fs::metadata(&file)
                .map_err(|e| CliError(format!("{}: {e}", file.display())))?
                .len();
            if size > MAX_FILE_BYTES as u64 {
                return Err(CliError(format!(
                    "{}: larger than {MAX_FILE_BYTES} bytes",
                    file.display()
                )));
            }
            let bytes = Zeroizing::new(
                std::fs::read(&file).map_err(|e| CliError(format!("{}: {e}", file.display())))?,
            );
            let key = match &key_file {
                Some(path) => Some(Zeroizing::new(
                    std::fs::read_to_string(path)
                        .map_err(|e| CliError(format!("{}: {e}", path.display())))?,
                )),
                None => None,
            };
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = import_token_file(
                &instance.store,
                &instance.master_key,
                &bytes,
                key.as_ref().map(|k| k.as_str()),
                now,
            )
            .await;
            let name = file.display().to_string();
            let reason = match &result {
                Ok(serials) => format!("{} tokens from {name}", serials.len()),
                Err(_) => String::new(),
            };
            record_cli(
                &instance.store,
                Action::TokenImport,
                &name,
                &result,
                &reason,
                now,
            )
            .await;
            instance.store.close().await;
            let serials = result.map_err(|e| CliError(format!("{name}: {e}; nothing imported")))?;
            out.print(
                format!("{} tokens imported (unassigned)", serials.len()),
                json!({ "imported": serials.len(), "serials": serials }),
            );
            Ok(())
        }
        TokenCommand::Assign { serial, user } => {
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = assign_token(&instance.store, &serial, &user, now).await;
            record_cli(
                &instance.store,
                Action::TokenAssign,
                &user,
                &result,
                &format!("token {serial}"),
                now,
            )
            .await;
            instance.store.close().await;
            result?;
            out.print(
                format!("token {serial} assigned to {user}"),
                json!({ "serial": serial, "user": user }),
            );
            Ok(())
        }
        TokenCommand::List { user } => {
            let instance = Instance::open(data).await?;
            let tokens = instance.store.tokens(user.as_deref()).await?;
            instance.store.close().await;
            let text = tokens
                .iter()
                .map(|t| {
                    format!(
                        "{}\t{}\t{}\t{} {} digits {} s",
                        t.serial,
                        t.kind,
                        t.user_id.as_deref().unwrap_or("-"),
                        t.algorithm,
                        t.digits,
                        t.period
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(tokens));
            Ok(())
        }
    }
}
