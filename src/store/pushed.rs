//! Pushed authorization requests (RFC 9126): stored at the push under the hash of the
//! request_uri's random part, read at the authorization endpoint, marked used once answered.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// A stored push.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PushedRecord {
    /// The client that pushed it.
    pub client_id: String,
    /// The request's parameters, form-encoded, without client credentials.
    pub params: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// When a browser first brought it to the authorization endpoint.
    pub opened_at: Option<i64>,
    /// When an authorization response was sent for it.
    pub used_at: Option<i64>,
}

/// Pushed authorization requests.
#[async_trait]
pub trait PushedRequestStore: Send + Sync {
    /// Stores a push.
    async fn push_request(
        &self,
        request_hash: &str,
        client_id: &str,
        params: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The push with this hash, in whatever state it is.
    async fn pushed_request(&self, request_hash: &str) -> StoreResult<Option<PushedRecord>>;
    /// The first arrival at the authorization endpoint: the push lives until `expires_at` from
    /// now on. Only the first call changes anything.
    async fn open_pushed_request(&self, request_hash: &str, now: i64, expires_at: i64) -> StoreResult<()>;
    /// Replaces the stored parameters (after a sign-in satisfied `prompt=login`, say).
    async fn update_pushed_request(&self, request_hash: &str, params: &str) -> StoreResult<()>;
    /// Marks it answered; true for the one call that did (a push answers once).
    async fn use_pushed_request(&self, request_hash: &str, now: i64) -> StoreResult<bool>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! pushed_sql {
    ($store:ty) => {
        #[async_trait]
        impl PushedRequestStore for $store {
            async fn push_request(
                &self,
                request_hash: &str,
                client_id: &str,
                params: &str,
                now: i64,
                expires_at: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO pushed_requests (request_hash, client_id, params, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(request_hash)
                .bind(client_id)
                .bind(params)
                .bind(now)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pushed_request(&self, request_hash: &str) -> StoreResult<Option<PushedRecord>> {
                Ok(sqlx::query_as(
                    "SELECT client_id, params, expires_at, opened_at, used_at FROM pushed_requests
                     WHERE request_hash = $1",
                )
                .bind(request_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn open_pushed_request(&self, request_hash: &str, now: i64, expires_at: i64) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE pushed_requests SET opened_at = $1, expires_at = $2
                     WHERE request_hash = $3 AND opened_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .bind(expires_at)
                .bind(request_hash)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn update_pushed_request(&self, request_hash: &str, params: &str) -> StoreResult<()> {
                sqlx::query("UPDATE pushed_requests SET params = $1 WHERE request_hash = $2 AND used_at IS NULL")
                    .bind(params)
                    .bind(request_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn use_pushed_request(&self, request_hash: &str, now: i64) -> StoreResult<bool> {
                let done =
                    sqlx::query("UPDATE pushed_requests SET used_at = $1 WHERE request_hash = $2 AND used_at IS NULL")
                        .bind(now)
                        .bind(request_hash)
                        .execute(&self.pool)
                        .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pushed_sql!(SqliteStore);
pushed_sql!(PostgresStore);
