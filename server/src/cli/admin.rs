//! `passgrid admin …`

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output};
use crate::{accounts, config::DataConfig, instance::Instance, store::StoreError};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an administrator.
    Create {
        id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "user-admin", "operator", "auditor"])]
        role: String,
    },
}

pub async fn run(cmd: AdminCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Create {
            id,
            email,
            name,
            role,
        } => {
            let user =
                accounts::checked_new_user(&id, &name, email.as_deref(), Some(&role), "local")?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            match accounts::create_user_from_cli(&instance.store, &user, &[], now).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a user with ID {id:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            instance.store.close().await;
            out.print(
                format!("administrator {id} created (role {role})"),
                json!({ "id": id, "role": role, "created": true }),
            );
            Ok(())
        }
    }
}
