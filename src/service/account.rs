//! Self-service for a signed-in user: profile, password, the apps they authorized, and their
//! signed-in browsers.

use super::{
    events::{kind, Event, Origin},
    present::{browser_name, moment},
    session::Session,
    users::{validate_password, SignInError},
    ServiceError, Services,
};
use crate::{
    service::users::normalize_login,
    store::{GrantRecord, SessionRow, StoreError},
    view::{AccountView, ActivityItem, AppGrant, BrowserSession},
};

/// Why a change that needs the user's password (new password, account deletion) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The current password is wrong (or the account has none).
    #[error("the current password is not correct")]
    WrongCurrent,
    /// Too many wrong current passwords: try again later.
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds until the next attempt may start.
        retry_after: i64,
    },
    /// The new password breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// Storage or hashing failed.
    #[error("storage unavailable")]
    Unavailable,
}

fn confirm_failure(e: SignInError) -> ConfirmError {
    match e {
        SignInError::BadCredentials => ConfirmError::WrongCurrent,
        SignInError::Throttled { retry_after } => ConfirmError::Throttled { retry_after },
        // Never from a confirmation, which checks only the password.
        SignInError::Unavailable | SignInError::EmailNotVerified => ConfirmError::Unavailable,
    }
}

/// How long the username of a deleted account stays reserved.
pub const USERNAME_COOLDOWN: i64 = 30 * 86_400;
/// How long the account page says another account took an address this one had claimed.
const CLAIM_DROPPED_SHOWN: i64 = 30 * 86_400;

/// A session as the account and admin pages list it; `current` is the hash of the session
/// looking at the page.
pub(super) fn browser_session(s: SessionRow, current: &str, now: i64) -> BrowserSession {
    BrowserSession {
        current: s.session_hash == current,
        id: s.session_hash,
        browser: browser_name(&s.user_agent),
        ip: s.ip,
        started_at: moment(s.created_at, now),
        last_seen_at: moment(s.last_seen_at, now),
    }
}

impl Services {
    /// A consent as the account and admin pages list it.
    pub(super) fn app_grant(&self, g: GrantRecord, now: i64) -> AppGrant {
        AppGrant {
            scopes: self.scope_items(&g.scope),
            client_id: g.client_id,
            client_name: g.client_name,
            granted_at: moment(g.granted_at, now),
            last_used_at: g.last_used_at.map(|at| moment(at, now)),
        }
    }

    /// Everything the account page shows.
    pub async fn account_view(&self, session: &Session, csrf: String) -> Result<AccountView, ServiceError> {
        let now = self.now();
        let user = &session.user;
        let apps = self.store.grants_for_user(user.id).await?.into_iter().map(|g| self.app_grant(g, now)).collect();
        let sessions = self
            .store
            .sessions_for_user(user.id, now, now - super::session::IDLE_LIFETIME)
            .await?
            .into_iter()
            .map(|s| browser_session(s, &session.hash, now))
            .collect();
        // Shown for a month, while the dropped address is still missing.
        let claim_dropped = (user.email.is_none() || user.phone_number.is_none())
            && user.claim_dropped_at.is_some_and(|at| at > now - CLAIM_DROPPED_SHOWN);
        Ok(AccountView {
            email_verified: user.email_verified,
            phone: user.phone_number.clone().unwrap_or_default(),
            phone_verified: user.phone_verified,
            claim_dropped,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone().unwrap_or_default(),
            apps,
            sessions,
            csrf,
            identities: self.identity_items(user, now).await?,
            has_password: user.password_hash.is_some(),
            activity: self
                .recent_sign_ins(user.id)
                .await?
                .into_iter()
                .map(|e| ActivityItem {
                    at: moment(e.at, now),
                    kind: e.kind,
                    ip: e.ip,
                    browser: browser_name(&e.user_agent),
                    detail: e.detail,
                })
                .collect(),
        })
    }

