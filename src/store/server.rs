//! What concerns the database as a whole rather than one kind of record: which back end it
//! is, whether it answers, and the secrets every instance shares.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore, StoreDb},
    StoreResult,
};

/// The back end itself and the secrets shared by every instance.
#[async_trait]
pub trait ServerStore: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;
    /// How many of this binary's migrations the database has not applied (another instance
    /// may be half-way through an upgrade, or the database was restored from an old copy).
    async fn pending_migrations(&self) -> StoreResult<usize>;
    /// The connection pool: (open connections, idle ones).
    fn pool_usage(&self) -> (u32, usize);
    /// The secret stored under `name`; the first caller's `candidate` becomes it, so every
    /// instance sharing the database agrees.
    async fn shared_secret(&self, name: &str, candidate: &str, now: i64) -> StoreResult<String>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! server_sql {
    ($store:ty) => {
        #[async_trait]
        impl ServerStore for $store {
            fn backend(&self) -> &'static str {
                <$store as StoreDb>::BACKEND
            }

            fn pool_usage(&self) -> (u32, usize) {
                (self.pool.size(), self.pool.num_idle())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn pending_migrations(&self) -> StoreResult<usize> {
                let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&self.pool)
                    .await?;
                let applied: std::collections::HashSet<i64> = applied.into_iter().map(|(v,)| v).collect();
                let ours = super::sql::migrator(<$store as StoreDb>::BACKEND);
                Ok(ours.iter().filter(|m| !applied.contains(&m.version)).count())
            }

            async fn shared_secret(&self, name: &str, candidate: &str, now: i64) -> StoreResult<String> {
                sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(candidate)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                let (value,): (String,) = sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(value)
            }
        }
    };
}

server_sql!(SqliteStore);
server_sql!(PostgresStore);
