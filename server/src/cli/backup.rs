//! `passgrid backup` and `passgrid restore` (SPEC §13). SQLite: a consistent copy of
//! the live database (servers keep running), and putting one back. PostgreSQL: the
//! database's own tools do it better (pg_dump, base backups with WAL archiving), so
//! passgrid says so. Either way the master key is not in the database and must be kept
//! apart: without it a backup's keys and secrets cannot be opened.

use std::{
    fs::OpenOptions,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use clap::Args;
use serde_json::json;

use super::{CliError, Output};
use crate::{ca::CertificateAuthority, instance::DataConfig, master_key::MasterKey, store::Store};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The file to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A file written by `passgrid backup`.
    pub file: PathBuf,
    /// Replace an existing database (stop every server first).
    #[arg(long)]
    pub force: bool,
}

const POSTGRES_BACKUP: &str = "PostgreSQL installations are backed up with PostgreSQL's tools: \
     pg_dump for a logical copy, or base backups with WAL archiving (pg_basebackup, or the \
     failover manager's backups) for point-in-time recovery";

/// The installation's master key, which must already exist (never made here).
fn existing_master_key(data: &DataConfig) -> Result<MasterKey, CliError> {
    let env_key = std::env::var("PASSGRID_MASTER_KEY").ok();
    if env_key.is_none() && !data.master_key_path().is_file() {
        return Err(CliError(format!(
            "no master key at {} (nor PASSGRID_MASTER_KEY): put the installation's master key \
             there first — backups do not hold it",
            data.master_key_path().display()
        )));
    }
    Ok(MasterKey::load_or_create(&data.master_key_path(), env_key.as_deref())?.0)
}

fn key_reminder(data: &DataConfig, key: &MasterKey) -> String {
    format!(
        "the master key is not in the backup: keep {} (key id {}) backed up apart from it — \
         without that key the backup's CA key, patterns and seeds cannot be opened",
        data.master_key_path().display(),
        key.id_hex()
    )
}

/// The SQLite file of a `sqlite://PATH?…` URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

pub async fn backup(args: BackupArgs, data: DataConfig, out: Output) -> Result<(), CliError> {
    let key = existing_master_key(&data)?;
    if sqlite_path(&data.database_url).is_none() {
        return Err(CliError(format!(
            "{POSTGRES_BACKUP}; {}",
            key_reminder(&data, &key)
        )));
    }
    // An empty file made first with mode 0600: the copy holds sealed secrets and the
    // audit log, for the operator only. VACUUM INTO fills an empty file.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .map_err(|e| CliError(format!("--out {}: {e}", args.out.display())))?;
    let store = Store::connect(&data.database_url).await?;
    let path = args.out.to_string_lossy().to_string();
    let written = store.backup_into(&path).await;
    store.close().await;
    if let Err(err) = written {
        let _ = std::fs::remove_file(&args.out);
        return Err(err.into());
    }
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    out.print(
        format!(
            "backup written to {} ({bytes} bytes)\n{}",
            args.out.display(),
            key_reminder(&data, &key)
        ),
        json!({ "file": args.out, "bytes": bytes, "master_key_id": key.id_hex() }),
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs, data: DataConfig, out: Output) -> Result<(), CliError> {
    let Some(target) = sqlite_path(&data.database_url) else {
        return Err(CliError(format!(
            "{POSTGRES_BACKUP}; restore with pg_restore or the base backup's recovery"
        )));
    };
    let key = existing_master_key(&data)?;
    if target.exists() && !args.force {
        return Err(CliError(format!(
            "{} exists: stop every server and pass --force to replace it",
            target.display()
        )));
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let staging = with_suffix(&target, ".restoring");
    remove_sqlite_files(&staging)?;
    std::fs::copy(&args.file, &staging)
        .map_err(|e| CliError(format!("{}: {e}", args.file.display())))?;
    std::fs::set_permissions(
        &staging,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    // Opened where it lies: an older schema is brought up to date, a newer one refused,
    // and the master key must open its CA — all before anything is replaced.
    let checked = check_backup(&staging, &key).await;
    if let Err(err) = checked {
        let _ = remove_sqlite_files(&staging);
        return Err(err);
    }
    remove_sqlite_files(&target)?;
    std::fs::rename(&staging, &target)?;
    out.print(
        format!("restored {} into {}", args.file.display(), target.display()),
        json!({ "restored": args.file, "database": target }),
    );
    Ok(())
}

async fn check_backup(path: &Path, key: &MasterKey) -> Result<(), CliError> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    let store = Store::connect(&url)
        .await
        .map_err(|e| CliError(format!("not a usable passgrid backup: {e}")))?;
    let result = async {
        if store.active_ca().await?.is_none() {
            return Err(CliError(
                "the backup holds no CA: not a passgrid backup".into(),
            ));
        }
        CertificateAuthority::load_or_create(&store, key, 0)
            .await
            .map_err(|_| {
                CliError(format!(
                    "the master key (key id {}) does not open this backup: restore the master \
                     key that was in use when it was made",
                    key.id_hex()
                ))
            })?;
        store.checkpoint_all().await?;
        Ok(())
    }
    .await;
    store.close().await;
    result
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a SQLite file with its WAL and shared-memory files.
fn remove_sqlite_files(path: &Path) -> Result<(), CliError> {
    for p in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError(format!("{}: {e}", p.display()))),
        }
    }
    Ok(())
}
