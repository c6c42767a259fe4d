//! Forward-auth sessions (SPEC §10.2): the protected domain's cookie, by hash, tied to
//! the passgrid session it was made from — it ends with that session (the foreign key
//! cascades when the session is deleted at logout or purged).

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    pub async fn insert_forward_auth_session(
        &self,
        token_hash: &[u8],
        session_hash: &[u8],
        user_id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO forward_auth_sessions (token_hash, session_hash, user_id, expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(session_hash)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The user of a live forward-auth session whose passgrid session is live too,
    /// with the passgrid session's start (the sign-in time).
    pub async fn forward_auth_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT f.user_id, s.created_at FROM forward_auth_sessions f \
             JOIN sessions s ON s.id_hash = f.session_hash \
             WHERE f.token_hash = $1 AND f.expires_at > $2 \
             AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn purge_forward_auth_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM forward_auth_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
