//! Consecutive login failures and lock-outs, per claimed login ID (SPEC §6.1).

use sqlx::Row;

use super::{
    batch::{FetchedRow, Field, Step, Value},
    Backend, Store, StoreError,
};

/// `locked_until` of a lock that only an operator lifts.
pub const LOCKED_UNTIL_UNLOCKED: i64 = i64::MAX;

/// The failure count of one login ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: i64,
    /// Set while locked (it may lie in the past: the lock has then run out).
    pub locked_until: Option<i64>,
}

/// What a login attempt takes from its ID's lock-out budget, before its answer is
/// checked: the policy's threshold and when a lock reached now would end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub threshold: i64,
    pub lock_until: i64,
}

/// `attempts` attempts of one login ID to count at once, under `claim`.
pub(crate) struct ClaimRow<'a> {
    pub login_id: &'a str,
    pub attempts: i64,
    pub claim: Claim,
}

/// The statement that counts every attempt as a failure before its answer is
/// checked, in one statement for all IDs of a batch: so N attempts in flight at once
/// take N places of the budget, and no more than `threshold` of them can ever have
/// their answer checked. A count that reaches the threshold locks at once; a success
/// clears the count (and that lock) again. A lock that has run out starts the count
/// over. Returns (login_id, failures, locked_until) per ID.
pub(crate) fn claim_statement(step: &mut Step, rows: &[ClaimRow<'_>], now: i64) {
    let json = rows
        .iter()
        .map(|r| {
            serde_json::json!([
                r.login_id,
                r.attempts,
                r.claim.threshold,
                r.claim.lock_until
            ])
        })
        .collect();
    let p = step.json_rows(json);
    let source = step.select_rows(&p, &[Field::Text, Field::Int, Field::Int, Field::Int]);
    let now = step.bind(Value::Int(now));
    // The per-ID threshold and lock end, looked up from the batch's own rows.
    let lookup = |i: usize| {
        format!(
            "(SELECT {} FROM {} WHERE {} = login_failures.login_id)",
            step.int_at("j", i),
            step.rows_of(&p, "j"),
            step.text_at("j", 0),
        )
    };
    let (threshold, lock_until) = (lookup(2), lookup(3));
    // The count after this batch: over again after a lock that ran out.
    let counted = format!(
        "(CASE WHEN login_failures.locked_until IS NOT NULL \
         AND login_failures.locked_until <= {now} THEN excluded.failures \
         ELSE login_failures.failures + excluded.failures END)"
    );
    // SQLite needs `WHERE true` to read ON CONFLICT after a SELECT as the upsert's.
    let filter = match step.backend {
        Backend::Sqlite => " WHERE true",
        Backend::Postgres => "",
    };
    let sql = format!(
        "INSERT INTO login_failures (login_id, failures, locked_until, last_failure_at) \
         SELECT s.c0, s.c1, CASE WHEN s.c1 >= s.c2 THEN s.c3 END, {now} \
         FROM ({source}) AS s{filter} \
         ON CONFLICT (login_id) DO UPDATE SET \
           locked_until = CASE \
             WHEN login_failures.locked_until > {now} THEN login_failures.locked_until \
             WHEN {counted} >= {threshold} THEN {lock_until} \
             ELSE NULL END, \
           failures = {counted}, \
           last_failure_at = {now} \
         RETURNING login_id, failures, locked_until"
    );
    step.push(sql);
}

/// A row the claim statement returned: (login_id, failures, locked_until).
pub(crate) fn claimed_from_row(r: &FetchedRow) -> Result<(String, i64, Option<i64>), StoreError> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

/// The statement that forgets the counts of `login_ids` (signed in).
pub(crate) fn clear_statement(step: &mut Step, login_ids: &[&str]) {
    let ids = step.select_json(
        login_ids.iter().map(|id| serde_json::json!([id])).collect(),
        &[Field::Text],
    );
    step.push(format!(
        "DELETE FROM login_failures WHERE login_id IN ({ids})"
    ));
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
