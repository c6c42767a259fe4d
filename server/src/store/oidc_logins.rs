//! Which clients each passgrid session signed in to: the targets of back-channel
//! logout (OpenID Connect Back-Channel Logout 1.0 §2.7) when the session ends.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Takes the clients of a session away: (client_id, user_id) of each.
    pub async fn take_oidc_logins(&self, sid: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("DELETE FROM oidc_logins WHERE sid = $1 RETURNING client_id, user_id")
                .bind(sid)
                .fetch_all(self.writer())
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Forgets logins older than `before` (their sessions have ended by then).
    pub async fn purge_oidc_logins(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Notes that session `sid` signed in to `client_id` (once per pair), inside the
/// transaction that stores the code.
pub(crate) async fn note_oidc_login_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sid: &str,
    client_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO oidc_logins (sid, client_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sid, client_id) DO NOTHING",
    )
    .bind(sid)
    .bind(client_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
