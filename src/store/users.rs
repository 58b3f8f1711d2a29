//! Accounts: creating, finding, changing and deleting users, and the tombstones that hold a
//! deleted account's username back.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    NewUser, StoreError, StoreResult, User,
};

/// Accounts and the usernames they hold (including those held back after a deletion).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict` when the normalised username or email is taken, or the
    /// username belonged to an account deleted less than the cool-down ago.
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    /// The user whose normalised username or normalised email equals `login`.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    /// The user with this id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    /// Every user, by id.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Replaces the password hash (`None` removes the local password). False if no such user.
    async fn set_password_hash(&self, user_id: i64, hash: Option<&str>, now: i64) -> StoreResult<bool>;
    /// Enables or disables an account. False if no such user.
    async fn set_user_active(&self, user_id: i64, active: bool, now: i64) -> StoreResult<bool>;
    /// One page of users by id: those after `after_id` whose username, email, phone number or
    /// display name contains `needle` (in any case) when given, at most `limit`.
    async fn users_page(&self, needle: Option<&str>, after_id: i64, limit: i64) -> StoreResult<Vec<User>>;
    /// Replaces display name and email. A changed address (normalised) is an unverified claim
    /// until verified; the same address keeps its verification.
    async fn update_profile(
        &self,
        user_id: i64,
        display_name: &str,
        email: Option<&str>,
        email_normalized: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// Ends every session of the user and revokes every token issued for them, in one
    /// transaction.
    async fn end_user_access(&self, user_id: i64, now: i64) -> StoreResult<()>;
    /// Deletes the user (and, by cascade, their sessions, tokens, consents, identities and
    /// developer apps) and holds their username back until `released_at`, in one transaction.
    /// False if no such user.
    async fn delete_user(&self, user_id: i64, released_at: i64) -> StoreResult<bool>;
}

/// The columns a [`User`] is read from.
pub(super) const USER_COLUMNS: &str = "id, username, email, (email_normalized IS NOT NULL) AS email_verified, \
     display_name, password_hash, active, admin, created_at, phone_number, phone_verified, locale, \
     claim_dropped_at";

/// The insert of a [`NewUser`] (`$1`…`$10`, `$8` is now), shared with the accounts opened by
/// a provider sign-in: the normalised address is always the claim, and the verified address
/// too when `$11` says it is verified; a phone given at creation is a verified one.
pub(super) const INSERT_USER: &str = "INSERT INTO users (username, username_normalized, email, email_claim,
        email_normalized, display_name, password_hash, admin, created_at, updated_at, phone_number, phone_verified, locale)
     SELECT $1, $2, $3, $4, CASE WHEN $11 THEN $4 END, $5, $6, $7, $8, $8, $9, $9 IS NOT NULL, $10
     WHERE NOT EXISTS (SELECT 1 FROM username_tombstones WHERE username_normalized = $2 AND released_at > $8)";

/// Binds a [`NewUser`] to [`INSERT_USER`]'s placeholders.
macro_rules! bind_new_user {
    ($query:expr, $u:expr) => {
        $query
            .bind(&$u.username)
            .bind(&$u.username_normalized)
            .bind(&$u.email)
            .bind(&$u.email_normalized)
            .bind(&$u.display_name)
            .bind(&$u.password_hash)
            .bind($u.admin)
            .bind($u.now)
            .bind(&$u.phone_number)
            .bind(&$u.locale)
            .bind($u.email_verified)
    };
}
pub(super) use bind_new_user;

/// Users with a searched field containing `$1`, a [`like_pattern`]: read row by row, unless
/// PostgreSQL's trigram indexes (migration 0019) answer it.
const SEARCH_BY_LIKE: &str = "(username_normalized LIKE $1 ESCAPE '\\' OR email_claim LIKE $1 ESCAPE '\\'
     OR phone_number LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\')";

/// The same on SQLite through its trigram index (migration 0019), for `$1` a
/// [`trigram_phrase`] of three or more characters. The index yields matches in id order, so
/// the page (`$3` after, `$2` rows) is cut there: a needle in every row costs no more than
/// a rare one.
const SEARCH_BY_TRIGRAMS: &str =
    "id IN (SELECT rowid FROM users_search WHERE users_search MATCH $1 AND rowid > $3 ORDER BY rowid LIMIT $2)";

