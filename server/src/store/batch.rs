//! Group commit for the writes of the login path: challenge inserts, challenge
//! consumption, session inserts and audit entries.
//!
//! Every login round writes four rows. Sent one statement at a time, the writer
//! connection spends most of its time waiting for the task that holds it to be
//! scheduled again (measured in bench/README.md). Instead, callers hand their write to
//! one writer thread and wait for its reply; the thread takes everything that queued up
//! meanwhile and writes it in one transaction with one statement per kind. Under low
//! load a batch is one write, so latency does not grow; under high load batches grow
//! and the number of transactions per round falls. A caller still gets its answer only
//! after the commit, so nothing is acknowledged that is not stored.

use std::{collections::HashMap, sync::Arc};

use sqlx::{any::AnyRow, AnyPool, Row};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{challenges::ConsumedChallenge, Backend, StoreError};

/// Most writes taken into one transaction (and parameters stay far below the limits
/// of SQLite, 32,766, and PostgreSQL, 65,535).
const MAX_BATCH: usize = 256;
/// Batches in flight at once on PostgreSQL (measured in bench/README.md).
const POSTGRES_LOOPS: usize = 4;

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

pub(crate) struct SessionRow {
    pub id_hash: Vec<u8>,
    pub user_id: String,
    pub created_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
}

pub(crate) struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub reason: String,
}

pub(crate) enum Write {
    Challenge(ChallengeRow),
    Consume { id: String, now: i64 },
    Session(SessionRow),
    Audit(AuditRow),
}

pub(crate) enum Written {
    Stored,
    Consumed(Option<ConsumedChallenge>),
}

struct Job {
    write: Write,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

/// The handle callers use; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the writer thread. It ends when every handle is dropped.
    /// `checkpoint`: on SQLite, a pool of reader connections to move the WAL into
    /// the database file from, in the background.
    pub fn start(
        pool: AnyPool,
        backend: Backend,
        checkpoint: Option<AnyPool>,
    ) -> std::io::Result<Batcher> {
        let (jobs, rx) = mpsc::unbounded_channel();
        // Its own thread and runtime: the loop resumes as soon as the database
        // answers, not after whatever the request workers are busy with.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // SQLite has one writer anyway; PostgreSQL commits several transactions at
        // once, and each commit waits for its WAL flush, so several loops share the
        // queue there.
        let loops = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => POSTGRES_LOOPS,
        };
        let rx = Arc::new(Mutex::new(rx));
        let db = Arc::new(Db { pool, backend });
        std::thread::Builder::new()
            .name("passgrid-writer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    if let Some(readers) = checkpoint {
                        // Ends with the runtime, when the writer loops end.
                        tokio::spawn(checkpoint_now_and_then(readers));
                    }
                    let mut running = tokio::task::JoinSet::new();
                    for _ in 0..loops {
                        running.spawn(run(db.clone(), rx.clone()));
                    }
                    while running.join_next().await.is_some() {}
                })
            })?;
        Ok(Batcher { jobs })
    }

    pub async fn write(&self, write: Write) -> Result<Written, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// How often the WAL is copied into the database file (SQLite's own default would do
/// it every 1,000 pages, inside a writer's commit).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// PASSIVE checkpoints from a reader connection: they never wait for, or hold up, the
/// writer; once one has copied everything, the next write starts the WAL over.
async fn checkpoint_now_and_then(readers: AnyPool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if readers.is_closed() {
            return;
        }
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&readers)
            .await
        {
            Ok(_) => {}
            // Closed between the check above and the query: the store is shutting down.
            Err(sqlx::Error::PoolClosed) => return,
            Err(err) => {
                tracing::warn!(error = %err, "WAL checkpoint failed; will try again");
            }
        }
    }
}

