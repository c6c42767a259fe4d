//! `passgrid admin …`

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output};
use crate::{
    accounts,
    audit::Action,
    instance::{DataConfig, Instance},
    store::StoreError,
};

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
    /// API tokens of administrators (SPEC §9.4).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for an administrator; printed once. It acts with the
    /// administrator's role at each request.
    Create {
        admin: String,
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// List tokens (prefixes, never the tokens).
    List,
    /// Revoke a token by its prefix.
    Revoke { prefix: String },
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
        AdminCommand::Token(cmd) => token(cmd, data, out).await,
    }
}

async fn token(cmd: TokenCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let now = instance.clock.now();
    let result = match cmd {
        TokenCommand::Create { admin, name, days } => {
            let made =
                accounts::create_admin_token(&instance.store, &admin, &name, days, now).await;
            let reason = match &made {
                Ok(t) => format!("token {} ({name})", t.prefix),
                Err(_) => name.clone(),
            };
            crate::audit::record_cli(
                &instance.store,
                Action::AdminTokenCreate,
                &admin,
                &made,
                &reason,
                now,
            )
            .await;
            let made = made.map_err(|e| CliError(e.to_string()))?;
            out.print(
                format!(
                    "{}\n(shown once; acts as {} with role {} until it expires in {days} days)",
                    made.token.as_str(),
                    made.admin_id,
                    made.role
                ),
                json!({ "token": made.token.as_str(), "prefix": made.prefix, "admin": made.admin_id, "expires_at": made.expires_at }),
            );
            Ok(())
        }
        TokenCommand::List => {
            let tokens = instance.store.admin_tokens().await?;
            let text = tokens
                .iter()
                .map(|t| {
                    format!(
                        "{}\t{}\t{}\texpires {}",
                        t.prefix, t.admin_id, t.name, t.expires_at
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(tokens));
            Ok(())
        }
        TokenCommand::Revoke { prefix } => {
            let revoked = instance.store.revoke_admin_token(&prefix).await;
            crate::audit::record_cli(
                &instance.store,
                Action::AdminTokenRevoke,
                &prefix,
                &revoked,
                "",
                now,
            )
            .await;
            if !revoked? {
                return Err(CliError(format!("no token with prefix {prefix}")));
            }
            out.print(
                format!("token {prefix} revoked"),
                json!({ "prefix": prefix, "revoked": true }),
            );
            Ok(())
        }
    };
    instance.store.close().await;
    result
}