/// `%needle%` in lower case, with LIKE's wildcards escaped.
fn like_pattern(needle: &str) -> String {
    let escaped: String = needle
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// `needle` as one FTS5 phrase (quoted, its quotes doubled): every character literal, and
/// with the trigram tokenizer a match wherever the needle occurs, in any case.
fn trigram_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike); the
// search differs: `$trigram` says whether the `users_search` FTS5 table exists.
macro_rules! user_sql {
    ($store:ty, $trigram:expr) => {
        #[async_trait]
        impl UserStore for $store {
            async fn create_user(&self, u: &NewUser) -> StoreResult<User> {
                // One statement: a username released by a deleted account stays taken until
                // its tombstone expires, with no window between the check and the insert.
                let sql = format!("{INSERT_USER} RETURNING {USER_COLUMNS}");
                bind_new_user!(sqlx::query_as::<_, User>(&sql), u)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::Conflict("username held back after an account deletion".into()))
            }

            async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE username_normalized = $1 OR email_normalized = $1
                     ORDER BY CASE WHEN username_normalized = $1 THEN 0 ELSE 1 END LIMIT 1"
                );
                Ok(sqlx::query_as::<_, User>(&sql).bind(login).fetch_optional(&self.pool).await?)
            }

            async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                Ok(sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn list_users(&self) -> StoreResult<Vec<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
                Ok(sqlx::query_as::<_, User>(&sql).fetch_all(&self.pool).await?)
            }

            async fn set_password_hash(&self, user_id: i64, hash: Option<&str>, now: i64) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                    .bind(hash)
                    .bind(now)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_user_active(&self, user_id: i64, active: bool, now: i64) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
                    .bind(active)
                    .bind(now)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn users_page(&self, needle: Option<&str>, after_id: i64, limit: i64) -> StoreResult<Vec<User>> {
                let Some(needle) = needle else {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
                    return Ok(sqlx::query_as::<_, User>(&sql).bind(after_id).bind(limit).fetch_all(&self.pool).await?);
                };
                let (filter, arg) = if $trigram && needle.chars().count() >= 3 {
                    (SEARCH_BY_TRIGRAMS, trigram_phrase(needle))
                } else {
                    (SEARCH_BY_LIKE, like_pattern(needle))
                };
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {filter} AND id > $3 ORDER BY id LIMIT $2");
                Ok(sqlx::query_as::<_, User>(&sql).bind(arg).bind(limit).bind(after_id).fetch_all(&self.pool).await?)
            }

            async fn update_profile(&self, user_id: i64, display_name: &str, email: Option<&str>, email_normalized: Option<&str>, now: i64) -> StoreResult<()> {
                // The same address (normalised) stays verified; another one is a new claim.
                sqlx::query(
                    "UPDATE users SET display_name = $1, email = $2,
                        email_normalized = CASE WHEN email_claim IS NOT DISTINCT FROM $3 THEN email_normalized END,
                        email_claim = $3, updated_at = $4
                     WHERE id = $5",
                )
                    .bind(display_name)
                    .bind(email)
                    .bind(email_normalized)
                    .bind(now)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn end_user_access(&self, user_id: i64, now: i64) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for table in ["refresh_tokens", "access_tokens"] {
                    let sql = format!("UPDATE {table} SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
                    sqlx::query(&sql).bind(now).bind(user_id).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM auth_codes WHERE user_id = $1 AND consumed_at IS NULL")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_user(&self, user_id: i64, released_at: i64) -> StoreResult<bool> {
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query(
                    "INSERT INTO username_tombstones (username_normalized, released_at)
                     SELECT username_normalized, $2 FROM users WHERE id = $1
                     ON CONFLICT (username_normalized) DO UPDATE SET released_at = excluded.released_at",
                )
                .bind(user_id)
                .bind(released_at)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

user_sql!(SqliteStore, true);
user_sql!(PostgresStore, false);