    /// Changes the display name and email.
    pub async fn update_profile(&self, user_id: i64, display_name: &str, email: &str) -> Result<(), ServiceError> {
        let before = self.store.user_by_id(user_id).await?.and_then(|u| u.email);
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(ServiceError::Invalid("the display name must have 1-100 characters".into()));
        }
        let email = email.trim();
        let email = (!email.is_empty()).then_some(email);
        if let Some(e) = email {
            super::users::validate_email(e)?;
        }
        let normalized = email.map(normalize_login);
        let changed = before.as_deref().map(normalize_login) != normalized;
        // An address another account verified can never become this one's: said at once.
        if let Some(n) = normalized.as_deref().filter(|_| changed) {
            if self.store.user_by_verified_email(n).await?.is_some_and(|u| u.id != user_id) {
                return Err(ServiceError::Conflict("that email is already registered".into()));
            }
        }
        self.store.update_profile(user_id, display_name, email, normalized.as_deref(), self.now()).await.map_err(
            |e| match e {
                StoreError::Conflict(_) => ServiceError::Conflict("that email is already registered".into()),
                other => other.into(),
            },
        )?;
        if before.as_deref() != email {
            self.record(Event::new(kind::EMAIL_CHANGED).user(user_id), &Origin::default()).await;
        }
        // A new address is a claim: its verification goes out now (within the send limits).
        if let (true, Some(address)) = (changed, normalized) {
            let locale = super::contacts::locale_of(self.store.user_by_id(user_id).await?.as_ref());
            if let Err(e) = self.send_code(super::contacts::purpose::VERIFY, &address, Some(user_id), locale).await {
                tracing::warn!(error = %e, "the verification of a changed email was not sent");
            }
        }
        Ok(())
    }

    /// Changes the password after checking the current one (an account without a password
    /// sets its first one); every other session of the user ends and their refresh tokens are
    /// revoked, so a stolen session or token stops working.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
        origin: &Origin,
    ) -> Result<(), ConfirmError> {
        let user = &session.user;
        // An account made through a provider has no password yet: its first one needs none.
        if user.password_hash.is_some() {
            self.confirm_password(user, current, origin).await.map_err(confirm_failure)?;
        }
        validate_password(new).map_err(|e| ConfirmError::Invalid(e.to_string()))?;
        let hash = self.hasher.hash(new).await.map_err(|_| ConfirmError::Unavailable)?;
        let now = self.now();
        let store = &self.store;
        let done = async {
            store.set_password_hash(user.id, Some(&hash), now).await?;
            // Clients that took part in the other sessions hear of their end; the sweep after
            // catches a session opened meanwhile.
            self.end_user_sessions(user.id, Some(&session.hash)).await?;
            store.delete_other_sessions(user.id, &session.hash).await?;
            store.revoke_user_tokens(user.id, now).await
        };
        done.await.map_err(|e| {
            tracing::error!(error = %e, "password change failed");
            ConfirmError::Unavailable
        })?;
        self.record(Event::new(kind::PASSWORD_CHANGED).user(user.id).detail("self_service"), origin).await;
        Ok(())
    }

    /// Deletes the account after checking the password: sessions, tokens, consents and the
    /// user's developer apps go with it, and the username stays reserved for
    /// [`USERNAME_COOLDOWN`] so nobody can pose as the former owner.
    pub async fn delete_account(&self, session: &Session, password: &str, origin: &Origin) -> Result<(), ConfirmError> {
        let user = &session.user;
        self.confirm_password(user, password, origin).await.map_err(confirm_failure)?;
        let released_at = self.now() + USERNAME_COOLDOWN;
        if self.end_user_sessions(user.id, None).await.is_err() {
            return Err(ConfirmError::Unavailable);
        }
        self.store.delete_user(user.id, released_at).await.map_err(|e| {
            tracing::error!(error = %e, "account deletion failed");
            ConfirmError::Unavailable
        })?;
        self.record(Event::new(kind::ACCOUNT_DELETED).user(user.id), origin).await;
        Ok(())
    }

    /// Withdraws the user's consent for a client and revokes every token it holds for them.
    pub async fn revoke_app(&self, user_id: i64, client_id: &str) -> Result<(), ServiceError> {
        self.store.revoke_grant(user_id, client_id, self.now()).await?;
        self.record(Event::new(kind::CONSENT_REVOKED).user(user_id).client(client_id), &Origin::default()).await;
        Ok(())
    }

    /// Ends one of the user's sessions (by its id as listed), or all but the current one.
    pub async fn end_sessions(&self, session: &Session, which: Option<&str>) -> Result<(), ServiceError> {
        match which {
            Some(id) => {
                // Only one of the user's own sessions: anything else is not theirs to end.
                let own = self.store.sessions_for_user(session.user.id, self.now(), 0).await?;
                if own.iter().any(|s| s.session_hash == id) {
                    self.end_session(id).await;
                }
            }
            None => {
                self.end_user_sessions(session.user.id, Some(&session.hash)).await?;
                self.store.delete_other_sessions(session.user.id, &session.hash).await?;
            }
        }
        Ok(())
    }
}
