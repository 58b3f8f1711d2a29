//! Security events: one table and one structured log line (target `yaoshi::event`) per event,
//! never with a secret in either. Recording is best effort: a failed write is logged, and the
//! action it describes is not undone for it.

use std::net::IpAddr;

use super::Services;
use crate::store::{EventFilter, EventRow, NewEvent, StoreError};

/// Every kind of event, as stored in `events.kind` (dotted, so a filter on `sign_in` finds
/// both outcomes).
pub mod kind {
    /// A password or provider sign-in succeeded (detail: how).
    pub const SIGN_IN_SUCCESS: &str = crate::store::SIGN_IN_SUCCESS;
    /// A password check failed (detail: the reason class).
    pub const SIGN_IN_FAILURE: &str = "sign_in.failure";
    /// A budget was spent: further attempts wait or are refused (detail: which budget). The
    /// refused attempts themselves are not recorded one by one, so a flood cannot fill the
    /// table.
    pub const LOCKOUT: &str = "sign_in.lockout";
    /// The user approved a client's request.
    pub const CONSENT_GIVEN: &str = "consent.given";
    /// The user revoked a client's access.
    pub const CONSENT_REVOKED: &str = "consent.revoked";
    /// A rotated refresh token came back: its family was revoked.
    pub const REFRESH_REUSE: &str = "token.refresh_reuse";
    /// An authorization code was redeemed twice: its tokens were revoked.
    pub const CODE_REPLAY: &str = "token.code_replay";
    /// The password changed (by the user, or an operator).
    pub const PASSWORD_CHANGED: &str = "account.password_changed";
    /// The email changed.
    pub const EMAIL_CHANGED: &str = "account.email_changed";
    /// The account was deleted by its owner.
    pub const ACCOUNT_DELETED: &str = "account.deleted";
    /// A new account was opened.
    pub const ACCOUNT_CREATED: &str = "account.created";
    /// A client was registered (detail: its name; the owner, for a developer's app).
    pub const CLIENT_CREATED: &str = "client.created";
    /// A client was deleted.
    pub const CLIENT_DELETED: &str = "client.deleted";
    /// A client's secret was replaced.
    pub const CLIENT_SECRET_ROTATED: &str = "client.secret_rotated";
    /// The signing key was rotated.
    pub const KEY_ROTATED: &str = "key.rotated";
    /// A back-channel logout notice was given up (detail: attempts and the last error).
    pub const BACKCHANNEL_ABANDONED: &str = "logout.backchannel_abandoned";
    /// An email address or phone number was verified (detail: `email` or `phone`).
    pub const CONTACT_VERIFIED: &str = "account.contact_verified";
    /// Another account verified an address this account had claimed unverified: the claim was
    /// dropped (detail: `email` or `phone`).
    pub const CONTACT_CLAIM_DROPPED: &str = "account.contact_claim_dropped";
    /// A password reset was asked for and sent (detail: `email` or `sms`).
    pub const PASSWORD_RESET_SENT: &str = "account.password_reset_sent";
    /// A message could not be sent and was given up (detail: kind and the last error).
    pub const MESSAGE_ABANDONED: &str = "message.abandoned";
    /// A second factor was added (detail: its kind).
    pub const FACTOR_ADDED: &str = "account.factor_added";
    /// A second factor was removed by its owner (detail: its kind).
    pub const FACTOR_REMOVED: &str = "account.factor_removed";
    /// The account's recovery codes were replaced.
    pub const RECOVERY_CODES_REGENERATED: &str = "account.recovery_codes_regenerated";
    /// An admin (or the command line) acted (detail: what).
    pub const ADMIN_ACTION: &str = "admin.action";
}

/// Where a request comes from: for throttling and for the event trail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client address (behind trusted proxies, the one they name).
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header (browsers only).
    pub user_agent: String,
    /// The device cookie, if the browser sent one.
    pub device: Option<String>,
}

impl Origin {
    /// An origin with only an address (the token endpoint).
    pub fn ip(ip: Option<IpAddr>) -> Self {
        Self { ip, ..Self::default() }
    }
}

/// One event about to be recorded.
#[derive(Clone, Debug, Default)]
pub struct Event {
    kind: &'static str,
    user_id: Option<i64>,
    actor_id: Option<i64>,
    client_id: Option<String>,
    detail: String,
}

impl Event {
    /// An event of `kind` (one of [`kind`]).
    pub fn new(kind: &'static str) -> Self {
        Self { kind, ..Self::default() }
    }

    /// About this account.
    pub fn user(mut self, id: i64) -> Self {
        self.user_id = Some(id);
        self
    }

    /// Done by this admin.
    pub fn actor(mut self, id: Option<i64>) -> Self {
        self.actor_id = id;
        self
    }

    /// About this client.
    pub fn client(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_owned());
        self
    }

    /// With a short reason or name (never a secret).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 300;

impl Services {
    /// Records `event` from `origin` in the table and the log.
    pub async fn record(&self, event: Event, origin: &Origin) {
        let ip = origin.ip.map(|ip| ip.to_string()).unwrap_or_default();
        tracing::info!(
            target: "yaoshi::event",
            kind = event.kind,
            user_id = event.user_id,
            actor_id = event.actor_id,
            client_id = event.client_id.as_deref(),
            ip = %ip,
            detail = %event.detail,
            "security event"
        );
        let row = NewEvent {
            at: self.now(),
            kind: event.kind.to_owned(),
            user_id: event.user_id,
            actor_id: event.actor_id,
            client_id: event.client_id,
            ip,
            user_agent: origin.user_agent.chars().take(MAX_USER_AGENT).collect(),
            detail: event.detail,
        };
        if let Err(e) = self.store.record_event(&row).await {
            tracing::warn!(error = %e, kind = row.kind, "cannot record a security event");
        }
    }

    /// Events matching `filter`, newest first.
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>, StoreError> {
        self.store.events(filter).await
    }

    /// The user's own recent sign-ins, for the account page.
    pub async fn recent_sign_ins(&self, user_id: i64) -> Result<Vec<EventRow>, StoreError> {
        let filter =
            EventFilter { kind: Some("sign_in".into()), user_id: Some(user_id), limit: 20, ..Default::default() };
        self.store.events(&filter).await
    }
}
