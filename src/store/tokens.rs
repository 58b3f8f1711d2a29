//! Authorization codes, access tokens and refresh tokens: issuing, redeeming, rotating,
//! looking up and revoking them.

use async_trait::async_trait;

use super::{
    batch::{InsertRows, NewRow},
    records::{AccessRow, AuthCodeRow, RefreshRow},
    sql::{PostgresStore, SqliteStore, StoreDb},
    AccessRecord, NewTokens, RefreshRecord, StoreResult,
};
use crate::oauth::{error::OAuthError, model::AuthCode};

/// What redeeming an authorization code did.
#[derive(Debug)]
pub enum Redemption {
    /// The code was unused and passed validation: it is consumed and its tokens are stored.
    Issued(AuthCode),
    /// The code was unused but failed validation: it is consumed (burnt) and nothing issued.
    Refused(OAuthError),
    /// The code exists but was redeemed before: the caller must revoke the family it started
    /// (family id = the code's hash) and refuse.
    Reused,
    /// No such code.
    Unknown,
}

/// Decides whether a fresh code may be exchanged and, if so, which tokens to store.
pub type CodeCheck<'a> = dyn Fn(&AuthCode) -> Result<NewTokens, OAuthError> + Send + Sync + 'a;

/// What rotating a refresh token did.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is now superseded and the new pair is stored.
    Rotated,
    /// Another request rotated (or revoked) it first: nothing was stored.
    Lost,
}

