//! Upstream identity providers: sign-in flows in progress, verified identities waiting for an
//! account, and the identities linked to accounts.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    users::{bind_new_user, INSERT_USER, USER_COLUMNS},
    ExternalIdentity, NewUser, PendingIdentity, StoreError, StoreResult, Unlink, UpstreamLogin, User,
};

/// Third-party sign-in: started flows, pending identities and linked identities.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Stores a started sign-in with a provider.
    async fn insert_upstream_login(&self, flow: &UpstreamLogin) -> StoreResult<()>;
    /// Deletes the started sign-in with this hash and returns it if it had not expired at
    /// `now`. One statement: of two callbacks presenting the same flow, one gets it.
    async fn take_upstream_login(&self, flow_hash: &str, now: i64) -> StoreResult<Option<UpstreamLogin>>;
    /// Stores an identity waiting for an account.
    async fn insert_pending_identity(&self, pending: &PendingIdentity) -> StoreResult<()>;
    /// The pending identity with this hash, if it has not expired at `now`.
    async fn pending_identity(&self, pending_hash: &str, now: i64) -> StoreResult<Option<PendingIdentity>>;
    /// Deletes a pending identity (it was used or abandoned).
    async fn delete_pending_identity(&self, pending_hash: &str) -> StoreResult<()>;
    /// The account linked to `(provider, subject)`, if any.
    async fn external_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<ExternalIdentity>>;
    /// The identity whose per-application id at `provider` is `app_subject`, if any.
    async fn identity_by_app_subject(&self, provider: &str, app_subject: &str)
        -> StoreResult<Option<ExternalIdentity>>;
    /// The identities, at any provider of `union_group`, of the person with `union_id`, oldest
    /// first.
    async fn identities_by_union(&self, union_group: &str, union_id: &str) -> StoreResult<Vec<ExternalIdentity>>;
    /// Upgrades in place the identity `(provider, app_subject)` that has no union id yet:
    /// records `union_id` in `union_group` and makes it the identity's key. Returns whether a
    /// row changed (none: the identity is gone or already has a union id); `Conflict` if the
    /// provider already has an identity keyed by that union id.
    async fn set_identity_union(
        &self,
        provider: &str,
        app_subject: &str,
        union_group: &str,
        union_id: &str,
    ) -> StoreResult<bool>;
    /// The identities linked to a user, by provider id.
    async fn identities_for_user(&self, user_id: i64) -> StoreResult<Vec<ExternalIdentity>>;
    /// Links an identity to its user; `Conflict` if `(provider, subject)` is linked already
    /// (to anyone) or the user has an identity at that provider.
    async fn link_identity(&self, identity: &ExternalIdentity) -> StoreResult<()>;
    /// Creates a user (no password) and links `identity` to it, in one transaction: either
    /// both exist afterwards or neither. `Conflict` as
    /// [`UserStore::create_user`](super::UserStore::create_user) and
    /// [`IdentityStore::link_identity`]; `identity.user_id` is ignored.
    async fn create_user_with_identity(&self, user: &NewUser, identity: &ExternalIdentity) -> StoreResult<User>;
    /// Unlinks the user's identity at `provider`, unless it is their last way to sign in. The
    /// user's row is locked first, so two concurrent unlinks cannot both remove "the other
    /// one".
    async fn unlink_identity(&self, user_id: i64, provider: &str) -> StoreResult<Unlink>;
}

const UPSTREAM_LOGIN_COLUMNS: &str =
    "flow_hash, provider, state, pkce_verifier, nonce, next, link_user_id, created_at, expires_at";

const PENDING_COLUMNS: &str = "pending_hash, provider, subject, app_subject, union_id, union_group, username, \
     display_name, email, email_verified, next, created_at, expires_at";

const IDENTITY_COLUMNS: &str = "provider, subject, app_subject, union_id, union_group, user_id, email, created_at";

