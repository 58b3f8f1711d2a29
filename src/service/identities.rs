//! Provider identities and accounts: turning a pending identity into a new account (or, when
//! the operator allows it, linking it to the account with the verified email once its password
//! is given), and listing and unlinking identities on the account page.

use super::{
    session::FirstStep,
    upstream::BrowserInfo,
    users::{normalize_login, validate_username, SignInError},
    ServiceError, Services,
};
use crate::{
    crypto::sha256_hex,
    service::present::moment,
    store::{ExternalIdentity, NewUser, PendingIdentity, StoreError, Unlink, User},
    view::{IdentityItem, PendingView},
};

/// Why finishing a pending identity failed.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    /// No pending identity for this browser (expired, used, or never there).
    #[error("the sign-in expired")]
    Expired,
    /// Sign-up is closed and linking is not offered.
    #[error("sign-up is closed")]
    Closed,
    /// A form field is not acceptable.
    #[error("{0}")]
    Invalid(ServiceError),
    /// The password of the account to link is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords.
    #[error("throttled")]
    Throttled {
        /// Seconds until the next attempt may start.
        retry_after: i64,
    },
    /// The identity was linked meanwhile (another tab).
    #[error("identity already linked")]
    Taken,
    /// Storage failed.
    #[error("storage unavailable")]
    Unavailable,
}

/// A storage failure while finishing: logged in full here, where it happens (a `From`
/// conversion stays free of side effects), and answered as [`FinishError::Unavailable`].
fn finish_failure(e: StoreError) -> FinishError {
    tracing::error!(error = %e, "storage failure while finishing a provider sign-in");
    FinishError::Unavailable
}

/// Why unlinking failed.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    /// It is the account's only way to sign in.
    #[error("last way to sign in")]
    LastMethod,
    /// Nothing linked at that provider.
    #[error("not linked")]
    NotLinked,
    /// Storage failed.
    #[error("storage unavailable")]
    Unavailable,
}

/// "a***@example.com": enough for the owner to recognise their address.
pub(super) fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

impl Services {
    async fn pending(&self, token: &str) -> Result<PendingIdentity, FinishError> {
        self.store
            .pending_identity(&sha256_hex(token), self.now())
            .await
            .map_err(finish_failure)?
            .ok_or(FinishError::Expired)
    }

    /// What the finish page shows for the browser's pending identity.
    pub async fn pending_view(&self, token: &str, csrf: String) -> Result<PendingView, FinishError> {
        let pending = self.pending(token).await?;
        let link = self.link_candidate(&pending).await.map_err(finish_failure)?;
        let provider_name =
            self.provider(&pending.provider).map_or_else(|| pending.provider.clone(), |p| p.name.clone());
        Ok(PendingView {
            provider_name,
            username: pending.username,
            display_name: pending.display_name.unwrap_or_default(),
            email: pending.email.unwrap_or_default(),
            link_account: link.and_then(|u| u.email).map(|e| mask_email(&e)),
            registration_open: self.settings.registration,
            csrf,
        })
    }

    /// Creates an account named `username` (no password) for the pending identity and signs
    /// it in. Returns the session cookie value and where to continue.
    pub async fn finish_signup(
        &self,
        token: &str,
        username: &str,
        browser: &BrowserInfo,
    ) -> Result<(FirstStep, String), FinishError> {
        let pending = self.pending(token).await?;
        if !self.settings.registration {
            return Err(FinishError::Closed);
        }
        let username = username.trim();
        validate_username(username).map_err(FinishError::Invalid)?;
        let taken = |m: &str| FinishError::Invalid(ServiceError::InvalidField("username", m.into()));
        if self.store.user_by_login(&normalize_login(username)).await.map_err(finish_failure)?.is_some() {
            return Err(taken("that username is taken"));
        }
        // The provider's email comes along only if the provider verified it (an email is also
        // a sign-in name here, so an unproven one would squat someone's address) and no other
        // account has it.
        let email = match pending.email.as_deref() {
            Some(e)
                if pending.email_verified
                    && self.store.user_by_login(&normalize_login(e)).await.map_err(finish_failure)?.is_none() =>
            {
                Some(e.to_owned())
            }
            _ => None,
        };
        let now = self.now();
        let new = NewUser {
            username: username.to_owned(),
            username_normalized: normalize_login(username),
            email_normalized: email.as_deref().map(normalize_login),
            email,
            display_name: pending
                .display_name
                .clone()
                .filter(|d| d.chars().count() <= 100)
                .unwrap_or_else(|| username.to_owned()),
            password_hash: None,
            admin: false,
            // Only a provider-verified address comes along (above): it stays verified.
            email_verified: true,
            phone_number: None,
            locale: None,
            now,
        };
        let identity = ExternalIdentity {
            provider: pending.provider.clone(),
            subject: pending.subject.clone(),
            app_subject: pending.app_subject.clone(),
            union_id: pending.union_id.clone(),
            union_group: pending.union_group.clone(),
            user_id: 0,
            email: pending.email.clone(),
            created_at: now,
        };
        let user = match self.store.create_user_with_identity(&new, &identity).await {
            Ok(u) => u,
            Err(StoreError::Conflict(_)) => {
                if self
                    .store
                    .external_identity(&identity.provider, &identity.subject)
                    .await
                    .map_err(finish_failure)?
                    .is_some()
                {
                    return Err(FinishError::Taken);
                }
                return Err(taken("that username is not available"));
            }
            Err(e) => return Err(finish_failure(e)),
        };
        self.enter(&pending, &user, browser, "").await
    }