/// Authorization codes and the access and refresh tokens issued for them.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new code under its hash.
    async fn insert_auth_code(&self, code_hash: &str, code: &AuthCode, now: i64) -> StoreResult<()>;
    /// Consumes the code and, if `check` accepts it, stores the tokens `check` returns, in one
    /// transaction: of any number of concurrent redemptions exactly one finds the code fresh,
    /// and the others are answered only after that one's tokens are committed (so that the
    /// family they revoke includes them).
    async fn redeem_auth_code(&self, code_hash: &str, now: i64, check: &CodeCheck<'_>) -> StoreResult<Redemption>;
    /// Stores an access token and, optionally, a refresh token, in one transaction.
    async fn insert_tokens(&self, tokens: &NewTokens) -> StoreResult<()>;
    /// The refresh token with this hash, in whatever state it is.
    async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>>;
    /// Supersedes `old_hash` and stores `next` in one transaction, only if `old_hash` is neither
    /// rotated nor revoked; otherwise stores nothing and answers [`Rotation::Lost`].
    async fn rotate_refresh(&self, old_hash: &str, next: &NewTokens, now: i64) -> StoreResult<Rotation>;
    /// The access token with this hash, in whatever state it is.
    async fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessRecord>>;
    /// Revokes every access and refresh token of a family.
    async fn revoke_family(&self, family_id: &str, now: i64) -> StoreResult<()>;
    /// Revokes one access token.
    async fn revoke_access_token(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    /// Revokes every access and refresh token issued for the user and drops their unredeemed
    /// codes (after a password change: nothing obtained with the old password survives).
    async fn revoke_user_tokens(&self, user_id: i64, now: i64) -> StoreResult<()>;
}

const CODE_COLUMNS: &str =
    "client_id, user_id, redirect_uri, redirect_uri_explicit, scope, code_challenge, nonce, auth_time, session_hash, expires_at";

const ACCESS_COLUMNS: &str = "family_id, client_id, user_id, scope, created_at, expires_at, revoked_at, jkt";

const REFRESH_COLUMNS: &str =
    "family_id, client_id, user_id, scope, created_at, expires_at, rotated_at, successor, revoked_at, jkt";

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! token_sql {
    ($store:ty) => {
        impl $store {
            // Stores `t` inside the caller's transaction (redemption, rotation).
            async fn insert_tokens_in(
                tx: &mut sqlx::Transaction<'_, <$store as StoreDb>::Db>,
                t: NewTokens,
            ) -> StoreResult<()> {
                <<$store as StoreDb>::Db as InsertRows>::insert_rows(tx, &[&NewRow::Tokens(t)]).await
            }
        }

        #[async_trait]
        impl TokenStore for $store {
            async fn insert_auth_code(&self, code_hash: &str, c: &AuthCode, now: i64) -> StoreResult<()> {
                self.writer.write(NewRow::Code { hash: code_hash.to_owned(), code: c.clone(), now }).await
            }

            async fn redeem_auth_code(
                &self,
                code_hash: &str,
                now: i64,
                check: &CodeCheck<'_>,
            ) -> StoreResult<Redemption> {
                let sql = format!(
                    "UPDATE auth_codes SET consumed_at = $1 WHERE code_hash = $2 AND consumed_at IS NULL
                     RETURNING {CODE_COLUMNS}"
                );
                // The UPDATE comes first: it takes the write lock (SQLite) or the row lock
                // (PostgreSQL) that serialises concurrent redemptions until this commits.
                let mut tx = super::sql::begin(&self.pool).await?;
                let row =
                    sqlx::query_as::<_, AuthCodeRow>(&sql).bind(now).bind(code_hash).fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    let seen: Option<(String,)> =
                        sqlx::query_as("SELECT code_hash FROM auth_codes WHERE code_hash = $1")
                            .bind(code_hash)
                            .fetch_optional(&self.pool)
                            .await?;
                    return Ok(if seen.is_some() { Redemption::Reused } else { Redemption::Unknown });
                };
                let code = row.into_code()?;
                let outcome = match check(&code) {
                    Ok(tokens) => {
                        Self::insert_tokens_in(&mut tx, tokens).await?;
                        Redemption::Issued(code)
                    }
                    Err(e) => Redemption::Refused(e),
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn insert_tokens(&self, t: &NewTokens) -> StoreResult<()> {
                self.writer.write(NewRow::Tokens(t.clone())).await
            }

            async fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
                let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
                let row = sqlx::query_as::<_, RefreshRow>(&sql).bind(token_hash).fetch_optional(&self.pool).await?;
                row.map(RefreshRow::into_record).transpose()
            }

            async fn rotate_refresh(&self, old_hash: &str, next: &NewTokens, now: i64) -> StoreResult<Rotation> {
                let successor = next.refresh.as_ref().map(|r| r.hash.clone());
                // The UPDATE comes first so that the transaction takes the write lock at once
                // (SQLite) and holds the row lock (PostgreSQL) until it commits.
                let mut tx = super::sql::begin(&self.pool).await?;
                let done = sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $1, successor = $2
                     WHERE token_hash = $3 AND rotated_at IS NULL AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(successor)
                .bind(old_hash)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(Rotation::Lost);
                }
                Self::insert_tokens_in(&mut tx, next.clone()).await?;
                tx.commit().await?;
                Ok(Rotation::Rotated)
            }

            async fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessRecord>> {
                let sql = format!("SELECT {ACCESS_COLUMNS} FROM access_tokens WHERE token_hash = $1");
                let row = sqlx::query_as::<_, AccessRow>(&sql).bind(token_hash).fetch_optional(&self.pool).await?;
                row.map(AccessRow::into_record).transpose()
            }

            async fn revoke_family(&self, family_id: &str, now: i64) -> StoreResult<()> {
                // A rotation committing while this waits for its row lock adds a successor the
                // first statement cannot see (READ COMMITTED); repeating until nothing changes
                // catches it. The access tokens come last, after every rotation has committed.
                for _ in 0..10 {
                    let done = sqlx::query(
                        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                    )
                    .bind(now)
                    .bind(family_id)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 0 {
                        break;
                    }
                }
                sqlx::query("UPDATE access_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(family_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_access_token(&self, token_hash: &str, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE access_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn revoke_user_tokens(&self, user_id: i64, now: i64) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                for table in ["access_tokens", "refresh_tokens"] {
                    let sql = format!("UPDATE {table} SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
                    sqlx::query(&sql).bind(now).bind(user_id).execute(&mut *tx).await?;
                }
                // Unredeemed codes go; redeemed ones stay, so that a replay still revokes.
                sqlx::query("DELETE FROM auth_codes WHERE user_id = $1 AND consumed_at IS NULL")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

token_sql!(SqliteStore);
token_sql!(PostgresStore);
