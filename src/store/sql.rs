//! The plumbing every role shares: the two pools, opening and migrating them, and the mapping
//! of sqlx errors. The role modules implement their traits for both stores with one macro
//! body each, so every statement exists once.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

use super::{Store, StoreError, StoreResult};

/// The embedded default: one SQLite file in WAL mode.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

/// The scale-out back end: several stateless instances share one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(super) pool: PgPool,
}

impl SqliteStore {
    /// Opens (creating if missing) the SQLite database at `url` and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// Connects to the PostgreSQL database at `url` and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// Opens the database named by `url` (`sqlite:` or `postgres:`), creating an SQLite file if
/// needed, and applies the pending migrations.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
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
        StoreError::Unavailable(format!("migration failed: {e}"))
    }
}
