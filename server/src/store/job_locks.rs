//! One server of a cluster at a time for a scheduled job (SPEC §11.2): a PostgreSQL
//! session advisory lock, held on its own connection for the job's length and
//! released with it (also when the process dies: the connection closes). SQLite
//! serves one server (SPEC §11.3): the lock is always granted there, and the job's
//! transaction is what keeps two runs from mixing.

use sha2::{Digest, Sha256};
use sqlx::{pool::PoolConnection, Any, Row};

use super::{Backend, Store, StoreError};

/// A held job lock; give it back with [`JobLock::release`].
pub struct JobLock {
    conn: Option<(PoolConnection<Any>, i64)>,
}

fn lock_key(job: &str) -> i64 {
    let digest = Sha256::digest(format!("passgrid job {job}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Store {
    /// Takes the lock of `job` if nobody holds it; `None` when another server does.
    pub async fn try_job_lock(&self, job: &str) -> Result<Option<JobLock>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(Some(JobLock { conn: None }));
        }
        let key = lock_key(job);
        let mut conn = self.writer().acquire().await?;
        let row = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        let got: bool = row.get(0);
        Ok(got.then_some(JobLock {
            conn: Some((conn, key)),
        }))
    }
}

impl JobLock {
    pub async fn release(mut self) {
        if let Some((mut conn, key)) = self.conn.take() {
            let released = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await;
            if released.is_err() {
                // A connection in an unknown state must not go back to the pool
                // holding the lock.
                conn.close_on_drop();
            }
        }
    }
}
