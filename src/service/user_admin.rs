//! What an operator (the command line) or an admin client (the admin API) does to accounts by
//! id: paging and searching them, changing a profile, setting a password, enabling,
//! disabling and deleting. The rules are the self-service ones (`account`, `users`).

use super::{
    account::USERNAME_COOLDOWN,
    events::{kind, Event, Origin},
    factors::FactorInfo,
    passkeys::PasskeyInfo,
    session::IDLE_LIFETIME,
    users::Registration,
    ServiceError, Services,
};
use crate::store::{ExternalIdentity, GrantRecord, GroupRow, SessionRow, StoreError, User};

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
    /// The phone number (E.164, or national in the server's region); `Some("")` removes it.
    /// The same number keeps its verification; another is a claim until its owner verifies it.
    pub phone_number: Option<String>,
}

/// What an operator sees of an account besides its profile: where it is signed in, what it
/// consented to, the providers linked to it, its second factors and its groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserOverview {
    /// The account.
    pub user: User,
    /// Its live browser sessions, newest first.
    pub sessions: Vec<SessionRow>,
    /// The clients it consented to.
    pub grants: Vec<GrantRecord>,
    /// The upstream providers' identities linked to it.
    pub identities: Vec<ExternalIdentity>,
    /// Its second factors.
    pub factors: UserFactors,
    /// The groups it belongs to, by name.
    pub groups: Vec<GroupRow>,
}

