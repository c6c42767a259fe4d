//! `passgrid admin …`

use clap::Subcommand;
use serde_json::json;

use app::pattern::{text_form, text_rows};

use super::{CliError, Output};
use crate::{
    accounts,
    audit::Action,
    config::FileConfig,
    instance::{DataConfig, Instance},
    otp::patterns::{new_initial_pattern, INITIAL_PATTERN_DAYS},
    policy::{effective_policy_for, AuthSettings},
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

pub async fn run(
    cmd: AdminCommand,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Create {
            id,
            email,
            name,
            role,
        } => {
            let user =
                accounts::checked_new_user(&id, &name, email.as_deref(), Some(&role), "local")?;
            let base = file.auth.settings()?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            // The policy the administrator will have (in no group yet: the default one)
            // decides the pattern's rules and what the first sign-in asks for.
            let settings = effective_policy_for(&instance.store, &base, &id)
                .await?
                .settings;
            let (cells, pattern) = new_initial_pattern(
                &instance.master_key,
                &id,
                settings.shape,
                &settings.rules,
                now,
            )?;
            match accounts::create_admin_from_cli(&instance.store, &user, &pattern, now).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a user with ID {id:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            instance.store.close().await;
            print_first_sign_in(out, &id, &role, &cells, &settings);
            Ok(())
        }
        AdminCommand::Token(cmd) => token(cmd, data, out).await,
    }
}

/// The new administrator's initial pattern (this output is the only place it is ever
/// shown) and exactly how to sign in with it.
fn print_first_sign_in(out: Output, id: &str, role: &str, cells: &[u16], settings: &AuthSettings) {
    let shape = settings.shape;
    let rows = text_rows(cells, shape);
    let certificate = settings.first_sign_in_certificate();
    let mut steps = Vec::new();
    if certificate == "required" {
        steps.push(format!(
            "issue a client certificate first (passgrid cert issue {id} --out {id}.p12) and install it in the browser"
        ));
    }
    steps.push("open /login on this server".to_string());
    steps.push(format!("type the user ID {id} and press Next"));
    steps.push(
        "type the digits found at the numbered cells of the pattern, in order (1 first), and sign in"
            .to_string(),
    );
    if certificate == "auto_issue" {
        steps.push(
            "download the client certificate offered for this device, keep its password, install it"
                .to_string(),
        );
    }
    steps.push(
        "draw a pattern of your own and confirm it twice; your page then links to the console (/admin)"
            .to_string(),
    );
    let numbered = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("  {}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    out.print(
        format!(
            "administrator {id} created (role {role})\n\
             initial pattern, shown only now (each line is one row of the {}-column grid: \
             groups of 4 cells; digits give the order, a = 10th):\n  {}\n\
             (valid {INITIAL_PATTERN_DAYS} days)\nto sign in:\n{numbered}",
            shape.cols(),
            rows.join("\n  "),
        ),
        json!({
            "id": id,
            "role": role,
            "created": true,
            "initial_pattern": {
                "text": text_form(cells, shape),
                "text_rows": rows,
                "cells": cells,
                "rows": shape.rows(),
                "cols": shape.cols(),
                "valid_days": INITIAL_PATTERN_DAYS,
            },
            "certificate": certificate,
            "sign_in": { "path": "/login", "steps": steps },
        }),
    );
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
