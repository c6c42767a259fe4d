//! `passgrid sync …` (issue #7): LDAP / Active Directory sources and CSV folders.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use zeroize::Zeroizing;

use super::{CliError, Output};
use crate::{
    audit::{record_cli, Action},
    config::FileConfig,
    instance::DataConfig,
    instance::Instance,
    sync::{
        add_csv_source, add_ldap_source, parse_interval, run_source, CsvSourceSettings,
        LdapSourceSettings,
    },
};

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Add an LDAP / Active Directory source.
    AddLdap {
        name: String,
        /// ldap://HOST:PORT or ldaps://HOST:PORT
        #[arg(long)]
        url: String,
        /// Upgrade ldap:// with StartTLS.
        #[arg(long)]
        starttls: bool,
        /// The CA (PEM) that signs the directory's certificate.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long)]
        bind_dn: String,
        /// A file holding the bind password (stored sealed; the file can go after).
        #[arg(long)]
        bind_password_file: PathBuf,
        #[arg(long)]
        base: String,
        #[arg(long, default_value = crate::sync::DEFAULT_LDAP_FILTER)]
        filter: String,
        /// Attributes: id=ATTR,name=ATTR,email=ATTR (defaults: sAMAccountName or uid,
        /// displayName or cn, mail).
        #[arg(long)]
        map: Option<String>,
        /// A member-of attribute whose values (DNs or names) become passgrid groups.
        #[arg(long)]
        group_attr: Option<String>,
        #[arg(long, default_value = crate::sync::DEFAULT_LDAP_INTERVAL)]
        interval: String,
        /// Seconds to wait for the directory at each step.
        #[arg(long, default_value_t = crate::sync::DEFAULT_LDAP_TIMEOUT_SECS)]
        timeout: u64,
    },
    /// Add a CSV folder source: files dropped there are imported on the schedule.
    AddCsv {
        name: String,
        #[arg(long)]
        folder: PathBuf,
        #[arg(long, default_value = "utf-8")]
        encoding: String,
        #[arg(long, default_value = crate::sync::DEFAULT_CSV_INTERVAL)]
        interval: String,
    },
    /// Change a source: LDAP filter or base, interval, the share of its users one run
    /// may disable.
    Set {
        name: String,
        #[arg(long)]
        filter: Option<String>,
        #[arg(long)]
        base: Option<String>,
        #[arg(long)]
        interval: Option<String>,
        #[arg(long)]
        max_disable_percent: Option<i64>,
    },
    /// List sources with their last run.
    List,
    /// Run one source now (prints what was added, changed, disabled).
    Run {
        name: String,
        #[arg(long)]
        dry_run: bool,
    },
}

fn read_small(path: &PathBuf, what: &str) -> Result<Zeroizing<String>, CliError> {
    let size = std::fs::metadata(path)
        .map_err(|e| CliError(format!("{what} {}: {e}", path.display())))?
        .len();
    if size > 256 * 1024 {
        return Err(CliError(format!("{what} {}: too large", path.display())));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError(format!("{what} {}: {e}", path.display())))?;
    Ok(Zeroizing::new(text))
}