async fn run(db: Arc<Db>, rx: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
    let db = &*db;
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // The lock is held only while taking jobs, not while writing them.
        if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let (writes, replies): (Vec<Write>, Vec<_>) =
            batch.into_iter().map(|j| (j.write, j.reply)).unzip();
        match write_together(db, &writes).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) if writes.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(err));
                }
            }
            // One bad write must not fail the others: each on its own, with its own
            // answer.
            Err(_) => {
                for (write, reply) in writes.iter().zip(replies) {
                    let result = write_together(db, std::slice::from_ref(write))
                        .await
                        .map(|mut r| r.pop().unwrap_or(Written::Stored));
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// The writer pool and its dialect.
struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// The batch sorted by kind, in the order the statements run.
struct Plan<'a> {
    challenges: Vec<&'a ChallengeRow>,
    consumes: Vec<&'a str>,
    consumed_at: i64,
    sessions: Vec<&'a SessionRow>,
    audits: Vec<&'a AuditRow>,
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl<'a> Plan<'a> {
    fn of(writes: &'a [Write]) -> Plan<'a> {
        let mut plan = Plan {
            challenges: Vec::new(),
            consumes: Vec::new(),
            consumed_at: 0,
            sessions: Vec::new(),
            audits: Vec::new(),
        };
        for w in writes {
            match w {
                Write::Challenge(c) => plan.challenges.push(c),
                Write::Consume { id, now } => {
                    plan.consumes.push(id);
                    plan.consumed_at = plan.consumed_at.max(*now);
                }
                Write::Session(s) => plan.sessions.push(s),
                Write::Audit(a) => plan.audits.push(a),
            }
        }
        plan
    }

    /// PostgreSQL: one statement per kind, multi-row VALUES, each numbering its
    /// parameters from `$1`.
    fn statements(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut counter = 1;
        let next = &mut counter;
        if !self.challenges.is_empty() {
            out.push(format!(
                "INSERT INTO challenges (id, flow_hash, cert_fingerprint, claimed_user, seed, \
                 blocks_across, blocks_down, expires_at, created_at, purpose) VALUES {}",
                values(self.challenges.len(), 10, next)
            ));
        }
        *next = 1;
        if !self.consumes.is_empty() {
            // One UPDATE … RETURNING for all: a challenge is returned at most once,
            // however many ask for it, in this batch or any other.
            let at = placeholder(next);
            let ids: Vec<String> = self.consumes.iter().map(|_| placeholder(next)).collect();
            out.push(format!(
                "UPDATE challenges SET consumed_at = {at} WHERE consumed_at IS NULL AND id IN ({}) \
                 RETURNING id, flow_hash, cert_fingerprint, claimed_user, seed, blocks_across, \
                 blocks_down, expires_at, purpose",
                ids.join(", ")
            ));
        }
        *next = 1;
        if !self.sessions.is_empty() {
            out.push(format!(
                "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, \
                 idle_expires_at, absolute_expires_at) VALUES {}",
                values(self.sessions.len(), 6, next)
            ));
        }
        *next = 1;
        if !self.audits.is_empty() {
            out.push(format!(
                "INSERT INTO audit_log (at, actor, source, action, target, outcome, reason) VALUES {}",
                values(self.audits.len(), 7, next)
            ));
        }
        out
    }

    /// Binds the values of statement `index` of `statements` (same order).
    fn bind<'q>(&'q self, mut q: AnyQuery<'q>, index: usize) -> AnyQuery<'q> {
        let kinds = [
            !self.challenges.is_empty(),
            !self.consumes.is_empty(),
            !self.sessions.is_empty(),
            !self.audits.is_empty(),
        ];
        let Some(kind) = kinds
            .iter()
            .enumerate()
            .filter(|(_, present)| **present)
            .map(|(k, _)| k)
            .nth(index)
        else {
            return q;
        };
        match kind {
            0 => {
                for c in &self.challenges {
                    q = q
                        .bind(&c.id)
                        .bind(&c.flow_hash)
                        .bind(&c.cert_fingerprint)
                        .bind(&c.claimed_user)
                        .bind(&c.seed)
                        .bind(c.blocks_across)
                        .bind(c.blocks_down)
                        .bind(c.expires_at)
                        .bind(c.created_at)
                        .bind(&c.purpose);
                }
            }
            1 => {
                q = q.bind(self.consumed_at);
                for id in &self.consumes {
                    q = q.bind(*id);
                }
            }
            2 => {
                for s in &self.sessions {
                    q = q
                        .bind(&s.id_hash)
                        .bind(&s.user_id)
                        .bind(s.created_at)
                        .bind(s.created_at)
                        .bind(s.idle_expires_at)
                        .bind(s.absolute_expires_at);
                }
            }
            _ => {
                for a in &self.audits {
                    q = q
                        .bind(a.at)
                        .bind(&a.actor)
                        .bind(&a.source)
                        .bind(&a.action)
                        .bind(&a.target)
                        .bind(&a.outcome)
                        .bind(&a.reason);
                }
            }
        }
        q
    }
}

/// Writes all in one transaction and returns one result per write, in order.
async fn write_together(db: &Db, writes: &[Write]) -> Result<Vec<Written>, StoreError> {
    let plan = Plan::of(writes);
    let rows = match db.backend {
        Backend::Sqlite => sqlite_batch(&db.pool, &plan).await?,
        Backend::Postgres => postgres_batch(&db.pool, &plan).await?,
    };
    let mut consumed = HashMap::with_capacity(rows.len());
    for r in rows {
        consumed.insert(
            r.try_get::<String, _>(0)?,
            ConsumedChallenge {
                flow_hash: r.try_get(1)?,
                cert_fingerprint: r.try_get(2)?,
                claimed_user: r.try_get(3)?,
                seed: r.try_get(4)?,
                blocks_across: r.try_get(5)?,
                blocks_down: r.try_get(6)?,
                expires_at: r.try_get(7)?,
                purpose: r.try_get(8)?,
            },
        );
    }
    Ok(writes
        .iter()
        .map(|w| match w {
            // Of two verifications of one challenge in one batch, the first gets it.
            Write::Consume { id, .. } => Written::Consumed(consumed.remove(id)),
            _ => Written::Stored,
        })
        .collect())
}

/// SQLite: the whole transaction is one query, so the writer thread hands it to
/// SQLite's worker once instead of once per statement. The rows travel as one JSON
/// array per kind, so the SQL text depends only on which kinds are present (16 texts
/// at most, all kept prepared) and not on how many rows each has.
async fn sqlite_batch(pool: &AnyPool, plan: &Plan<'_>) -> Result<Vec<AnyRow>, StoreError> {
    let mut statements = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut next = 1;
    let mut param = |value: String| {
        params.push(value);
        next += 1;
        format!("${}", next - 1)
    };
    if !plan.challenges.is_empty() {
        let rows: Vec<serde_json::Value> = plan
            .challenges
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
        let p = param(serde_json::Value::Array(rows).to_string());
        statements.push(format!(
            "INSERT INTO challenges (id, flow_hash, cert_fingerprint, claimed_user, seed, \
             blocks_across, blocks_down, expires_at, created_at, purpose) \
             SELECT value ->> 0, unhex(value ->> 1), value ->> 2, value ->> 3, unhex(value ->> 4), \
             value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9 FROM json_each({p})"
        ));
    }
    if !plan.consumes.is_empty() {
        let at = param(plan.consumed_at.to_string());
        let ids = param(serde_json::json!(plan.consumes).to_string());
        // One UPDATE … RETURNING for all: a challenge is returned at most once,
        // however many ask for it, in this batch or any other.
        statements.push(format!(
            "UPDATE challenges SET consumed_at = CAST({at} AS INTEGER) WHERE consumed_at IS NULL \
             AND id IN (SELECT value FROM json_each({ids})) \
             RETURNING id, flow_hash, cert_fingerprint, claimed_user, seed, blocks_across, \
             blocks_down, expires_at, purpose"
        ));
    }
    if !plan.sessions.is_empty() {
        let rows: Vec<serde_json::Value> = plan
            .sessions
            .iter()
            .map(|s| {
                serde_json::json!([
                    hex::encode(&s.id_hash),
                    s.user_id,
                    s.created_at,
                    s.idle_expires_at,
                    s.absolute_expires_at
                ])
            })
            .collect();
        let p = param(serde_json::Value::Array(rows).to_string());
        statements.push(format!(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, idle_expires_at, \
             absolute_expires_at) SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 2, \
             value ->> 3, value ->> 4 FROM json_each({p})"
        ));
    }
    if !plan.audits.is_empty() {
        let rows: Vec<serde_json::Value> = plan
            .audits
            .iter()
            .map(|a| {
                serde_json::json!([
                    a.at, a.actor, a.source, a.action, a.target, a.outcome, a.reason
                ])
            })
            .collect();
        let p = param(serde_json::Value::Array(rows).to_string());
        // json_each walks the array in order, so entries keep their order.
        statements.push(format!(
            "INSERT INTO audit_log (at, actor, source, action, target, outcome, reason) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
             value ->> 6 FROM json_each({p}) ORDER BY key"
        ));
    }
    let many = statements.len() > 1;
    let sql = if many {
        format!("BEGIN IMMEDIATE; {}; COMMIT", statements.join("; "))
    } else {
        statements.concat()
    };
    let mut q = sqlx::query(&sql);
    for p in params {
        q = q.bind(p);
    }
    let mut conn = pool.acquire().await?;
    match q.fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows),
        Err(err) => {
            if many {
                // The failed statement left the transaction open: close it before the
                // connection goes back to the pool. (An error here means it was closed.)
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            Err(err.into())
        }
    }
}

/// PostgreSQL: statements in one transaction (one commit, so one WAL flush, per batch).
async fn postgres_batch(pool: &AnyPool, plan: &Plan<'_>) -> Result<Vec<AnyRow>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut rows = Vec::new();
    for (i, sql) in plan.statements().iter().enumerate() {
        rows.extend(plan.bind(sqlx::query(sql), i).fetch_all(&mut *tx).await?);
    }
    tx.commit().await?;
    Ok(rows)
}

fn placeholder(next: &mut usize) -> String {
    let p = format!("${next}");
    *next += 1;
    p
}

/// `($k, …, $k+cols-1), …` for `rows` rows, numbering on from `next`.
pub(super) fn values(rows: usize, cols: usize, next: &mut usize) -> String {
    let row = |next: &mut usize| {
        let cells: Vec<String> = (0..cols).map(|_| placeholder(next)).collect();
        format!("({})", cells.join(", "))
    };
    let all: Vec<String> = (0..rows).map(|_| row(next)).collect();
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use super::values;
    use crate::store::{audit::AuditInsert, challenges::NewChallenge, StoreError};

    #[test]
    fn placeholders_number_rows_after_each_other() {
        assert_eq!(values(1, 2, &mut 1), "($1, $2)");
        let mut next = 4;
        assert_eq!(values(2, 3, &mut next), "($4, $5, $6), ($7, $8, $9)");
        assert_eq!(next, 10);
    }

    use crate::store::scratch::scratch_store;

    fn challenge(id: &str) -> NewChallenge<'_> {
        NewChallenge {
            id,
            purpose: "login",
            flow_hash: &[1; 32],
            cert_fingerprint: None,
            claimed_user: "alice",
            seed: &[7; 32],
            blocks_across: 4,
            blocks_down: 3,
            expires_at: 2_000,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_consumers_of_one_challenge_get_it_once() {
        let (_dir, store) = scratch_store().await;
        store
            .insert_challenge(&challenge("c1"), 1_000)
            .await
            .expect("insert");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.spawn(async move { store.consume_challenge("c1", 1_001).await });
        }
        let mut winners = 0;
        while let Some(done) = tasks.join_next().await {
            let found = done.expect("task").expect("consume");
            if let Some(c) = found {
                assert_eq!(c.claimed_user, "alice");
                assert_eq!(c.seed, vec![7; 32]);
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_failing_write_does_not_fail_its_batch_neighbours() {
        let (_dir, store) = scratch_store().await;
        store
            .insert_challenge(&challenge("dup"), 1_000)
            .await
            .expect("insert");
        let event = AuditInsert {
            actor: "alice",
            source: "127.0.0.1",
            action: "test",
            target: "alice",
            outcome: "success",
            reason: "",
        };
        // Sent together so that they share a batch when the writer is busy.
        let (again, other) = (challenge("dup"), challenge("fresh"));
        let (dup, fresh, audit) = tokio::join!(
            store.insert_challenge(&again, 1_000),
            store.insert_challenge(&other, 1_000),
            store.append_audit(&event, 1_000),
        );
        assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
        fresh.expect("the other challenge is stored");
        audit.expect("the audit entry is stored");
        assert!(store
            .consume_challenge("fresh", 1_001)
            .await
            .expect("consume")
            .is_some());
    }
}
