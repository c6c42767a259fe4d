//! Login challenges: one grid seed per attempt, consumed by the first verification.

use sqlx::Row;

use super::{
    batch::{ChallengeRow, Write, Written},
    Store, StoreError,
};

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

/// A challenge still open, as its page shows it.
pub struct OpenChallenge {
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
    pub purpose: String,
}

impl Store {
    pub async fn insert_challenge(&self, c: &NewChallenge<'_>, now: i64) -> Result<(), StoreError> {
        self.batcher
            .write(Write::Challenge(ChallengeRow {
                id: c.id.to_owned(),
                purpose: c.purpose.to_owned(),
                flow_hash: c.flow_hash.to_vec(),
                cert_fingerprint: c.cert_fingerprint.map(str::to_owned),
                claimed_user: c.claimed_user.to_owned(),
                seed: c.seed.to_vec(),
                blocks_across: i64::from(c.blocks_across),
                blocks_down: i64::from(c.blocks_down),
                expires_at: c.expires_at,
                created_at: now,
            }))
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
        match self
            .batcher
            .write(Write::Consume {
                id: id.to_owned(),
                now,
            })
            .await?
        {
            Written::Consumed(found) => Ok(found),
            Written::Stored => Ok(None),
        }
    }

    /// The seed, shape and purpose of an unconsumed, unexpired challenge of this flow
    /// whose purpose is one of `purposes` (to show the grid page again after a reload).
    pub async fn open_challenge(
        &self,
        id: &str,
        purposes: &[&str],
        flow_hash: &[u8],
        now: i64,
    ) -> Result<Option<OpenChallenge>, StoreError> {
        let row = sqlx::query(
            "SELECT seed, blocks_across, blocks_down, expires_at, purpose FROM challenges \
             WHERE id = $1 AND flow_hash = $2 AND consumed_at IS NULL AND expires_at > $3",
        )
        .bind(id)
        .bind(flow_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row
            .map(|r| OpenChallenge {
                seed: r.get(0),
                blocks_across: r.get(1),
                blocks_down: r.get(2),
                expires_at: r.get(3),
                purpose: r.get(4),
            })
            .filter(|c| purposes.contains(&c.purpose.as_str())))
    }

    /// Deletes challenges that expired more than `grace` seconds ago.
    pub async fn purge_challenges(&self, now: i64, grace: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM challenges WHERE expires_at < $1")
            .bind(now - grace)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
