//! Group commit: the mechanism. Callers hand their write to one writer thread and wait
//! for its reply; the thread takes everything that queued up meanwhile and writes it
//! in one transaction. Under low load a batch is one write, so latency does not grow;
//! under high load batches grow and the number of transactions per round falls. A
//! caller gets its answer only after the commit, so nothing is acknowledged that is not
//! stored. What is written, and the SQL of each kind of row, is the business of
//! `login_writes` and the tables' own files; this file knows only batches.

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot, Mutex};

pub(crate) use super::lite::{FetchedRow, LiteWriter, Value};
use super::{Backend, StoreError};

/// Most writes taken into one transaction (and parameters stay far below the limits
/// of SQLite, 32,766, and PostgreSQL, 65,535).
const MAX_BATCH: usize = 256;
/// Batches in flight at once on PostgreSQL (measured in bench/README.md).
const POSTGRES_LOOPS: usize = 4;

/// What a batch of writes of one family does; `login_writes` is the one there is.
pub(crate) trait Family: Send + Sync + 'static {
    type Write: Send + Sync + 'static;
    type Written: Send + 'static;

    /// Writes all in one transaction and returns one result per write, in order.
    fn write_together<'a>(
        db: &'a Db,
        writes: &'a [Self::Write],
    ) -> impl std::future::Future<Output = Result<Vec<Self::Written>, StoreError>> + Send + 'a;

    /// The answer for a write that had to go alone and stored nothing to report.
    fn stored() -> Self::Written;
}

struct Job<F: Family> {
    write: F::Write,
    reply: oneshot::Sender<Result<F::Written, StoreError>>,
}

/// The handle callers use; cheap to clone.
pub(crate) struct Batcher<F: Family> {
    jobs: mpsc::UnboundedSender<Job<F>>,
}

impl<F: Family> Clone for Batcher<F> {
    fn clone(&self) -> Self {
        Batcher {
            jobs: self.jobs.clone(),
        }
    }
}

impl<F: Family> std::fmt::Debug for Batcher<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batcher")
    }
}

impl<F: Family> Batcher<F> {
    /// Starts the writer thread. It ends when every handle is dropped.
    /// `checkpoint`: on SQLite, a pool of reader connections to move the WAL into
    /// the database file from, in the background.
    pub fn start(db: Db, checkpoint: Option<AnyPool>) -> std::io::Result<Batcher<F>> {
        let backend = db.backend;
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
        let db = Arc::new(db);
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
                        running.spawn(run::<F>(db.clone(), rx.clone()));
                    }
                    while running.join_next().await.is_some() {}
                })
            })?;
        Ok(Batcher { jobs })
    }

    pub async fn write(&self, write: F::Write) -> Result<F::Written, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// PASSIVE checkpoints from a reader connection, for quiet times (the writes of the
/// sqlx writer pool, the last batches before a pause): they never wait for, or hold
/// up, the writer; once one has copied everything, the next write starts the WAL over.
/// Under a steady stream of batches they never finish: the batch writer checkpoints
/// itself then (`lite`).
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

