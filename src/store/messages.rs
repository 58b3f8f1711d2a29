//! The message outbox: mail and SMS queued in the transaction that made their code, claimed by
//! one instance at a time with a lease, and removed once the transport accepted them.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    NewMessage, QueuedMessage, StoreResult,
};

/// The insert of a [`NewMessage`] (`$1`…`$6`; the first attempt is due at once).
pub(super) const INSERT_MESSAGE: &str =
    "INSERT INTO message_outbox (channel, recipient, kind, locale, params, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)";

/// Binds a [`NewMessage`] to [`INSERT_MESSAGE`]'s placeholders.
macro_rules! bind_message {
    ($query:expr, $m:expr) => {
        $query.bind($m.channel).bind(&$m.recipient).bind($m.kind).bind($m.locale).bind(&$m.params).bind($m.now)
    };
}
pub(super) use bind_message;

/// Queueing, claiming and settling outgoing messages.
#[async_trait]
pub trait MessageOutboxStore: Send + Sync {
    /// Queues a message that carries no code of its own (a notice, a reset request).
    async fn enqueue_message(&self, message: &NewMessage) -> StoreResult<()>;
    /// Leases up to `limit` messages due at `now` until `lease_until` and returns them; one
    /// statement that re-checks its condition, so of several instances each message goes to
    /// one (as [`super::LogoutOutboxStore::claim_logout_notices`]).
    async fn claim_messages(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<QueuedMessage>>;
    /// The message was accepted by its transport (or needs no sending): it leaves the outbox,
    /// and with it any code it carried in clear.
    async fn message_done(&self, id: i64) -> StoreResult<()>;
    /// An attempt failed with `error` (short, no secrets): the lease ends and the next attempt
    /// waits until `next_attempt_at`, or never when `given_up_at` is set.
    async fn message_failed(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
        given_up_at: Option<i64>,
    ) -> StoreResult<()>;
    /// How many messages are still to be sent (not given up).
    async fn pending_messages(&self) -> StoreResult<i64>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! message_sql {
    ($store:ty) => {
        #[async_trait]
        impl MessageOutboxStore for $store {
            async fn enqueue_message(&self, m: &NewMessage) -> StoreResult<()> {
                bind_message!(sqlx::query(INSERT_MESSAGE), m).execute(&self.pool).await?;
                Ok(())
            }

            async fn claim_messages(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<QueuedMessage>> {
                Ok(sqlx::query_as::<_, QueuedMessage>(
                    "UPDATE message_outbox SET lease_until = $2
                     WHERE id IN (SELECT id FROM message_outbox
                                  WHERE given_up_at IS NULL AND next_attempt_at <= $1 AND lease_until <= $1
                                  ORDER BY next_attempt_at, id LIMIT $3)
                       AND given_up_at IS NULL AND next_attempt_at <= $1 AND lease_until <= $1
                     RETURNING id, channel, recipient, kind, locale, params, attempts, created_at",
                )
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn message_done(&self, id: i64) -> StoreResult<()> {
                sqlx::query("DELETE FROM message_outbox WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn message_failed(
                &self,
                id: i64,
                next_attempt_at: i64,
                error: &str,
                given_up_at: Option<i64>,
            ) -> StoreResult<()> {
                // A given-up message keeps its error for the operator, not its code.
                sqlx::query(
                    "UPDATE message_outbox SET attempts = attempts + 1, next_attempt_at = $2, lease_until = 0,
                     last_error = $3, given_up_at = $4,
                     params = CASE WHEN $4 IS NULL THEN params ELSE '{}' END
                     WHERE id = $1",
                )
                .bind(id)
                .bind(next_attempt_at)
                .bind(error)
                .bind(given_up_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_messages(&self) -> StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM message_outbox WHERE given_up_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }
        }
    };
}

message_sql!(SqliteStore);
message_sql!(PostgresStore);
