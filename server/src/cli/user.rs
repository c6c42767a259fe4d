//! `passgrid user …`

use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use app::pattern::text_form;

use super::{CliError, Output};
use crate::{
    accounts,
    audit::{record_cli, Action, Outcome},
    instance::DataConfig,
    instance::Instance,
    otp::{
        patterns::{generate_initial_pattern, store_pattern},
        OtpError,
    },
    policy::AuthSettings,
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
        /// A group the user belongs to (it must exist); repeatable.
        #[arg(long = "group")]
        groups: Vec<String>,
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
    /// Import users from CSV (header row: id, name, email, groups, status; also the
    /// Japanese headers). All rows or none; --dry-run reports what would change.
    Import {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        /// utf-8 or shift_jis (Windows-31J, as Japanese Excel saves).
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
        UserCommand::Add {
            id,
            name,
            email,
            groups,
        } => {
            let user = accounts::checked_new_user(&id, &name, email.as_deref(), None, "local")?;
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let missing = instance.store.missing_groups(&groups).await?;
            if !missing.is_empty() {
                return Err(CliError(format!(
                    "no such group: {} (create it with `passgrid group add`)",
                    missing.join(", ")
                )));
            }
            match accounts::create_user_from_cli(&instance.store, &user, &groups, now).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(CliError(format!("a user with ID {id:?} exists already")))
                }
                Err(e) => return Err(e.into()),
            }
            // The initial pattern goes on the first-login notice (SPEC §1.7); this
            // output is the only place it is ever shown. Its rules are those of the
            // user's policy (known now that the memberships are stored); `[auth]` has
            // no pattern keys, so the built-in base gives the same rules as the config.
            let settings =
                crate::policy::effective_policy_for(&instance.store, &AuthSettings::default(), &id)
                    .await?
                    .settings;
            let cells = generate_initial_pattern(settings.shape, &settings.rules)?;
            store_pattern(
                &instance.store,
                &instance.master_key,
                &id,
                &cells,
                settings.pattern_policy(),
                true,
                now,
            )
            .await?;
            instance.store.close().await;
            let text = text_form(&cells, settings.shape);
            let rows = app::pattern::text_rows(&cells, settings.shape).join("\n  ");
            out.print(
                format!(
                    "user {id} created\ninitial pattern (each line is one row of the {}-column grid: \
                     groups of 4 cells; digits give the order, a = 10th):\n  {rows}\n\
                     (valid {} days; the user registers their own at first login)",
                    settings.shape.cols(),
                    crate::otp::patterns::INITIAL_PATTERN_DAYS
                ),
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
                settings.pattern_policy(),
                initial,
                instance.clock.now(),
            )
            .await;
            let outcome = match &result {
                Ok(()) => Outcome::Success,
                Err(_) => Outcome::Failure,
            };
            crate::audit::record(
                &instance.store,
                crate::audit::AuditEvent {
                    actor: "cli",
                    source: "local",
                    action: Action::UserSetPattern,
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
            let groups = instance.store.user_groups(&id).await?;
            instance.store.close().await;
            let mut json = serde_json::to_value(&user)?;
            json["groups"] = json!(groups);
            out.print(
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.display_name,
                    user.email.as_deref().unwrap_or("-"),
                    user.admin_role.as_deref().unwrap_or("user"),
                    user.status,
                    user.source,
                    groups.join(";")
                ),
                json,
            );
            Ok(())
        }
        UserCommand::Import {
            file,
            dry_run,
            encoding,
        } => import(file, dry_run, &encoding, data, out).await,
        UserCommand::Export { out: file } => export(file, data).await,
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

/// A CSV larger than this is refused before it is read.
const MAX_IMPORT_BYTES: u64 = 50 * 1024 * 1024;

async fn import(
    file: PathBuf,
    dry_run: bool,
    encoding: &str,
    data: DataConfig,
    out: Output,
) -> Result<(), CliError> {
    let encoding: crate::user_csv::CsvEncoding = encoding
        .parse()
        .map_err(|_| CliError(format!("--encoding {encoding}: use utf-8 or shift_jis")))?;
    let name = file.display().to_string();
    let size = std::fs::metadata(&file)
        .map_err(|e| CliError(format!("{name}: {e}")))?
        .len();
    if size > MAX_IMPORT_BYTES {
        return Err(CliError(format!(
            "{name}: {size} bytes is over the {MAX_IMPORT_BYTES}-byte limit; nothing imported"
        )));
    }
    let bytes = std::fs::read(&file).map_err(|e| CliError(format!("{name}: {e}")))?;
    let rows = crate::user_csv::parse_users_csv(&bytes, encoding)
        .map_err(|e| CliError(format!("{name}: {e}; nothing imported")))?;
    let instance = Instance::open(data).await?;
    let now = instance.clock.now();
    let settings = AuthSettings::default();
    let result = crate::user_import::import_users(
        &instance.store,
        &instance.master_key,
        &settings,
        &rows,
        &crate::user_import::ImportScope {
            source: "csv",
            whole: None,
            dry_run,
            now,
        },
    )
    .await;
    if !dry_run {
        let reason = match &result {
            Ok(r) => format!(
                "{name}: {} added, {} changed, {} unchanged, {} not owned",
                r.adds.len(),
                r.changes.len(),
                r.unchanged,
                r.conflicts.len()
            ),
            Err(_) => String::new(),
        };
        record_cli(
            &instance.store,
            Action::UserImport,
            &name,
            &result,
            &reason,
            now,
        )
        .await;
    }
    instance.store.close().await;
    let report = result.map_err(|e| CliError(format!("{name}: {e}; nothing imported")))?;
    let mut text = format!(
        "{}{} to add, {} to change, {} unchanged, {} new groups",
        if dry_run { "dry run: " } else { "" },
        report.adds.len(),
        report.changes.len(),
        report.unchanged,
        report.new_groups.len()
    );
    // Rows that name accounts this import does not own: shown whether dry or not.
    for c in report.conflicts.iter().take(50) {
        text.push_str(&format!(
            "\n  not changed, line {}: {}: {}",
            c.line, c.id, c.reason
        ));
    }
    if dry_run {
        for a in report.adds.iter().take(50) {
            text.push_str(&format!("\n  add    line {}: {}", a.line, a.id));
        }
        for c in report.changes.iter().take(50) {
            text.push_str(&format!(
                "\n  change line {}: {} ({})",
                c.line,
                c.id,
                c.fields.join(", ")
            ));
        }
    }
    out.print(text, serde_json::to_value(&report)?);
    Ok(())
}

async fn export(file: Option<PathBuf>, data: DataConfig) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let users = instance.store.user_briefs().await?;
    let groups = instance.store.groups_by_user().await?;
    let now = instance.clock.now();
    let target = file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "stdout".into());
    let mut users = users;
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let empty = Vec::new();
    let rows = users.iter().map(|u| crate::user_csv::ExportRow {
        id: &u.id,
        display_name: &u.display_name,
        email: u.email.as_deref(),
        groups: groups.get(&u.id).unwrap_or(&empty),
        status: &u.status,
        source: &u.source,
    });
    let result = match &file {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| crate::user_csv::write_users_csv(rows, std::io::BufWriter::new(f))),
        None => crate::user_csv::write_users_csv(rows, std::io::stdout().lock()),
    };
    record_cli(
        &instance.store,
        Action::UserExport,
        &target,
        &result,
        &format!("{} users", users.len()),
        now,
    )
    .await;
    instance.store.close().await;
    result.map_err(|e| CliError(format!("{target}: {e}")))?;
    Ok(())
}