async fn run<F: Family>(db: Arc<Db>, rx: Arc<Mutex<mpsc::UnboundedReceiver<Job<F>>>>) {
    let db = &*db;
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // The lock is held only while taking jobs, not while writing them.
        if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let (writes, replies): (Vec<F::Write>, Vec<_>) =
            batch.into_iter().map(|j| (j.write, j.reply)).unzip();
        match F::write_together(db, &writes).await {
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
                    let result = F::write_together(db, std::slice::from_ref(write))
                        .await
                        .map(|mut r| r.pop().unwrap_or_else(F::stored));
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// Where batches are written, and the dialect.
pub(crate) struct Db {
    pub backend: Backend,
    target: Target,
}

enum Target {
    /// PostgreSQL: the pool (several loops commit at once).
    Pool(AnyPool),
    /// SQLite: the writer's own connection, used on its thread.
    /// The sqlx writer pool is held while a batch is written, as when the batches
    /// went through it: no sqlx transaction of this process (which opens deferred,
    /// reads, then writes) can be overtaken between its read and its write.
    Lite(LiteWriter, AnyPool),
}

impl Db {
    pub fn postgres(pool: AnyPool) -> Db {
        Db {
            backend: Backend::Postgres,
            target: Target::Pool(pool),
        }
    }

    pub fn sqlite(writer: LiteWriter, writer_pool: AnyPool) -> Db {
        Db {
            backend: Backend::Sqlite,
            target: Target::Lite(writer, writer_pool),
        }
    }
}

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

pub(super) fn bind_value<'q>(q: AnyQuery<'q>, value: &'q Value) -> AnyQuery<'q> {
    match value {
        Value::Text(t) => q.bind(t),
        Value::Int(i) => q.bind(*i),
    }
}

/// The statements of one step of a batch, in the backend's dialect, each made by the
/// file of the table it writes; their parameters are numbered across the step. On
/// SQLite they run one after the other on the writer's thread (`lite`); PostgreSQL
/// gets them as one statement, each but the last in a `WITH` (one round trip, not one
/// per statement). So the statements of one step must not depend on each other's
/// writes (all of one PostgreSQL statement see one snapshot), and only the last may
/// return rows.
pub(crate) struct Step {
    pub backend: Backend,
    statements: Vec<String>,
    values: Vec<Value>,
}

impl Step {
    pub fn new(backend: Backend) -> Step {
        Step {
            backend,
            statements: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder.
    pub fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// Adds a statement (whose placeholders were bound before).
    pub fn push(&mut self, sql: String) {
        self.statements.push(sql);
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    fn sql(&self) -> Vec<&str> {
        self.statements.iter().map(String::as_str).collect()
    }

    /// PostgreSQL: the step as one statement.
    fn fused(&self) -> String {
        let (last, before) = match self.statements.split_last() {
            Some(split) => split,
            None => return String::new(),
        };
        if before.is_empty() {
            return last.clone();
        }
        let with: Vec<String> = before
            .iter()
            .enumerate()
            .map(|(i, sql)| format!("w{i} AS ({sql})"))
            .collect();
        format!("WITH {} {last}", with.join(", "))
    }
}

/// How a field of a JSON row is read: text, an integer, or bytes written as hex.
#[derive(Clone, Copy)]
pub(crate) enum Field {
    Text,
    Int,
    Bytes,
}

/// A batch's rows go to the database as one JSON array, one parameter: the statement's
/// text is then the same whatever the batch's size, so each backend prepares and plans
/// it once per connection (PostgreSQL's multi-row `VALUES` was a new statement per
/// batch: parsed, planned and cached anew, two round trips instead of one).
impl Step {
    /// Binds `rows` (each a JSON array of one row's fields) and returns the parameter.
    pub fn json_rows(&mut self, rows: Vec<serde_json::Value>) -> String {
        self.bind(Value::Text(serde_json::Value::Array(rows).to_string()))
    }

    /// The rows of parameter `p` as a table `alias` with columns `value` (a row) and
    /// `key` (its place, for order).
    pub fn rows_of(&self, p: &str, alias: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("json_each({p}) AS {alias}"),
            Backend::Postgres => {
                format!("json_array_elements({p}::json) WITH ORDINALITY AS {alias} (value, key)")
            }
        }
    }

    /// Binds `rows` and returns `SELECT … AS c0, … AS cN FROM … AS r`: field `i` of
    /// each row as column `ci`, of kind `fields[i]` (append `ORDER BY r.key` to keep
    /// the rows' order).
    pub fn select_json(&mut self, rows: Vec<serde_json::Value>, fields: &[Field]) -> String {
        let p = self.json_rows(rows);
        self.select_rows(&p, fields)
    }

    /// As `select_json`, for rows already bound as parameter `p`.
    pub fn select_rows(&self, p: &str, fields: &[Field]) -> String {
        let columns: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let cell = match field {
                    Field::Text => self.text_at("r", i),
                    Field::Int => self.int_at("r", i),
                    Field::Bytes => self.bytes_at("r", i),
                };
                format!("{cell} AS c{i}")
            })
            .collect();
        format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            self.rows_of(p, "r")
        )
    }

    /// `sql` (made with this step's placeholders) with the step's values bound.
    pub fn bound<'q>(&'q self, sql: &'q str) -> AnyQuery<'q> {
        self.values
            .iter()
            .fold(sqlx::query(sql), |q, v| bind_value(q, v))
    }

    /// Field `i` of row `alias` as text.
    pub fn text_at(&self, alias: &str, i: usize) -> String {
        format!("{alias}.value ->> {i}")
    }

    /// Field `i` of row `alias` as an integer.
    pub fn int_at(&self, alias: &str, i: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("{alias}.value ->> {i}"),
            Backend::Postgres => format!("({alias}.value ->> {i})::bigint"),
        }
    }

    /// Field `i` of row `alias`, hex in the JSON, as bytes.
    pub fn bytes_at(&self, alias: &str, i: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("unhex({alias}.value ->> {i})"),
            Backend::Postgres => format!("decode({alias}.value ->> {i}, 'hex')"),
        }
    }
}

