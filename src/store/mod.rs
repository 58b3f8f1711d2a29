//! Storage: role traits, each implemented by one SQL body for SQLite and PostgreSQL.
//!
//! [`Store`] is the one object services hold (`Arc<dyn Store>`); it is the sum of the role
//! traits ([`UserStore`], [`ClientStore`], [`TokenStore`], [`ConsentStore`], [`SessionStore`],
//! [`OidcStore`], [`IdentityStore`], [`ThrottleStore`], [`EventStore`], [`LogoutOutboxStore`],
//! [`ContactStore`], [`MessageOutboxStore`], [`DeviceCodeStore`], [`FactorStore`],
//! [`PasskeyStore`], [`PushedRequestStore`], [`PurgeStore`], [`ServerStore`], [`ImportStore`],
//! [`GroupStore`]),
//! each declared with its implementation in its own module,
//! so a caller brings into scope the roles it uses.
//!
//! The back end is chosen by the `DATABASE_URL` scheme ([`connect`]). Both back ends run the
//! same statements (sqlx accepts `$N` placeholders on SQLite too); the dialects differ only in
//! their migrations (`migrations/sqlite`, `migrations/postgres`, see `migrations/README.md`).
//! Everything secret arrives here already hashed: the store never sees a plaintext code, token,
//! session id or client secret.
//!
//! # Every transaction writes first
//!
//! The first statement of every transaction is a write (an `INSERT`, `UPDATE` or `DELETE`,
//! if need be a no-op `UPDATE` of the rows about to be read). sqlx begins SQLite transactions
//! as `DEFERRED`: one that reads first holds a read (SHARED) lock and must upgrade it when it
//! writes; if another connection holds the write (RESERVED) lock meanwhile, the upgrade fails
//! at once with `SQLITE_BUSY`, because waiting could deadlock, so the busy timeout never
//! applies (and in WAL mode a read snapshot older than the other's commit cannot write at
//! all). A transaction whose first statement writes takes the write lock at the start,
//! before it holds anything, so it waits out the busy timeout like any single statement. On
//! PostgreSQL the same order takes the row locks first, so concurrent transactions on the
//! same rows queue instead of both acting on what they read.

mod batch;
mod clients;
mod consents;
mod contacts;
mod device_codes;
mod events;
mod factors;
mod groups;
mod identities;
mod imports;
mod messages;
mod oidc;
mod outbox;
mod passkeys;
mod purge;
mod pushed;
mod records;
mod server;
mod sessions;
mod sql;
mod throttle;
mod tokens;
mod users;

pub use clients::{ClientStore, ClientTokenPolicy};
pub use consents::ConsentStore;
pub use contacts::{ContactStore, MAX_CODE_ATTEMPTS};
pub use device_codes::{DeviceCodeStore, DeviceGrant, DevicePoll, NewDeviceCode, PendingDevice};
pub use events::{EventFilter, EventRow, EventStore, NewEvent, SIGN_IN_SUCCESS};
pub use factors::{ClientFactorPolicy, FactorRow, FactorStore};
pub use groups::{GroupRow, GroupStore, RoleAssignment, RoleHolder};
pub use identities::IdentityStore;
pub use imports::{ImportMark, ImportRow, ImportStore, ImportedClient, ImportedToken, ImportedUser};
pub use messages::MessageOutboxStore;
pub use oidc::OidcStore;
pub use outbox::LogoutOutboxStore;
pub use passkeys::{CeremonyRow, NewPasskey, PasskeyRow, PasskeyStore};
pub use purge::{Expired, PurgeStore};
pub use pushed::{PushedRecord, PushedRequestStore};
pub use records::*;
pub use server::ServerStore;
pub use sessions::SessionStore;
pub use sql::{connect, PostgresStore, SqliteStore};
pub use throttle::{Reservation, ThrottleRow, ThrottleStore};
pub use tokens::{CodeCheck, Redemption, Rotation, TokenStore};
pub use users::UserStore;

/// What a storage call can fail with.
#[derive(Clone, Debug, thiserror::Error)]
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
    /// The schema cannot be migrated: an applied migration differs from this binary's, or
    /// one failed half-way. Retrying does not help.
    #[error("schema: {0}")]
    Schema(String),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The whole storage contract: every role. Implementations must be safe to share between
/// instances: every rule that two servers could race on is enforced by a single statement or a
/// transaction (which writes first, see the module documentation).
pub trait Store:
    UserStore
    + ClientStore
    + TokenStore
    + ConsentStore
    + SessionStore
    + OidcStore
    + IdentityStore
    + ThrottleStore
    + EventStore
    + LogoutOutboxStore
    + ContactStore
    + MessageOutboxStore
    + DeviceCodeStore
    + FactorStore
    + PushedRequestStore
    + PasskeyStore
    + PurgeStore
    + ServerStore
    + ImportStore
    + GroupStore
    + Send
    + Sync
{
}

// Whatever plays every role is a store.
impl<T> Store for T where
    T: UserStore
        + ClientStore
        + TokenStore
        + ConsentStore
        + SessionStore
        + OidcStore
        + IdentityStore
        + ThrottleStore
        + EventStore
        + LogoutOutboxStore
        + ContactStore
        + MessageOutboxStore
        + DeviceCodeStore
        + FactorStore
        + PushedRequestStore
        + PasskeyStore
        + PurgeStore
        + ServerStore
        + ImportStore
        + GroupStore
        + Send
        + Sync
{
}