    /// Links the pending identity to the account with its verified email after checking that
    /// account's password (with the sign-in throttle), and signs that account in.
    pub async fn finish_link(
        &self,
        token: &str,
        password: &str,
        browser: &BrowserInfo,
    ) -> Result<(FirstStep, String), FinishError> {
        let pending = self.pending(token).await?;
        let candidate = self.link_candidate(&pending).await.map_err(finish_failure)?.ok_or(FinishError::Closed)?;
        let login = candidate.email.clone().unwrap_or_default();
        let user = match self.sign_in(&login, password, &browser.origin()).await {
            Ok(u) if u.id == candidate.id => u,
            Ok(_) | Err(SignInError::BadCredentials) => return Err(FinishError::WrongPassword),
            Err(SignInError::Throttled { retry_after }) => return Err(FinishError::Throttled { retry_after }),
            Err(SignInError::Unavailable | SignInError::EmailNotVerified) => return Err(FinishError::Unavailable),
        };
        let identity = ExternalIdentity {
            provider: pending.provider.clone(),
            subject: pending.subject.clone(),
            app_subject: pending.app_subject.clone(),
            union_id: pending.union_id.clone(),
            union_group: pending.union_group.clone(),
            user_id: user.id,
            email: pending.email.clone(),
            created_at: self.now(),
        };
        match self.store.link_identity(&identity).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(FinishError::Taken),
            Err(e) => return Err(finish_failure(e)),
        }
        self.enter(&pending, &user, browser, "pwd").await
    }

    /// Ends the pending identity and opens a session for `user`.
    async fn enter(
        &self,
        pending: &PendingIdentity,
        user: &User,
        browser: &BrowserInfo,
        amr: &str,
    ) -> Result<(FirstStep, String), FinishError> {
        self.store.delete_pending_identity(&pending.pending_hash).await.map_err(finish_failure)?;
        // An existing account linked by its password keeps its second factor.
        let (previous, remembered) = (browser.previous_session.as_deref(), browser.remembered.as_deref());
        let step = self
            .after_first_step(user, amr, &browser.origin(), previous, remembered)
            .await
            .map_err(|_| FinishError::Unavailable)?;
        Ok((step, pending.next.clone()))
    }

    /// The account page's list: every enabled provider (linked or not), then identities of
    /// providers no longer configured, which can only be unlinked.
    pub async fn identity_items(&self, user: &User, now: i64) -> Result<Vec<IdentityItem>, ServiceError> {
        let linked = self.store.identities_for_user(user.id).await?;
        let can_unlink = user.password_hash.is_some() || linked.len() > 1;
        let item = |provider: &str, name: &str, i: Option<&ExternalIdentity>| IdentityItem {
            provider: provider.to_owned(),
            name: name.to_owned(),
            linked: i.is_some(),
            detail: i.map(|i| i.email.clone().unwrap_or_else(|| i.subject.clone())).unwrap_or_default(),
            linked_at: i.map(|i| moment(i.created_at, now)),
            can_unlink: i.is_some() && can_unlink,
        };
        // A mini program cannot be linked from a browser: it is listed once it is linked.
        let mut items: Vec<IdentityItem> = self
            .providers()
            .iter()
            .map(|p| (p, linked.iter().find(|i| i.provider == p.id)))
            .filter(|(p, i)| p.browser_flow() || i.is_some())
            .map(|(p, i)| item(&p.id, &p.name, i))
            .collect();
        items.extend(
            linked
                .iter()
                .filter(|i| self.provider(&i.provider).is_none())
                .map(|i| item(&i.provider, &i.provider, Some(i))),
        );
        Ok(items)
    }

    /// Unlinks the user's identity at `provider`, unless it is their last way to sign in.
    pub async fn unlink_provider(&self, user_id: i64, provider: &str) -> Result<(), UnlinkError> {
        match self.store.unlink_identity(user_id, provider).await {
            Ok(Unlink::Unlinked) => Ok(()),
            Ok(Unlink::LastMethod) => Err(UnlinkError::LastMethod),
            Ok(Unlink::NotLinked) => Err(UnlinkError::NotLinked),
            Err(e) => {
                tracing::error!(error = %e, "unlinking an identity failed");
                Err(UnlinkError::Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("erin@example.com"), "e***@example.com");
        assert_eq!(mask_email("nope"), "***");
    }
}
