//! OpenID Connect: the keys that sign ID Tokens, and the authentication behind each token
//! family that was issued one.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    OidcGrant, SigningKeyRecord, StoreResult,
};

/// ID Token signing keys and their rotation, and the ID Token grants of token families.
#[async_trait]
pub trait OidcStore: Send + Sync {
    /// Every signing key, oldest first, including those no longer published that
    /// housekeeping has not deleted yet ([`super::Expired::SigningKeys`]).
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Stores `key` as its algorithm's current key unless the algorithm has one already, in
    /// which case nothing is stored and the answer is false. A unique index decides, so of
    /// several instances creating the first key at once exactly one succeeds.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Retires the current key `current_kid` (stops signing at `retired_at`, leaves the JWKS at
    /// `published_until`) and stores `next` as the new current key of the same algorithm, in
    /// one transaction. False, with nothing changed, if `current_kid` is no longer current
    /// (another rotation came first).
    async fn rotate_signing_key(
        &self,
        current_kid: &str,
        retired_at: i64,
        published_until: i64,
        next: &SigningKeyRecord,
    ) -> StoreResult<bool>;
    /// Records the authentication behind a token family that was issued an ID Token (a second
    /// record for the same family is ignored).
    async fn insert_oidc_grant(&self, grant: &OidcGrant, now: i64) -> StoreResult<()>;
    /// The authentication behind a token family, if it was issued an ID Token.
    async fn oidc_grant(&self, family_id: &str) -> StoreResult<Option<OidcGrant>>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! oidc_sql {
    ($store:ty) => {
        #[async_trait]
        impl OidcStore for $store {
            async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
                Ok(sqlx::query_as::<_, SigningKeyRecord>(
                    "SELECT kid, alg, private_der, public_jwk, created_at, active_from, retired_at, published_until
                     FROM signing_keys ORDER BY active_from, created_at, kid",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_first_signing_key(&self, k: &SigningKeyRecord) -> StoreResult<bool> {
                // The partial unique index on (alg) WHERE retired_at IS NULL makes a second
                // current key of the same algorithm a conflict, which DO NOTHING swallows.
                let done = sqlx::query(
                    "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at, active_from)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(&k.private_der)
                .bind(&k.public_jwk)
                .bind(k.created_at)
                .bind(k.active_from)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn rotate_signing_key(&self, current_kid: &str, retired_at: i64, published_until: i64, next: &SigningKeyRecord) -> StoreResult<bool> {
                // The UPDATE comes first: it takes the write lock (SQLite) or the row lock
                // (PostgreSQL), so a concurrent rotation of the same key finds it retired.
                let mut tx = super::sql::begin(&self.pool).await?;
                let done = sqlx::query(
                    "UPDATE signing_keys SET retired_at = $1, published_until = $2 WHERE kid = $3 AND retired_at IS NULL",
                )
                .bind(retired_at)
                .bind(published_until)
                .bind(current_kid)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at, active_from)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&next.kid)
                .bind(&next.alg)
                .bind(&next.private_der)
                .bind(&next.public_jwk)
                .bind(next.created_at)
                .bind(next.active_from)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_oidc_grant(&self, g: &OidcGrant, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO oidc_grants (family_id, user_id, session_hash, auth_time, created_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (family_id) DO NOTHING",
                )
                .bind(&g.family_id)
                .bind(g.user_id)
                .bind(&g.session_hash)
                .bind(g.auth_time)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn oidc_grant(&self, family_id: &str) -> StoreResult<Option<OidcGrant>> {
                Ok(sqlx::query_as::<_, OidcGrant>(
                    "SELECT family_id, user_id, session_hash, auth_time FROM oidc_grants WHERE family_id = $1",
                )
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

oidc_sql!(SqliteStore);
oidc_sql!(PostgresStore);
