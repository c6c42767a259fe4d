//! The only place SQL lives. One `sqlx::Any` pool with portable SQL (`$1` parameters
//! work on both SQLite and PostgreSQL), migrations per database, one module per aggregate.

pub mod admin_tokens;
pub mod applications;
pub mod audit;
mod batch;
pub mod ca;
pub mod challenges;
pub mod client_certs;
pub mod dashboard;
pub mod forward_auth_sessions;
pub mod groups;
pub mod job_locks;
pub mod lockouts;
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

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, ConnectOptions, Executor,
};

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
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("cannot start the database writer: {0}")]
    WriterStart(std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err)
            }
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

/// The database. On SQLite, writes go through one connection so that writers queue
/// in the pool (fair, no sleeping) instead of meeting SQLite's busy handler, which
/// backs off by sleeping; reads use their own connections, which WAL never blocks.
/// On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    reader: AnyPool,
    writer: AnyPool,
    /// Group commit for the login path's writes (see `batch`).
    batcher: login_writes::LoginBatcher,
    backend: Backend,
}

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
    url: &str,
    backend: Backend,
    size: u32,
    role: Role,
) -> Result<AnyPool, StoreError> {
    let options = AnyConnectOptions::from_str(url)
        .map_err(StoreError::Unavailable)?
        .log_statements(tracing::log::LevelFilter::Trace);
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        // The default pings every connection on each acquire: one more round trip to
        // SQLite's worker thread per statement. A broken connection fails its
        // statement instead, and the pool replaces it.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // NORMAL is durable across application crashes in WAL mode and
                    // avoids an fsync per transaction.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // Other processes (the CLI) may hold the write lock for a moment.
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    if role == Role::Write {
                        // A checkpoint in the committing writer held every other
                        // write for milliseconds (p99 10 ms → 3.6 ms without, in
                        // bench/README.md); the batch writer checkpoints from a
                        // reader connection instead, which does not block writes.
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
                let writer = open_pool(url, backend, 1, Role::Write).await?;
                // Persistent in the file: readers never block the writer.
                writer.execute("PRAGMA journal_mode = WAL").await?;
                SQLITE_MIGRATIONS.run(&writer).await?;
                // Readers open after the migrations so that they never see a half-made
                // schema.
                let reader = open_pool(url, backend, SQLITE_READERS, Role::Read).await?;
                let batcher = login_writes::LoginBatcher::start(
                    writer.clone(),
                    backend,
                    Some(reader.clone()),
                )
                .map_err(StoreError::WriterStart)?;
                Ok(Store {
                    reader,
                    writer,
                    batcher,
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = open_pool(url, backend, POSTGRES_CONNECTIONS, Role::Write).await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                let batcher = login_writes::LoginBatcher::start(pool.clone(), backend, None)
                    .map_err(StoreError::WriterStart)?;
                Ok(Store {
                    reader: pool.clone(),
                    writer: pool,
                    batcher,
                    backend,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: can the database answer a query now?
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// For statements that only read.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
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