/// `id=uid,name=cn,email=mail` over the AD-friendly defaults.
pub async fn run(
    cmd: SyncCommand,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    match cmd {
        SyncCommand::AddLdap {
            name,
            url,
            starttls,
            ca_file,
            bind_dn,
            bind_password_file,
            base,
            filter,
            map,
            group_attr,
            interval,
            timeout,
        } => {
            let interval_secs = parse_interval(&interval)?;
            let map = crate::sync::ldap::AttributeMap::parse(map.as_deref().unwrap_or_default())?;
            let ca_pem = match &ca_file {
                Some(path) => Some(read_small(path, "--ca-file")?.to_string()),
                None => None,
            };
            let password = read_small(&bind_password_file, "--bind-password-file")?;
            let password = Zeroizing::new(password.trim_end_matches(['\n', '\r']).to_string());
            let settings = LdapSourceSettings {
                url,
                starttls,
                ca_pem,
                bind_dn,
                base,
                filter,
                map_id: map.id,
                map_name: map.name,
                map_email: map.email,
                map_extra: map.extra,
                group_attr,
                timeout_secs: timeout.clamp(1, 600),
            };
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result =
                add_ldap_source(&instance, &name, &settings, &password, interval_secs, now).await;
            record_cli(
                &instance.store,
                Action::SyncAdd,
                &name,
                &result,
                &format!("ldap {}", settings.url),
                now,
            )
            .await;
            instance.store.close().await;
            result?;
            out.print(
                format!("LDAP source {name} added (every {interval}); try `passgrid sync run {name} --dry-run`"),
                json!({ "name": name, "kind": "ldap", "interval_secs": interval_secs }),
            );
            Ok(())
        }
        SyncCommand::AddCsv {
            name,
            folder,
            encoding,
            interval,
        } => {
            let interval_secs = parse_interval(&interval)?;
            let folder = std::fs::canonicalize(&folder)
                .map_err(|e| CliError(format!("--folder {}: {e}", folder.display())))?;
            let settings = CsvSourceSettings {
                folder: folder.display().to_string(),
                encoding,
            };
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = add_csv_source(&instance, &name, &settings, interval_secs, now).await;
            record_cli(
                &instance.store,
                Action::SyncAdd,
                &name,
                &result,
                &format!("csv {}", settings.folder),
                now,
            )
            .await;
            instance.store.close().await;
            result?;
            out.print(
                format!("CSV folder source {name} added: {} (every {interval})", settings.folder),
                json!({ "name": name, "kind": "csv", "folder": settings.folder, "interval_secs": interval_secs }),
            );
            Ok(())
        }
        SyncCommand::Set {
            name,
            filter,
            base,
            interval,
            max_disable_percent,
        } => {
            let changes = crate::sync::SourceChanges {
                filter,
                base,
                interval_secs: interval.as_deref().map(parse_interval).transpose()?,
                max_disable_percent,
            };
            let instance = Instance::open(data).await?;
            let now = instance.clock.now();
            let result = crate::sync::update_source(&instance, &name, &changes).await;
            record_cli(
                &instance.store,
                Action::SyncSet,
                &name,
                &result,
                &format!("{changes:?}"),
                now,
            )
            .await;
            instance.store.close().await;
            result?;
            out.print(
                format!("source {name} changed"),
                json!({ "name": name, "changed": true }),
            );
            Ok(())
        }
        SyncCommand::List => {
            let instance = Instance::open(data).await?;
            let sources = instance.store.sync_sources().await?;
            let mut rows = Vec::new();
            let mut text = Vec::new();
            for s in &sources {
                let last = instance
                    .store
                    .sync_runs(&s.name, 1)
                    .await?
                    .into_iter()
                    .next();
                text.push(format!(
                    "{}\t{}\tevery {} s\tlast: {}",
                    s.name,
                    s.kind,
                    s.interval_secs,
                    last.as_ref().map_or("never".to_string(), |r| format!(
                        "{} ({} added, {} changed, {} disabled)",
                        r.outcome, r.adds, r.changes, r.disables
                    ))
                ));
                rows.push(json!({
                    "name": s.name,
                    "kind": s.kind,
                    "interval_secs": s.interval_secs,
                    "max_disable_percent": s.max_disable_percent,
                    "last_run": last,
                }));
            }
            instance.store.close().await;
            out.print(text.join("\n"), json!(rows));
            Ok(())
        }
        SyncCommand::Run { name, dry_run } => {
            let settings = file.auth.settings()?;
            // Checked before the run, so a misconfigured relay stops it up front.
            let notices = if settings.first_login_mail && !dry_run {
                Some(crate::sync::Notices {
                    mailer: std::sync::Arc::new(crate::mail::Mailer::from_config(&file.mail)?),
                    login_url: format!("{}/login", super::cert::public_url(file)?),
                })
            } else {
                None
            };
            let instance = Instance::open(data).await?;
            // A run the schedule started on a server is waited for (a minute at most).
            let mut lock = None;
            for _ in 0..60 {
                lock = instance.store.try_job_lock(&format!("sync {name}")).await?;
                if lock.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let lock = lock.ok_or_else(|| {
                CliError(format!(
                    "source {name} has been running on a server for a minute; try again later"
                ))
            })?;
            let result = run_source(&instance, &settings, &name, dry_run, notices.as_ref()).await;
            lock.release().await;
            instance.store.close().await;
            let (run, report) = result?;
            let mut text = format!(
                "{}: {} added, {} changed, {} disabled, {} enabled",
                run.outcome, run.adds, run.changes, run.disables, run.enables
            );
            if !run.report.is_empty() {
                text.push_str(&format!("\n{}", run.report));
            }
            // The first few of each, so a dry run shows whom it would touch.
            for (label, ids) in [
                (
                    "add",
                    report
                        .adds
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>(),
                ),
                (
                    "change",
                    report.changes.iter().map(|p| p.id.as_str()).collect(),
                ),
                (
                    "disable",
                    report.disables.iter().map(String::as_str).collect(),
                ),
                (
                    "not owned by this source, not changed",
                    report.conflicts.iter().map(|c| c.id.as_str()).collect(),
                ),
            ] {
                if !ids.is_empty() {
                    let more = ids.len().saturating_sub(20);
                    text.push_str(&format!(
                        "\n  {label}: {}",
                        ids[..ids.len().min(20)].join(", ")
                    ));
                    if more > 0 {
                        text.push_str(&format!(" … and {more} more"));
                    }
                }
            }
            let mut json = serde_json::to_value(&run)?;
            json["added"] = json!(report.adds);
            json["changed"] = json!(report.changes);
            json["disabled"] = json!(report.disables);
            json["enabled"] = json!(report.enables);
            json["conflicts"] = json!(report.conflicts);
            out.print(text, json);
            Ok(())
        }
    }
}