const INSERT_IDENTITY: &str =
    "INSERT INTO external_identities (provider, subject, app_subject, union_id, union_group, \
     user_id, email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! identity_sql {
    ($store:ty) => {
        #[async_trait]
        impl IdentityStore for $store {
            async fn insert_upstream_login(&self, f: &UpstreamLogin) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO upstream_logins (flow_hash, provider, state, pkce_verifier, nonce, next, link_user_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&f.flow_hash)
                .bind(&f.provider)
                .bind(&f.state)
                .bind(&f.pkce_verifier)
                .bind(&f.nonce)
                .bind(&f.next)
                .bind(f.link_user_id)
                .bind(f.created_at)
                .bind(f.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_upstream_login(&self, flow_hash: &str, now: i64) -> StoreResult<Option<UpstreamLogin>> {
                let sql = format!("DELETE FROM upstream_logins WHERE flow_hash = $1 RETURNING {UPSTREAM_LOGIN_COLUMNS}");
                let row = sqlx::query_as::<_, UpstreamLogin>(&sql).bind(flow_hash).fetch_optional(&self.pool).await?;
                Ok(row.filter(|f| f.expires_at > now))
            }

            async fn insert_pending_identity(&self, p: &PendingIdentity) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO pending_identities (pending_hash, provider, subject, app_subject, union_id, union_group,
                        username, display_name, email, email_verified, next, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(&p.pending_hash)
                .bind(&p.provider)
                .bind(&p.subject)
                .bind(&p.app_subject)
                .bind(&p.union_id)
                .bind(&p.union_group)
                .bind(&p.username)
                .bind(&p.display_name)
                .bind(&p.email)
                .bind(p.email_verified)
                .bind(&p.next)
                .bind(p.created_at)
                .bind(p.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_identity(&self, pending_hash: &str, now: i64) -> StoreResult<Option<PendingIdentity>> {
                let sql = format!("SELECT {PENDING_COLUMNS} FROM pending_identities WHERE pending_hash = $1 AND expires_at > $2");
                Ok(sqlx::query_as::<_, PendingIdentity>(&sql).bind(pending_hash).bind(now).fetch_optional(&self.pool).await?)
            }

            async fn delete_pending_identity(&self, pending_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM pending_identities WHERE pending_hash = $1").bind(pending_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn external_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<ExternalIdentity>> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE provider = $1 AND subject = $2");
                Ok(sqlx::query_as::<_, ExternalIdentity>(&sql).bind(provider).bind(subject).fetch_optional(&self.pool).await?)
            }

            async fn identity_by_app_subject(&self, provider: &str, app_subject: &str) -> StoreResult<Option<ExternalIdentity>> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE provider = $1 AND app_subject = $2");
                Ok(sqlx::query_as::<_, ExternalIdentity>(&sql).bind(provider).bind(app_subject).fetch_optional(&self.pool).await?)
            }

            async fn identities_by_union(&self, union_group: &str, union_id: &str) -> StoreResult<Vec<ExternalIdentity>> {
                let sql = format!(
                    "SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE union_group = $1 AND union_id = $2
                     ORDER BY created_at, provider"
                );
                Ok(sqlx::query_as::<_, ExternalIdentity>(&sql).bind(union_group).bind(union_id).fetch_all(&self.pool).await?)
            }

            async fn set_identity_union(
                &self,
                provider: &str,
                app_subject: &str,
                union_group: &str,
                union_id: &str,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE external_identities SET subject = $4, union_id = $4, union_group = $3
                     WHERE provider = $1 AND app_subject = $2 AND union_id IS NULL",
                )
                .bind(provider)
                .bind(app_subject)
                .bind(union_group)
                .bind(union_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn identities_for_user(&self, user_id: i64) -> StoreResult<Vec<ExternalIdentity>> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE user_id = $1 ORDER BY provider");
                Ok(sqlx::query_as::<_, ExternalIdentity>(&sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn link_identity(&self, i: &ExternalIdentity) -> StoreResult<()> {
                sqlx::query(INSERT_IDENTITY)
                    .bind(&i.provider)
                    .bind(&i.subject)
                    .bind(&i.app_subject)
                    .bind(&i.union_id)
                    .bind(&i.union_group)
                    .bind(i.user_id)
                    .bind(&i.email)
                    .bind(i.created_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_user_with_identity(&self, u: &NewUser, i: &ExternalIdentity) -> StoreResult<User> {
                // The same insert as `create_user` (tombstones included), then the identity;
                // a conflict on either rolls both back.
                let sql = format!("{INSERT_USER} RETURNING {USER_COLUMNS}");
                let mut tx = super::sql::begin(&self.pool).await?;
                let user = bind_new_user!(sqlx::query_as::<_, User>(&sql), u)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Conflict("username held back after an account deletion".into()))?;
                sqlx::query(INSERT_IDENTITY)
                    .bind(&i.provider)
                    .bind(&i.subject)
                    .bind(&i.app_subject)
                    .bind(&i.union_id)
                    .bind(&i.union_group)
                    .bind(user.id)
                    .bind(&i.email)
                    .bind(i.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn unlink_identity(&self, user_id: i64, provider: &str) -> StoreResult<Unlink> {
                // The no-op UPDATE comes first: it takes the write lock (SQLite) or the user's
                // row lock (PostgreSQL) until this commits.
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
                let password: Option<(Option<String>,)> = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let linked: Vec<(String,)> = sqlx::query_as("SELECT provider FROM external_identities WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let has_password = password.is_some_and(|(p,)| p.is_some());
                let outcome = if !linked.iter().any(|(p,)| p == provider) {
                    Unlink::NotLinked
                } else if !has_password && linked.len() <= 1 {
                    Unlink::LastMethod
                } else {
                    sqlx::query("DELETE FROM external_identities WHERE user_id = $1 AND provider = $2")
                        .bind(user_id)
                        .bind(provider)
                        .execute(&mut *tx)
                        .await?;
                    Unlink::Unlinked
                };
                tx.commit().await?;
                Ok(outcome)
            }
        }
    };
}

identity_sql!(SqliteStore);
identity_sql!(PostgresStore);
