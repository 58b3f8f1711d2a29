//! The plumbing every role shares: the two pools, opening and migrating them, and the mapping
//! of sqlx errors. The role modules implement their traits for both stores with one macro
//! body each, so every statement exists once.

use std::{str::FromStr, sync::Arc};

use sqlx::{
    postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
    Connection as _,
};

use sqlx::migrate::Migrator;

use super::{batch::Writer, Store, StoreError, StoreResult};
use crate::config::{DatabaseSettings, SqliteSync};

/// The embedded default: one SQLite file in WAL mode.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// Where tokens, codes and sessions are inserted (group commit, see `batch`).
    pub(super) writer: Writer,
}

/// The scale-out back end: several stateless instances share one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(super) pool: PgPool,
    /// Where tokens, codes and sessions are inserted (group commit, see `batch`).
    pub(super) writer: Writer,
}

/// The schema each back end is migrated to, embedded in the binary. Migrations this binary
/// does not know (a newer instance applied them during a rolling upgrade) are allowed: every
/// migration keeps the schema usable by the release before it (see `migrations/README.md`).
pub(super) fn migrator(backend: &str) -> Migrator {
    let mut m = if backend == "sqlite" {
        sqlx::migrate!("./migrations/sqlite")
    } else {
        sqlx::migrate!("./migrations/postgres")
    };
    m.set_ignore_missing(true);
    m
}

impl SqliteStore {
    /// Opens (creating if missing) the SQLite database at `url` and migrates it. The busy
    /// timeout is a request's wait for the write lock: past it the write fails (and the
    /// request answers 503) rather than holding its client.
    pub async fn connect(url: &str, db: &DatabaseSettings) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match db.sqlite_synchronous {
                SqliteSync::Normal => SqliteSynchronous::Normal,
                SqliteSync::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(db.timeout());
        let pool = SqlitePoolOptions::new()
            .max_connections(db.max_connections.unwrap_or(8))
            // A connection to a file cannot drop like a socket: pinging it before each use
            // only cost every query an extra hand-off to its worker thread.
            .test_before_acquire(false)
            .acquire_timeout(db.timeout())
            .connect_with(options)
            .await?;
        migrator(Self::BACKEND).run(&pool).await?;
        Ok(Self { writer: Writer::spawn(pool.clone()), pool })
    }
}

impl PostgresStore {
    /// Connects to the PostgreSQL database at `url` and migrates it. A request waits at most
    /// the database timeout for a connection; while the server is down every acquire tries
    /// to connect anew, so service resumes with the first connection that succeeds.
    pub async fn connect(url: &str, db: &DatabaseSettings) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        // One connection first, for its own error: the pool's is only "timed out", which tells
        // an operator nothing about a refused connection, a wrong password or a missing database.
        let probe = tokio::time::timeout(db.timeout(), PgConnection::connect_with(&options)).await;
        match probe {
            Ok(conn) => conn?.close().await?,
            Err(_) => return Err(StoreError::Unavailable(format!("no answer within {} s", db.timeout_secs))),
        }
        let pool = PgPoolOptions::new()
            .max_connections(db.max_connections.unwrap_or(16))
            .acquire_timeout(db.timeout())
            // sqlx pings a connection when it comes back to the pool, so one that was just
            // used is known to answer; pinging it again on the way out cost every query a
            // second round trip. One idle for longer may have died with the server (a restart,
            // an outage): that one is pinged, and replaced if it does not answer.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= std::time::Duration::from_secs(1) {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        migrator(Self::BACKEND).run(&pool).await?;
        Ok(Self { writer: Writer::spawn(pool.clone()), pool })
    }
}

/// Begins a transaction in a task of its own. sqlx 0.8.6 loses track of a PostgreSQL `BEGIN`
/// whose caller is cancelled while it waits for the answer (a client that hangs up, a
/// timeout; transact-rs/sqlx#4393): the session stays inside that transaction and goes back to
/// the pool, where the next requests' writes on it are neither committed nor seen by anyone
/// else. In its own task the `BEGIN` completes whatever happens to the request, and a handle
/// nobody awaits any more is dropped there, which rolls the transaction back properly.
pub(super) async fn begin<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> StoreResult<sqlx::Transaction<'static, DB>> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move { pool.begin().await }).await;
    Ok(begun.map_err(|e| StoreError::Unavailable(format!("beginning a transaction: {e}")))??)
}

/// Opens the database named by `url` (`sqlite:` or `postgres:`), creating an SQLite file if
/// needed, and applies the pending migrations.
pub async fn connect(url: &str, db: &DatabaseSettings) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, db).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::connect(url, db).await?))
    } else {
        Err(StoreError::Unavailable("DATABASE_URL must start with sqlite: or postgres:".into()))
    }
}

/// Names each store's sqlx database type and back-end name, so that a macro body written once
/// can spell its transactions and answer `backend()`.
pub(super) trait StoreDb {
    /// The sqlx database.
    type Db: sqlx::Database;
    /// `"sqlite"` or `"postgres"`.
    const BACKEND: &'static str;
}
impl StoreDb for SqliteStore {
    type Db = sqlx::Sqlite;
    const BACKEND: &'static str = "sqlite";
}
impl StoreDb for PostgresStore {
    type Db = sqlx::Postgres;
    const BACKEND: &'static str = "postgres";
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            // The database went away while migrating: worth trying again.
            sqlx::migrate::MigrateError::Execute(e) => StoreError::Unavailable(format!("migration failed: {e}")),
            // An applied migration differs from this binary's, or one failed half-way: an
            // operator must look.
            e => StoreError::Schema(e.to_string()),
        }
    }
}
