//! Server-side sessions. The cookie holds a random token; the database holds only its
//! SHA-256, so a database leak does not hand out sessions.

use sqlx::Row;

use super::{
    batch::{SessionRow, Write},
    Store, StoreError,
};

pub struct StoredSession {
    pub user_id: String,
    pub last_seen_at: i64,
}

impl Store {
    pub async fn insert_session(
        &self,
        id_hash: &[u8],
        user_id: &str,
        idle_secs: i64,
        absolute_secs: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.batcher
            .write(Write::Session(SessionRow {
                id_hash: id_hash.to_vec(),
                user_id: user_id.to_owned(),
                created_at: now,
                idle_expires_at: now + idle_secs,
                absolute_expires_at: now + absolute_secs,
            }))
            .await?;
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub async fn live_session(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, last_seen_at FROM sessions \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| StoredSession {
            user_id: r.get(0),
            last_seen_at: r.get(1),
        }))
    }

    /// Pushes the idle expiry out by the session's own idle span (set at its creation
    /// from the user's policy), so a request needs no policy lookup to keep it.
    pub async fn touch_session(&self, id_hash: &[u8], now: i64) -> Result<(), StoreError> {
        // Both databases compute the SET list from the row's values before the update.
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, \
             idle_expires_at = $2 + (idle_expires_at - last_seen_at) WHERE id_hash = $1",
        )
        .bind(id_hash)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The user and the start (the sign-in time) of a live session: single sign-on
    /// reads the start as `auth_time`.
    pub async fn live_session_start(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, created_at FROM sessions \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn purge_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE idle_expires_at < $1 OR absolute_expires_at < $1",
        )
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{scratch::scratch_store, users::NewUser};

    #[tokio::test]
    async fn a_touch_keeps_the_idle_span_the_session_was_created_with() {
        let (_dir, store) = scratch_store().await;
        let user = NewUser {
            id: "ann",
            display_name: "Ann",
            email: None,
            admin_role: None,
            source: "local",
        };
        store.create_user(&user, 1).await.expect("user");
        // Created with a policy's 600 s idle lifetime (not the installation's).
        store
            .insert_session(b"hash", "ann", 600, 3600, 1000)
            .await
            .expect("insert");
        store.touch_session(b"hash", 1100).await.expect("touch");
        assert!(store
            .live_session(b"hash", 1699)
            .await
            .expect("read")
            .is_some());
        assert!(store
            .live_session(b"hash", 1700)
            .await
            .expect("read")
            .is_none());
    }
}
