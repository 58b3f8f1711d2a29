//! The sign-in throttle's counters: per key, the failures in the current window, the attempts
//! being checked right now, and when the next attempt may start. The policy (which keys, what
//! budgets, how long the delays) is `service::throttle`'s; this module only counts, each step
//! in one statement so that concurrent attempts on several instances never see the same count.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// The answer to a request to start one attempt under a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Counted as pending: go ahead, then settle it.
    Granted,
    /// The budget is taken by attempts still being checked: ask again shortly.
    Busy,
    /// Refused until this time (unix seconds).
    Blocked {
        /// When the next attempt may start.
        until: i64,
    },
}

/// A key's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleRow {
    /// Failures in the current window.
    pub failures: i64,
    /// When the current window started.
    pub window_start: i64,
}

/// Counts attempts per key (an account, an address, both) so that guessing is slowed down.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Starts one attempt under `key` if its budget allows: fewer than `free` failures and
    /// pending attempts together in the window that started at or after `since`, or, past the
    /// budget, no attempt pending and `next_allowed` set and reached (0 past the budget means
    /// a delay is being set: wait). A window older than `since` starts again at `now`.
    async fn reserve_attempt(&self, key: &str, since: i64, now: i64, free: i64) -> StoreResult<Reservation>;
    /// Ends a granted attempt. A failure is counted and the counters after it returned (one
    /// that reaches `free` clears `next_allowed`, so nothing starts until
    /// [`ThrottleStore::block_attempts`] sets the next delay); a success with `reset` forgets
    /// the key's failures; anything else just ends the attempt.
    async fn settle_attempt(&self, key: &str, failed: bool, reset: bool, free: i64)
        -> StoreResult<Option<ThrottleRow>>;
    /// No attempt under `key` may start before `until`.
    async fn block_attempts(&self, key: &str, until: i64) -> StoreResult<()>;
    /// Records a single-use value (the digest of a CAPTCHA answer or of a DPoP proof's `jti`)
    /// as used until `expires_at`; false if it was used already, here or on another instance.
    async fn spend_once(&self, digest: &str, expires_at: i64) -> StoreResult<bool>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! throttle_sql {
    ($store:ty) => {
        #[async_trait]
        impl ThrottleStore for $store {
            async fn reserve_attempt(&self, key: &str, since: i64, now: i64, free: i64) -> StoreResult<Reservation> {
                // The WHERE of the upsert is the budget check, so counting and checking are
                // one step: on conflict the row is locked (PostgreSQL) or the database is
                // (SQLite) while the condition is evaluated against the latest counts.
                let granted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO throttle (key, failures, pending, window_start, next_allowed) VALUES ($1, 0, 1, $3, 0)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN throttle.window_start < $2 THEN 0 ELSE throttle.failures END,
                       next_allowed = CASE WHEN throttle.window_start < $2 THEN 0 ELSE throttle.next_allowed END,
                       pending = CASE WHEN throttle.window_start < $2 THEN 1 ELSE throttle.pending + 1 END,
                       window_start = CASE WHEN throttle.window_start < $2 THEN $3 ELSE throttle.window_start END
                     WHERE throttle.window_start < $2
                        OR throttle.failures + throttle.pending < $4
                        OR (throttle.pending = 0 AND throttle.next_allowed > 0 AND throttle.next_allowed <= $3)
                     RETURNING failures",
                )
                .bind(key)
                .bind(since)
                .bind(now)
                .bind(free)
                .fetch_optional(&self.pool)
                .await?;
                if granted.is_some() {
                    return Ok(Reservation::Granted);
                }
                let row: Option<(i64, i64, i64)> =
                    sqlx::query_as("SELECT failures, pending, next_allowed FROM throttle WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(match row {
                    Some((failures, _, next_allowed)) if failures >= free && next_allowed > now => {
                        Reservation::Blocked { until: next_allowed }
                    }
                    _ => Reservation::Busy,
                })
            }

            async fn settle_attempt(&self, key: &str, failed: bool, reset: bool, free: i64) -> StoreResult<Option<ThrottleRow>> {
                let sql = match (failed, reset) {
                    (true, _) => {
                        "UPDATE throttle SET failures = failures + 1,
                           pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END,
                           next_allowed = CASE WHEN failures + 1 >= $2 THEN 0 ELSE next_allowed END
                         WHERE key = $1 RETURNING failures, window_start"
                    }
                    (false, true) => {
                        "UPDATE throttle SET failures = 0, next_allowed = 0,
                           pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END
                         WHERE key = $1 RETURNING failures, window_start"
                    }
                    (false, false) => {
                        "UPDATE throttle SET pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END
                         WHERE key = $1 RETURNING failures, window_start"
                    }
                };
                let mut q = sqlx::query_as(sql).bind(key);
                if failed {
                    q = q.bind(free);
                }
                let row: Option<(i64, i64)> = q.fetch_optional(&self.pool).await?;
                Ok(row.map(|(failures, window_start)| ThrottleRow { failures, window_start }))
            }

            async fn block_attempts(&self, key: &str, until: i64) -> StoreResult<()> {
                sqlx::query("UPDATE throttle SET next_allowed = $2 WHERE key = $1")
                    .bind(key)
                    .bind(until)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn spend_once(&self, digest: &str, expires_at: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO spent_once (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
                )
                .bind(digest)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

throttle_sql!(SqliteStore);
throttle_sql!(PostgresStore);
