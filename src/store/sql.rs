//! The SQL back ends. One macro body implements [`Store`] for both pools, so every statement
//! exists once; `$N` placeholders work on SQLite and PostgreSQL alike.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    postgres::{PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    records::{client_columns, AccessRow, AuthCodeRow, ClientRow, RefreshRow},
    AccessRecord, ClientRecord, CodeCheck, NewSession, NewTokens, NewUser, RefreshRecord, Rotation, SessionRecord,
    GrantRecord, Redemption, SessionRow, Store, StoreError, StoreResult, User,
};
use super::{
    ExternalIdentity, LogoutSettings, OidcGrant, PendingIdentity, SessionClient, SigningKeyRecord, Unlink, UpstreamLogin,
};
use crate::oauth::{model::AuthCode, scope::Scope};

/// The embedded default: one SQLite file in WAL mode.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The scale-out back end: several stateless instances share one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl SqliteStore {
    /// Opens (creating if missing) the SQLite database at `url` and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// Connects to the PostgreSQL database at `url` and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

const USER_COLUMNS: &str = "id, username, email, display_name, password_hash, active, admin, created_at";
const CLIENT_COLUMNS: &str =
    "client_id, secret_hash, name, confidential, redirect_uris, grant_types, scopes, trusted, owner_id, created_at";
const CODE_COLUMNS: &str =
    "client_id, user_id, redirect_uri, redirect_uri_explicit, scope, code_challenge, nonce, auth_time, session_hash, expires_at";
const ACCESS_COLUMNS: &str = "family_id, client_id, user_id, scope, created_at, expires_at, revoked_at";
const REFRESH_COLUMNS: &str =
    "family_id, client_id, user_id, scope, created_at, expires_at, rotated_at, successor, revoked_at";
const UPSTREAM_LOGIN_COLUMNS: &str =
    "flow_hash, provider, state, pkce_verifier, nonce, next, link_user_id, created_at, expires_at";
const PENDING_COLUMNS: &str =
    "pending_hash, provider, subject, username, display_name, email, email_verified, next, created_at, expires_at";
const IDENTITY_COLUMNS: &str = "provider, subject, user_id, email, created_at";

