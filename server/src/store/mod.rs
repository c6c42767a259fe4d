//! The only place SQL lives. One `sqlx::Any` pool with portable SQL (`$1` parameters
//! work on both SQLite and PostgreSQL), migrations per database, one module per aggregate.

pub mod admin_tokens;
pub mod applications;
pub mod audit;
pub mod backup;
mod batch;
pub mod ca;
pub mod cert_jobs;
pub mod challenges;
pub mod client_certs;
pub mod cluster;
pub mod dashboard;
pub mod forward_auth_sessions;
pub mod groups;
pub mod job_locks;
mod lite;
pub mod lockouts;
pub mod login_facts;
pub mod login_windows;
pub mod login_writes;
pub mod oidc_clients;
pub mod oidc_codes;
pub mod oidc_keys;
pub mod oidc_logins;
pub mod oidc_tokens;
pub mod patterns;
pub mod phrases;
pub mod pickups;
pub mod policies;
mod primary;
pub mod radius_clients;
pub mod radius_group_replies;
pub mod radius_web_grids;
pub mod resets;
pub mod saml_keys;
pub mod saml_requests;
pub mod saml_sps;
pub mod server_certs;
pub mod sessions;
pub mod setup_tokens;
pub mod sync;
pub mod tokens;
pub mod user_attributes;
pub mod user_counts;
pub mod user_import;
pub mod user_list;
pub mod users;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, ConnectOptions, Executor, Row,
};

use primary::Primary;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("already exists")]
    Conflict,
    #[error("{0}")]
    Database(sqlx::Error),
    /// From the group-commit writer's own SQLite connection (see `batch`).
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("cannot start the database writer: {0}")]
    WriterStart(std::io::Error),
    #[error("database URL: {0}")]
    BadUrl(String),
    /// No host of the list takes writes (during a failover, or all down).
    #[error("{0}")]
    NoPrimary(String),
    /// The database was upgraded by a newer passgrid: running this one on it could
    /// misread or damage what the newer one wrote.
    #[error("the database schema is at version {database}, newer than this passgrid ({binary}) knows (version {known}): run the newer passgrid")]
    SchemaTooNew {
        database: i64,
        known: i64,
        binary: &'static str,
    },
}

/// SQLSTATEs that mean "this server cannot take the statement now" rather than "the
/// statement is wrong": a demoted primary (25006 read_only_sql_transaction), a
/// server shutting down or starting (57P01–57P03), a lost connection (class 08).
fn is_failover_state(code: &str) -> bool {
    code == "25006" || code.starts_with("57P") || code.starts_with("08")
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_failover_state(&c)) => {
                StoreError::Unavailable(err)
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Database(err),
        }
    }
}

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database. On SQLite, this process writes through one connection at a time so
/// that writers queue in the pool (fair, no sleeping) instead of meeting SQLite's busy
/// handler, which backs off by sleeping: the login batches' own connection (`lite`)
/// holds the writer pool's one connection while it writes. Reads use their own
/// connections, which WAL never blocks. On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    reader: AnyPool,
    /// SQLite (on a file): the login facts are read here, on the request's thread.
    lite_reader: Option<Arc<lite::LiteReaders>>,
    writer: AnyPool,
    /// Group commit for the login path's writes (see `batch`).
    batcher: login_writes::LoginBatcher,
    backend: Backend,
    /// PostgreSQL: which host is the primary, watched (see `primary`).
    primary: Option<Arc<Primary>>,
}

/// How long a readiness check waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// SQLite connections that read (the writer is one more).
const SQLITE_READERS: u32 = 3;
const POSTGRES_CONNECTIONS: u32 = 16;

/// What a pool's connections are for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Read,
    Write,
}

