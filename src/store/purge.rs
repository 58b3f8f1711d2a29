//! Housekeeping's deletes: every kind of row that can no longer be used, removed a bounded
//! batch at a time, so no statement holds locks for long and several instances may sweep at
//! once (each batch is one `DELETE … WHERE <key> IN (SELECT <key> … LIMIT n)`, which both
//! back ends run; a row another instance deleted first is simply not found).

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    StoreResult,
};

/// A kind of row past its use, with the cut-off that says which rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expired {
    /// Authorization codes that expired before the time given (kept a while past expiry, so a
    /// late replay still revokes its tokens).
    AuthCodes(i64),
    /// Access tokens expired before the time given.
    AccessTokens(i64),
    /// Refresh tokens expired before the time given.
    RefreshTokens(i64),
    /// Sessions past their absolute lifetime at `.0`, or idle since before `.1`.
    Sessions(i64, i64),
    /// Sign-in throttle windows that started before the time given.
    ThrottleWindows(i64),
    /// Released usernames whose hold ended before the time given.
    UsernameTombstones(i64),
    /// Clients of sessions that no longer exist, recorded before the time given.
    SessionClients(i64),
    /// Security events older than the time given (the retention).
    Events(i64),
    /// Upstream sign-in flows expired at the time given.
    UpstreamLogins(i64),
    /// Provider identities waiting for a link, expired at the time given.
    PendingIdentities(i64),
    /// Signing keys no longer published at the time given.
    SigningKeys(i64),
    /// ID Token grants recorded before the time given whose family has no refresh token left.
    OidcGrants(i64),
    /// Logout notices given up before the time given (delivered ones leave the outbox at once).
    LogoutNotices(i64),
    /// One-time codes created before the time given (kept a day: they count for the send
    /// limits).
    ContactCodes(i64),
    /// Messages given up before the time given (sent ones leave the outbox at once).
    Messages(i64),
    /// Used single-use values (CAPTCHA answers, DPoP proof ids) past their expiry.
    SpentOnce(i64),
    /// Device authorization requests that expired before the time given.
    DeviceCodes(i64),
    /// Pushed authorization requests that expired before the time given.
    PushedRequests(i64),
    /// WebAuthn ceremonies that expired before the time given, never finished.
    WebauthnCeremonies(i64),
}

