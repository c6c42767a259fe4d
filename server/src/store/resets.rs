//! Self-service reset links (SPEC §9.3): one-time, expiring, stored by hash.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Stores a new link for `user_id`; earlier unused links of the user stop working.
    pub async fn create_reset_token(
        &self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM reset_tokens WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO reset_tokens (token_hash, user_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the link is unused and unexpired (the page before the button).
    pub async fn reset_token_valid(&self, token_hash: &[u8], now: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.is_some())
    }

    /// Uses the link, once: the user it was for, or `None`.
    pub async fn use_reset_token(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE reset_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Marks the new pattern of a used link as shown, once, within `window` seconds of
    /// the reset: the user it was for, or `None`.
    pub async fn reveal_reset(
        &self,
        token_hash: &[u8],
        now: i64,
        window: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE reset_tokens SET revealed_at = $2 \
             WHERE token_hash = $1 AND used_at IS NOT NULL AND revealed_at IS NULL \
             AND used_at > $3 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now - window)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Drops links that can no longer be used or shown.
    pub async fn purge_reset_tokens(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM reset_tokens WHERE expires_at < $1")
            .bind(before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
