//! What concerns the database as a whole rather than one kind of record: which back end it
//! is, whether it answers, the secrets every instance shares, and the housekeeping sweep.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore, StoreDb},
    StoreResult,
};

/// The back end itself, the secrets shared by every instance, and the housekeeping sweep.
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
    /// Deletes what can no longer be used: codes a day after expiry (kept that long so a late
    /// replay still revokes its tokens), expired access and refresh tokens, ended sessions,
    /// and throttle windows older than `throttle_since`. Returns how many rows went.
    async fn purge_expired(&self, now: i64, idle_since: i64, throttle_since: i64) -> StoreResult<u64>;
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

            async fn purge_expired(&self, now: i64, idle_since: i64, throttle_since: i64) -> StoreResult<u64> {
                let statements: [(&str, i64, Option<i64>); 7] = [
                    ("DELETE FROM auth_codes WHERE expires_at < $1", now - 86_400, None),
                    ("DELETE FROM access_tokens WHERE expires_at < $1", now, None),
                    ("DELETE FROM refresh_tokens WHERE expires_at < $1", now, None),
                    ("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2", now, Some(idle_since)),
                    ("DELETE FROM throttle WHERE window_start < $1", throttle_since, None),
                    ("DELETE FROM username_tombstones WHERE released_at < $1", now, None),
                    ("DELETE FROM session_clients WHERE created_at < $1
                       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_hash = session_clients.session_hash)", now - 60, None),
                ];
                let mut gone = 0;
                for (sql, first, second) in statements {
                    let mut q = sqlx::query(sql).bind(first);
                    if let Some(second) = second {
                        q = q.bind(second);
                    }
                    gone += q.execute(&self.pool).await?.rows_affected();
                }
                Ok(gone)
            }
        }
    };
}

server_sql!(SqliteStore);
server_sql!(PostgresStore);
