//! Rows imported from another system (a Django database: `yaoshi import django`), written in
//! one transaction per batch together with the mark of the source row each came from.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// An account copied with its source id, which stays its id (and so its `sub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedUser {
    /// The source's primary key.
    pub id: i64,
    /// The username as it will be shown.
    pub username: String,
    /// Its normalised form (unique).
    pub username_normalized: String,
    /// The email as typed, if any.
    pub email: Option<String>,
    /// Its normalised form: the claim.
    pub email_claim: Option<String>,
    /// Whether the address counts as verified (then it is also a sign-in name).
    pub email_verified: bool,
    /// The name shown to people.
    pub display_name: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the account may use the admin pages.
    pub admin: bool,
    /// When the account was opened (unix seconds).
    pub created_at: i64,
}

/// A client copied with its client_id (its secret is written by [`ImportRow::ClientSecret`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedClient {
    /// The client as the protocol sees it.
    pub client: crate::oauth::model::Client,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Web origins allowed to call the endpoints from a browser (normalised).
    pub origins: Vec<String>,
    /// The owning account, if it was imported.
    pub owner_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A token copied by the SHA-256 of its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedToken {
    /// Lowercase hex SHA-256 of the token.
    pub token_hash: String,
    /// The family it belongs to (a refresh token and the access token issued with it).
    pub family_id: Option<String>,
    /// The client it was issued to.
    pub client_id: String,
    /// The resource owner (none for client credentials).
    pub user_id: Option<i64>,
    /// Granted scope.
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was revoked at the source, if it was.
    pub revoked_at: Option<i64>,
}

/// One write of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportRow {
    /// Creates or updates the account with this id (its password is left alone).
    User(ImportedUser),
    /// Sets an account's password hash (as the source stored it; `None`: no password).
    Password {
        /// The account.
        user_id: i64,
        /// The hash.
        hash: Option<String>,
    },
    /// Creates or updates the client with this client_id (its secret is left alone).
    Client(ImportedClient),
    /// Sets a client's secret record.
    ClientSecret {
        /// The client.
        client_id: String,
        /// `sha256:<hex>`, an argon2id PHC string or a Django hash.
        record: Option<String>,
    },
    /// Creates or updates an access token.
    AccessToken(ImportedToken),
    /// Creates or updates a refresh token.
    RefreshToken(ImportedToken),
}

/// Which source row a write came from, and the fingerprint of its values then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportMark {
    /// `user`, `password`, `application`, `client_secret`, `access_token`, `refresh_token`.
    pub kind: &'static str,
    /// The source's key (its primary key).
    pub source_key: String,
    /// SHA-256 of the source row's values.
    pub fingerprint: String,
    /// The Yaoshi row it became (user id, client_id, token hash).
    pub target: String,
}

/// Imports: the marks of what was copied, and batches of writes.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// The fingerprint recorded for each source key of `kind`.
    async fn import_marks(&self, kind: &str) -> StoreResult<HashMap<String, String>>;
    /// Applies every write and records its mark, in one transaction; `now` is the time of
    /// the updates.
    async fn apply_import(&self, batch: &[(ImportRow, ImportMark)], now: i64) -> StoreResult<()>;
}