impl Expired {
    /// The kind's name, as `yaoshi cleanup` prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Expired::AuthCodes(..) => "auth_codes",
            Expired::AccessTokens(..) => "access_tokens",
            Expired::RefreshTokens(..) => "refresh_tokens",
            Expired::Sessions(..) => "sessions",
            Expired::ThrottleWindows(..) => "throttle_windows",
            Expired::UsernameTombstones(..) => "username_tombstones",
            Expired::SessionClients(..) => "session_clients",
            Expired::Events(..) => "events",
            Expired::UpstreamLogins(..) => "upstream_logins",
            Expired::PendingIdentities(..) => "pending_identities",
            Expired::SigningKeys(..) => "signing_keys",
            Expired::OidcGrants(..) => "oidc_grants",
            Expired::LogoutNotices(..) => "logout_notices",
            Expired::ContactCodes(..) => "contact_codes",
            Expired::Messages(..) => "messages",
            Expired::SpentOnce(..) => "spent_once",
            Expired::DeviceCodes(..) => "device_codes",
            Expired::PushedRequests(..) => "pushed_requests",
            Expired::WebauthnCeremonies(..) => "webauthn_ceremonies",
        }
    }

    /// One batch's statement (`$1` the cut-off, `$2` a second one where there is, the last
    /// placeholder the batch size) and its cut-offs.
    fn statement(&self) -> (&'static str, i64, Option<i64>) {
        match *self {
            Expired::AuthCodes(before) => (
                "DELETE FROM auth_codes WHERE code_hash IN
                   (SELECT code_hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::AccessTokens(before) => (
                "DELETE FROM access_tokens WHERE token_hash IN
                   (SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::RefreshTokens(before) => (
                "DELETE FROM refresh_tokens WHERE token_hash IN
                   (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::Sessions(now, idle_since) => (
                "DELETE FROM sessions WHERE session_hash IN
                   (SELECT session_hash FROM sessions WHERE expires_at < $1 OR last_seen_at < $2 LIMIT $3)",
                now,
                Some(idle_since),
            ),
            Expired::ThrottleWindows(before) => (
                "DELETE FROM throttle WHERE key IN (SELECT key FROM throttle WHERE window_start < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::UsernameTombstones(before) => (
                "DELETE FROM username_tombstones WHERE username_normalized IN
                   (SELECT username_normalized FROM username_tombstones WHERE released_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::SessionClients(before) => (
                "DELETE FROM session_clients WHERE (session_hash, client_id) IN
                   (SELECT session_hash, client_id FROM session_clients WHERE created_at < $1
                      AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_hash = session_clients.session_hash)
                    LIMIT $2)",
                before,
                None,
            ),
            Expired::Events(before) => {
                ("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $1 LIMIT $2)", before, None)
            }
            Expired::UpstreamLogins(now) => (
                "DELETE FROM upstream_logins WHERE flow_hash IN
                   (SELECT flow_hash FROM upstream_logins WHERE expires_at <= $1 LIMIT $2)",
                now,
                None,
            ),
            Expired::PendingIdentities(now) => (
                "DELETE FROM pending_identities WHERE pending_hash IN
                   (SELECT pending_hash FROM pending_identities WHERE expires_at <= $1 LIMIT $2)",
                now,
                None,
            ),
            Expired::SigningKeys(now) => (
                "DELETE FROM signing_keys WHERE kid IN
                   (SELECT kid FROM signing_keys WHERE published_until IS NOT NULL AND published_until <= $1 LIMIT $2)",
                now,
                None,
            ),
            Expired::OidcGrants(before) => (
                "DELETE FROM oidc_grants WHERE family_id IN
                   (SELECT family_id FROM oidc_grants WHERE created_at < $1
                      AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = oidc_grants.family_id)
                    LIMIT $2)",
                before,
                None,
            ),
            Expired::LogoutNotices(before) => (
                "DELETE FROM logout_outbox WHERE id IN
                   (SELECT id FROM logout_outbox WHERE given_up_at IS NOT NULL AND given_up_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::ContactCodes(before) => (
                "DELETE FROM contact_codes WHERE id IN
                   (SELECT id FROM contact_codes WHERE created_at < $1 AND expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::Messages(before) => (
                "DELETE FROM message_outbox WHERE id IN
                   (SELECT id FROM message_outbox WHERE given_up_at IS NOT NULL AND given_up_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::SpentOnce(before) => (
                "DELETE FROM spent_once WHERE digest IN
                   (SELECT digest FROM spent_once WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::DeviceCodes(before) => (
                "DELETE FROM device_codes WHERE id IN (SELECT id FROM device_codes WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::PushedRequests(before) => (
                "DELETE FROM pushed_requests WHERE request_hash IN
                   (SELECT request_hash FROM pushed_requests WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
            Expired::WebauthnCeremonies(before) => (
                "DELETE FROM webauthn_ceremonies WHERE id_hash IN
                   (SELECT id_hash FROM webauthn_ceremonies WHERE expires_at < $1 LIMIT $2)",
                before,
                None,
            ),
        }
    }
}

/// Deleting what has expired.
#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Deletes at most `limit` rows of the kind `what` (one statement) and returns how many
    /// went: fewer than `limit` means none is left.
    async fn purge_batch(&self, what: Expired, limit: i64) -> StoreResult<u64>;
}

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! purge_sql {
    ($store:ty) => {
        #[async_trait]
        impl PurgeStore for $store {
            async fn purge_batch(&self, what: Expired, limit: i64) -> StoreResult<u64> {
                let (sql, first, second) = what.statement();
                let mut q = sqlx::query(sql).bind(first);
                if let Some(second) = second {
                    q = q.bind(second);
                }
                Ok(q.bind(limit).execute(&self.pool).await?.rows_affected())
            }
        }
    };
}

purge_sql!(SqliteStore);
purge_sql!(PostgresStore);
