//! Login challenges: one grid seed per attempt, consumed by the first verification.

use sqlx::Row;

use super::{
    batch::{FetchedRow, Field, Step, Value},
    Backend, Store, StoreError,
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
    pub id: String,
    pub purpose: String,
    pub flow_hash: Vec<u8>,
    pub cert_fingerprint: Option<String>,
    pub claimed_user: String,
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
}

// The seed draws the grid: never in a log line.
impl std::fmt::Debug for ConsumedChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumedChallenge")
            .field("purpose", &self.purpose)
            .field("claimed_user", &self.claimed_user)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A challenge still open, as its page shows it.
pub struct OpenChallenge {
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
    pub purpose: String,
}

/// A challenge row on its way to the group-committed insert.
pub(crate) struct ChallengeRow {
    pub id: String,
    pub purpose: String,
    pub flow_hash: Vec<u8>,
    pub cert_fingerprint: Option<String>,
    pub claimed_user: String,
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

impl ChallengeRow {
    pub(crate) fn new(c: &NewChallenge<'_>, now: i64) -> ChallengeRow {
        ChallengeRow {
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
        }
    }
}

/// Who asks to consume a challenge: it is consumed only for the flow and the client
/// certificate it was drawn for, so a stranger's guess cannot burn the owner's grid.
pub(crate) struct ConsumeRequest {
    pub id: String,
    pub flow_hash: Vec<u8>,
    pub cert_fingerprint: Option<String>,
}

const CONSUMED_COLUMNS: &str = "id, flow_hash, cert_fingerprint, claimed_user, seed, \
                                blocks_across, blocks_down, expires_at, purpose";

/// The statement that stores `rows` (one statement for all).
pub(crate) fn insert_statement(step: &mut Step, rows: &[&ChallengeRow]) {
    let json = rows
        .iter()
        .map(|c| {
            serde_json::json!([
                c.id,
                hex::encode(&c.flow_hash),
                c.cert_fingerprint,
                c.claimed_user,
                hex::encode(&c.seed),
                c.blocks_across,
                c.blocks_down,
                c.expires_at,
                c.created_at,
                c.purpose
            ])
        })
        .collect();
    use Field::{Bytes, Int, Text};
    let rows = step.select_json(
        json,
        &[Text, Bytes, Text, Text, Bytes, Int, Int, Int, Int, Text],
    );
    let sql = format!(
        "INSERT INTO challenges (id, flow_hash, cert_fingerprint, claimed_user, seed, \
         blocks_across, blocks_down, expires_at, created_at, purpose) {rows}"
    );
    step.push(sql);
}

/// The statement that consumes `requests` at `now` and returns each challenge it
/// consumed: one UPDATE … RETURNING for all, so a challenge is returned at most once,
/// however many ask for it, in this batch or any other.
pub(crate) fn consume_statement(step: &mut Step, requests: &[&ConsumeRequest], now: i64) {
    let at = step.bind(Value::Int(now));
    let json = requests
        .iter()
        .map(|r| serde_json::json!([r.id, hex::encode(&r.flow_hash), r.cert_fingerprint]))
        .collect();
    let p = step.json_rows(json);
    let (id, flow, cert) = (
        step.text_at("r", 0),
        step.bytes_at("r", 1),
        step.text_at("r", 2),
    );
    let sql = match step.backend {
        // `id IN` lets SQLite find the rows by key; the binding is checked per row.
        Backend::Sqlite => format!(
            "UPDATE challenges SET consumed_at = CAST({at} AS INTEGER) \
             WHERE consumed_at IS NULL AND id IN (SELECT {id} FROM {rows}) \
             AND EXISTS (SELECT 1 FROM {rows} WHERE {id} = challenges.id \
               AND {flow} = challenges.flow_hash \
               AND challenges.cert_fingerprint IS ({cert})) \
             RETURNING {CONSUMED_COLUMNS}",
            rows = step.rows_of(&p, "r"),
        ),
        Backend::Postgres => format!(
            "UPDATE challenges AS c SET consumed_at = {at} \
             FROM (SELECT {id} AS id, {flow} AS flow_hash, {cert} AS cert_fingerprint \
                   FROM {rows}) AS q \
             WHERE c.consumed_at IS NULL AND c.id = q.id AND c.flow_hash = q.flow_hash \
             AND c.cert_fingerprint IS NOT DISTINCT FROM q.cert_fingerprint \
             RETURNING c.id, c.flow_hash, c.cert_fingerprint, c.claimed_user, c.seed, \
             c.blocks_across, c.blocks_down, c.expires_at, c.purpose",
            rows = step.rows_of(&p, "r"),
        ),
    };
    step.push(sql);
}

impl ConsumedChallenge {
    /// A row the consume statement returned.
    pub(crate) fn from_row(r: &FetchedRow) -> Result<ConsumedChallenge, StoreError> {
        Ok(ConsumedChallenge {
            id: r.get(0)?,
            flow_hash: r.get(1)?,
            cert_fingerprint: r.get(2)?,
            claimed_user: r.get(3)?,
            seed: r.get(4)?,
            blocks_across: r.get(5)?,
            blocks_down: r.get(6)?,
            expires_at: r.get(7)?,
            purpose: r.get(8)?,
        })
    }
}

impl Store {
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
