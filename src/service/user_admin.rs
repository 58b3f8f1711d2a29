//! What an operator (the command line) or an admin client (the admin API) does to accounts by
//! id: paging and searching them, changing a profile, setting a password, enabling,
//! disabling and deleting. The rules are the self-service ones (`account`, `users`).

use super::{
    account::USERNAME_COOLDOWN,
    events::{kind, Event, Origin},
    ServiceError, Services,
};
use crate::store::User;

/// The most users one page holds.
pub const MAX_PAGE: i64 = 200;

/// Changes to a profile: each field given replaces the stored one, an absent one stays.
/// An empty email removes the address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    /// The display name (1-100 characters).
    pub display_name: Option<String>,
    /// The email address; `Some("")` removes it.
    pub email: Option<String>,
}

fn no_user(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("no user {id}"))
}

impl Services {
    /// The user with this id, or `NotFound`.
    pub async fn user(&self, id: i64) -> Result<User, ServiceError> {
        self.store.user_by_id(id).await?.ok_or_else(|| no_user(id))
    }

    /// One page of users by id after `after_id` (at most `limit`, 1-[`MAX_PAGE`]), those whose
    /// username, email, phone or display name contain `search` when given.
    pub async fn users_page(&self, search: Option<&str>, after_id: i64, limit: i64) -> Result<Vec<User>, ServiceError> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 100) {
            return Err(ServiceError::InvalidField("search", "a search has at most 100 characters".into()));
        }
        Ok(self.store.users_page(search, after_id.max(0), limit.clamp(1, MAX_PAGE)).await?)
    }

    /// Applies `changes` to the user's profile, with the account page's rules (a new address
    /// is an unverified claim, and one another account verified is refused).
    pub async fn change_profile(&self, id: i64, changes: &ProfileChanges) -> Result<User, ServiceError> {
        let user = self.user(id).await?;
        let name = changes.display_name.clone().unwrap_or_else(|| user.display_name.clone());
        let email = changes.email.clone().unwrap_or_else(|| user.email.clone().unwrap_or_default());
        self.update_profile(id, &name, &email).await?;
        self.user(id).await
    }

    /// Sets the user's password as an operator: every session ends and every token is revoked.
    pub async fn set_password_of(&self, id: i64, password: &str) -> Result<(), ServiceError> {
        super::users::validate_password(password)?;
        let user = self.user(id).await?;
        let hash = self.hasher.hash(password).await?;
        self.replace_password(user.id, &hash, "operator", &Origin::default()).await?;
        Ok(())
    }

    /// Enables or disables the user; disabling ends their sessions and revokes their tokens.
    pub async fn set_enabled(&self, id: i64, active: bool) -> Result<User, ServiceError> {
        let user = self.user(id).await?;
        self.set_active(&user.username, active).await
    }

    /// Deletes the user as their own deletion does (the username stays reserved for the
    /// cool-down); false if there was no such user, so a repeated `DELETE` answers alike.
    pub async fn delete_user(&self, id: i64, actor: Option<i64>) -> Result<bool, ServiceError> {
        if self.store.user_by_id(id).await?.is_none() {
            return Ok(false);
        }
        self.end_user_sessions(id, None).await?;
        let deleted = self.store.delete_user(id, self.now() + USERNAME_COOLDOWN).await?;
        if deleted {
            let event = Event::new(kind::ACCOUNT_DELETED).user(id).actor(actor).detail("operator");
            self.record(event, &Origin::default()).await;
        }
        Ok(deleted)
    }
}
