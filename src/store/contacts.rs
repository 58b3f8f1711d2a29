//! Verified contacts: the email and phone claims of accounts, the one-time codes sent to
//! them, and verifying a claim (the first account to verify an address wins it).

use async_trait::async_trait;

use super::{
    messages::{bind_message, INSERT_MESSAGE},
    sql::{PostgresStore, SqliteStore},
    users::USER_COLUMNS,
    ContactCode, ContactKind, NewCode, NewMessage, StoreResult, User, Verified,
};

/// A code tried wrong this many times is dead (besides the throttle on its address).
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// Codes, claims and verification.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores a code and queues the message that carries it, in one transaction: a crash
    /// leaves both or neither.
    async fn issue_code(&self, code: &NewCode, message: &NewMessage) -> StoreResult<()>;
    /// How many codes were sent to `address` after `since`, for the account `user_id` (`None`:
    /// for no account) or, with `any_account`, for every account, and for `purpose` only if
    /// given (the per-address limits).
    async fn codes_sent_since(
        &self,
        address: &str,
        user_id: Option<i64>,
        any_account: bool,
        purpose: Option<&str>,
        since: i64,
    ) -> StoreResult<i64>;
    /// The live codes (unused, unexpired, not tried too often) for `purpose` sent to
    /// `address`, newest first.
    async fn live_codes(&self, purpose: &str, address: &str, now: i64) -> StoreResult<Vec<ContactCode>>;
    /// The live code whose link token hashes to `link_hash`.
    async fn code_by_link(&self, link_hash: &str, now: i64) -> StoreResult<Option<ContactCode>>;
    /// Counts a wrong code against every live code for `purpose` at `address`.
    async fn codes_missed(&self, purpose: &str, address: &str, now: i64) -> StoreResult<()>;
    /// Uses the code `id` up; false if it was used or expired meanwhile (so of two requests
    /// with one code, one wins).
    async fn consume_code(&self, id: i64, now: i64) -> StoreResult<bool>;
    /// Uses the code `id` up and marks `user_id`'s claim on `address` verified, dropping every
    /// other account's unverified claim on it, in one transaction. `Conflict` when another
    /// account verified the address first; [`Verified::Stale`] when the code was used or the
    /// account no longer claims the address.
    async fn verify_contact(
        &self,
        code_id: i64,
        user_id: i64,
        kind: ContactKind,
        address: &str,
        now: i64,
    ) -> StoreResult<Verified>;
    /// Sets (or with `None` removes) the account's phone number. The same number keeps its
    /// verification; another is an unverified claim.
    async fn claim_phone(&self, user_id: i64, phone: Option<&str>, now: i64) -> StoreResult<()>;
    /// The account that verified this phone number.
    async fn user_by_verified_phone(&self, phone: &str) -> StoreResult<Option<User>>;
    /// The account that verified this email address (normalised).
    async fn user_by_verified_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Records the language the account's messages are written in.
    async fn set_locale(&self, user_id: i64, locale: &str) -> StoreResult<()>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! contact_sql {
    ($store:ty) => {
        #[async_trait]
        impl ContactStore for $store {
            async fn issue_code(&self, c: &NewCode, m: &NewMessage) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO contact_codes (purpose, address, user_id, link_hash, code_hash, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(c.purpose)
                .bind(&c.address)
                .bind(c.user_id)
                .bind(&c.link_hash)
                .bind(&c.code_hash)
                .bind(c.now)
                .bind(c.expires_at)
                .execute(&mut *tx)
                .await?;
                bind_message!(sqlx::query(INSERT_MESSAGE), m).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn codes_sent_since(
                &self,
                address: &str,
                user_id: Option<i64>,
                any_account: bool,
                purpose: Option<&str>,
                since: i64,
            ) -> StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM contact_codes
                     WHERE address = $1 AND created_at > $2 AND ($4 OR user_id IS NOT DISTINCT FROM $3)
                       AND purpose = COALESCE($5, purpose)",
                )
                .bind(address)
                .bind(since)
                .bind(user_id)
                .bind(any_account)
                .bind(purpose)
                .fetch_one(&self.pool)
                .await?;
                Ok(n)
            }

            async fn live_codes(&self, purpose: &str, address: &str, now: i64) -> StoreResult<Vec<ContactCode>> {
                Ok(sqlx::query_as::<_, ContactCode>(
                    "SELECT id, purpose, address, user_id, code_hash, attempts, created_at, expires_at FROM contact_codes
                     WHERE purpose = $1 AND address = $2 AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4
                     ORDER BY id DESC LIMIT 5",
                )
                .bind(purpose)
                .bind(address)
                .bind(now)
                .bind(MAX_CODE_ATTEMPTS)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn code_by_link(&self, link_hash: &str, now: i64) -> StoreResult<Option<ContactCode>> {
                Ok(sqlx::query_as::<_, ContactCode>(
                    "SELECT id, purpose, address, user_id, code_hash, attempts, created_at, expires_at FROM contact_codes
                     WHERE link_hash = $1 AND consumed_at IS NULL AND expires_at > $2",
                )
                .bind(link_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn codes_missed(&self, purpose: &str, address: &str, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE contact_codes SET attempts = attempts + 1
                     WHERE purpose = $1 AND address = $2 AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4",
                )
                .bind(purpose)
                .bind(address)
                .bind(now)
                .bind(MAX_CODE_ATTEMPTS)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn consume_code(&self, id: i64, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE contact_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn verify_contact(
                &self,
                code_id: i64,
                user_id: i64,
                kind: ContactKind,
                address: &str,
                now: i64,
            ) -> StoreResult<Verified> {
                let (verify, drop_others) = match kind {
                    ContactKind::Email => (
                        "UPDATE users SET email_normalized = email_claim, updated_at = $3 WHERE id = $1 AND email_claim = $2",
                        "UPDATE users SET email = NULL, email_claim = NULL, claim_dropped_at = $3, updated_at = $3
                         WHERE email_claim = $2 AND id <> $1 AND email_normalized IS NULL RETURNING id",
                    ),
                    ContactKind::Phone => (
                        "UPDATE users SET phone_verified = TRUE, updated_at = $3 WHERE id = $1 AND phone_number = $2",
                        "UPDATE users SET phone_number = NULL, claim_dropped_at = $3, updated_at = $3
                         WHERE phone_number = $2 AND id <> $1 AND NOT phone_verified RETURNING id",
                    ),
                };
                let mut tx = super::sql::begin(&self.pool).await?;
                let used = sqlx::query(
                    "UPDATE contact_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2",
                )
                .bind(code_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() != 1 {
                    return Ok(Verified::Stale);
                }
                // A unique violation here: another account verified the address first.
                let set = sqlx::query(verify).bind(user_id).bind(address).bind(now).execute(&mut *tx).await?;
                if set.rows_affected() != 1 {
                    return Ok(Verified::Stale);
                }
                let dropped: Vec<(i64,)> =
                    sqlx::query_as(drop_others).bind(user_id).bind(address).bind(now).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(Verified::Done { dropped: dropped.into_iter().map(|(id,)| id).collect() })
            }

            async fn claim_phone(&self, user_id: i64, phone: Option<&str>, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE users SET phone_verified = (phone_verified AND phone_number IS NOT DISTINCT FROM $2),
                        phone_number = $2, updated_at = $3
                     WHERE id = $1",
                )
                .bind(user_id)
                .bind(phone)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn user_by_verified_phone(&self, phone: &str) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE phone_number = $1 AND phone_verified");
                Ok(sqlx::query_as::<_, User>(&sql).bind(phone).fetch_optional(&self.pool).await?)
            }

            async fn user_by_verified_email(&self, email: &str) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_normalized = $1");
                Ok(sqlx::query_as::<_, User>(&sql).bind(email).fetch_optional(&self.pool).await?)
            }

            async fn set_locale(&self, user_id: i64, locale: &str) -> StoreResult<()> {
                sqlx::query("UPDATE users SET locale = $2 WHERE id = $1 AND locale IS DISTINCT FROM $2")
                    .bind(user_id)
                    .bind(locale)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

contact_sql!(SqliteStore);
contact_sql!(PostgresStore);