// One body for both back ends; `$after_users` keeps PostgreSQL's identity sequence past the
// ids inserted explicitly (SQLite's AUTOINCREMENT follows them by itself).
macro_rules! import_sql {
    ($store:ty, $after_users:expr) => {
        #[async_trait]
        impl ImportStore for $store {
            async fn import_marks(&self, kind: &str) -> StoreResult<HashMap<String, String>> {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT source_key, fingerprint FROM django_imports WHERE kind = $1")
                        .bind(kind)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().collect())
            }

            async fn apply_import(&self, batch: &[(ImportRow, ImportMark)], now: i64) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                let mut users = false;
                for (row, mark) in batch {
                    match row {
                        ImportRow::User(u) => {
                            users = true;
                            // An address whose claim is unchanged keeps a verification made here.
                            sqlx::query(
                                "INSERT INTO users (id, username, username_normalized, email, email_claim, email_normalized,
                                    display_name, active, admin, created_at, updated_at)
                                 VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN $5 END, $7, $8, $9, $10, $11)
                                 ON CONFLICT (id) DO UPDATE SET username = excluded.username,
                                    username_normalized = excluded.username_normalized, email = excluded.email,
                                    email_normalized = CASE WHEN users.email_claim IS NOT DISTINCT FROM excluded.email_claim
                                        THEN COALESCE(excluded.email_normalized, users.email_normalized)
                                        ELSE excluded.email_normalized END,
                                    email_claim = excluded.email_claim, display_name = excluded.display_name,
                                    active = excluded.active, admin = excluded.admin, updated_at = excluded.updated_at",
                            )
                            .bind(u.id)
                            .bind(&u.username)
                            .bind(&u.username_normalized)
                            .bind(&u.email)
                            .bind(&u.email_claim)
                            .bind(u.email_verified)
                            .bind(&u.display_name)
                            .bind(u.active)
                            .bind(u.admin)
                            .bind(u.created_at)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        ImportRow::Password { user_id, hash } => {
                            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                                .bind(hash)
                                .bind(now)
                                .bind(user_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        ImportRow::Client(c) => {
                            let (redirects, grants, scopes) = super::records::client_columns(&c.client);
                            sqlx::query(
                                "INSERT INTO clients (client_id, name, confidential, redirect_uris, grant_types, scopes,
                                    trusted, owner_id, created_at, post_logout_redirect_uris)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                                 ON CONFLICT (client_id) DO UPDATE SET name = excluded.name,
                                    confidential = excluded.confidential, redirect_uris = excluded.redirect_uris,
                                    grant_types = excluded.grant_types, scopes = excluded.scopes,
                                    trusted = excluded.trusted, owner_id = excluded.owner_id,
                                    post_logout_redirect_uris = excluded.post_logout_redirect_uris",
                            )
                            .bind(&c.client.client_id)
                            .bind(&c.client.name)
                            .bind(c.client.confidential)
                            .bind(redirects)
                            .bind(grants)
                            .bind(scopes)
                            .bind(c.client.trusted)
                            .bind(c.owner_id)
                            .bind(c.created_at)
                            .bind(c.post_logout_redirect_uris.join(" "))
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query("DELETE FROM client_origins WHERE client_id = $1")
                                .bind(&c.client.client_id)
                                .execute(&mut *tx)
                                .await?;
                            for origin in &c.origins {
                                sqlx::query(
                                    "INSERT INTO client_origins (client_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                )
                                .bind(&c.client.client_id)
                                .bind(origin)
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                        ImportRow::ClientSecret { client_id, record } => {
                            sqlx::query("UPDATE clients SET secret_hash = $1 WHERE client_id = $2")
                                .bind(record)
                                .bind(client_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        ImportRow::AccessToken(t) => {
                            sqlx::query(
                                "INSERT INTO access_tokens (token_hash, family_id, client_id, user_id, scope, created_at,
                                    expires_at, revoked_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                                 ON CONFLICT (token_hash) DO UPDATE SET family_id = excluded.family_id,
                                    client_id = excluded.client_id, user_id = excluded.user_id, scope = excluded.scope,
                                    expires_at = excluded.expires_at, revoked_at = excluded.revoked_at",
                            )
                            .bind(&t.token_hash)
                            .bind(&t.family_id)
                            .bind(&t.client_id)
                            .bind(t.user_id)
                            .bind(&t.scope)
                            .bind(t.created_at)
                            .bind(t.expires_at)
                            .bind(t.revoked_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                        ImportRow::RefreshToken(t) => {
                            sqlx::query(
                                "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, created_at,
                                    expires_at, revoked_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                                 ON CONFLICT (token_hash) DO UPDATE SET client_id = excluded.client_id,
                                    user_id = excluded.user_id, scope = excluded.scope,
                                    revoked_at = COALESCE(refresh_tokens.revoked_at, excluded.revoked_at)",
                            )
                            .bind(&t.token_hash)
                            .bind(t.family_id.as_deref().unwrap_or(&t.token_hash))
                            .bind(&t.client_id)
                            .bind(t.user_id)
                            .bind(&t.scope)
                            .bind(t.created_at)
                            .bind(t.expires_at)
                            .bind(t.revoked_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    sqlx::query(
                        "INSERT INTO django_imports (kind, source_key, fingerprint, target, imported_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (kind, source_key) DO UPDATE SET fingerprint = excluded.fingerprint,
                            target = excluded.target, imported_at = excluded.imported_at",
                    )
                    .bind(mark.kind)
                    .bind(&mark.source_key)
                    .bind(&mark.fingerprint)
                    .bind(&mark.target)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                let after_users: &str = $after_users;
                if users && !after_users.is_empty() {
                    sqlx::query(after_users).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

import_sql!(SqliteStore, "");
import_sql!(
    PostgresStore,
    "SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT MAX(id) FROM users), 1))"
);
