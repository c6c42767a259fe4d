//! Server-side sessions. The cookie holds a random token; the database holds only its
//! SHA-256, so a database leak does not hand out sessions.

use sqlx::Row;

use super::{
    batch::{Field, Step},
    Store, StoreError,
};

/// A session row on its way to the group-committed insert.
pub struct SessionRow {
    pub id_hash: Vec<u8>,
    pub user_id: String,
    pub created_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    /// The client certificate the session was made with: it is valid on connections
    /// presenting that certificate only.
    pub cert_fingerprint: Option<String>,
}

/// The statement that stores `rows` (one statement for all).
pub(crate) fn insert_statement(step: &mut Step, rows: &[&SessionRow]) {
    use Field::{Bytes, Int, Text};
    // A new session was last seen, and proved, when it was made.
    let json = rows
        .iter()
        .map(|s| {
            serde_json::json!([
                hex::encode(&s.id_hash),
                s.user_id,
                s.created_at,
                s.created_at,
                s.created_at,
                s.idle_expires_at,
                s.absolute_expires_at,
                s.cert_fingerprint
            ])
        })
        .collect();
    let rows = step.select_json(json, &[Bytes, Text, Int, Int, Int, Int, Int, Text]);
    step.push(format!(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, proved_at, \
         idle_expires_at, absolute_expires_at, cert_fingerprint) {rows}"
    ));
}

pub struct StoredSession {
    pub user_id: String,
    pub last_seen_at: i64,
    pub proved_at: i64,
    pub cert_fingerprint: Option<String>,
}

impl Store {
    /// The live session with this token hash, if any.
    pub async fn live_session(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, last_seen_at, proved_at, cert_fingerprint FROM sessions \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| StoredSession {
            user_id: r.get(0),
            last_seen_at: r.get(1),
            proved_at: r.get(2),
            cert_fingerprint: r.get(3),
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

    /// The user, the last proof (the sign-in time) and the bound certificate of a live
    /// session: single sign-on reads the proof as `auth_time`.
    pub async fn live_session_start(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<(String, i64, Option<String>)>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, proved_at, cert_fingerprint FROM sessions \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
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
            .insert_session(super::SessionRow {
                id_hash: b"hash".to_vec(),
                user_id: "ann".into(),
                created_at: 1000,
                idle_expires_at: 1600,
                absolute_expires_at: 4600,
                cert_fingerprint: None,
            })
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
