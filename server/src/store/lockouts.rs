//! Consecutive login failures and lock-outs, per claimed login ID (SPEC §6.1).

use sqlx::Row;

use super::{Store, StoreError};

/// `locked_until` of a lock that only an operator lifts.
pub const LOCKED_UNTIL_UNLOCKED: i64 = i64::MAX;

/// The failure count of one login ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: i64,
    /// Set while locked (it may lie in the past: the lock has then run out).
    pub locked_until: Option<i64>,
}

/// A locked login ID, for operators.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LockedLogin {
    pub login_id: String,
    pub failures: i64,
    pub locked_until: i64,
    pub last_failure_at: i64,
}

impl Store {
    pub async fn login_failures(&self, login_id: &str) -> Result<Option<FailureCount>, StoreError> {
        let row =
            sqlx::query("SELECT failures, locked_until FROM login_failures WHERE login_id = $1")
                .bind(login_id)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| FailureCount {
            failures: r.get(0),
            locked_until: r.get(1),
        }))
    }

    /// Counts one failure in one statement (so servers of a cluster counting at once
    /// lose none) and locks the ID until `lock_until` when the count reaches
    /// `threshold`. A lock that has run out starts the count again.
    pub async fn record_login_failure(
        &self,
        login_id: &str,
        now: i64,
        threshold: i64,
        lock_until: i64,
    ) -> Result<FailureCount, StoreError> {
        let row = sqlx::query(
            "INSERT INTO login_failures (login_id, failures, locked_until, last_failure_at) \
             VALUES ($1, 1, CASE WHEN 1 >= $3 THEN $4 ELSE NULL END, $2) \
             ON CONFLICT (login_id) DO UPDATE SET \
               failures = CASE WHEN login_failures.locked_until IS NOT NULL \
                                AND login_failures.locked_until <= $2 THEN 1 \
                               ELSE login_failures.failures + 1 END, \
               locked_until = CASE \
                 WHEN login_failures.locked_until IS NOT NULL \
                      AND login_failures.locked_until > $2 THEN login_failures.locked_until \
                 WHEN (CASE WHEN login_failures.locked_until IS NOT NULL THEN 1 \
                            ELSE login_failures.failures + 1 END) >= $3 THEN $4 \
                 ELSE NULL END, \
               last_failure_at = $2 \
             RETURNING failures, locked_until",
        )
        .bind(login_id)
        .bind(now)
        .bind(threshold)
        .bind(lock_until)
        .fetch_one(self.writer())
        .await?;
        Ok(FailureCount {
            failures: row.get(0),
            locked_until: row.get(1),
        })
    }

    /// Forgets the failures of `login_id` (a success, or an operator's unlock);
    /// returns whether there were any.
    pub async fn clear_login_failures(&self, login_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE login_id = $1")
            .bind(login_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Login IDs locked at `now`, of existing users, most recent first.
    pub async fn locked_logins(&self, now: i64) -> Result<Vec<LockedLogin>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.login_id, f.failures, f.locked_until, f.last_failure_at \
             FROM login_failures f JOIN users u ON u.id = f.login_id \
             WHERE f.locked_until > $1 ORDER BY f.last_failure_at DESC",
        )
        .bind(now)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| LockedLogin {
                login_id: r.get(0),
                failures: r.get(1),
                locked_until: r.get(2),
                last_failure_at: r.get(3),
            })
            .collect())
    }

    /// Drops counts idle since `before` that hold no lock (unknown IDs tried once
    /// must not pile up).
    pub async fn purge_login_failures(&self, before: i64, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM login_failures WHERE last_failure_at < $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(before)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::scratch::scratch_store;

    #[tokio::test]
    async fn a_lock_runs_out_and_the_count_starts_again() {
        let (_dir, store) = scratch_store().await;
        let t0 = 1_000_000;
        for (i, expect) in [(0, None), (1, None), (2, Some(t0 + 2 + 60))] {
            let c = store
                .record_login_failure("amy", t0 + i, 3, t0 + i + 60)
                .await
                .unwrap();
            assert_eq!((c.failures, c.locked_until), (i + 1, expect));
        }
        // A failure while locked keeps the lock's end.
        let c = store
            .record_login_failure("amy", t0 + 30, 3, t0 + 90)
            .await
            .unwrap();
        assert_eq!(c.locked_until, Some(t0 + 62));
        // After the lock ran out, the next failure counts from one.
        let c = store
            .record_login_failure("amy", t0 + 70, 3, t0 + 130)
            .await
            .unwrap();
        assert_eq!((c.failures, c.locked_until), (1, None));
        assert!(store.clear_login_failures("amy").await.unwrap());
        assert!(store.login_failures("amy").await.unwrap().is_none());
        // Idle counts go; locks stay until they run out.
        store
            .record_login_failure("old", t0, 3, t0 + 60)
            .await
            .unwrap();
        for _ in 0..3 {
            store
                .record_login_failure("held", t0, 3, t0 + 10_000)
                .await
                .unwrap();
        }
        assert_eq!(
            store.purge_login_failures(t0 + 1, t0 + 100).await.unwrap(),
            1
        );
        assert!(store.login_failures("held").await.unwrap().is_some());
    }
}
