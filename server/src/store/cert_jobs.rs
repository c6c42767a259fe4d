//! Bulk certificate jobs (SPEC §2.9) in the database, so that any server of a cluster
//! shows their progress and serves their download, and a job whose server died is
//! marked so.

use sqlx::Row;

use super::{Store, StoreError};

/// A job as it starts.
pub struct NewCertJob<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub action: &'a str,
    pub users: &'a [String],
    pub server_id: &'a str,
    pub started_at: i64,
}

/// A job with its counts so far.
#[derive(Debug)]
pub struct CertJobRow {
    pub id: String,
    pub owner: String,
    pub action: String,
    pub total: i64,
    pub server_id: String,
    /// `running`, `finished` or `failed`.
    pub state: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub failure: Option<String>,
    pub download_name: Option<String>,
    pub done: i64,
    pub failed: i64,
}

/// One user's result.
#[derive(Clone, Debug)]
pub struct CertJobResult {
    pub position: i64,
    pub user_id: String,
    pub outcome: String,
    pub serials: Vec<String>,
    pub error: Option<String>,
}

/// A finished job's file, sealed.
pub struct SealedDownload {
    pub name: String,
    pub content_type: String,
    pub sealed: Vec<u8>,
}

/// A running job whose server stopped, just marked failed.
pub struct AbandonedJob {
    pub id: String,
    pub action: String,
    pub started_at: i64,
    pub users: Vec<String>,
}

const JOB_COLUMNS: &str = "id, owner, action, total, server_id, state, started_at, finished_at, \
     failure, download_name, \
     (SELECT COUNT(*) FROM cert_job_results r WHERE r.job_id = cert_jobs.id), \
     (SELECT COUNT(*) FROM cert_job_results r WHERE r.job_id = cert_jobs.id AND r.outcome = 'failed')";

fn job_of(r: &sqlx::any::AnyRow) -> Result<CertJobRow, sqlx::Error> {
    Ok(CertJobRow {
        id: r.try_get(0)?,
        owner: r.try_get(1)?,
        action: r.try_get(2)?,
        total: r.try_get(3)?,
        server_id: r.try_get(4)?,
        state: r.try_get(5)?,
        started_at: r.try_get(6)?,
        finished_at: r.try_get(7)?,
        failure: r.try_get(8)?,
        download_name: r.try_get(9)?,
        done: r.try_get(10)?,
        failed: r.try_get(11)?,
    })
}

impl Store {
    pub async fn insert_cert_job(&self, job: &NewCertJob<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cert_jobs (id, owner, action, total, server_id, state, users, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)",
        )
        .bind(job.id)
        .bind(job.owner)
        .bind(job.action)
        .bind(job.users.len() as i64)
        .bind(job.server_id)
        .bind(job.users.join("\n"))
        .bind(job.started_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Jobs running, or finished since `since` (they hold downloads).
    pub async fn kept_cert_jobs(&self, since: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM cert_jobs WHERE state = 'running' OR finished_at >= $1",
        )
        .bind(since)
        .fetch_one(self.reader())
        .await?
        .try_get(0)?)
    }

    /// Records one user's result (users are done in order).
    pub async fn record_cert_job_result(
        &self,
        job_id: &str,
        r: &CertJobResult,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cert_job_results (job_id, position, user_id, outcome, serials, error) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(job_id)
        .bind(r.position)
        .bind(&r.user_id)
        .bind(&r.outcome)
        .bind(r.serials.join(" "))
        .bind(&r.error)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Changes a recorded result (a certificate withdrawn after the fact).
    pub async fn update_cert_job_result(
        &self,
        job_id: &str,
        r: &CertJobResult,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cert_job_results SET outcome = $3, serials = $4, error = $5 \
             WHERE job_id = $1 AND position = $2",
        )
        .bind(job_id)
        .bind(r.position)
        .bind(&r.outcome)
        .bind(r.serials.join(" "))
        .bind(&r.error)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Marks a running job finished, with its sealed download if any.
    pub async fn finish_cert_job(
        &self,
        job_id: &str,
        now: i64,
        download: Option<&SealedDownload>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cert_jobs SET state = 'finished', finished_at = $2, download_name = $3, \
             download_type = $4, download_sealed = $5 WHERE id = $1 AND state = 'running'",
        )
        .bind(job_id)
        .bind(now)
        .bind(download.map(|d| d.name.clone()))
        .bind(download.map(|d| d.content_type.clone()))
        .bind(download.map(|d| d.sealed.clone()))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn cert_job(&self, id: &str) -> Result<Option<CertJobRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM cert_jobs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(job_of).transpose()?)
    }

    pub async fn cert_job_results(&self, id: &str) -> Result<Vec<CertJobResult>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, user_id, outcome, serials, error FROM cert_job_results \
             WHERE job_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let serials: String = r.try_get(3)?;
                Ok(CertJobResult {
                    position: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    outcome: r.try_get(2)?,
                    serials: serials.split_whitespace().map(str::to_string).collect(),
                    error: r.try_get(4)?,
                })
            })
            .collect()
    }

    pub async fn cert_job_download(&self, id: &str) -> Result<Option<SealedDownload>, StoreError> {
        let row = sqlx::query(
            "SELECT download_name, download_type, download_sealed FROM cert_jobs \
             WHERE id = $1 AND download_sealed IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(SealedDownload {
                name: r.try_get(0)?,
                content_type: r.try_get(1)?,
                sealed: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Every user of the job, in order.
    pub async fn cert_job_users(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query("SELECT users FROM cert_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        let users: Option<String> = row.map(|r| r.try_get(0)).transpose()?;
        Ok(users
            .map(|u| u.lines().map(str::to_string).collect())
            .unwrap_or_default())
    }

    /// Marks failed every running job whose server has not beaten since `since`, and
    /// returns them: one statement per job, so two servers never both take one.
    pub async fn abandon_cert_jobs(
        &self,
        since: i64,
        now: i64,
        reason: &str,
    ) -> Result<Vec<AbandonedJob>, StoreError> {
        let ids: Vec<String> = sqlx::query(
            "SELECT id FROM cert_jobs WHERE state = 'running' AND server_id NOT IN \
             (SELECT id FROM cluster_servers WHERE last_seen_at >= $1)",
        )
        .bind(since)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        let mut taken = Vec::new();
        for id in ids {
            let row = sqlx::query(
                "UPDATE cert_jobs SET state = 'failed', finished_at = $2, failure = $3 \
                 WHERE id = $1 AND state = 'running' RETURNING action, started_at, users",
            )
            .bind(&id)
            .bind(now)
            .bind(reason)
            .fetch_optional(self.writer())
            .await?;
            if let Some(r) = row {
                let users: String = r.try_get(2)?;
                taken.push(AbandonedJob {
                    id,
                    action: r.try_get(0)?,
                    started_at: r.try_get(1)?,
                    users: users.lines().map(str::to_string).collect(),
                });
            }
        }
        Ok(taken)
    }

    /// Forgets jobs (and their downloads) that ended before `before`.
    pub async fn purge_cert_jobs(&self, before: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM cert_jobs WHERE state <> 'running' AND finished_at < $1")
                .bind(before)
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }
}
