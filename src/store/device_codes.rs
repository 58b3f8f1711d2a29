//! Device authorization requests (RFC 8628): created by the device authorization endpoint,
//! decided on the `/o/device/` page, polled and redeemed once at the token endpoint. Both
//! codes arrive hashed.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreError, StoreResult,
};
use crate::oauth::{
    device::{self, DevicePollState, DeviceStatus, PollOutcome},
    scope::Scope,
};

/// A device authorization request to store.
#[derive(Clone, Debug)]
pub struct NewDeviceCode {
    /// SHA-256 of the device code.
    pub device_hash: String,
    /// Keyed hash of the user code (normalised, without the dash).
    pub user_code_hash: String,
    /// The client that asked.
    pub client_id: String,
    /// The scope it asked for (already resolved against the client's).
    pub scope: Scope,
    /// Seconds between polls.
    pub interval: i64,
    /// Unix seconds.
    pub now: i64,
    /// When both codes stop working.
    pub expires_at: i64,
}

/// A pending request as the verification page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingDevice {
    /// The client that asked.
    pub client_id: String,
    /// What it asked for.
    pub scope: Scope,
    /// When it expires.
    pub expires_at: i64,
}

/// What an approved request grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceGrant {
    /// The user who approved.
    pub user_id: i64,
    /// The scope approved.
    pub scope: Scope,
    /// When that user signed in.
    pub auth_time: i64,
}

/// What a poll found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DevicePoll {
    /// No such device code.
    Unknown,
    /// An answer other than tokens (see [`PollOutcome`]).
    Refused(PollOutcome),
    /// Approved and now consumed: the caller issues the tokens.
    Issue(DeviceGrant),
}

/// Device authorization requests.
#[async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// Stores a new request; `Conflict` if either hash exists already (a user code collision:
    /// the caller draws another).
    async fn insert_device_code(&self, code: &NewDeviceCode) -> StoreResult<()>;
    /// The undecided, unexpired request with this user code.
    async fn pending_device_code(&self, user_code_hash: &str, now: i64) -> StoreResult<Option<PendingDevice>>;
    /// Records the user's decision on an undecided, unexpired request; false if there is none
    /// (decided meanwhile, expired, unknown). One statement, so only one decision counts.
    async fn decide_device_code(
        &self,
        user_code_hash: &str,
        user_id: i64,
        auth_time: i64,
        approve: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// One poll by `client_id` at `now`, in one transaction: decides it with
    /// [`device::poll`], records the poll (and a longer interval after `slow_down`), and
    /// consumes an approved request, so exactly one poll can get [`DevicePoll::Issue`].
    async fn poll_device_code(&self, device_hash: &str, client_id: &str, now: i64) -> StoreResult<DevicePoll>;
}

type PollRow = (String, String, String, Option<i64>, Option<i64>, i64, Option<i64>, i64, Option<i64>);

fn scope_of(s: &str) -> StoreResult<Scope> {
    if s.is_empty() {
        return Ok(Scope::default());
    }
    Scope::parse(s).map_err(|e| StoreError::Corrupt(format!("device code scope: {}", e.description)))
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! device_sql {
    ($store:ty) => {
        #[async_trait]
        impl DeviceCodeStore for $store {
            async fn insert_device_code(&self, c: &NewDeviceCode) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO device_codes (device_hash, user_code_hash, client_id, scope, status, interval_secs,
                        created_at, expires_at)
                     VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)",
                )
                .bind(&c.device_hash)
                .bind(&c.user_code_hash)
                .bind(&c.client_id)
                .bind(c.scope.to_string())
                .bind(c.interval)
                .bind(c.now)
                .bind(c.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_device_code(&self, user_code_hash: &str, now: i64) -> StoreResult<Option<PendingDevice>> {
                let row: Option<(String, String, i64)> = sqlx::query_as(
                    "SELECT client_id, scope, expires_at FROM device_codes
                     WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2",
                )
                .bind(user_code_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(client_id, scope, expires_at)| Ok(PendingDevice { client_id, scope: scope_of(&scope)?, expires_at }))
                    .transpose()
            }

            async fn decide_device_code(
                &self,
                user_code_hash: &str,
                user_id: i64,
                auth_time: i64,
                approve: bool,
                now: i64,
            ) -> StoreResult<bool> {
                let status = if approve { DeviceStatus::Approved } else { DeviceStatus::Denied };
                let done = sqlx::query(
                    "UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3
                     WHERE user_code_hash = $4 AND status = 'pending' AND expires_at > $5",
                )
                .bind(status.as_str())
                .bind(user_id)
                .bind(auth_time)
                .bind(user_code_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn poll_device_code(&self, device_hash: &str, client_id: &str, now: i64) -> StoreResult<DevicePoll> {
                let mut tx = super::sql::begin(&self.pool).await?;
                // Writes first (see the module documentation of `store`): locks the row.
                sqlx::query("UPDATE device_codes SET polled_at = polled_at WHERE device_hash = $1")
                    .bind(device_hash)
                    .execute(&mut *tx)
                    .await?;
                let row: Option<PollRow> = sqlx::query_as(
                    "SELECT client_id, scope, status, user_id, auth_time, interval_secs, polled_at, expires_at, consumed_at
                     FROM device_codes WHERE device_hash = $1",
                )
                .bind(device_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((owner, scope, status, user_id, auth_time, interval, polled_at, expires_at, consumed_at)) = row
                else {
                    return Ok(DevicePoll::Unknown);
                };
                let status = DeviceStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("device code status {status:?}")))?;
                let state = DevicePollState {
                    client_id: owner,
                    status,
                    interval,
                    polled_at,
                    expires_at,
                    consumed: consumed_at.is_some(),
                };
                let outcome = device::poll(&state, client_id, now);
                let (next_interval, consumed) = match outcome {
                    // Another client's poll, or one after the end, changes nothing.
                    PollOutcome::Invalid | PollOutcome::Expired => {
                        tx.commit().await?;
                        return Ok(DevicePoll::Refused(outcome));
                    }
                    PollOutcome::SlowDown => (interval + device::SLOW_DOWN_STEP, None),
                    PollOutcome::Issue => (interval, Some(now)),
                    PollOutcome::Pending | PollOutcome::Denied => (interval, None),
                };
                sqlx::query(
                    "UPDATE device_codes SET polled_at = $1, interval_secs = $2, consumed_at = COALESCE($3, consumed_at)
                     WHERE device_hash = $4",
                )
                .bind(now)
                .bind(next_interval)
                .bind(consumed)
                .bind(device_hash)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if outcome != PollOutcome::Issue {
                    return Ok(DevicePoll::Refused(outcome));
                }
                match (user_id, auth_time) {
                    (Some(user_id), Some(auth_time)) => {
                        Ok(DevicePoll::Issue(DeviceGrant { user_id, scope: scope_of(&scope)?, auth_time }))
                    }
                    _ => Err(StoreError::Corrupt("an approved device code without its user".into())),
                }
            }
        }
    };
}

device_sql!(SqliteStore);
device_sql!(PostgresStore);
