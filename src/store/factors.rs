//! Second factors: TOTP secrets (sealed by the service before they get here), the last time
//! step each accepted, and the account's single-use recovery codes (hashed).

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// One stored second factor.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FactorRow {
    /// Row id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// `totp`.
    pub kind: String,
    /// The secret, sealed (AEAD) under the server's factor key.
    pub secret_sealed: String,
    /// When its first code was typed; `None` while the enrolment is in progress.
    pub confirmed_at: Option<i64>,
    /// The last time step whose code was accepted.
    pub last_step: Option<i64>,
    /// When a code of it was last accepted.
    pub last_used_at: Option<i64>,
    /// When the enrolment started.
    pub created_at: i64,
}

const FACTOR_COLUMNS: &str = "id, user_id, kind, secret_sealed, confirmed_at, last_step, last_used_at, created_at";

/// Second factors and recovery codes.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Starts an enrolment: stores an unconfirmed factor for `user_id`, replacing the user's
    /// earlier unconfirmed ones (one enrolment in progress at a time), in one transaction.
    /// Returns its id.
    async fn begin_factor(&self, user_id: i64, kind: &str, secret_sealed: &str, now: i64) -> StoreResult<i64>;
    /// The user's factors, confirmed and in progress, oldest first.
    async fn factors(&self, user_id: i64) -> StoreResult<Vec<FactorRow>>;
    /// Confirms the enrolment `id` of `user_id` with the step its first code was accepted at.
    /// False if it is not an enrolment of that user in progress (confirmed meanwhile, removed).
    async fn confirm_factor(&self, id: i64, user_id: i64, step: i64, now: i64) -> StoreResult<bool>;
    /// Records that the confirmed factor `id` accepted the code of `step`, only if `step` is
    /// after its last accepted one: one statement, so of two requests with one code (on any
    /// instances), exactly one is accepted. False for the other (a replay).
    async fn accept_step(&self, id: i64, step: i64, now: i64) -> StoreResult<bool>;
    /// Removes the factor `id` of `user_id`; when the user has no confirmed factor and no
    /// passkey left, their recovery codes go too (one transaction). False if there was no such factor.
    async fn delete_factor(&self, user_id: i64, id: i64) -> StoreResult<bool>;
    /// Removes every factor, passkey and recovery code of `user_id` (an admin's reset); how
    /// many factors and passkeys went.
    async fn delete_all_factors(&self, user_id: i64) -> StoreResult<u64>;
    /// Replaces the user's recovery codes with `hashes` (one transaction: the old ones stop
    /// working as the new ones start).
    async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String], now: i64) -> StoreResult<()>;
    /// Uses up the recovery code `hash` of `user_id`: false if it is not one of theirs or was
    /// used already (one statement, so it works once even under concurrency).
    async fn use_recovery_code(&self, user_id: i64, hash: &str, now: i64) -> StoreResult<bool>;
    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, user_id: i64) -> StoreResult<i64>;
    /// Which of `user_ids` have a confirmed second factor (the admin users page).
    async fn users_with_factors(&self, user_ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// The client's second-factor switches; `None` for an unknown client.
    async fn client_factor_policy(&self, client_id: &str) -> StoreResult<Option<ClientFactorPolicy>>;
    /// Sets the client's second-factor switches; false for an unknown client.
    async fn set_client_factor_policy(&self, client_id: &str, policy: ClientFactorPolicy) -> StoreResult<bool>;
}

/// What a client demands of, and allows, accounts with a second factor (an operator's
/// switches, both off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientFactorPolicy {
    /// Its users must have passed a second factor (step-up at the authorization endpoint).
    pub require_mfa: bool,
    /// The password grant still works for accounts with a second factor.
    pub mfa_password_grant: bool,
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! factor_sql {
    ($store:ty) => {
        #[async_trait]
        impl FactorStore for $store {
            async fn begin_factor(&self, user_id: i64, kind: &str, secret_sealed: &str, now: i64) -> StoreResult<i64> {
                let mut tx = self.pool.begin().await?;
                // Writes first (see the module documentation of `store`).
                sqlx::query("DELETE FROM second_factors WHERE user_id = $1 AND confirmed_at IS NULL")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO second_factors (user_id, kind, secret_sealed, created_at) VALUES ($1, $2, $3, $4)
                     RETURNING id",
                )
                .bind(user_id)
                .bind(kind)
                .bind(secret_sealed)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn factors(&self, user_id: i64) -> StoreResult<Vec<FactorRow>> {
                let sql = format!("SELECT {FACTOR_COLUMNS} FROM second_factors WHERE user_id = $1 ORDER BY id");
                Ok(sqlx::query_as::<_, FactorRow>(&sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn confirm_factor(&self, id: i64, user_id: i64, step: i64, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE second_factors SET confirmed_at = $1, last_step = $2, last_used_at = $1
                     WHERE id = $3 AND user_id = $4 AND confirmed_at IS NULL",
                )
                .bind(now)
                .bind(step)
                .bind(id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn accept_step(&self, id: i64, step: i64, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE second_factors SET last_step = $1, last_used_at = $2
                     WHERE id = $3 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
                )
                .bind(step)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_factor(&self, user_id: i64, id: i64) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let gone = sqlx::query("DELETE FROM second_factors WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let (left,): (i64,) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM second_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)
                          + (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)",
                )
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
                if left == 0 {
                    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(gone == 1)
            }

            async fn delete_all_factors(&self, user_id: i64) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let gone = sqlx::query("DELETE FROM second_factors WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let keys = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(gone + keys)
            }

            async fn replace_recovery_codes(&self, user_id: i64, hashes: &[String], now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for hash in hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
                        .bind(user_id)
                        .bind(hash)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn use_recovery_code(&self, user_id: i64, hash: &str, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(user_id)
                .bind(hash)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user_id: i64) -> StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                        .bind(user_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n)
            }

            async fn users_with_factors(&self, user_ids: &[i64]) -> StoreResult<Vec<i64>> {
                let mut found = Vec::new();
                for chunk in user_ids.chunks(100) {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT user_id FROM second_factors WHERE confirmed_at IS NOT NULL AND user_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(") UNION SELECT user_id FROM passkeys WHERE user_id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    let rows: Vec<(i64,)> = q.build_query_as().fetch_all(&self.pool).await?;
                    found.extend(rows.into_iter().map(|(id,)| id));
                }
                Ok(found)
            }

            async fn client_factor_policy(&self, client_id: &str) -> StoreResult<Option<ClientFactorPolicy>> {
                Ok(sqlx::query_as::<_, ClientFactorPolicy>(
                    "SELECT require_mfa, mfa_password_grant FROM clients WHERE client_id = $1",
                )
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn set_client_factor_policy(&self, client_id: &str, policy: ClientFactorPolicy) -> StoreResult<bool> {
                let done =
                    sqlx::query("UPDATE clients SET require_mfa = $1, mfa_password_grant = $2 WHERE client_id = $3")
                        .bind(policy.require_mfa)
                        .bind(policy.mfa_password_grant)
                        .bind(client_id)
                        .execute(&self.pool)
                        .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

factor_sql!(SqliteStore);
factor_sql!(PostgresStore);
