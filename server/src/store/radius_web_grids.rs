//! The portal's "VPN sign-in" grids (SPEC §10.4): the newest grid each user asked for,
//! found by user when the VPN's Access-Request comes (the challenge itself is in
//! `challenges`, consumed by the login decision).

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Makes `challenge_id` the user's pending VPN grid (replacing an older one).
    pub async fn set_radius_web_grid(
        &self,
        user_id: &str,
        challenge_id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO radius_web_grids (user_id, challenge_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             challenge_id = excluded.challenge_id, expires_at = excluded.expires_at, \
             created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(challenge_id)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The challenge ID of the user's VPN grid, if one is pending at `now` (shown and
    /// not yet answered).
    pub async fn radius_web_grid(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT w.challenge_id FROM radius_web_grids w \
             JOIN challenges c ON c.id = w.challenge_id \
             WHERE w.user_id = $1 AND w.expires_at > $2 AND c.consumed_at IS NULL",
        )
        .bind(user_id)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Forgets VPN grids that expired before `before`.
    pub async fn purge_radius_web_grids(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM radius_web_grids WHERE expires_at < $1")
            .bind(before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
