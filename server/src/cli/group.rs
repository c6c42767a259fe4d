//! `passgrid group …` (SPEC §7, §13).

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output};
use crate::{
    accounts,
    audit::{record_cli, Action},
    instance::{DataConfig, Instance},
    store::StoreError,
};

#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// Create a group.
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List groups with their member counts.
    List,
}

pub async fn run(cmd: GroupCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    match cmd {
        GroupCommand::Add { name, description } => {
            accounts::check_group_name(&name)
                .map_err(|_| CliError(format!("{name:?} is not a usable group name (1-64 characters, no control characters, no ';' or '|')")))?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = instance.store.create_group(&name, &description, now).await;
            record_cli(
                &instance.store,
                Action::GroupCreate,
                &name,
                &result,
                "",
                now,
            )
            .await;
            instance.store.close().await;
            match result {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a group named {name:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            out.print(
                format!("group {name} created"),
                json!({ "name": name, "created": true }),
            );
            Ok(())
        }
        GroupCommand::List => {
            let instance = Instance::open(data).await?;
            let groups = instance.store.groups().await?;
            instance.store.close().await;
            let text = groups
                .iter()
                .map(|g| format!("{}\t{} members\t{}", g.name, g.members, g.description))
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(groups));
            Ok(())
        }
    }
}
