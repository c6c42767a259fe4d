//! `passgrid user …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::{pending::not_yet, CliError, Output};
use crate::{accounts, config::DataConfig, instance::Instance, store::StoreError};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Register a user.
    Add {
        id: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Show a user.
    Show { id: String },
    /// Set a user's pattern (cell indices, row-major from 0).
    SetPattern {
        id: String,
        #[arg(long, value_delimiter = ',')]
        cells: Vec<u16>,
    },
    /// Import users from CSV.
    Import {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "utf-8")]
        encoding: String,
    },
    /// Export users to CSV.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Unlock a locked user.
    Unlock { id: String },
}

pub async fn run(cmd: UserCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        UserCommand::Add { id, name, email } => {
            let user = accounts::checked_new_user(&id, &name, email.as_deref(), None, "local")?;
            let instance = Instance::open(data).await?;
            match accounts::create_user_from_cli(&instance.store, &user, instance.clock.now()).await
            {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a user with ID {id:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            instance.store.close().await;
            out.print(
                format!("user {id} created"),
                json!({ "id": id, "created": true }),
            );
            Ok(())
        }
        UserCommand::Show { id } => {
            let instance = Instance::open(data).await?;
            let user = instance
                .store
                .user(&id)
                .await?
                .ok_or_else(|| CliError(format!("no user with ID {id:?}")))?;
            instance.store.close().await;
            out.print(
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.display_name,
                    user.email.as_deref().unwrap_or("-"),
                    user.admin_role.as_deref().unwrap_or("user"),
                    user.status
                ),
                serde_json::to_value(&user)?,
            );
            Ok(())
        }
        UserCommand::SetPattern { .. } => not_yet("user set-pattern", "#3"),
        UserCommand::Import { .. } | UserCommand::Export { .. } => {
            not_yet("user import/export", "#5")
        }
        UserCommand::Unlock { .. } => not_yet("user unlock", "#6"),
    }
}
