//! Sync sources (LDAP / AD, CSV folders) and the reports of their runs (SPEC §8.2–8.3).

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A source as stored; `settings` is JSON, the secret sealed apart.
#[derive(Clone, Debug)]
pub struct SyncSource {
    pub name: String,
    pub kind: String,
    pub settings: String,
    pub secret_sealed: Option<Vec<u8>>,
    pub interval_secs: i64,
    pub max_disable_percent: i64,
    pub created_at: i64,
    /// When its last run finished, if it ran.
    pub last_run_at: Option<i64>,
}

/// One run's report.
#[derive(Clone, Debug, Serialize)]
pub struct SyncRun {
    pub source: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub dry_run: bool,
    pub outcome: String,
    pub adds: i64,
    pub changes: i64,
    pub disables: i64,
    pub enables: i64,
    pub report: String,
}

const SOURCE_COLUMNS: &str = "s.name, s.kind, s.settings, s.secret_sealed, s.interval_secs, \
    s.max_disable_percent, s.created_at, \
    (SELECT MAX(r.finished_at) FROM sync_runs r WHERE r.source = s.name)";

fn source_from_row(r: &sqlx::any::AnyRow) -> SyncSource {
    SyncSource {
        name: r.get(0),
        kind: r.get(1),
        settings: r.get(2),
        secret_sealed: r.get(3),
        interval_secs: r.get(4),
        max_disable_percent: r.get(5),
        created_at: r.get(6),
        last_run_at: r.get(7),
    }
}

impl Store {
    /// Adds a source; `StoreError::Conflict` when the name is taken.
    pub async fn create_sync_source(&self, s: &SyncSource) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_sources (name, kind, settings, secret_sealed, interval_secs, \
             max_disable_percent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.name)
        .bind(&s.kind)
        .bind(&s.settings)
        .bind(&s.secret_sealed)
        .bind(s.interval_secs)
        .bind(s.max_disable_percent)
        .bind(s.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn sync_sources(&self) -> Result<Vec<SyncSource>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sync_sources s ORDER BY s.name"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(source_from_row).collect())
    }

    pub async fn sync_source(&self, name: &str) -> Result<Option<SyncSource>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM sync_sources s WHERE s.name = $1"
        ))
        .bind(name)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(source_from_row))
    }

    /// Replaces a source's settings, interval and disable limit.
    pub async fn update_sync_source(&self, s: &SyncSource) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sync_sources SET settings = $1, interval_secs = $2, max_disable_percent = $3 \
             WHERE name = $4",
        )
        .bind(&s.settings)
        .bind(s.interval_secs)
        .bind(s.max_disable_percent)
        .bind(&s.name)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn record_sync_run(&self, run: &SyncRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_runs (source, started_at, finished_at, dry_run, outcome, adds, \
             changes, disables, enables, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&run.source)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(i64::from(run.dry_run))
        .bind(&run.outcome)
        .bind(run.adds)
        .bind(run.changes)
        .bind(run.disables)
        .bind(run.enables)
        .bind(&run.report)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The latest runs of a source, newest first.
    pub async fn sync_runs(&self, source: &str, limit: i64) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, started_at, finished_at, dry_run, outcome, adds, changes, disables, \
             enables, report FROM sync_runs WHERE source = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(source)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| SyncRun {
                source: r.get(0),
                started_at: r.get(1),
                finished_at: r.get(2),
                dry_run: r.get::<i64, _>(3) != 0,
                outcome: r.get(4),
                adds: r.get(5),
                changes: r.get(6),
                disables: r.get(7),
                enables: r.get(8),
                report: r.get(9),
            })
            .collect())
    }
}