macro_rules! sql_store {
    ($store:ty, $name:literal) => {
        impl $store {
            async fn insert_tokens_in(
                tx: &mut sqlx::Transaction<'_, <$store as StoreDb>::Db>,
                t: &NewTokens,
            ) -> StoreResult<()> {
                let scope = t.scope.to_string();
                sqlx::query(
                    "INSERT INTO access_tokens (token_hash, family_id, client_id, user_id, scope, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&t.access_hash)
                .bind(&t.family_id)
                .bind(&t.client_id)
                .bind(t.user_id)
                .bind(&scope)
                .bind(t.now)
                .bind(t.access_expires_at)
                .execute(&mut **tx)
                .await?;
                if let Some(r) = &t.refresh {
                    let family = t.family_id.clone().unwrap_or_else(|| r.hash.clone());
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&r.hash)
                    .bind(family)
                    .bind(&t.client_id)
                    .bind(t.user_id)
                    .bind(r.scope.to_string())
                    .bind(t.now)
                    .bind(r.expires_at)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, u: &NewUser) -> StoreResult<User> {
                // One statement: a username released by a deleted account stays taken until
                // its tombstone expires, with no window between the check and the insert.
                let sql = format!(
                    "INSERT INTO users (username, username_normalized, email, email_normalized, display_name,
                        password_hash, admin, created_at, updated_at)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8
                     WHERE NOT EXISTS (SELECT 1 FROM username_tombstones WHERE username_normalized = $2 AND released_at > $8)
                     RETURNING {USER_COLUMNS}"
                );
                sqlx::query_as::<_, User>(&sql)
                    .bind(&u.username)
                    .bind(&u.username_normalized)
                    .bind(&u.email)
                    .bind(&u.email_normalized)
                    .bind(&u.display_name)
                    .bind(&u.password_hash)
                    .bind(u.admin)
                    .bind(u.now)
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

            async fn search_users(&self, needle: &str, limit: i64) -> StoreResult<Vec<User>> {
                let escaped: String = needle.to_lowercase().chars().flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                }).collect();
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users
                     WHERE username_normalized LIKE $1 ESCAPE '\\' OR email_normalized LIKE $1 ESCAPE '\\'
                        OR LOWER(display_name) LIKE $1 ESCAPE '\\'
                     ORDER BY id LIMIT $2"
                );
                Ok(sqlx::query_as::<_, User>(&sql)
                    .bind(format!("%{escaped}%"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn end_user_access(&self, user_id: i64, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for table in ["refresh_tokens", "access_tokens"] {
                    let sql = format!("UPDATE {table} SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
                    sqlx::query(&sql).bind(now).bind(user_id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_user(&self, user_id: i64, released_at: i64) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
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

            async fn create_client(&self, r: &ClientRecord) -> StoreResult<()> {
                let c = &r.client;
                let (redirects, grants, scopes) = client_columns(c);
                sqlx::query(
                    "INSERT INTO clients (client_id, secret_hash, name, confidential, redirect_uris, grant_types,
                        scopes, trusted, owner_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&c.client_id)
                .bind(&r.secret_hash)
                .bind(&c.name)
                .bind(c.confidential)
                .bind(redirects)
                .bind(grants)
                .bind(scopes)
                .bind(c.trusted)
                .bind(r.owner_id)
                .bind(r.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
                let row = sqlx::query_as::<_, ClientRow>(&sql).bind(client_id).fetch_optional(&self.pool).await?;
                row.map(ClientRow::into_record).transpose()
            }

            async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id");
                let rows = sqlx::query_as::<_, ClientRow>(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(ClientRow::into_record).collect()
            }

            async fn clients_owned_by(&self, owner_id: i64) -> StoreResult<Vec<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE owner_id = $1 ORDER BY created_at, client_id");
                let rows = sqlx::query_as::<_, ClientRow>(&sql).bind(owner_id).fetch_all(&self.pool).await?;
                rows.into_iter().map(ClientRow::into_record).collect()
            }

            async fn update_client(&self, c: &crate::oauth::model::Client) -> StoreResult<bool> {
                let (redirects, grants, scopes) = client_columns(c);
                let done = sqlx::query(
                    "UPDATE clients SET name = $1, redirect_uris = $2, grant_types = $3, scopes = $4, trusted = $5
                     WHERE client_id = $6",
                )
                .bind(&c.name)
                .bind(redirects)
                .bind(grants)
                .bind(scopes)
                .bind(c.trusted)
                .bind(&c.client_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_client_secret(&self, client_id: &str, record: &str) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE clients SET secret_hash = $1 WHERE client_id = $2 AND confidential")
                    .bind(record)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_auth_code(&self, code_hash: &str, c: &AuthCode, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_explicit, scope,
                        code_challenge, nonce, auth_time, expires_at, created_at, session_hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(code_hash)
                .bind(&c.client_id)
                .bind(c.user_id)
                .bind(&c.redirect_uri)
                .bind(c.redirect_uri_explicit)
                .bind(c.scope.to_string())
                .bind(&c.code_challenge)
                .bind(&c.nonce)
                .bind(c.auth_time)
                .bind(c.expires_at)
                .bind(now)
                .bind(&c.session_hash)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn redeem_auth_code(&self, code_hash: &str, now: i64, check: &CodeCheck<'_>) -> StoreResult<Redemption> {
                let sql = format!(
                    "UPDATE auth_codes SET consumed_at = $1 WHERE code_hash = $2 AND consumed_at IS NULL
                     RETURNING {CODE_COLUMNS}"
                );
                // The UPDATE comes first: it takes the write lock (SQLite) or the row lock
                // (PostgreSQL) that serialises concurrent redemptions until this commits.
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query_as::<_, AuthCodeRow>(&sql).bind(now).bind(code_hash).fetch_optional(&mut *tx).await?;
                let Some(row) = row else {
                    tx.rollback().await?;
                    let seen: Option<(String,)> = sqlx::query_as("SELECT code_hash FROM auth_codes WHERE code_hash = $1")
                        .bind(code_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                    return Ok(if seen.is_some() { Redemption::Reused } else { Redemption::Unknown });
                };
                let code = row.into_code()?;
                let outcome = match check(&code) {
                    Ok(tokens) => {
                        Self::insert_tokens_in(&mut tx, &tokens).await?;
                        Redemption::Issued(code)
                    }
                    Err(e) => Redemption::Refused(e),
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn insert_tokens(&self, t: &NewTokens) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                Self::insert_tokens_in(&mut tx, t).await?;
                tx.commit().await?;
                Ok(())
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
                let mut tx = self.pool.begin().await?;
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
                Self::insert_tokens_in(&mut tx, next).await?;
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
                    let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
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

            async fn insert_session(&self, n: &NewSession) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (session_hash, user_id, auth_time, created_at, last_seen_at, expires_at, user_agent, ip)
                     VALUES ($1, $2, $3, $3, $3, $4, $5, $6)",
                )
                .bind(&n.session_hash)
                .bind(n.user_id)
                .bind(n.auth_time)
                .bind(n.expires_at)
                .bind(&n.user_agent)
                .bind(&n.ip)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, session_hash: &str, now: i64, idle_since: i64) -> StoreResult<Option<(SessionRecord, User)>> {
                let sql = "SELECT session_hash, user_id, auth_time, created_at, last_seen_at, expires_at FROM sessions
                     WHERE session_hash = $1 AND expires_at > $2 AND last_seen_at >= $3";
                let Some(session) = sqlx::query_as::<_, SessionRecord>(sql)
                    .bind(session_hash)
                    .bind(now)
                    .bind(idle_since)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let user = self.user_by_id(session.user_id).await?.filter(|u| u.active);
                Ok(user.map(|u| (session, u)))
            }

            async fn touch_session(&self, session_hash: &str, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE session_hash = $2")
                    .bind(now)
                    .bind(session_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1").bind(session_hash).execute(&self.pool).await?;
                Ok(())
            }

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
                let mut tx = self.pool.begin().await?;
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

            async fn revoke_user_refresh_tokens(&self, user_id: i64, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE access_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id IN
                       (SELECT family_id FROM refresh_tokens WHERE user_id = $2)",
                )
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_profile(&self, user_id: i64, display_name: &str, email: Option<&str>, email_normalized: Option<&str>, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE users SET display_name = $1, email = $2, email_normalized = $3, updated_at = $4 WHERE id = $5")
                    .bind(display_name)
                    .bind(email)
                    .bind(email_normalized)
                    .bind(now)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sessions_for_user(&self, user_id: i64, now: i64, idle_since: i64) -> StoreResult<Vec<SessionRow>> {
                Ok(sqlx::query_as::<_, SessionRow>(
                    "SELECT session_hash, created_at, last_seen_at, user_agent, ip FROM sessions
                     WHERE user_id = $1 AND expires_at > $2 AND last_seen_at >= $3 ORDER BY last_seen_at DESC",
                )
                .bind(user_id)
                .bind(now)
                .bind(idle_since)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn delete_user_session(&self, user_id: i64, session_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND session_hash = $2")
                    .bind(user_id)
                    .bind(session_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_other_sessions(&self, user_id: i64, keep: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND session_hash <> $2")
                    .bind(user_id)
                    .bind(keep)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn purge_expired(&self, now: i64, idle_since: i64, throttle_since: i64) -> StoreResult<u64> {
                let statements: [(&str, i64, Option<i64>); 7] = [
                    ("DELETE FROM auth_codes WHERE expires_at < $1", now - 86_400, None),
                    ("DELETE FROM access_tokens WHERE expires_at < $1", now, None),
                    ("DELETE FROM refresh_tokens WHERE expires_at < $1", now, None),
                    ("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2", now, Some(idle_since)),
                    ("DELETE FROM throttle WHERE window_start < $1", throttle_since, None),
                    ("DELETE FROM username_tombstones WHERE released_at < $1", now, None),
                    ("DELETE FROM session_clients WHERE created_at < $1
                       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_hash = session_clients.session_hash)", now - 60, None),
                ];
                let mut gone = 0;
                for (sql, first, second) in statements {
                    let mut q = sqlx::query(sql).bind(first);
                    if let Some(second) = second {
                        q = q.bind(second);
                    }
                    gone += q.execute(&self.pool).await?.rows_affected();
                }
                Ok(gone)
            }

            async fn shared_secret(&self, name: &str, candidate: &str, now: i64) -> StoreResult<String> {
                sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(candidate)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                let (value,): (String,) = sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(value)
            }

            async fn failures(&self, key: &str, since: i64) -> StoreResult<i64> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT failures FROM throttle WHERE key = $1 AND window_start >= $2")
                        .bind(key)
                        .bind(since)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map_or(0, |r| r.0))
            }

            async fn record_attempt(&self, key: &str, since: i64, now: i64) -> StoreResult<i64> {
                let (count,): (i64,) = sqlx::query_as(
                    "INSERT INTO throttle (key, failures, window_start) VALUES ($1, 1, $3)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN throttle.window_start >= $2 THEN throttle.failures + 1 ELSE 1 END,
                       window_start = CASE WHEN throttle.window_start >= $2 THEN throttle.window_start ELSE $3 END
                     RETURNING failures",
                )
                .bind(key)
                .bind(since)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(count)
            }

            async fn forgive_attempt(&self, key: &str) -> StoreResult<()> {
                sqlx::query("UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0")
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn clear_failures(&self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(&self.pool).await?;
                Ok(())
            }

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
                let mut tx = self.pool.begin().await?;
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

            async fn purge_oidc(&self, now: i64, grants_before: i64) -> StoreResult<u64> {
                let keys = sqlx::query("DELETE FROM signing_keys WHERE published_until IS NOT NULL AND published_until <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                let grants = sqlx::query(
                    "DELETE FROM oidc_grants WHERE created_at < $1
                       AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = oidc_grants.family_id)",
                )
                .bind(grants_before)
                .execute(&self.pool)
                .await?;
                Ok(keys.rows_affected() + grants.rows_affected())
            }

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
                    "INSERT INTO pending_identities (pending_hash, provider, subject, username, display_name, email,
                        email_verified, next, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&p.pending_hash)
                .bind(&p.provider)
                .bind(&p.subject)
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

            async fn identities_for_user(&self, user_id: i64) -> StoreResult<Vec<ExternalIdentity>> {
                let sql = format!("SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE user_id = $1 ORDER BY provider");
                Ok(sqlx::query_as::<_, ExternalIdentity>(&sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn link_identity(&self, i: &ExternalIdentity) -> StoreResult<()> {
                sqlx::query("INSERT INTO external_identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&i.provider)
                    .bind(&i.subject)
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
                let sql = format!(
                    "INSERT INTO users (username, username_normalized, email, email_normalized, display_name,
                        password_hash, admin, created_at, updated_at)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8
                     WHERE NOT EXISTS (SELECT 1 FROM username_tombstones WHERE username_normalized = $2 AND released_at > $8)
                     RETURNING {USER_COLUMNS}"
                );
                let mut tx = self.pool.begin().await?;
                let user = sqlx::query_as::<_, User>(&sql)
                    .bind(&u.username)
                    .bind(&u.username_normalized)
                    .bind(&u.email)
                    .bind(&u.email_normalized)
                    .bind(&u.display_name)
                    .bind(&u.password_hash)
                    .bind(u.admin)
                    .bind(u.now)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Conflict("username held back after an account deletion".into()))?;
                sqlx::query("INSERT INTO external_identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&i.provider)
                    .bind(&i.subject)
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
                let mut tx = self.pool.begin().await?;
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

            async fn purge_upstream(&self, now: i64) -> StoreResult<u64> {
                let mut gone = 0;
                for table in ["upstream_logins", "pending_identities"] {
                    let sql = format!("DELETE FROM {table} WHERE expires_at <= $1");
                    gone += sqlx::query(&sql).bind(now).execute(&self.pool).await?.rows_affected();
                }
                Ok(gone)
            }

            async fn client_logout(&self, client_id: &str) -> StoreResult<Option<LogoutSettings>> {
                let row: Option<(String, Option<String>)> =
                    sqlx::query_as("SELECT post_logout_redirect_uris, backchannel_logout_uri FROM clients WHERE client_id = $1")
                        .bind(client_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(uris, backchannel_logout_uri)| LogoutSettings {
                    post_logout_redirect_uris: uris.split_whitespace().map(str::to_owned).collect(),
                    backchannel_logout_uri,
                }))
            }

            async fn set_client_logout(&self, client_id: &str, l: &LogoutSettings) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE clients SET post_logout_redirect_uris = $1, backchannel_logout_uri = $2 WHERE client_id = $3")
                    .bind(l.post_logout_redirect_uris.join(" "))
                    .bind(&l.backchannel_logout_uri)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_session_client(&self, session_hash: &str, client_id: &str, user_id: i64, now: i64) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO session_clients (session_hash, client_id, user_id, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (session_hash, client_id) DO NOTHING",
                )
                .bind(session_hash)
                .bind(client_id)
                .bind(user_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn end_session(&self, session_hash: &str) -> StoreResult<Vec<SessionClient>> {
                let mut tx = self.pool.begin().await?;
                let clients = sqlx::query_as::<_, SessionClient>(
                    "SELECT s.client_id, s.user_id, c.backchannel_logout_uri FROM session_clients s
                     JOIN clients c ON c.client_id = s.client_id
                     WHERE s.session_hash = $1 AND c.backchannel_logout_uri IS NOT NULL ORDER BY s.client_id",
                )
                .bind(session_hash)
                .fetch_all(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM session_clients WHERE session_hash = $1").bind(session_hash).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1").bind(session_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(clients)
            }
        }
    };
}

/// Names each store's sqlx database type, so the macro body can spell its transactions.
trait StoreDb {
    type Db: sqlx::Database;
}
impl StoreDb for SqliteStore {
    type Db = sqlx::Sqlite;
}
impl StoreDb for PostgresStore {
    type Db = sqlx::Postgres;
}

sql_store!(SqliteStore, "sqlite");
sql_store!(PostgresStore, "postgres");
