//! Use cases: the one entry point that the axum routes, the server functions and the CLI
//! share. Only this layer combines the protocol core, the store, the clock and crypto.

mod access_token;
pub mod account;
pub mod admin;
mod admin_console;
pub mod admin_token;
mod attempt_queue;
pub mod authorize;
pub mod captcha;
pub mod cleanup;
pub mod client_admin;
pub mod clients;
pub mod contacts;
pub mod demo;
pub mod developer;
pub mod device;
pub mod device_grant;
pub mod django_import;
pub mod dpop;
pub mod events;
pub mod factors;
pub mod groups;
pub mod identities;
pub mod keys;
pub mod logout;
pub mod logout_delivery;
pub mod message_delivery;
pub mod mini_program;
pub mod notify;
mod oidc;
mod par;
pub mod passkeys;
pub mod present;
pub mod recovery;
mod refresh;
pub mod session;
mod shared_keys;
pub mod throttle;
pub mod token;
pub mod upstream;
mod upstream_http;
pub mod user_admin;
pub mod users;
mod worker;

use std::sync::Arc;

use crate::{
    config::Settings,
    crypto::{HashError, PasswordHasher},
    oauth::{error::OAuthError, scope::Scope},
    store::{Store, StoreError},
};

/// Everything a use case needs; cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Operator settings.
    pub settings: Arc<Settings>,
    /// argon2id on a bounded pool.
    pub hasher: PasswordHasher,
    /// The scopes the server offers.
    pub known_scopes: Scope,
    /// The keys instances share through the store, loaded once each.
    shared_keys: Arc<shared_keys::SharedKeys>,
    /// The key second-factor secrets are sealed with (see `factors`), loaded once.
    factor_key: Arc<tokio::sync::OnceCell<[u8; 32]>>,
    /// Wakes this instance's message delivery when a message was queued.
    message_wake: Arc<tokio::sync::Notify>,
    /// OpenID Connect: this instance's copy of the signing keys and the `sid` key.
    oidc: Arc<oidc::OidcState>,
    /// Outbound HTTP to upstream identity providers, with their cached metadata and keys.
    upstream: Arc<upstream_http::UpstreamClient>,
    /// Where "now" comes from: the system clock, or a pinned one in tests.
    clock: Arc<dyn Clock>,
    /// Wakes this instance's back-channel logout delivery when a session ends with notices.
    logout_wake: Arc<tokio::sync::Notify>,
    /// This instance's queues of password attempts per throttle key.
    attempt_queues: Arc<attempt_queue::AttemptQueues>,
    /// The transports outgoing mail and SMS leave through.
    pub notify: notify::Transports,
}

/// The current time, as every use case reads it: a parameter of the services, so tests can
/// pin it as the protocol core's tests pin theirs.
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }
}

/// A clock that says what it is told: for tests of expiry and lifetimes.
#[derive(Debug, Default)]
pub struct FixedClock(std::sync::atomic::AtomicI64);

impl FixedClock {
    /// A clock stopped at `now` (unix seconds).
    pub fn at(now: i64) -> Self {
        Self(std::sync::atomic::AtomicI64::new(now))
    }

    /// Moves the clock on by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Services {
    /// Wires the services over an opened store.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Result<Self, ServiceError> {
        let hasher = PasswordHasher::new(settings.argon2)?;
        let known_scopes = Scope::parse(&settings.known_scopes()).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let upstream = Arc::new(upstream_http::UpstreamClient::new().map_err(ServiceError::Invalid)?);
        let notify =
            notify::Transports::from_settings(&settings.notify).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(Self {
            store,
            settings: Arc::new(settings),
            hasher,
            known_scopes,
            shared_keys: Arc::default(),
            factor_key: Arc::default(),
            message_wake: Arc::default(),
            oidc: Arc::default(),
            upstream,
            clock: Arc::new(SystemClock),
            logout_wake: Arc::default(),
            attempt_queues: Arc::default(),
            notify,
        })
    }

    /// The same services sending mail and SMS through `transports` (tests record them).
    pub fn with_transports(mut self, transports: notify::Transports) -> Self {
        self.notify = transports;
        self
    }

    /// The same services reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Each scope with the description the operator gave it, for the consent and account pages.
    pub fn scope_items(&self, scope: &Scope) -> Vec<crate::view::ScopeItem> {
        scope
            .iter()
            .map(|name| crate::view::ScopeItem {
                name: name.to_owned(),
                description: self.settings.scopes.get(name).cloned().unwrap_or_else(|| name.to_owned()),
            })
            .collect()
    }

    /// The current time in unix seconds, from the services' [`Clock`].
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Why an account or client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is not acceptable; the text says why and is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// One form field is not acceptable: its name and why.
    #[error("{1}")]
    InvalidField(&'static str, String),
    /// Something with that name already exists.
    #[error("{0}")]
    Conflict(String),
    /// Nothing with that name exists (or it belongs to someone else: the same answer, so
    /// that ids cannot be probed).
    #[error("{0}")]
    NotFound(String),
    /// The signed-in user may not do this (the admin pages).
    #[error("you do not have access to this page")]
    Forbidden,
    /// The database failed; details go to the log, not to the user.
    #[error("storage unavailable")]
    Store(#[source] StoreError),
    /// Password hashing failed.
    #[error("password hashing failed")]
    Hash(#[from] HashError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ServiceError::Conflict(what),
            other => ServiceError::Store(other),
        }
    }
}

/// A storage failure seen by an OAuth endpoint: logged in full, answered as
/// `temporarily_unavailable` (503) so that a client never mistakes it for success or refusal.
pub(crate) fn unavailable(e: StoreError) -> OAuthError {
    tracing::error!(error = %e, "storage failure on an OAuth endpoint");
    OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again")
}
