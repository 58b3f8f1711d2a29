//! Group commit: the rows that grants, authorizations and sign-ins add (tokens, codes,
//! sessions) go through one writer task per store, which commits whatever has queued as one
//! transaction of multi-row `INSERT`s.
//!
//! A transaction per token made every issuance pay a commit, and on SQLite made the pooled
//! connections queue for the write lock by sleeping in the busy handler (which is what put
//! the p99 of client_credentials near 100 ms). One writer never contends with itself, and one
//! commit serves every row that arrived while the previous one was committing: no row waits
//! for a timer, a quiet server commits each row at once, a busy one in batches of up to
//! [`MAX_BATCH`] requests.
//!
//! Each caller is answered only after the transaction holding its row has committed, so an
//! acknowledged token survives a crash of the process (and, with `synchronous=FULL` on
//! SQLite, a power loss). A caller that goes away after queueing its row may still have it
//! stored; nobody holds the secret it hashes, so it is inert until it expires.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{NewSession, NewTokens, StoreError, StoreResult};
use crate::oauth::model::AuthCode;

/// The most requests one transaction commits. Bounds the statement size (at most two token
/// rows per request) and the time a failed batch keeps its callers.
pub const MAX_BATCH: usize = 128;

/// Requests queued beyond this wait to be queued (backpressure instead of unbounded memory).
const QUEUE: usize = 4 * MAX_BATCH;

/// One row (or one grant's pair of token rows) to insert.
#[derive(Debug)]
pub enum NewRow {
    /// An access token and, optionally, its refresh token.
    Tokens(NewTokens),
    /// An authorization code under its hash, created at `now`.
    Code {
        /// SHA-256 of the code.
        hash: String,
        /// What the code grants.
        code: AuthCode,
        /// Unix seconds.
        now: i64,
    },
    /// A login session.
    Session(NewSession),
}

/// How a back end inserts rows inside a transaction; implemented once per sqlx database in
/// the module that owns the statements (`sql_rows!` below).
#[async_trait]
pub trait InsertRows: sqlx::Database {
    /// Inserts `rows` with one multi-row statement per table.
    async fn insert_rows(tx: &mut sqlx::Transaction<'_, Self>, rows: &[&NewRow]) -> StoreResult<()>;
}

/// One row of `access_tokens` or `refresh_tokens`, in their column order: hash, family,
/// client, user, scope, created, expires, DPoP key thumbprint.
type TokenRow<'a> = (&'a String, Option<&'a String>, &'a String, Option<i64>, String, i64, i64, Option<&'a String>);

struct Job {
    row: NewRow,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The queue into a store's writer task. Cloning shares the one writer.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task for `pool`. It ends when the last [`Writer`] is dropped, after
    /// committing what was queued.
    pub fn spawn<DB: InsertRows>(pool: sqlx::Pool<DB>) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        Self { jobs }
    }

