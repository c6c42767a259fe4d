//! SQLite without a thread hand-over, for the login path's hottest statements: the
//! group-commit writer's own connection, used on the writer thread itself, and the
//! connections the login facts are read from on the request's thread. Through sqlx,
//! each statement was handed to a connection's worker thread and each returned row
//! handed back: under load, half the server's CPU went to those thread switches
//! (bench/README.md, issue #16). In this process the batch writer takes its turn with
//! the sqlx writer pool (see `batch`); the command line meets it at SQLite's write
//! lock, as processes do.

use std::{
    str::FromStr,
    sync::Mutex,
    time::{Duration, Instant},
};

use rusqlite::{
    types::{ToSql, ToSqlOutput, Value as Cell, ValueRef},
    Connection, OpenFlags,
};
use sqlx::{any::AnyRow, sqlite::SqliteConnectOptions, Row};

use super::StoreError;

/// A value bound to a statement.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
}

/// Long enough for an administrator's transaction or the command line to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept: each kind of row, at the batch sizes that recur.
const STATEMENT_CACHE: usize = 64;

/// Opens `url` (the same `sqlite:` URL as the pools) with the pools' settings.
fn open(url: &str) -> Result<Connection, StoreError> {
    let options = SqliteConnectOptions::from_str(url).map_err(StoreError::Unavailable)?;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // An in-memory store (the unit tests') is shared between connections only
    // through the shared cache, as sqlx opens it.
    if is_memory(url) {
        flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
    }
    let conn = Connection::open_with_flags(options.get_filename(), flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // As the pools' connections (store/mod.rs): durable across crashes in WAL mode
    // without an fsync per commit.
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Connections that read without a thread hand-over: a statement runs on the caller's
/// thread. Only for short indexed reads (WAL readers do not wait for the writer).
/// `None` for an in-memory store, whose shared cache makes readers wait on table
/// locks, which must not block a request thread.
pub(crate) struct LiteReaders {
    url: String,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for LiteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiteReaders")
    }
}

/// A row a statement returned, through sqlx or from a connection of this file.
pub(crate) enum FetchedRow {
    Any(AnyRow),
    Lite(Vec<Cell>),
}

impl FetchedRow {
    /// Column `i` as `T`.
    pub fn get<T>(&self, i: usize) -> Result<T, StoreError>
    where
        T: FromCell + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        match self {
            FetchedRow::Any(row) => Ok(row.try_get(i)?),
            FetchedRow::Lite(cells) => {
                let cell = cells.get(i).ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
                T::from_cell(cell).ok_or_else(|| {
                    let found = rusqlite::types::ValueRef::from(cell).data_type();
                    StoreError::Sqlite(rusqlite::Error::InvalidColumnType(i, String::new(), found))
                })
            }
        }
    }
}

/// Connections kept between reads (about one per request thread is used at once).
const IDLE_READERS: usize = 8;

impl LiteReaders {
    pub fn new(url: &str) -> Option<LiteReaders> {
        (!is_memory(url)).then(|| LiteReaders {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Runs one statement that only reads and returns its rows.
    pub fn read(&self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = open(&self.url)?;
                conn.execute_batch("PRAGMA query_only = ON")?;
                conn
            }
        };
        let rows = run_all(&conn, &[sql], values);
        let mut idle = self.lock();
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        rows
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(crate) struct LiteWriter {
    // Only the one writer loop of SQLite uses it; the lock makes that a type fact.
    state: Mutex<WriterState>,
}

struct WriterState {
    conn: Connection,
    last_checkpoint: Instant,
}

/// How often the writer moves the WAL into the database file between two batches:
/// under full load the WAL grows by over 100 MB a second (checkpoints every 250 ms
/// cost a p99 of 24–32 ms, bench/README.md).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

impl LiteWriter {
    /// Opens `url` (the same `sqlite:` URL as the pools) for the batch writer.
    pub fn open(url: &str) -> Result<LiteWriter, StoreError> {
        let conn = open(url)?;
        // Not after every commit past 1,000 pages (SQLite's default), which held the
        // batches behind it for milliseconds: once a second instead (`checkpoint`).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
        Ok(LiteWriter {
            state: Mutex::new(WriterState {
                conn,
                last_checkpoint: Instant::now(),
            }),
        })
    }

    /// Runs `statements` (parameters `$n` numbered across all of them, bound from
    /// `values`), opening a transaction first with `begin` and committing after with
    /// `commit`; rolls back what it opened on an error. Returns the rows returned.
    pub fn run(
        &self,
        statements: &[&str],
        values: &[Value],
        begin: bool,
        commit: bool,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let conn = &state.conn;
        if begin {
            conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let result = run_all(conn, statements, values).and_then(|rows| {
            if commit {
                conn.execute_batch("COMMIT")?;
            }
            Ok(rows)
        });
        if result.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if result.is_ok() && conn.is_autocommit() {
            state.checkpoint();
        }
        result
    }

    /// Ends a transaction that earlier runs left open.
    pub fn commit(&self) -> Result<(), StoreError> {
        self.run(&[], &[], false, true).map(|_| ())
    }
}

impl WriterState {
    /// Between two batches, every `CHECKPOINT_EVERY` at most: a PASSIVE checkpoint
    /// here, where no batch can commit meanwhile, copies the whole WAL, so the next batch starts it
    /// over. Checkpoints from another connection (see `batch`) never caught up with
    /// batches committing back to back: the WAL grew without bound under sustained
    /// load (1.7 GB in 10 s of the login benchmark; now about what one second writes).
    fn checkpoint(&mut self) {
        if self.last_checkpoint.elapsed() < CHECKPOINT_EVERY {
            return;
        }
        self.last_checkpoint = Instant::now();
        let done = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(err) = done {
            tracing::warn!(error = %err, "WAL checkpoint failed; will try again");
        }
    }
}

fn run_all(
    conn: &Connection,
    statements: &[&str],
    values: &[Value],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let mut rows = Vec::new();
    for sql in statements {
        let mut stmt = conn.prepare_cached(sql)?;
        for index in 1..=stmt.parameter_count() {
            let value = stmt
                .parameter_name(index)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| values.get(n.checked_sub(1)?))
                .ok_or(rusqlite::Error::InvalidParameterCount(index, values.len()))?;
            stmt.raw_bind_parameter(index, value)?;
        }
        let columns = stmt.column_count();
        let mut found = stmt.raw_query();
        while let Some(row) = found.next()? {
            rows.push(
                (0..columns)
                    .map(|i| row.get::<_, Cell>(i))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
    }
    Ok(rows)
}

fn is_memory(url: &str) -> bool {
    url.split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=memory"))
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Int(i) => ValueRef::Integer(*i),
        }))
    }
}

/// A column of a returned row read as `T`.
pub(crate) trait FromCell: Sized {
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl FromCell for String {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation)
                if matches!(
                    err.sqlite_error().map(|e| e.extended_code),
                    Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
                        | Some(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
                ) =>
            {
                StoreError::Conflict
            }
            _ => StoreError::Sqlite(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_memory;

    #[test]
    fn only_a_memory_mode_url_is_in_memory() {
        assert!(is_memory("sqlite:file:x?mode=memory"));
        assert!(is_memory("sqlite:file:x?cache=shared&mode=memory"));
        assert!(!is_memory("sqlite:///data/mode=memory/db.sqlite?mode=rwc"));
        assert!(!is_memory("sqlite:///data/db.sqlite"));
    }
}
