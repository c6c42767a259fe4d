//! Sealed patterns and their history. The store never sees a pattern in clear.

use sqlx::Row;

use super::{Store, StoreError};

/// A user's current pattern as stored.
#[derive(Clone, Debug)]
pub struct StoredPattern {
    pub sealed: Vec<u8>,
    pub is_initial: bool,
    pub expires_at: Option<i64>,
}

/// A sealed initial pattern for a new account, stored with the account in one
/// transaction (the set-up link, `admin create`).
pub struct NewInitialPattern {
    pub sealed: Vec<u8>,
    pub key_id: String,
    pub expires_at: i64,
}

/// Stores the first pattern of a user made in the same transaction.
pub(crate) async fn insert_initial_pattern<'e, E>(
    executor: E,
    user_id: &str,
    pattern: &NewInitialPattern,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO patterns (user_id, sealed, key_id, is_initial, expires_at, created_at) \
         VALUES ($1, $2, $3, 1, $4, $5)",
    )
    .bind(user_id)
    .bind(pattern.sealed.as_slice())
    .bind(pattern.key_id.as_str())
    .bind(pattern.expires_at)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// What a login needs to know about the claimed user, in one query.
#[derive(Clone, Debug)]
pub struct LoginSubject {
    pub active: bool,
    pub pattern: Option<StoredPattern>,
}

impl Store {
    /// The user's status and pattern in one statement (the verification's hot path);
    /// `None` for an unknown user.
    pub async fn login_subject(&self, user_id: &str) -> Result<Option<LoginSubject>, StoreError> {
        let row = sqlx::query(
            "SELECT u.status, p.sealed, p.is_initial, p.expires_at FROM users u \
             LEFT JOIN patterns p ON p.user_id = u.id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| LoginSubject {
            active: r.get::<String, _>(0) == "active",
            pattern: r.get::<Option<Vec<u8>>, _>(1).map(|sealed| StoredPattern {
                sealed,
                is_initial: r.get::<Option<i64>, _>(2).unwrap_or(0) != 0,
                expires_at: r.get(3),
            }),
        }))
    }

    pub async fn pattern(&self, user_id: &str) -> Result<Option<StoredPattern>, StoreError> {
        let row =
            sqlx::query("SELECT sealed, is_initial, expires_at FROM patterns WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| StoredPattern {
            sealed: r.get(0),
            is_initial: r.get::<i64, _>(1) != 0,
            expires_at: r.get(2),
        }))
    }

    /// Replaces the user's pattern, keeping the old one in the history (for the
    /// "not one of the last N" rule), in one transaction.
    pub async fn set_pattern(
        &self,
        user_id: &str,
        sealed: &[u8],
        key_id: &str,
        is_initial: bool,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO pattern_history (user_id, sealed, key_id, created_at) \
             SELECT user_id, sealed, key_id, created_at FROM patterns WHERE user_id = $1",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO patterns (user_id, sealed, key_id, is_initial, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET \
             sealed = excluded.sealed, key_id = excluded.key_id, is_initial = excluded.is_initial, \
             expires_at = excluded.expires_at, created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(key_id)
        .bind(i64::from(is_initial))
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's last `n` earlier patterns, newest first (sealed).
    pub async fn pattern_history(&self, user_id: &str, n: i64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = sqlx::query(
            "SELECT sealed FROM pattern_history WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(n)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

impl Store {
    /// Stores (or replaces) the user's pattern draft, unconfirmed.
    pub async fn put_pattern_draft(
        &self,
        user_id: &str,
        sealed: &[u8],
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pattern_drafts (user_id, sealed, confirmations, expires_at, created_at) \
             VALUES ($1, $2, 0, $3, $4) ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, \
             confirmations = 0, expires_at = excluded.expires_at, created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The live draft of the user: (sealed, confirmations so far).
    pub async fn pattern_draft(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let row = sqlx::query("SELECT sealed, confirmations FROM pattern_drafts WHERE user_id = $1 AND expires_at > $2")
            .bind(user_id)
            .bind(now)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn confirm_pattern_draft(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE pattern_drafts SET confirmations = confirmations + 1 WHERE user_id = $1",
        )
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn delete_pattern_draft(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pattern_drafts WHERE user_id = $1")
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