    /// Queues `row` and waits until the transaction holding it has committed.
    pub async fn write(&self, row: NewRow) -> StoreResult<()> {
        let stopped = || StoreError::Unavailable("the database writer stopped".into());
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { row, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run<DB: InsertRows>(pool: sqlx::Pool<DB>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Waits for one job, then takes every job already queued (those that arrived while the
    // last batch committed), up to the limit.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&NewRow> = batch.iter().map(|j| &j.row).collect();
        match commit(&pool, &rows).await {
            Ok(()) => batch.drain(..).for_each(|j| {
                let _ = j.done.send(Ok(()));
            }),
            // One row broke a uniqueness rule (a colliding hash, in theory): it must not fail
            // the others, so each is tried alone and gets its own answer.
            Err(StoreError::Conflict(_)) if rows.len() > 1 => {
                for job in batch.drain(..) {
                    let alone = commit(&pool, &[&job.row]).await;
                    let _ = job.done.send(alone);
                }
            }
            Err(e) => batch.drain(..).for_each(|j| {
                let _ = j.done.send(Err(e.clone()));
            }),
        }
    }
}

async fn commit<DB: InsertRows>(pool: &sqlx::Pool<DB>, rows: &[&NewRow]) -> StoreResult<()> {
    // The writer's task is never cancelled mid-transaction, so it needs no `sql::begin`.
    let mut tx = pool.begin().await?;
    DB::insert_rows(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(())
}

// One body for both back ends: `QueryBuilder` writes each dialect's placeholders.
macro_rules! sql_rows {
    ($db:ty) => {
        #[async_trait]
        impl InsertRows for $db {
            async fn insert_rows(tx: &mut sqlx::Transaction<'_, Self>, rows: &[&NewRow]) -> StoreResult<()> {
                let mut tokens = Vec::new();
                let mut codes = Vec::new();
                let mut sessions = Vec::new();
                for row in rows {
                    match row {
                        NewRow::Tokens(t) => tokens.push(t),
                        NewRow::Code { hash, code, now } => codes.push((hash, code, *now)),
                        NewRow::Session(s) => sessions.push(s),
                    }
                }
                // The two token tables share their columns: one statement shape for both.
                async fn insert_token_rows(
                    tx: &mut sqlx::Transaction<'_, $db>,
                    table: &str,
                    rows: Vec<TokenRow<'_>>,
                ) -> StoreResult<()> {
                    if rows.is_empty() {
                        return Ok(());
                    }
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "INSERT INTO {table} (token_hash, family_id, client_id, user_id, scope, created_at, expires_at, jkt) "
                    ));
                    q.push_values(rows, |mut b, (hash, family, client, user, scope, now, expires, jkt)| {
                        b.push_bind(hash)
                            .push_bind(family)
                            .push_bind(client)
                            .push_bind(user)
                            .push_bind(scope)
                            .push_bind(now)
                            .push_bind(expires)
                            .push_bind(jkt);
                    });
                    q.build().execute(&mut **tx).await?;
                    Ok(())
                }
                let access = tokens.iter().map(|t| {
                    let scope = t.scope.to_string();
                    let (family, jkt) = (t.family_id.as_ref(), t.access_jkt.as_ref());
                    (&t.access_hash, family, &t.client_id, t.user_id, scope, t.now, t.access_expires_at, jkt)
                });
                insert_token_rows(tx, "access_tokens", access.collect()).await?;
                // A refresh token that starts a family names it after itself.
                let refresh = tokens.iter().filter_map(|t| {
                    let r = t.refresh.as_ref()?;
                    let family = Some(t.family_id.as_ref().unwrap_or(&r.hash));
                    Some((&r.hash, family, &t.client_id, t.user_id, r.scope.to_string(), t.now, r.expires_at, r.jkt.as_ref()))
                });
                insert_token_rows(tx, "refresh_tokens", refresh.collect()).await?;
                if !codes.is_empty() {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_explicit, scope,
                            code_challenge, nonce, auth_time, expires_at, created_at, session_hash) ",
                    );
                    q.push_values(&codes, |mut b, (hash, c, now)| {
                        b.push_bind(*hash)
                            .push_bind(&c.client_id)
                            .push_bind(c.user_id)
                            .push_bind(&c.redirect_uri)
                            .push_bind(c.redirect_uri_explicit)
                            .push_bind(c.scope.to_string())
                            .push_bind(&c.code_challenge)
                            .push_bind(&c.nonce)
                            .push_bind(c.auth_time)
                            .push_bind(c.expires_at)
                            .push_bind(*now)
                            .push_bind(&c.session_hash);
                    });
                    q.build().execute(&mut **tx).await?;
                }
                if !sessions.is_empty() {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO sessions (session_hash, user_id, auth_time, created_at, last_seen_at, expires_at, user_agent, ip, amr) ",
                    );
                    q.push_values(&sessions, |mut b, s| {
                        b.push_bind(&s.session_hash)
                            .push_bind(s.user_id)
                            .push_bind(s.auth_time)
                            .push_bind(s.auth_time)
                            .push_bind(s.auth_time)
                            .push_bind(s.expires_at)
                            .push_bind(&s.user_agent)
                            .push_bind(&s.ip)
                            .push_bind(&s.amr);
                    });
                    q.build().execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    };
}

sql_rows!(sqlx::Sqlite);
sql_rows!(sqlx::Postgres);
