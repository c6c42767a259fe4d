//! Additional phrases (SPEC §1.3): argon2id hashes only.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    pub async fn user_phrase(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT hash FROM phrases WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn set_user_phrase(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO phrases (user_id, hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
