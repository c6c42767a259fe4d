//! User information auto-update (SPEC §8.2–8.4): LDAP / Active Directory sources and
//! CSV folders, kept in the database, run on their interval inside `serve` (one server
//! of a cluster at a time) or by hand. Every run goes through the same import as
//! `passgrid user import`, so users made here get the first-login flow; every run is
//! audited and its report kept.

pub mod csv_folder;
pub mod ldap;
pub mod schedule;
pub mod untrusted_folder;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    instance::Instance,
    policy::AuthSettings,
    store::{
        sync::{SyncRun, SyncSource},
        StoreError,
    },
    user_csv::{CsvEncoding, UserRow, UserStatus},
    user_import::{import_users, ImportError, ImportReport, ImportScope, WholeSource},
};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no sync source named {0:?}")]
    NoSuchSource(String),
    #[error("a sync source named {0:?} exists already")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Ldap(#[from] ldap::LdapError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] crate::master_key::SealError),
}

/// What an LDAP source keeps (the bind password is sealed apart).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LdapSourceSettings {
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// PEM of the CA that signs the directory's certificate (read at `add-ldap`).
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub bind_dn: String,
    pub base: String,
    pub filter: String,
    pub map_id: Vec<String>,
    pub map_name: Vec<String>,
    pub map_email: Vec<String>,
    /// Extra user attributes (`NAME=ATTR` of `--map`).
    #[serde(default)]
    pub map_extra: Vec<ldap::ExtraAttribute>,
    #[serde(default)]
    pub group_attr: Option<String>,
    pub timeout_secs: u64,
}

/// What a CSV folder source keeps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CsvSourceSettings {
    pub folder: String,
    /// "utf-8" or "shift_jis".
    pub encoding: String,
}

/// Defaults of a new source, the same from the command line and the console.
pub const DEFAULT_LDAP_FILTER: &str = "(objectClass=person)";
pub const DEFAULT_LDAP_INTERVAL: &str = "15m";
pub const DEFAULT_CSV_INTERVAL: &str = "5m";
pub const DEFAULT_LDAP_TIMEOUT_SECS: u64 = 30;

/// The user source recorded on users made by a sync source.
pub fn user_source(kind: &str, name: &str) -> String {
    format!("{kind}:{name}")
}

/// A source name: short and plain (it appears in user records and reports).
pub fn check_source_name(name: &str) -> Result<(), SyncError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(()).ok_or_else(|| {
        SyncError::Invalid(format!(
            "{name:?}: a source name is 1-64 letters, digits, - _ ."
        ))
    })
}

/// Parses `15m`, `1h`, `90s`, `2d` (at least one minute, at most a week).
pub fn parse_interval(text: &str) -> Result<i64, SyncError> {
    let bad = || SyncError::Invalid(format!("--interval {text:?}: use e.g. 90s, 15m, 1h, 1d"));
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    // A huge number must be an error, not an overflow.
    let secs = n.checked_mul(unit_secs).ok_or_else(bad)?;
    if !(60..=7 * 86_400).contains(&secs) {
        return Err(SyncError::Invalid(format!(
            "--interval {text}: between 1 minute and 7 days"
        )));
    }
    Ok(secs)
}

fn bind_password_purpose(name: &str) -> String {
    format!("sync bind password {name}")
}

/// Stores a new LDAP source, its bind password sealed.
pub async fn add_ldap_source(
    instance: &Instance,
    name: &str,
    settings: &LdapSourceSettings,
    bind_password: &Zeroizing<String>,
    interval_secs: i64,
    now: i64,
) -> Result<(), SyncError> {
    check_source_name(name)?;
    ldap::parse_url(&settings.url)?;
    if settings
        .ca_pem
        .as_deref()
        .is_some_and(|pem| !pem.contains("-----BEGIN CERTIFICATE-----"))
    {
        return Err(SyncError::Invalid(
            "CA file: no PEM certificate in it".into(),
        ));
    }
    if ldap3::parse_filter(&settings.filter).is_err() {
        return Err(SyncError::Invalid(format!(
            "--filter {:?}: not an LDAP search filter (RFC 4515), e.g. (objectClass=person)",
            settings.filter
        )));
    }
    let sealed = instance
        .master_key
        .seal(bind_password.as_bytes(), &bind_password_purpose(name))?;
    store_source(
        instance,
        name,
        "ldap",
        serde_json::to_string(settings),
        Some(sealed),
        interval_secs,
        now,
    )
    .await
}

