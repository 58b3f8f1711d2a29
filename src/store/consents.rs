//! Consents: the scopes a user has granted each client, as the consent screen and the account
//! page's "authorized apps" see them.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    GrantRecord, StoreError, StoreResult,
};
use crate::oauth::scope::Scope;

/// What each user has granted each client.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// The scope a user has granted a client, if any.
    async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<Scope>>;
    /// Records (or widens to) `scope` as granted by the user to the client.
    async fn save_consent(&self, user_id: i64, client_id: &str, scope: &Scope, now: i64) -> StoreResult<()>;
    /// The apps a user has authorized, with when each last obtained a token for them.
    async fn grants_for_user(&self, user_id: i64) -> StoreResult<Vec<GrantRecord>>;
    /// Withdraws a consent and revokes every access and refresh token the client holds for the
    /// user, in one transaction.
    async fn revoke_grant(&self, user_id: i64, client_id: &str, now: i64) -> StoreResult<()>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! consent_sql {
    ($store:ty) => {
        #[async_trait]
        impl ConsentStore for $store {
            async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<Scope>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user_id)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(s,)| if s.trim().is_empty() { Ok(Scope::default()) } else {
                    Scope::parse(&s).map_err(|e| StoreError::Corrupt(format!("consent scope {s:?}: {e}")))
                })
                .transpose()
            }

            async fn save_consent(&self, user_id: i64, client_id: &str, scope: &Scope, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO consents (user_id, client_id, scope, created_at, updated_at, last_used_at)
                     VALUES ($1, $2, $3, $4, $4, $4)
                     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = $3, updated_at = $4, last_used_at = $4",
                )
                .bind(user_id)
                .bind(client_id)
                .bind(scope.to_string())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn grants_for_user(&self, user_id: i64) -> StoreResult<Vec<GrantRecord>> {
                let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
                    "SELECT c.client_id, cl.name, c.scope, c.created_at,
                        (SELECT MAX(a.created_at) FROM access_tokens a WHERE a.user_id = c.user_id AND a.client_id = c.client_id)
                     FROM consents c JOIN clients cl ON cl.client_id = c.client_id
                     WHERE c.user_id = $1 ORDER BY cl.name, c.client_id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(client_id, client_name, scope, granted_at, last_used_at)| {
                        let scope = if scope.trim().is_empty() { Ok(Scope::default()) } else { Scope::parse(&scope) };
                        let scope = scope.map_err(|e| StoreError::Corrupt(format!("consent scope: {e}")))?;
                        Ok(GrantRecord { client_id, client_name, scope, granted_at, last_used_at })
                    })
                    .collect()
            }

            async fn revoke_grant(&self, user_id: i64, client_id: &str, now: i64) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user_id)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
                for table in ["refresh_tokens", "access_tokens"] {
                    let sql = format!("UPDATE {table} SET revoked_at = $1 WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL");
                    sqlx::query(&sql).bind(now).bind(user_id).bind(client_id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

consent_sql!(SqliteStore);
consent_sql!(PostgresStore);
