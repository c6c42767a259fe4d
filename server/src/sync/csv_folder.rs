//! CSV folder watch (SPEC §8.3): files dropped into a folder are applied on the
//! schedule with the same parser and rules as `passgrid user import` (one bad row
//! applies nothing of that file), then moved to `done/` or `failed/` next to a report.
//! A file still being written is left for a later run: only files that were at least
//! a second old when first seen and whose size and modification time then stay the
//! same for another second are read.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use super::{CsvSourceSettings, SyncError};
use crate::{
    instance::Instance,
    policy::AuthSettings,
    store::sync::SyncSource,
    user_csv::{parse_users_csv, CsvEncoding},
    user_import::{import_users, ImportReport, ImportScope},
};

/// How long a file must sit still before it is read.
const SETTLE: Duration = Duration::from_secs(1);

fn csv_files(folder: &Path) -> Result<Vec<(PathBuf, u64, SystemTime)>, SyncError> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| SyncError::Invalid(format!("folder {}: {e}", folder.display())))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_csv = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let Ok(meta) = entry.metadata() else { continue };
        if is_csv && meta.is_file() {
            files.push((
                path,
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ));
        }
    }
    files.sort();
    Ok(files)
}

/// Files that were already `SETTLE` old when first seen and did not change while
/// watched for another `SETTLE`: a file someone is still writing waits for a later run.
async fn settled_files(folder: &Path) -> Result<Vec<PathBuf>, SyncError> {
    let seen_at = SystemTime::now();
    let first: Vec<_> = csv_files(folder)?
        .into_iter()
        .filter(|(_, _, modified)| seen_at.duration_since(*modified).unwrap_or_default() >= SETTLE)
        .collect();
    if first.is_empty() {
        return Ok(Vec::new());
    }
    tokio::time::sleep(SETTLE).await;
    let second = csv_files(folder)?;
    Ok(second
        .into_iter()
        .filter(|f| first.contains(f))
        .map(|(path, _, _)| path)
        .collect())
}

/// Moves `file` into `folder/sub/` (a free name if one is taken) and writes the
/// report beside it.
fn file_away(folder: &Path, sub: &str, file: &Path, report: &str) -> Result<(), SyncError> {
    let dir = folder.join(sub);
    std::fs::create_dir_all(&dir)
        .map_err(|e| SyncError::Invalid(format!("{}: {e}", dir.display())))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    std::fs::rename(file, &target)
        .map_err(|e| SyncError::Invalid(format!("moving {}: {e}", file.display())))?;
    let report_path = PathBuf::from(format!("{}.report.txt", target.display()));
    std::fs::write(&report_path, format!("{report}\n"))
        .map_err(|e| SyncError::Invalid(format!("{}: {e}", report_path.display())))?;
    Ok(())
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
    let folder = PathBuf::from(&s.folder);
    let user_source = super::user_source("csv", &source.name);
    let mut total = ImportReport {
        dry_run,
        ..Default::default()
    };
    let mut lines = Vec::new();
    for file in settled_files(&folder).await? {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let applied = match std::fs::read(&file) {
            Err(e) => Err(format!("cannot read: {e}")),
            Ok(bytes) => match parse_users_csv(&bytes, encoding) {
                Err(e) => Err(e.to_string()),
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
                .map_err(|e| e.to_string()),
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
                if !dry_run {
                    file_away(&folder, "done", &file, &line)?;
                }
                total.adds.extend(r.adds);
                total.changes.extend(r.changes);
                total.unchanged += r.unchanged;
                total.new_groups.extend(r.new_groups);
                total.enables.extend(r.enables);
                total.conflicts.extend(r.conflicts);
                lines.push(line);
            }
            Err(reason) => {
                let line = format!("{name}: failed, nothing applied: {reason}");
                if !dry_run {
                    file_away(&folder, "failed", &file, &line)?;
                }
                lines.push(line);
            }
        }
    }
    Ok((total, lines.join("; ")))
}
