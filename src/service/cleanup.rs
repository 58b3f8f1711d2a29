//! Housekeeping's sweep of what can no longer be used (`yaoshi cleanup`, and every ten
//! minutes in `serve`): each kind of row goes in batches of [`BATCH`] rows, one statement each,
//! so no transaction is long and instances sweeping at once only share the work.

use super::{logout_delivery::GIVEN_UP_KEPT, session::IDLE_LIFETIME, Services};
use crate::store::{Expired, StoreError};

/// Rows deleted by one statement.
pub const BATCH: i64 = 500;
/// Batches of one kind in one sweep: what is left waits for the next sweep.
const MAX_BATCHES: u32 = 200;
/// How long an expired authorization code is kept, so that a late replay still finds it and
/// revokes its tokens (RFC 6749 §4.1.2).
const CODES_KEPT: i64 = 86_400;
/// How long an ID Token grant whose refresh tokens are all gone is kept.
const GRANTS_KEPT: i64 = 86_400;
/// How long the clients of an ended session are kept (a minute covers a token issued while the
/// session was ending).
const SESSION_CLIENTS_KEPT: i64 = 60;

/// What one kind's sweep deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purged {
    /// The kind ([`Expired::name`]).
    pub kind: &'static str,
    /// Rows deleted.
    pub rows: u64,
    /// Statements run.
    pub batches: u32,
}

/// What a sweep deleted, kind by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// One entry per kind, in sweep order.
    pub kinds: Vec<Purged>,
}

impl Cleanup {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.kinds.iter().map(|k| k.rows).sum()
    }

    /// The entry for `kind`.
    pub fn of(&self, kind: &str) -> Option<Purged> {
        self.kinds.iter().find(|k| k.kind == kind).copied()
    }
}

impl Services {
    /// Every kind of expired row with its cut-off at `now`.
    fn expired_kinds(&self, now: i64) -> [Expired; 19] {
        [
            Expired::AuthCodes(now - CODES_KEPT),
            Expired::AccessTokens(now),
            Expired::RefreshTokens(now),
            Expired::Sessions(now, now - IDLE_LIFETIME),
            Expired::ThrottleWindows(now - self.settings.throttle.window),
            Expired::UsernameTombstones(now),
            Expired::SessionClients(now - SESSION_CLIENTS_KEPT),
            Expired::Events(now - self.settings.event_retention_days * 86_400),
            Expired::UpstreamLogins(now),
            Expired::PendingIdentities(now),
            Expired::SigningKeys(now),
            Expired::OidcGrants(now - GRANTS_KEPT),
            Expired::LogoutNotices(now - GIVEN_UP_KEPT),
            Expired::ContactCodes(now - 86_400),
            Expired::Messages(now - GIVEN_UP_KEPT),
            Expired::SpentOnce(now),
            Expired::DeviceCodes(now),
            Expired::PushedRequests(now),
            Expired::WebauthnCeremonies(now),
        ]
    }

    /// Deletes every expired row, in batches, and says how many of each kind went. Sessions go
    /// before their clients and refresh tokens before the ID Token grants, so one sweep
    /// finishes what the earlier kinds leave orphaned.
    pub async fn purge_expired(&self) -> Result<Cleanup, StoreError> {
        let mut cleanup = Cleanup::default();
        for what in self.expired_kinds(self.now()) {
            let mut purged = Purged { kind: what.name(), rows: 0, batches: 0 };
            while purged.batches < MAX_BATCHES {
                let rows = self.store.purge_batch(what, BATCH).await?;
                purged.rows += rows;
                purged.batches += 1;
                if rows < BATCH as u64 {
                    break;
                }
            }
            cleanup.kinds.push(purged);
        }
        Ok(cleanup)
    }
}
