//! Browser sessions: signing in, recognising, listing and ending them, and the clients that
//! took part in each (for OpenID Connect logout).

use async_trait::async_trait;

use super::{
    batch::NewRow,
    sql::{PostgresStore, SqliteStore},
    NewSession, NoticeSeed, SessionClient, SessionRecord, SessionRow, StoreResult, User, UserStore,
};

/// Browser sessions and the clients issued an ID Token within each.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session under the hash of its id.
    async fn insert_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session with this hash and its user, if it is within both lifetimes
    /// (`expires_at > now`, `last_seen_at >= idle_since`) and its user is active.
    async fn session(
        &self,
        session_hash: &str,
        now: i64,
        idle_since: i64,
    ) -> StoreResult<Option<(SessionRecord, User)>>;
    /// How the session `session_hash` was authenticated (its stored `amr`), whether or not it
    /// is still live; `None` once it is gone.
    async fn session_amr(&self, session_hash: &str) -> StoreResult<Option<String>>;
    /// Records activity on a session.
    async fn touch_session(&self, session_hash: &str, now: i64) -> StoreResult<()>;
    /// Ends one session.
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;
    /// The user's live sessions, most recent first.
    async fn sessions_for_user(&self, user_id: i64, now: i64, idle_since: i64) -> StoreResult<Vec<SessionRow>>;
    /// Ends one session, only if it belongs to the user.
    async fn delete_user_session(&self, user_id: i64, session_hash: &str) -> StoreResult<()>;
    /// Ends every session of the user except `keep`.
    async fn delete_other_sessions(&self, user_id: i64, keep: &str) -> StoreResult<()>;
    /// Notes that `client_id` was issued an ID Token within the session `session_hash`.
    async fn record_session_client(
        &self,
        session_hash: &str,
        client_id: &str,
        user_id: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// Ends the session `session_hash` and queues a logout notice in the outbox for each client
    /// that took part in it and wants back-channel logout, in one transaction: each is told
    /// once, and a crash after the session ended cannot lose a notice. Returns those clients.
    async fn end_session(&self, session_hash: &str, seed: &NoticeSeed) -> StoreResult<Vec<SessionClient>>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! session_sql {
    ($store:ty) => {
        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, n: &NewSession) -> StoreResult<()> {
                self.writer.write(NewRow::Session(n.clone())).await
            }

            async fn session(&self, session_hash: &str, now: i64, idle_since: i64) -> StoreResult<Option<(SessionRecord, User)>> {
                let sql = "SELECT session_hash, user_id, auth_time, created_at, last_seen_at, expires_at, amr FROM sessions
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

            async fn session_amr(&self, session_hash: &str) -> StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT amr FROM sessions WHERE session_hash = $1")
                    .bind(session_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(amr,)| amr))
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

            async fn end_session(&self, session_hash: &str, seed: &NoticeSeed) -> StoreResult<Vec<SessionClient>> {
                // The no-op UPDATE comes first: it takes the write lock (SQLite) or the row locks
                // of the session's clients (PostgreSQL), so a concurrent end of the same session
                // waits for this one to commit and then finds no client left to tell.
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query("UPDATE session_clients SET created_at = created_at WHERE session_hash = $1")
                    .bind(session_hash)
                    .execute(&mut *tx)
                    .await?;
                let clients = sqlx::query_as::<_, SessionClient>(
                    "SELECT s.client_id, s.user_id, c.backchannel_logout_uri FROM session_clients s
                     JOIN clients c ON c.client_id = s.client_id
                     WHERE s.session_hash = $1 AND c.backchannel_logout_uri IS NOT NULL ORDER BY s.client_id",
                )
                .bind(session_hash)
                .fetch_all(&mut *tx)
                .await?;
                for (n, c) in clients.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO logout_outbox (jti, client_id, user_id, sid, backchannel_uri, next_attempt_at, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(format!("{}.{n}", seed.jti_prefix))
                    .bind(&c.client_id)
                    .bind(c.user_id)
                    .bind(&seed.sid)
                    .bind(&c.backchannel_logout_uri)
                    .bind(seed.now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM session_clients WHERE session_hash = $1").bind(session_hash).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1").bind(session_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(clients)
            }
        }
    };
}

session_sql!(SqliteStore);
session_sql!(PostgresStore);
