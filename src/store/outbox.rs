//! The back-channel logout outbox: notices that [`super::SessionStore::end_session`] queued in
//! the transaction that ended their session, claimed by one instance at a time with a lease,
//! and removed once delivered.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    LogoutNotice, StoreResult,
};

/// Claiming, settling and inspecting queued logout notices.
#[async_trait]
pub trait LogoutOutboxStore: Send + Sync {
    /// Leases up to `limit` notices that are due at `now` (not given up, next attempt reached,
    /// no live lease) until `lease_until`, and returns them. One statement whose `UPDATE`
    /// re-checks the condition, so of several instances claiming at once each notice goes to
    /// one (PostgreSQL re-evaluates the condition on a row another transaction just changed).
    async fn claim_logout_notices(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<LogoutNotice>>;
    /// The notice was delivered: it leaves the outbox.
    async fn logout_notice_delivered(&self, id: i64) -> StoreResult<()>;
    /// An attempt failed with `error` (short, no secrets): the lease ends and the next attempt
    /// waits until `next_attempt_at`, or never when `given_up_at` is set.
    async fn logout_notice_failed(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
        given_up_at: Option<i64>,
    ) -> StoreResult<()>;
    /// How many notices are still to be delivered (not given up).
    async fn pending_logout_notices(&self) -> StoreResult<i64>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! outbox_sql {
    ($store:ty) => {
        #[async_trait]
        impl LogoutOutboxStore for $store {
            async fn claim_logout_notices(
                &self,
                now: i64,
                lease_until: i64,
                limit: i64,
            ) -> StoreResult<Vec<LogoutNotice>> {
                Ok(sqlx::query_as::<_, LogoutNotice>(
                    "UPDATE logout_outbox SET lease_until = $2
                     WHERE id IN (SELECT id FROM logout_outbox
                                  WHERE given_up_at IS NULL AND next_attempt_at <= $1 AND lease_until <= $1
                                  ORDER BY next_attempt_at, id LIMIT $3)
                       AND given_up_at IS NULL AND next_attempt_at <= $1 AND lease_until <= $1
                     RETURNING id, jti, client_id, user_id, sid, backchannel_uri, attempts, created_at",
                )
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn logout_notice_delivered(&self, id: i64) -> StoreResult<()> {
                sqlx::query("DELETE FROM logout_outbox WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn logout_notice_failed(
                &self,
                id: i64,
                next_attempt_at: i64,
                error: &str,
                given_up_at: Option<i64>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE logout_outbox SET attempts = attempts + 1, next_attempt_at = $2, lease_until = 0,
                     last_error = $3, given_up_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(next_attempt_at)
                .bind(error)
                .bind(given_up_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_logout_notices(&self) -> StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM logout_outbox WHERE given_up_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }
        }
    };
}

outbox_sql!(SqliteStore);
outbox_sql!(PostgresStore);
