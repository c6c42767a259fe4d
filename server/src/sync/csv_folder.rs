//! CSV folder watch (SPEC §8.3): files dropped into a folder are applied on the
//! schedule with the same parser and rules as `passgrid user import` (one bad row
//! applies nothing of that file), then moved to `done/` or `failed/` next to a report.
//! A file still being written is left for a later run: only files that were at least
//! a second old when first seen and whose size and modification time then stay the
//! same for another second are read. The folder belongs to whoever drops files in
//! it, so every file is read and moved through `untrusted_folder` (no link followed,
//! nothing replaced, the size checked before reading).

use std::{ffi::OsString, time::Duration};

use super::{
    untrusted_folder::{Entry, UntrustedFolder},
    CsvSourceSettings, SyncError,
};
use crate::{
    instance::Instance,
    policy::AuthSettings,
    store::sync::SyncSource,
    user_csv::{parse_users_csv, CsvEncoding, MAX_FILE_BYTES},
    user_import::{import_users, ImportReport, ImportScope},
};

/// How long a file must sit still before it is read.
const SETTLE: Duration = Duration::from_secs(1);

fn csv_entries(folder: &UntrustedFolder) -> Result<Vec<Entry>, SyncError> {
    folder
        .csv_entries()
        .map_err(|e| SyncError::Invalid(e.to_string()))
}

/// Entries that were already `SETTLE` old when first seen and did not change while
/// watched for another `SETTLE`: a file someone is still writing waits for a later run.
async fn settled_entries(folder: &UntrustedFolder) -> Result<Vec<Entry>, SyncError> {
    let seen_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let first: Vec<_> = csv_entries(folder)?
        .into_iter()
        .filter(|e| {
            let modified = Duration::new(e.modified.0.max(0) as u64, e.modified.1);
            seen_at.saturating_sub(modified) >= SETTLE
        })
        .collect();
    if first.is_empty() {
        return Ok(Vec::new());
    }
    tokio::time::sleep(SETTLE).await;
    let second = csv_entries(folder)?;
    Ok(second.into_iter().filter(|e| first.contains(e)).collect())
}

/// Where a run files its files: `done/` and `failed/`, refused when either is a link
/// or not a directory (checked before anything is applied, so a run that could not
/// file its files applies nothing). A dry run makes neither.
struct Destinations {
    done: Option<UntrustedFolder>,
    failed: Option<UntrustedFolder>,
}

impl Destinations {
    fn open(folder: &UntrustedFolder, dry_run: bool) -> Result<Destinations, SyncError> {
        let sub = |name: &str| {
            folder
                .subfolder(name, !dry_run)
                .map_err(|e| SyncError::Invalid(format!("{e}: refused, nothing read or applied")))
        };
        Ok(Destinations {
            done: sub("done")?,
            failed: sub("failed")?,
        })
    }
}

/// Moves a file into `done/` or `failed/` with its report (not in a dry run).
fn file_away(
    folder: &UntrustedFolder,
    dest: Option<&UntrustedFolder>,
    name: &OsString,
    report: &str,
) -> Result<(), SyncError> {
    match dest {
        Some(dest) => folder
            .file_away(name, dest, report)
            .map(|_| ())
            .map_err(|e| SyncError::Invalid(e.to_string())),
        None => Ok(()),
    }
}

/// Applies the folder's settled files one by one; returns the summed report and a
/// line per file.
pub async fn run_folder(
    instance: &Instance,
    settings: &AuthSettings,
    source: &SyncSource,
    dry_run: bool,
    now: i64,
) -> Result<(ImportReport, String), SyncError> {
    let s: CsvSourceSettings = serde_json::from_str(&source.settings)
        .map_err(|e| SyncError::Invalid(format!("stored settings: {e}")))?;
    let encoding: CsvEncoding = s
        .encoding
        .parse()
        .map_err(|_| SyncError::Invalid(format!("encoding {}", s.encoding)))?;
    let folder = UntrustedFolder::open(std::path::Path::new(&s.folder))
        .map_err(|e| SyncError::Invalid(e.to_string()))?;
    let dest = Destinations::open(&folder, dry_run)?;
    let user_source = super::user_source("csv", &source.name);
    let mut total = ImportReport {
        dry_run,
        ..Default::default()
    };
    let mut lines = Vec::new();
    for entry in settled_entries(&folder).await? {
        let name = entry.display_name();
        // Links, FIFOs and oversized files are refused without being opened or read.
        let read = match entry.refusal {
            Some(refusal) => Err(format!("refused, not read: {}", refusal.as_str())),
            None if entry.size > MAX_FILE_BYTES as u64 => Err(format!(
                "refused, not read: {} bytes is over the {MAX_FILE_BYTES}-byte limit",
                entry.size
            )),
            None => folder
                .read_regular(&entry.name, MAX_FILE_BYTES as u64)
                .map_err(|e| format!("refused: {e}")),
        };
        let applied = match read {
            Err(why) => Err(why),
            Ok(bytes) => match parse_users_csv(&bytes, encoding) {
                Err(e) => Err(format!("failed, nothing applied: {e}")),
                Ok(rows) => import_users(
                    &instance.store,
                    &instance.master_key,
                    settings,
                    &rows,
                    &ImportScope {
                        source: &user_source,
                        whole: None,
                        dry_run,
                        now,
                    },
                )
                .await
                .map_err(|e| format!("failed, nothing applied: {e}")),
            },
        };
        match applied {
            Ok(r) => {
                let mut line = format!(
                    "{name}: {} added, {} changed, {} unchanged",
                    r.adds.len(),
                    r.changes.len(),
                    r.unchanged
                );
                // Rows naming accounts this source does not own: in the file's report.
                for c in &r.conflicts {
                    line.push_str(&format!(
                        "; line {}: {} not changed: {}",
                        c.line, c.id, c.reason
                    ));
                }
                file_away(&folder, dest.done.as_ref(), &entry.name, &line)?;
                total.adds.extend(r.adds);
                total.changes.extend(r.changes);
                total.unchanged += r.unchanged;
                total.new_groups.extend(r.new_groups);
                total.enables.extend(r.enables);
                total.conflicts.extend(r.conflicts);
                lines.push(line);
            }
            Err(reason) => {
                let line = format!("{name}: {reason}");
                file_away(&folder, dest.failed.as_ref(), &entry.name, &line)?;
                lines.push(line);
            }
        }
    }
    Ok((total, lines.join("; ")))
}