/// Stores a new CSV folder source.
pub async fn add_csv_source(
    instance: &Instance,
    name: &str,
    settings: &CsvSourceSettings,
    interval_secs: i64,
    now: i64,
) -> Result<(), SyncError> {
    check_source_name(name)?;
    settings.encoding.parse::<CsvEncoding>().map_err(|_| {
        SyncError::Invalid(format!(
            "--encoding {}: utf-8 or shift_jis",
            settings.encoding
        ))
    })?;
    let folder = std::path::Path::new(&settings.folder);
    if !folder.is_dir() {
        return Err(SyncError::Invalid(format!(
            "--folder {}: not a directory",
            settings.folder
        )));
    }
    store_source(
        instance,
        name,
        "csv",
        serde_json::to_string(settings),
        None,
        interval_secs,
        now,
    )
    .await
}

async fn store_source(
    instance: &Instance,
    name: &str,
    kind: &str,
    settings: Result<String, serde_json::Error>,
    secret_sealed: Option<Vec<u8>>,
    interval_secs: i64,
    now: i64,
) -> Result<(), SyncError> {
    let settings = settings.map_err(|e| SyncError::Invalid(e.to_string()))?;
    let result = instance
        .store
        .create_sync_source(&SyncSource {
            name: name.to_string(),
            kind: kind.to_string(),
            settings,
            secret_sealed,
            interval_secs,
            max_disable_percent: 20,
            created_at: now,
            last_run_at: None,
        })
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(SyncError::Exists(name.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// What `sync set` may change.
#[derive(Debug, Default)]
pub struct SourceChanges {
    pub filter: Option<String>,
    pub base: Option<String>,
    pub interval_secs: Option<i64>,
    pub max_disable_percent: Option<i64>,
}

/// Changes a source's filter, base (LDAP), interval or disable limit.
pub async fn update_source(
    instance: &Instance,
    name: &str,
    changes: &SourceChanges,
) -> Result<(), SyncError> {
    let mut source = instance
        .store
        .sync_source(name)
        .await?
        .ok_or_else(|| SyncError::NoSuchSource(name.to_string()))?;
    if changes.filter.is_some() || changes.base.is_some() {
        if source.kind != "ldap" {
            return Err(SyncError::Invalid(
                "--filter and --base are for LDAP sources".into(),
            ));
        }
        let mut s: LdapSourceSettings = serde_json::from_str(&source.settings)
            .map_err(|e| SyncError::Invalid(format!("stored settings: {e}")))?;
        if let Some(filter) = &changes.filter {
            if ldap3::parse_filter(filter).is_err() {
                return Err(SyncError::Invalid(format!(
                    "--filter {filter:?}: not an LDAP search filter (RFC 4515)"
                )));
            }
            s.filter = filter.clone();
        }
        if let Some(base) = &changes.base {
            s.base = base.clone();
        }
        source.settings =
            serde_json::to_string(&s).map_err(|e| SyncError::Invalid(e.to_string()))?;
    }
    if let Some(i) = changes.interval_secs {
        source.interval_secs = i;
    }
    if let Some(p) = changes.max_disable_percent {
        if !(0..=100).contains(&p) {
            return Err(SyncError::Invalid(format!(
                "--max-disable-percent {p}: 0 to 100"
            )));
        }
        source.max_disable_percent = p;
    }
    instance.store.update_sync_source(&source).await?;
    Ok(())
}

/// Where first-login notices of new users go (SPEC §8.4).
pub struct Notices {
    pub mailer: std::sync::Arc<crate::mail::Mailer>,
    /// The sign-in page, e.g. https://auth.example.com/login
    pub login_url: String,
}

/// Mails each new user with a mail address their first-login notice; returns (sent,
/// failed). Sent after the run's transaction: a relay that is down loses notices,
/// never users (they are counted in the run's report).
async fn send_notices(
    notices: &Notices,
    settings: &AuthSettings,
    report: &ImportReport,
) -> (usize, usize) {
    let (mut sent, mut failed) = (0, 0);
    for p in &report.initial_patterns {
        let Some(email) = &p.email else { continue };
        let pattern = app::pattern::text_form(&p.cells, settings.shape);
        let body = crate::mail::first_login_body(&p.id, &notices.login_url, &pattern);
        match notices
            .mailer
            .send(
                email,
                "passgrid: your new account / アカウントのお知らせ",
                body,
            )
            .await
        {
            Ok(()) => sent += 1,
            Err(err) => {
                failed += 1;
                tracing::warn!(error = %err, user = %p.id, "first-login notice not sent");
            }
        }
    }
    (sent, failed)
}

/// Runs one source now: fetch, compare, apply (unless `dry_run`), record and audit;
/// new users get their first-login notice by mail when `notices` is given and the
/// policy says so. A run that fails changes nothing and is recorded as failed.
/// Returns the recorded run and the full report (which users were added, changed,
/// disabled).
pub async fn run_source(
    instance: &Instance,
    settings: &AuthSettings,
    name: &str,
    dry_run: bool,
    notices: Option<&Notices>,
) -> Result<(SyncRun, ImportReport), SyncError> {
    let source = instance
        .store
        .sync_source(name)
        .await?
        .ok_or_else(|| SyncError::NoSuchSource(name.to_string()))?;
    let started_at = instance.clock.now();
    let result = match source.kind.as_str() {
        "ldap" => run_ldap(instance, settings, &source, dry_run, started_at)
            .await
            .map(|r| (r, String::new())),
        "csv" => csv_folder::run_folder(instance, settings, &source, dry_run, started_at).await,
        other => Err(SyncError::Invalid(format!("unknown source kind {other}"))),
    };
    let mut result = result;
    if let (Ok((report, text)), Some(notices), false) = (&mut result, notices, dry_run) {
        if settings.first_login_mail && !report.initial_patterns.is_empty() {
            let (sent, failed) = send_notices(notices, settings, report).await;
            let line = format!("first-login notices: {sent} mailed, {failed} failed");
            *text = if text.is_empty() {
                line
            } else {
                format!("{text}; {line}")
            };
        }
    }
    let finished_at = instance.clock.now();
    let (outcome, report, text) = match &result {
        Ok((r, text)) => {
            // Accounts the source named but does not own: in the run's report.
            let mut text = text.clone();
            if !r.conflicts.is_empty() {
                let ids: Vec<&str> = r.conflicts.iter().take(20).map(|c| c.id.as_str()).collect();
                let line = format!(
                    "{} accounts not owned by this source left unchanged: {}",
                    r.conflicts.len(),
                    ids.join(", ")
                );
                text = if text.is_empty() {
                    line
                } else {
                    format!("{text}; {line}")
                };
            }
            let outcome = if dry_run {
                "dry-run"
            } else if r.adds.is_empty() && r.changes.is_empty() && r.disables.is_empty() {
                "unchanged"
            } else {
                "applied"
            };
            (outcome, Some(r.clone()), text)
        }
        Err(SyncError::Import(ImportError::TooManyDisables { .. })) => {
            ("refused", None, result_text(&result))
        }
        Err(_) => ("failed", None, result_text(&result)),
    };
    let count = |f: fn(&ImportReport) -> usize| report.as_ref().map_or(0, |r| f(r) as i64);
    let run = SyncRun {
        source: name.to_string(),
        started_at,
        finished_at,
        dry_run,
        outcome: outcome.to_string(),
        adds: count(|r| r.adds.len()),
        changes: count(|r| r.changes.len()),
        disables: count(|r| r.disables.len()),
        enables: count(|r| r.enables.len()),
        report: text,
    };
    instance.store.record_sync_run(&run).await?;
    let reason = format!(
        "{outcome}: {} added, {} changed, {} disabled, {} enabled{}",
        run.adds,
        run.changes,
        run.disables,
        run.enables,
        if run.report.is_empty() {
            String::new()
        } else {
            format!("; {}", run.report)
        }
    );
    record(
        &instance.store,
        AuditEvent {
            actor: "sync",
            source: "local",
            action: Action::SyncRun,
            target: name,
            outcome: if matches!(outcome, "failed" | "refused") {
                Outcome::Failure
            } else {
                Outcome::Success
            },
            reason: &reason,
        },
        finished_at,
    )
    .await;
    result.map(|(report, _)| (run, report))
}

fn result_text<T>(result: &Result<T, SyncError>) -> String {
    match result {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

async fn run_ldap(
    instance: &Instance,
    settings: &AuthSettings,
    source: &SyncSource,
    dry_run: bool,
    now: i64,
) -> Result<ImportReport, SyncError> {
    let s: LdapSourceSettings = serde_json::from_str(&source.settings)
        .map_err(|e| SyncError::Invalid(format!("stored settings: {e}")))?;
    let password = match &source.secret_sealed {
        Some(sealed) => instance
            .master_key
            .open(sealed, &bind_password_purpose(&source.name))?,
        None => Zeroizing::new(Vec::new()),
    };
    let bind_password = Zeroizing::new(String::from_utf8_lossy(&password).to_string());
    let entries = ldap::fetch_entries(&ldap::LdapSettings {
        url: s.url.clone(),
        starttls: s.starttls,
        ca_pem: s.ca_pem.as_ref().map(|p| p.as_bytes().to_vec()),
        bind_dn: s.bind_dn.clone(),
        bind_password,
        base: s.base.clone(),
        filter: s.filter.clone(),
        map: ldap::AttributeMap {
            id: s.map_id.clone(),
            name: s.map_name.clone(),
            email: s.map_email.clone(),
            extra: s.map_extra.clone(),
        },
        group_attr: s.group_attr.clone(),
        timeout: std::time::Duration::from_secs(s.timeout_secs),
        page_size: 500,
    })
    .await?;
    let rows: Vec<UserRow> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| UserRow {
            line: i + 1,
            id: e.id,
            display_name: Some(e.display_name),
            email: Some(e.email.unwrap_or_default()),
            groups: s.group_attr.as_ref().map(|_| e.groups),
            status: Some(UserStatus::Active),
            attributes: e.attributes,
        })
        .collect();
    let user_source = user_source("ldap", &source.name);
    Ok(import_users(
        &instance.store,
        &instance.master_key,
        settings,
        &rows,
        &ImportScope {
            source: &user_source,
            whole: Some(WholeSource {
                source: &user_source,
                max_disable_percent: source.max_disable_percent,
            }),
            dry_run,
            now,
        },
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_people_write_them() {
        assert_eq!(parse_interval("15m").unwrap(), 900);
        assert_eq!(parse_interval("1h").unwrap(), 3600);
        assert_eq!(parse_interval("90s").unwrap(), 90);
        assert_eq!(parse_interval("2d").unwrap(), 172_800);
        assert!(parse_interval("30s").is_err(), "under a minute");
        assert!(parse_interval("8d").is_err());
        assert!(parse_interval("15").is_err());
        assert!(parse_interval("m").is_err());
        assert!(parse_interval("15x").is_err());
        assert!(parse_interval("9999999999999999999d").is_err());
        assert!(parse_interval("999999999999999999d").is_err(), "overflow");
    }
}