/// An account's second factors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFactors {
    /// Its confirmed TOTP factors.
    pub totp: Vec<FactorInfo>,
    /// Its passkeys.
    pub passkeys: Vec<PasskeyInfo>,
    /// How many unused recovery codes it has.
    pub recovery_codes_left: i64,
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
        if let Some(raw) = changes.phone_number.as_deref().map(str::trim) {
            let phone = match raw {
                "" => None,
                raw => Some(
                    super::contacts::normalize_phone(raw, &self.settings.contacts.default_region)
                        .map_err(|e| ServiceError::InvalidField("phone_number", e.to_string()))?,
                ),
            };
            self.store.claim_phone(id, phone.as_deref(), self.now()).await?;
        }
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

    /// Everything [`UserOverview`] lists about the user.
    pub async fn user_overview(&self, id: i64) -> Result<UserOverview, ServiceError> {
        let user = self.user(id).await?;
        Ok(UserOverview {
            sessions: self.live_sessions(id).await?,
            grants: self.store.grants_for_user(id).await?,
            identities: self.store.identities_for_user(id).await?,
            factors: self.factors_of(id).await?,
            groups: self.store.groups_of(id).await?,
            user,
        })
    }

    /// The user's live browser sessions (as the account page lists them).
    pub async fn user_sessions(&self, id: i64) -> Result<Vec<SessionRow>, ServiceError> {
        self.user(id).await?;
        self.live_sessions(id).await
    }

    async fn live_sessions(&self, id: i64) -> Result<Vec<SessionRow>, ServiceError> {
        let now = self.now();
        Ok(self.store.sessions_for_user(id, now, now - IDLE_LIFETIME).await?)
    }

    /// The upstream identities linked to the user.
    pub async fn user_identities(&self, id: i64) -> Result<Vec<ExternalIdentity>, ServiceError> {
        self.user(id).await?;
        Ok(self.store.identities_for_user(id).await?)
    }

    /// The user's second factors.
    pub async fn user_factors(&self, id: i64) -> Result<UserFactors, ServiceError> {
        self.user(id).await?;
        self.factors_of(id).await
    }

    async fn factors_of(&self, id: i64) -> Result<UserFactors, ServiceError> {
        Ok(UserFactors {
            totp: self.store.factors(id).await?.into_iter().filter_map(FactorInfo::confirmed).collect(),
            passkeys: self.store.passkeys(id).await?.into_iter().map(PasskeyInfo::from).collect(),
            recovery_codes_left: self.store.recovery_codes_left(id).await?,
        })
    }

    /// Ends one session of the user (by its id as listed), telling its clients; false if the
    /// user has no such session, so a repeated `DELETE` answers alike.
    pub async fn end_session_of(&self, id: i64, session_id: &str, actor: Option<i64>) -> Result<bool, ServiceError> {
        let theirs = self.user_sessions(id).await?.into_iter().any(|s| s.session_hash == session_id);
        if theirs {
            self.end_session(session_id).await;
            let event = Event::new(kind::ADMIN_ACTION).actor(actor).user(id).detail("end_session");
            self.record(event, &Origin::default()).await;
        }
        Ok(theirs)
    }

    /// Ends every session of the user, telling their clients.
    pub async fn end_sessions_of(&self, id: i64, actor: Option<i64>) -> Result<(), ServiceError> {
        self.user(id).await?;
        self.end_user_sessions(id, None).await?;
        self.record(Event::new(kind::ADMIN_ACTION).actor(actor).user(id).detail("end_sessions"), &Origin::default())
            .await;
        Ok(())
    }

    /// The clients the user consented to.
    pub async fn user_grants(&self, id: i64) -> Result<Vec<GrantRecord>, ServiceError> {
        Ok(self.store.grants_for_user(self.user(id).await?.id).await?)
    }

    /// Withdraws the user's consent for a client and revokes its tokens for them, as the user
    /// can on their account page (idempotent).
    pub async fn revoke_grant_of(&self, id: i64, client_id: &str) -> Result<(), ServiceError> {
        self.user(id).await?;
        self.revoke_app(id, client_id).await
    }

    /// Removes every second factor and recovery code of the user (who lost them), recorded
    /// with the acting account if there is one.
    pub async fn reset_factors_of(&self, id: i64, actor: Option<i64>) -> Result<u64, ServiceError> {
        self.user(id).await?;
        self.reset_factors(actor, id, &Origin::default())
            .await
            .map_err(|_| ServiceError::Store(StoreError::Unavailable("second factors".into())))
    }

    /// Creates an account for an operator: by an admin client (`client`) through the admin
    /// API or by an admin (`actor`) in the console, recorded as such. With `invite`, the new
    /// user is mailed a link to choose their password ([`Self::invite_user`]).
    pub async fn create_account(
        &self,
        registration: Registration,
        invite: bool,
        actor: Option<i64>,
        client: Option<&str>,
    ) -> Result<User, ServiceError> {
        if invite && registration.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            return Err(ServiceError::InvalidField("email", "an invitation needs an email address".into()));
        }
        let user = self.create_user(registration).await?;
        let mut event = Event::new(kind::ACCOUNT_CREATED).user(user.id).actor(actor);
        if let Some(client) = client {
            event = event.client(client);
        }
        self.record(event.detail(if client.is_some() { "admin_api" } else { "admin" }), &Origin::default()).await;
        if invite {
            self.invite_user(user.id, actor).await?;
        }
        Ok(user)
    }

    /// Invites the user to choose a password: a link to their email address, good for
    /// [`INVITE_TTL`](super::contacts::INVITE_TTL), whose use also verifies the address. For
    /// an account an operator created; the send limits of every code apply.
    pub async fn invite_user(&self, id: i64, actor: Option<i64>) -> Result<(), ServiceError> {
        use super::contacts::{locale_of, purpose};
        let user = self.user(id).await?;
        let Some(email) = user.email.as_deref().filter(|_| user.active) else {
            return Err(ServiceError::Invalid("an invitation needs an active account with an email address".into()));
        };
        let address = super::users::normalize_login(email);
        self.send_code(purpose::INVITE, &address, Some(id), locale_of(Some(&user))).await?;
        self.record(Event::new(kind::ADMIN_ACTION).actor(actor).user(id).detail("invite"), &Origin::default()).await;
        Ok(())
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
