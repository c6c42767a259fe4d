//! `passgrid user …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use app::pattern::text_form;

use super::{pending::not_yet, CliError, Output};
use crate::{
    accounts,
    auth::AuthSettings,
    config::DataConfig,
    instance::Instance,
    otp::{
        patterns::{generate_initial_pattern, store_pattern},
        OtpError,
    },
    store::StoreError,
};

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
        #[arg(long, value_delimiter = ',', required = true)]
        cells: Vec<u16>,
        /// Hand it out as an initial pattern: the user must replace it after logging in.
        #[arg(long)]
        initial: bool,
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
            let now = instance.clock.now();
            match accounts::create_user_from_cli(&instance.store, &user, now).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a user with ID {id:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            // The initial pattern goes on the first-login notice (SPEC §1.7); this
            // output is the only place it is ever shown.
            let settings = AuthSettings::default();
            let cells = generate_initial_pattern(settings.shape, &settings.rules)?;
            store_pattern(
                &instance.store,
                &instance.master_key,
                &id,
                &cells,
                &settings,
                true,
                now,
            )
            .await?;
            instance.store.close().await;
            let text = text_form(&cells, settings.shape);
            out.print(
                format!("user {id} created\ninitial pattern: {text}\n(valid {} days; the user registers their own at first login)", crate::otp::patterns::INITIAL_PATTERN_DAYS),
                json!({
                    "id": id,
                    "created": true,
                    "initial_pattern": {
                        "text": text,
                        "cells": cells.to_vec(),
                        "rows": settings.shape.rows(),
                        "cols": settings.shape.cols(),
                    },
                }),
            );
            Ok(())
        }
        UserCommand::SetPattern { id, cells, initial } => {
            let instance = Instance::open(data).await?;
            let settings = AuthSettings::default();
            let result = store_pattern(
                &instance.store,
                &instance.master_key,
                &id,
                &cells,
                &settings,
                initial,
                instance.clock.now(),
            )
            .await;
            let outcome = match &result {
                Ok(()) => "success",
                Err(_) => "failure",
            };
            accounts::audit(
                &instance.store,
                crate::store::audit::AuditEvent {
                    actor: "cli",
                    source: "local",
                    action: "user.set_pattern",
                    target: &id,
                    outcome,
                    reason: if initial { "initial" } else { "" },
                },
                instance.clock.now(),
            )
            .await;
            instance.store.close().await;
            match result {
                Ok(()) => {}
                Err(OtpError::NoSuchUser) => {
                    return Err(CliError(format!("no user with ID {id:?}")))
                }
                Err(e) => return Err(e.into()),
            }
            out.print(
                format!("pattern of {id} set"),
                json!({ "id": id, "initial": initial }),
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
        UserCommand::Import { .. } | UserCommand::Export { .. } => {
            not_yet("user import/export", "#5")
        }
        UserCommand::Unlock { id } => {
            let instance = Instance::open(data).await?;
            if instance.store.user(&id).await?.is_none() {
                return Err(CliError(format!("no user with ID {id:?}")));
            }
            let now = instance.clock.now();
            let was_locked = matches!(
                crate::auth::lockout::lock_state(&instance.store, &id, now).await?,
                crate::auth::lockout::LockState::Locked { .. }
            );
            crate::auth::lockout::unlock(&instance.store, &id, "cli", "local", now).await?;
            instance.store.close().await;
            out.print(
                if was_locked {
                    format!("user {id} unlocked")
                } else {
                    format!("user {id} was not locked (failure count cleared)")
                },
                json!({ "id": id, "unlocked": was_locked }),
            );
            Ok(())
        }
    }
}