async fn open_pool(
    options: AnyConnectOptions,
    backend: Backend,
    size: u32,
    role: Role,
    primary: Option<Arc<Primary>>,
) -> Result<AnyPool, StoreError> {
    let on_connect = primary.clone();
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        // The default pings every connection on each acquire: one more round trip to
        // SQLite's worker thread per statement. A broken connection fails its
        // statement instead, and the pool replaces it.
        .test_before_acquire(false)
        // After a failover every connection opened before it is closed instead of
        // used: it leads to the old primary (dead, or read-only once demoted).
        .before_acquire(move |_, meta| {
            let keep = primary.as_ref().is_none_or(|p| p.is_current(meta.age));
            Box::pin(async move { Ok(keep) })
        })
        .after_connect(move |conn, _| {
            let primary = on_connect.clone();
            Box::pin(async move {
                if let Some(primary) = primary {
                    // Never hold a connection to a server that refuses writes: the
                    // pool tries again (until its acquire timeout) while the watcher
                    // finds the new primary.
                    let row = sqlx::query(self::primary::READ_ONLY_SQL)
                        .fetch_one(&mut *conn)
                        .await?;
                    if row.try_get::<bool, _>(0)? {
                        primary.alarm();
                        return Err(sqlx::Error::Protocol(format!(
                            "{} is read-only (a standby)",
                            primary.current_label()
                        )));
                    }
                }
                if backend == Backend::Sqlite {
                    // NORMAL is durable across application crashes in WAL mode and
                    // avoids an fsync per transaction.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // Other processes (the CLI) may hold the write lock for a moment.
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    if role == Role::Write {
                        // A checkpoint after every commit past 1,000 pages held the
                        // writes behind it for milliseconds (bench/README.md): the
                        // login batches' writer checkpoints once a second, and a
                        // reader in quiet times (`batch`).
                        conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(StoreError::Unavailable)
}

fn url_options(url: &str) -> Result<AnyConnectOptions, StoreError> {
    Ok(AnyConnectOptions::from_str(url)
        .map_err(StoreError::Unavailable)?
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// Refuses a database whose schema a newer passgrid made (before the migrator, whose
/// own error would only say that a migration is missing).
async fn check_schema(
    pool: &AnyPool,
    backend: Backend,
    known: &Migrator,
) -> Result<(), StoreError> {
    let has_table = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        }
    };
    let count: i64 = sqlx::query(has_table).fetch_one(pool).await?.try_get(0)?;
    if count == 0 {
        return Ok(());
    }
    let newest: Option<i64> = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let known = known.iter().map(|m| m.version).max().unwrap_or(0);
    match newest {
        Some(database) if database > known => Err(StoreError::SchemaTooNew {
            database,
            known,
            binary: env!("CARGO_PKG_VERSION"),
        }),
        _ => Ok(()),
    }
}

impl Store {
    /// Connects, sets SQLite to WAL, and runs the migrations of that database.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        match backend {
            Backend::Sqlite => {
                let writer = open_pool(url_options(url)?, backend, 1, Role::Write, None).await?;
                // Persistent in the file: readers never block the writer.
                writer.execute("PRAGMA journal_mode = WAL").await?;
                check_schema(&writer, backend, &SQLITE_MIGRATIONS).await?;
                SQLITE_MIGRATIONS.run(&writer).await?;
                // Readers open after the migrations so that they never see a half-made
                // schema.
                let reader =
                    open_pool(url_options(url)?, backend, SQLITE_READERS, Role::Read, None).await?;
                let batch_writer = batch::Db::sqlite(batch::LiteWriter::open(url)?, writer.clone());
                let batcher = login_writes::LoginBatcher::start(batch_writer, Some(reader.clone()))
                    .map_err(StoreError::WriterStart)?;
                Ok(Store {
                    reader,
                    lite_reader: lite::LiteReaders::new(url).map(Arc::new),
                    writer,
                    batcher,
                    backend,
                    primary: None,
                })
            }
            Backend::Postgres => {
                let primary = Primary::find(primary::hosts_of(url)?).await?;
                let pool = open_pool(
                    primary.current_host().options()?,
                    backend,
                    POSTGRES_CONNECTIONS,
                    Role::Write,
                    Some(primary.clone()),
                )
                .await?;
                check_schema(&pool, backend, &POSTGRES_MIGRATIONS).await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                // The group-commit writer shares the pool, so it follows the primary too.
                let batcher =
                    login_writes::LoginBatcher::start(batch::Db::postgres(pool.clone()), None)
                        .map_err(StoreError::WriterStart)?;
                tokio::spawn(primary.clone().watch(vec![pool.clone()]));
                Ok(Store {
                    reader: pool.clone(),
                    lite_reader: None,
                    writer: pool,
                    batcher,
                    backend,
                    primary: Some(primary),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: can the database take a login now? On PostgreSQL: is a writable
    /// primary connected (never "ready" on a standby or during a failover)?
    pub async fn ping(&self) -> Result<(), StoreError> {
        let Some(primary) = &self.primary else {
            sqlx::query("SELECT 1").execute(&self.reader).await?;
            return Ok(());
        };
        if !primary.is_writable() {
            return Err(StoreError::NoPrimary(primary.problem()));
        }
        let check = sqlx::query(self::primary::READ_ONLY_SQL).fetch_one(&self.writer);
        let row = tokio::time::timeout(READY_TIMEOUT, check)
            .await
            .map_err(|_| StoreError::NoPrimary("the primary does not answer in time".into()))??;
        if row.try_get::<bool, _>(0)? {
            primary.alarm();
            return Err(StoreError::NoPrimary(format!(
                "{} is read-only",
                primary.current_label()
            )));
        }
        Ok(())
    }

    /// The PostgreSQL host in use (`host:port`), if this is PostgreSQL.
    pub fn primary_host(&self) -> Option<String> {
        self.primary.as_ref().map(|p| p.current_label())
    }

    /// For statements that only read.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Runs one hot statement that only reads (`$n` parameters): on SQLite without a
    /// hand-over to another thread (see `lite`).
    pub(crate) async fn read_rows(
        &self,
        sql: &str,
        values: &[lite::Value],
    ) -> Result<Vec<lite::FetchedRow>, StoreError> {
        if let Some(lite) = &self.lite_reader {
            let rows = lite.read(sql, values)?;
            return Ok(rows.into_iter().map(lite::FetchedRow::Lite).collect());
        }
        let mut query = sqlx::query(sql);
        for value in values {
            query = batch::bind_value(query, value);
        }
        let rows = query.fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(lite::FetchedRow::Any).collect())
    }

    /// For every statement or transaction that writes (SQLite allows one writer).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// A throw-away SQLite store for unit tests, removed on drop.
#[cfg(test)]
pub(crate) mod scratch {
    use super::Store;

    pub struct Scratch(std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A store in memory only (no file anywhere), shared by its pools' connections.
    pub async fn memory_store() -> Store {
        let name = format!("passgrid-mem-{}", hex::encode(rand::random::<[u8; 8]>()));
        Store::connect(&format!("sqlite:file:{name}?mode=memory"))
            .await
            .expect("in-memory store")
    }

    pub async fn scratch_store() -> (Scratch, Store) {
        let dir = std::env::temp_dir().join(format!(
            "passgrid-store-{}",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
        let store = Store::connect(&url).await.expect("store");
        (Scratch(dir), store)
    }
}
