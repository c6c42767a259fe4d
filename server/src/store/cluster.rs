//! The servers of a cluster (SPEC §11): their heartbeats, and which server runs each
//! scheduled job (a lease it renews; another server takes it once it runs out).

use sqlx::Row;

use super::{Store, StoreError};

/// One server as its last heartbeat left it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ServerRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    /// Scheduled jobs it holds.
    pub jobs: Vec<String>,
}

/// What a heartbeat writes.
pub struct Heartbeat<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub started_at: i64,
    pub now: i64,
    pub jobs: &'a [String],
}

impl Store {
    /// Writes this server's row (made on its first beat).
    pub async fn beat(&self, h: &Heartbeat<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cluster_servers (id, name, version, started_at, last_seen_at, jobs) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, jobs = excluded.jobs",
        )
        .bind(h.id)
        .bind(h.name)
        .bind(h.version)
        .bind(h.started_at)
        .bind(h.now)
        .bind(h.jobs.join(" "))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Every server with a heartbeat since `since`, oldest start first.
    pub async fn cluster_servers(&self, since: i64) -> Result<Vec<ServerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, version, started_at, last_seen_at, jobs FROM cluster_servers \
             WHERE last_seen_at >= $1 ORDER BY started_at, id",
        )
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let jobs: String = r.try_get(5)?;
                Ok(ServerRow {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    version: r.try_get(2)?,
                    started_at: r.try_get(3)?,
                    last_seen_at: r.try_get(4)?,
                    jobs: jobs.split_whitespace().map(str::to_string).collect(),
                })
            })
            .collect()
    }

    /// How many servers beat since `since`.
    pub async fn live_server_count(&self, since: i64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM cluster_servers WHERE last_seen_at >= $1")
                .bind(since)
                .fetch_one(self.reader())
                .await?
                .try_get(0)?,
        )
    }

    /// Forgets servers not seen since `before`; a stopping server forgets itself.
    pub async fn forget_servers(&self, before: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM cluster_servers WHERE last_seen_at < $1")
                .bind(before)
                .execute(self.writer())
                .await?
                .rows_affected(),
        )
    }

    pub async fn forget_server(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM cluster_servers WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        sqlx::query("DELETE FROM job_leases WHERE holder = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Takes or renews the lease of `job` for `holder` until `until`: granted when
    /// nobody holds it, `holder` does, or the holder's lease ran out before `now`.
    /// One statement, so two servers never both get it.
    pub async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < $4 \
             RETURNING holder",
        )
        .bind(job)
        .bind(holder)
        .bind(until)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.is_some())
    }

    /// Whether `holder` holds `job` at `now`.
    pub async fn holds_lease(&self, job: &str, holder: &str, now: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM job_leases WHERE job = $1 AND holder = $2 AND expires_at >= $3",
        )
        .bind(job)
        .bind(holder)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.is_some())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::scratch::scratch_store;

    #[tokio::test]
    async fn a_lease_has_one_holder_until_it_runs_out() {
        let (_dir, store) = scratch_store().await;
        assert!(store.take_lease("crl", "a", 100, 115).await.unwrap());
        assert!(!store.take_lease("crl", "b", 110, 125).await.unwrap());
        // Renewed by its holder.
        assert!(store.take_lease("crl", "a", 112, 127).await.unwrap());
        assert!(!store.take_lease("crl", "b", 127, 142).await.unwrap());
        // Run out: the other server takes it, and the first no longer holds it.
        assert!(store.take_lease("crl", "b", 128, 143).await.unwrap());
        assert!(!store.holds_lease("crl", "a", 128).await.unwrap());
        assert!(store.holds_lease("crl", "b", 128).await.unwrap());
        assert!(!store.take_lease("crl", "a", 130, 145).await.unwrap());
    }
}
