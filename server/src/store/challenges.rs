//! Login challenges: one grid seed per attempt, consumed by the first verification.

use sqlx::Row;

use super::{Store, StoreError};

/// A challenge to store.
pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub purpose: &'a str,
    pub flow_hash: &'a [u8],
    pub cert_fingerprint: Option<&'a str>,
    pub claimed_user: &'a str,
    pub seed: &'a [u8],
    pub blocks_across: u8,
    pub blocks_down: u8,
    pub expires_at: i64,
}

/// A challenge as it was when consumed.
pub struct ConsumedChallenge {
    pub purpose: String,
    pub flow_hash: Vec<u8>,
    pub cert_fingerprint: Option<String>,
    pub claimed_user: String,
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_challenge(&self, c: &NewChallenge<'_>, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO challenges (id, flow_hash, cert_fingerprint, claimed_user, seed, blocks_across, \
             blocks_down, expires_at, created_at, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(c.id)
        .bind(c.flow_hash)
        .bind(c.cert_fingerprint)
        .bind(c.claimed_user)
        .bind(c.seed)
        .bind(i64::from(c.blocks_across))
        .bind(i64::from(c.blocks_down))
        .bind(c.expires_at)
        .bind(now)
        .bind(c.purpose)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks the challenge consumed and returns it — or `None` when it does not exist
    /// or was consumed before. One statement, so of two concurrent callers only one
    /// gets the challenge, on SQLite and PostgreSQL alike.
    pub async fn consume_challenge(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<ConsumedChallenge>, StoreError> {
        let row = sqlx::query(
            "UPDATE challenges SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL \
             RETURNING flow_hash, cert_fingerprint, claimed_user, seed, blocks_across, blocks_down, expires_at, purpose",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| ConsumedChallenge {
            flow_hash: r.get(0),
            cert_fingerprint: r.get(1),
            claimed_user: r.get(2),
            seed: r.get(3),
            blocks_across: r.get(4),
            blocks_down: r.get(5),
            expires_at: r.get(6),
            purpose: r.get(7),
        }))
    }

    /// The seed and shape of an unconsumed, unexpired challenge of this flow (to show
    /// the grid page again after a reload).
    pub async fn open_challenge(
        &self,
        id: &str,
        purpose: &str,
        flow_hash: &[u8],
        now: i64,
    ) -> Result<Option<(Vec<u8>, i64, i64, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT seed, blocks_across, blocks_down, expires_at FROM challenges \
             WHERE id = $1 AND flow_hash = $2 AND consumed_at IS NULL AND expires_at > $3 AND purpose = $4",
        )
        .bind(id)
        .bind(flow_hash)
        .bind(now)
        .bind(purpose)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
    }

    /// Deletes challenges that expired more than `grace` seconds ago.
    pub async fn purge_challenges(&self, now: i64, grace: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM challenges WHERE expires_at < $1")
            .bind(now - grace)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