/// One transaction of a batch over one or more steps on the writer connection. A batch
/// of one statement needs none (it commits by itself); otherwise it opens with the
/// first step and commits with the last.
pub(crate) struct Transaction<'a> {
    conn: Conn<'a>,
    open: bool,
}

enum Conn<'a> {
    Pool(sqlx::pool::PoolConnection<sqlx::Any>),
    Lite {
        writer: &'a LiteWriter,
        /// Held, not used (see `Target::Lite`).
        _held: sqlx::pool::PoolConnection<sqlx::Any>,
    },
}

impl<'a> Transaction<'a> {
    pub async fn start(db: &'a Db) -> Result<Transaction<'a>, StoreError> {
        let conn = match &db.target {
            Target::Pool(pool) => Conn::Pool(pool.acquire().await?),
            Target::Lite(writer, pool) => Conn::Lite {
                writer,
                _held: pool.acquire().await?,
            },
        };
        Ok(Transaction { conn, open: false })
    }

    /// Commits what earlier steps left open (a batch whose last planned step had
    /// nothing to do).
    pub async fn finish(&mut self) -> Result<(), StoreError> {
        if !self.open {
            return Ok(());
        }
        self.open = false;
        match &mut self.conn {
            Conn::Lite { writer, .. } => writer.commit(),
            Conn::Pool(conn) => {
                if let Err(err) = sqlx::query("COMMIT").execute(&mut **conn).await {
                    let _ = sqlx::query("ROLLBACK").execute(&mut **conn).await;
                    return Err(err.into());
                }
                Ok(())
            }
        }
    }

    /// Runs `step`; `last` commits. Returns the rows its statements returned, in order.
    pub async fn run(&mut self, step: &Step, last: bool) -> Result<Vec<FetchedRow>, StoreError> {
        // On PostgreSQL a step is one statement (see `Step`).
        let statements = match self.conn {
            Conn::Lite { .. } => step.statements.len(),
            Conn::Pool(_) => 1,
        };
        let alone = last && !self.open && statements == 1;
        let opens = !self.open && !alone;
        let commits = last && !alone;
        match &mut self.conn {
            Conn::Lite { writer, .. } => {
                // On this thread: no await, nothing else runs meanwhile.
                let result = writer.run(&step.sql(), &step.values, opens, commits);
                self.open = result.is_ok() && (self.open || opens) && !commits;
                Ok(result?.into_iter().map(FetchedRow::Lite).collect())
            }
            Conn::Pool(conn) => {
                let result = async {
                    if opens {
                        sqlx::query("BEGIN").execute(&mut **conn).await?;
                        self.open = true;
                    }
                    let sql = step.fused();
                    let rows = step.bound(&sql).fetch_all(&mut **conn).await?;
                    if commits {
                        sqlx::query("COMMIT").execute(&mut **conn).await?;
                    }
                    Ok::<_, sqlx::Error>(rows)
                }
                .await;
                match result {
                    Ok(rows) => {
                        if last {
                            self.open = false;
                        }
                        Ok(rows.into_iter().map(FetchedRow::Any).collect())
                    }
                    Err(err) => {
                        if self.open {
                            // The connection goes back to the pool: close the
                            // transaction first. (An error here means it was closed.)
                            let _ = sqlx::query("ROLLBACK").execute(&mut **conn).await;
                            self.open = false;
                        }
                        Err(err.into())
                    }
                }
            }
        }
    }
}

fn placeholder(next: &mut usize) -> String {
    let p = format!("${next}");
    *next += 1;
    p
}

/// `($k, …, $k+cols-1), …` for `rows` rows, numbering on from `next` (for statements
/// outside the batch that bind many rows at once).
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

    #[test]
    fn placeholders_number_rows_after_each_other() {
        assert_eq!(values(1, 2, &mut 1), "($1, $2)");
        let mut next = 4;
        assert_eq!(values(2, 3, &mut next), "($4, $5, $6), ($7, $8, $9)");
        assert_eq!(next, 10);
    }
}
