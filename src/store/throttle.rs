//! The sign-in throttle: failed attempts counted per key in a sliding window.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// Counts sign-in attempts per key (a username, an address) so that guessing is slowed down.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Failures recorded under `key` in the window that started at or after `since`.
    async fn failures(&self, key: &str, since: i64) -> StoreResult<i64>;
    /// Counts one attempt under `key` and returns the count in the current window (a window
    /// older than `since` restarts at `now`). One statement, so concurrent attempts each see
    /// their own count and none slips past a limit.
    async fn record_attempt(&self, key: &str, since: i64, now: i64) -> StoreResult<i64>;
    /// Takes back one attempt counted under `key` (it succeeded).
    async fn forgive_attempt(&self, key: &str) -> StoreResult<()>;
    /// Forgets the failures under `key` (after a success).
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! throttle_sql {
    ($store:ty) => {
        #[async_trait]
        impl ThrottleStore for $store {
            async fn failures(&self, key: &str, since: i64) -> StoreResult<i64> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT failures FROM throttle WHERE key = $1 AND window_start >= $2")
                        .bind(key)
                        .bind(since)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map_or(0, |r| r.0))
            }

            async fn record_attempt(&self, key: &str, since: i64, now: i64) -> StoreResult<i64> {
                let (count,): (i64,) = sqlx::query_as(
                    "INSERT INTO throttle (key, failures, window_start) VALUES ($1, 1, $3)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN throttle.window_start >= $2 THEN throttle.failures + 1 ELSE 1 END,
                       window_start = CASE WHEN throttle.window_start >= $2 THEN throttle.window_start ELSE $3 END
                     RETURNING failures",
                )
                .bind(key)
                .bind(since)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(count)
            }

            async fn forgive_attempt(&self, key: &str) -> StoreResult<()> {
                sqlx::query("UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0")
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn clear_failures(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}

throttle_sql!(SqliteStore);
throttle_sql!(PostgresStore);
