//! Storage: one async trait, implemented by one SQL body for SQLite and PostgreSQL.
//!
//! The back end is chosen by the `DATABASE_URL` scheme ([`connect`]). Both back ends run the
//! same statements (sqlx accepts `$N` placeholders on SQLite too); the dialects differ only in
//! their migrations (`migrations/sqlite`, `migrations/postgres`). Everything secret arrives here
//! already hashed: the store never sees a plaintext code, token, session id or client secret.

mod records;
mod sql;

use async_trait::async_trait;

use crate::oauth::{error::OAuthError, model::AuthCode};

pub use records::*;
pub use sql::{PostgresStore, SqliteStore};

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. a username already taken).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The database could not be reached or answered with an error. The text is for logs only.
    #[error("database error: {0}")]
    Unavailable(String),
    /// A stored value does not parse (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Unavailable(format!("migration failed: {e}"))
    }
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

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

/// The whole storage contract. Implementations must be safe to share between instances: every
/// rule that two servers could race on is enforced by a single statement or a transaction.
#[async_trait]
pub trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;

    // --- users ---
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
    /// Users whose username, email or display name contains `needle` (case-insensitive), by
    /// id, at most `limit`.
    async fn search_users(&self, needle: &str, limit: i64) -> StoreResult<Vec<User>>;
    /// Ends every session of the user and revokes every token issued for them, in one
    /// transaction.
    async fn end_user_access(&self, user_id: i64, now: i64) -> StoreResult<()>;
    /// Deletes the user (and, by cascade, their sessions, tokens, consents, identities and
    /// developer apps) and holds their username back until `released_at`, in one transaction.
    /// False if no such user.
    async fn delete_user(&self, user_id: i64, released_at: i64) -> StoreResult<bool>;

    // --- clients ---
    /// Registers a client; `Conflict` when the client_id is taken.
    async fn create_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// The client with this client_id.
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    /// Every client, by client_id.
    async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>>;
    /// The clients a user registered, oldest first.
    async fn clients_owned_by(&self, owner_id: i64) -> StoreResult<Vec<ClientRecord>>;
    /// Replaces a client's name, redirect URIs, grant types, scopes and trusted flag (its type,
    /// secret and owner stay). False if no such client.
    async fn update_client(&self, client: &crate::oauth::model::Client) -> StoreResult<bool>;
    /// Replaces a client's secret record. False if no such client.
    async fn set_client_secret(&self, client_id: &str, record: &str) -> StoreResult<bool>;
    /// Deletes a client and, by cascade, its codes, tokens and consents. False if none.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;

    // --- authorization codes ---
    /// Stores a new code under its hash.
    async fn insert_auth_code(&self, code_hash: &str, code: &AuthCode, now: i64) -> StoreResult<()>;
    /// Consumes the code and, if `check` accepts it, stores the tokens `check` returns, in one
    /// transaction: of any number of concurrent redemptions exactly one finds the code fresh,
    /// and the others are answered only after that one's tokens are committed (so that the
    /// family they revoke includes them).
    async fn redeem_auth_code(&self, code_hash: &str, now: i64, check: &CodeCheck<'_>) -> StoreResult<Redemption>;

    // --- tokens ---
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

    // --- login sessions ---
    /// Stores a new session under the hash of its id.
    async fn insert_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session with this hash and its user, if it is within both lifetimes
    /// (`expires_at > now`, `last_seen_at >= idle_since`) and its user is active.
    async fn session(&self, session_hash: &str, now: i64, idle_since: i64) -> StoreResult<Option<(SessionRecord, User)>>;
    /// Records activity on a session.
    async fn touch_session(&self, session_hash: &str, now: i64) -> StoreResult<()>;
    /// Ends one session.
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;

    // --- consents ---
    /// The scope a user has granted a client, if any.
    async fn consent(&self, user_id: i64, client_id: &str) -> StoreResult<Option<crate::oauth::scope::Scope>>;
    /// Records (or widens to) `scope` as granted by the user to the client.
    async fn save_consent(&self, user_id: i64, client_id: &str, scope: &crate::oauth::scope::Scope, now: i64) -> StoreResult<()>;

    // --- self-service ---
    /// The apps a user has authorized, with when each last obtained a token for them.
    async fn grants_for_user(&self, user_id: i64) -> StoreResult<Vec<GrantRecord>>;
    /// Withdraws a consent and revokes every access and refresh token the client holds for the
    /// user, in one transaction.
    async fn revoke_grant(&self, user_id: i64, client_id: &str, now: i64) -> StoreResult<()>;
    /// Revokes every refresh token (and its access tokens) issued for the user.
    async fn revoke_user_refresh_tokens(&self, user_id: i64, now: i64) -> StoreResult<()>;
    /// Replaces display name and email; `Conflict` if the email belongs to someone else.
    async fn update_profile(&self, user_id: i64, display_name: &str, email: Option<&str>, email_normalized: Option<&str>, now: i64) -> StoreResult<()>;
    /// The user's live sessions, most recent first.
    async fn sessions_for_user(&self, user_id: i64, now: i64, idle_since: i64) -> StoreResult<Vec<SessionRow>>;
    /// Ends one session, only if it belongs to the user.
    async fn delete_user_session(&self, user_id: i64, session_hash: &str) -> StoreResult<()>;
    /// Ends every session of the user except `keep`.
    async fn delete_other_sessions(&self, user_id: i64, keep: &str) -> StoreResult<()>;

    // --- housekeeping ---
    /// Deletes what can no longer be used: codes a day after expiry (kept that long so a late
    /// replay still revokes its tokens), expired access and refresh tokens, ended sessions,
    /// and throttle windows older than `throttle_since`. Returns how many rows went.
    async fn purge_expired(&self, now: i64, idle_since: i64, throttle_since: i64) -> StoreResult<u64>;

    // --- shared secrets ---
    /// The secret stored under `name`; the first caller's `candidate` becomes it, so every
    /// instance sharing the database agrees.
    async fn shared_secret(&self, name: &str, candidate: &str, now: i64) -> StoreResult<String>;

    // --- sign-in throttle ---
    /// Failures recorded under `key` in the window that started at or after `since`.
    async fn failures(&self, key: &str, since: i64) -> StoreResult<i64>;
    /// Counts one attempt under `key` and returns the count in the current window (a window
    /// older than `since` restarts at `now`). One statement, so concurrent attempts each see
    /// their own count and none slips past a limit.
    async fn record_attempt(&self, key: &str, since: i64, now: i64) -> StoreResult<i64>;
    /// Takes back one attempt counted under `key` (it succeeded).
    async fn forgive_attempt(&self, key: &str) -> StoreResult<()>;
    /// Forgets the failures under `key` (after a success).
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;

    // --- OpenID Connect: signing keys and ID Token grants ---
    /// Every signing key, oldest first, including those no longer published that
    /// [`Store::purge_oidc`] has not deleted yet.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Stores `key` as its algorithm's current key unless the algorithm has one already, in
    /// which case nothing is stored and the answer is false. A unique index decides, so of
    /// several instances creating the first key at once exactly one succeeds.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Retires the current key `current_kid` (stops signing at `retired_at`, leaves the JWKS at
    /// `published_until`) and stores `next` as the new current key of the same algorithm, in
    /// one transaction. False, with nothing changed, if `current_kid` is no longer current
    /// (another rotation came first).
    async fn rotate_signing_key(&self, current_kid: &str, retired_at: i64, published_until: i64, next: &SigningKeyRecord) -> StoreResult<bool>;
    /// Records the authentication behind a token family that was issued an ID Token (a second
    /// record for the same family is ignored).
    async fn insert_oidc_grant(&self, grant: &OidcGrant, now: i64) -> StoreResult<()>;
    /// The authentication behind a token family, if it was issued an ID Token.
    async fn oidc_grant(&self, family_id: &str) -> StoreResult<Option<OidcGrant>>;
    /// Deletes the keys no longer published at `now`, and the grants recorded before
    /// `grants_before` whose family has no refresh token left. Returns how many rows went.
    async fn purge_oidc(&self, now: i64, grants_before: i64) -> StoreResult<u64>;

    // --- OpenID Connect logout ---
    /// A client's logout registration (empty if it registered none). `None` if no such client.
    async fn client_logout(&self, client_id: &str) -> StoreResult<Option<LogoutSettings>>;
    /// Replaces a client's logout registration. False if no such client.
    async fn set_client_logout(&self, client_id: &str, settings: &LogoutSettings) -> StoreResult<bool>;
    /// Notes that `client_id` was issued an ID Token within the session `session_hash`.
    async fn record_session_client(&self, session_hash: &str, client_id: &str, user_id: i64, now: i64) -> StoreResult<()>;
    /// Ends the session `session_hash` and returns the clients that took part in it and want
    /// back-channel logout, in one transaction (so each is told once).
    async fn end_session(&self, session_hash: &str) -> StoreResult<Vec<SessionClient>>;

    // --- upstream identity providers ---
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
    /// The identities linked to a user, by provider id.
    async fn identities_for_user(&self, user_id: i64) -> StoreResult<Vec<ExternalIdentity>>;
    /// Links an identity to its user; `Conflict` if `(provider, subject)` is linked already
    /// (to anyone) or the user has an identity at that provider.
    async fn link_identity(&self, identity: &ExternalIdentity) -> StoreResult<()>;
    /// Creates a user (no password) and links `identity` to it, in one transaction: either
    /// both exist afterwards or neither. `Conflict` as [`Store::create_user`] and
    /// [`Store::link_identity`]; `identity.user_id` is ignored.
    async fn create_user_with_identity(&self, user: &NewUser, identity: &ExternalIdentity) -> StoreResult<User>;
    /// Unlinks the user's identity at `provider`, unless it is their last way to sign in. The
    /// user's row is locked first, so two concurrent unlinks cannot both remove "the other
    /// one".
    async fn unlink_identity(&self, user_id: i64, provider: &str) -> StoreResult<Unlink>;
    /// Deletes expired sign-in flows and pending identities; returns how many rows went.
    async fn purge_upstream(&self, now: i64) -> StoreResult<u64>;
}

/// Opens the database named by `url` (`sqlite:` or `postgres:`), creating an SQLite file if
/// needed, and applies the pending migrations.
pub async fn connect(url: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(std::sync::Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::Unavailable("DATABASE_URL must start with sqlite: or postgres:".into()))
    }
}
