//! The security event trail: written once, listed with filters, purged after the retention.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// An event to record. Never holds a secret: `detail` is a short reason or a name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvent {
    /// Unix seconds.
    pub at: i64,
    /// What happened, e.g. `sign_in.failure` (see `service::events::EventKind`).
    pub kind: String,
    /// The account it concerns.
    pub user_id: Option<i64>,
    /// Who acted, when not the account itself (an admin).
    pub actor_id: Option<i64>,
    /// The client it concerns.
    pub client_id: Option<String>,
    /// The client address.
    pub ip: String,
    /// The browser, if any.
    pub user_agent: String,
    /// A short reason or name, e.g. `wrong_password`.
    pub detail: String,
}

/// A recorded event.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct EventRow {
    /// Increasing.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened.
    pub kind: String,
    /// The account it concerns.
    pub user_id: Option<i64>,
    /// Who acted, when not the account itself.
    pub actor_id: Option<i64>,
    /// The client it concerns.
    pub client_id: Option<String>,
    /// The client address.
    pub ip: String,
    /// The browser, if any.
    pub user_agent: String,
    /// A short reason or name.
    pub detail: String,
}

/// Which events to list: every given field must match; newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Kinds starting with this (`sign_in` matches `sign_in.success` and `sign_in.failure`).
    pub kind: Option<String>,
    /// The account.
    pub user_id: Option<i64>,
    /// The client address.
    pub ip: Option<String>,
    /// Only events with a smaller id (paging).
    pub before_id: Option<i64>,
    /// At most this many (1-500).
    pub limit: i64,
}

/// The event trail.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends an event.
    async fn record_event(&self, event: &NewEvent) -> StoreResult<()>;
    /// Events matching `filter`, newest first.
    async fn events(&self, filter: &EventFilter) -> StoreResult<Vec<EventRow>>;
    /// Whether `user_id` ever signed in successfully from `ip` (within the retention).
    async fn signed_in_from(&self, user_id: i64, ip: &str) -> StoreResult<bool>;
}

/// The kind of a successful sign-in, which [`EventStore::signed_in_from`] looks for.
pub const SIGN_IN_SUCCESS: &str = "sign_in.success";

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! event_sql {
    ($store:ty) => {
        #[async_trait]
        impl EventStore for $store {
            async fn record_event(&self, e: &NewEvent) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO events (at, kind, user_id, actor_id, client_id, ip, user_agent, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(e.at)
                .bind(&e.kind)
                .bind(e.user_id)
                .bind(e.actor_id)
                .bind(&e.client_id)
                .bind(&e.ip)
                .bind(&e.user_agent)
                .bind(&e.detail)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn events(&self, f: &EventFilter) -> StoreResult<Vec<EventRow>> {
                // `kind` is matched as a prefix without LIKE, whose wildcards a filter could hold.
                let rows = sqlx::query_as::<_, EventRow>(
                    "SELECT id, at, kind, user_id, actor_id, client_id, ip, user_agent, detail FROM events
                     WHERE ($1 IS NULL OR substr(kind, 1, length($1)) = $1)
                       AND ($2 IS NULL OR user_id = $2)
                       AND ($3 IS NULL OR ip = $3)
                       AND ($4 IS NULL OR id < $4)
                     ORDER BY id DESC LIMIT $5",
                )
                .bind(&f.kind)
                .bind(f.user_id)
                .bind(&f.ip)
                .bind(f.before_id)
                .bind(f.limit.clamp(1, 500))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn signed_in_from(&self, user_id: i64, ip: &str) -> StoreResult<bool> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM events WHERE user_id = $1 AND kind = $2 AND ip = $3 LIMIT 1")
                        .bind(user_id)
                        .bind(SIGN_IN_SUCCESS)
                        .bind(ip)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.is_some())
            }
        }
    };
}

event_sql!(SqliteStore);
event_sql!(PostgresStore);
