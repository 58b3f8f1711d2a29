//! Passkeys (WebAuthn credentials) and the ceremonies in progress between their two requests.
//! A ceremony's state is taken once: reading it deletes it, in one statement, so one answer
//! of an authenticator is accepted once even when several instances share the database.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// One stored passkey.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    /// Row id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// The account's WebAuthn user handle (a UUID), which discoverable credentials return.
    pub user_handle: String,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The verified credential as the WebAuthn library serialises it (public data).
    pub credential: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it last signed a sign-in.
    pub last_used_at: Option<i64>,
}

/// A new passkey to store.
#[derive(Clone, Debug)]
pub struct NewPasskey<'a> {
    /// Whose it is.
    pub user_id: i64,
    /// The account's WebAuthn user handle.
    pub user_handle: &'a str,
    /// The credential id, base64url.
    pub credential_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The serialised credential.
    pub credential: &'a str,
}

/// A ceremony taken from the store: whose it was and the library's state.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CeremonyRow {
    /// The account it was started for (`None` for a discoverable sign-in).
    pub user_id: Option<i64>,
    /// The serialised state.
    pub state: String,
}

const PASSKEY_COLUMNS: &str = "id, user_id, user_handle, credential_id, name, credential, created_at, last_used_at";

/// Passkeys and WebAuthn ceremonies.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a registered passkey; false if its credential id is registered already (to any
    /// account: a credential belongs to one).
    async fn insert_passkey(&self, p: &NewPasskey<'_>, now: i64) -> StoreResult<bool>;
    /// The user's passkeys, oldest first.
    async fn passkeys(&self, user_id: i64) -> StoreResult<Vec<PasskeyRow>>;
    /// The passkey with this credential id, whoever owns it.
    async fn passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRow>>;
    /// After a sign-in with passkey `id`: its updated credential (the counter) and last use.
    async fn passkey_used(&self, id: i64, credential: &str, now: i64) -> StoreResult<()>;
    /// Removes the passkey `id` of `user_id`; when the account has no second factor left, its
    /// recovery codes go too (one transaction). False if there was no such passkey.
    async fn delete_passkey(&self, user_id: i64, id: i64) -> StoreResult<bool>;
    /// Stores a ceremony's state under the hash of its id until `expires_at`.
    async fn insert_ceremony(
        &self,
        id_hash: &str,
        kind: &str,
        user_id: Option<i64>,
        state: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Takes (deletes and returns) the live ceremony of `kind` under `id_hash`: `None` if there
    /// is none, it expired, or it was taken already.
    async fn take_ceremony(&self, id_hash: &str, kind: &str, now: i64) -> StoreResult<Option<CeremonyRow>>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! passkey_sql {
    ($store:ty) => {
        #[async_trait]
        impl PasskeyStore for $store {
            async fn insert_passkey(&self, p: &NewPasskey<'_>, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO passkeys (user_id, user_handle, credential_id, name, credential, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
                )
                .bind(p.user_id)
                .bind(p.user_handle)
                .bind(p.credential_id)
                .bind(p.name)
                .bind(p.credential)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn passkeys(&self, user_id: i64) -> StoreResult<Vec<PasskeyRow>> {
                let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
                Ok(sqlx::query_as::<_, PasskeyRow>(&sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRow>> {
                let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1");
                Ok(sqlx::query_as::<_, PasskeyRow>(&sql).bind(credential_id).fetch_optional(&self.pool).await?)
            }

            async fn passkey_used(&self, id: i64, credential: &str, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3")
                    .bind(credential)
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_passkey(&self, user_id: i64, id: i64) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let gone = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let (left,): (i64,) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)
                          + (SELECT COUNT(*) FROM second_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)",
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

            async fn insert_ceremony(
                &self,
                id_hash: &str,
                kind: &str,
                user_id: Option<i64>,
                state: &str,
                expires_at: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webauthn_ceremonies (id_hash, kind, user_id, state, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id_hash)
                .bind(kind)
                .bind(user_id)
                .bind(state)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_ceremony(&self, id_hash: &str, kind: &str, now: i64) -> StoreResult<Option<CeremonyRow>> {
                Ok(sqlx::query_as::<_, CeremonyRow>(
                    "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 AND kind = $2 AND expires_at > $3
                     RETURNING user_id, state",
                )
                .bind(id_hash)
                .bind(kind)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

passkey_sql!(SqliteStore);
passkey_sql!(PostgresStore);
