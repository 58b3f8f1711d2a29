//! The operator's pages: find and disable users, and set the per-client switches that only an
//! admin may flip (skip consent, the password grant, the implicit grant).

use super::{
    events::{kind, Event, Origin},
    present::moment,
    session::Session,
    ServiceError, Services,
};
use crate::{
    oauth::{grant, model::GrantType},
    service::users::normalize_login,
    store::{EventFilter, User},
    view::{AdminClient, AdminEvent, AdminUser},
};

/// The most users one search shows.
pub const USERS_PER_PAGE: i64 = 100;

/// The switches an admin sets on a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientPolicy {
    /// Skip the consent page.
    pub trusted: bool,
    /// Allow the password grant.
    pub password: bool,
    /// Allow the implicit grant.
    pub implicit: bool,
    /// Allow the device authorization grant (RFC 8628).
    pub device: bool,
    /// Web origins for CORS (replacing the registered ones).
    pub allowed_origins: Vec<String>,
    /// Require a second factor of its users (step-up).
    pub require_mfa: bool,
    /// Allow the password grant for accounts with a second factor.
    pub mfa_password_grant: bool,
}

pub(super) fn admin_user(u: User, now: i64, second_factor: bool) -> AdminUser {
    AdminUser {
        second_factor,
        id: u.id,
        username: u.username,
        email: u.email.unwrap_or_default(),
        email_verified: u.email_verified,
        phone: u.phone_number.unwrap_or_default(),
        phone_verified: u.phone_verified,
        display_name: u.display_name,
        active: u.active,
        admin: u.admin,
        created_at: moment(u.created_at, now),
    }
}

impl Services {
    /// Refuses anyone but an admin.
    pub fn ensure_admin(&self, session: &Session) -> Result<(), ServiceError> {
        if session.user.admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// An admin's help with a user's contacts: `verify` sends their unverified email address
    /// (else phone number) a verification again; `reset` sends a password reset to their
    /// verified email address (else phone number). Recorded as an admin action.
    pub async fn admin_contact_action(
        &self,
        session: &Session,
        user_id: i64,
        action: &str,
    ) -> Result<(), ServiceError> {
        self.ensure_admin(session)?;
        let user =
            self.store.user_by_id(user_id).await?.ok_or_else(|| ServiceError::NotFound("no such user".into()))?;
        let origin = Origin::default();
        let sent = match action {
            "verify" if user.email.is_some() && !user.email_verified => {
                self.send_email_verification(&user, &origin).await
            }
            "verify" => self.send_phone_verification(&user, &origin).await,
            "reset" => {
                let address = match (&user.email, &user.phone_number) {
                    (Some(e), _) if user.email_verified => normalize_login(e),
                    (_, Some(p)) if user.phone_verified => p.clone(),
                    _ => {
                        return Err(ServiceError::Invalid(
                            "the user has no verified email address or phone number".into(),
                        ))
                    }
                };
                let locale = super::contacts::locale_of(Some(&user));
                self.send_code(super::contacts::purpose::RESET, &address, Some(user.id), locale).await
            }
            _ => return Err(ServiceError::Invalid("unknown action".into())),
        };
        sent?;
        let what = if action == "reset" { "send_reset" } else { "send_verification" };
        self.record(Event::new(kind::ADMIN_ACTION).actor(Some(session.user.id)).user(user.id).detail(what), &origin)
            .await;
        Ok(())
    }

    /// One page of the users matching `query` (all users for an empty one), by id after
    /// `after`: what the admin API's user list returns.
    pub async fn admin_users(
        &self,
        session: &Session,
        query: &str,
        after: i64,
    ) -> Result<Vec<AdminUser>, ServiceError> {
        self.ensure_admin(session)?;
        let users = self.users_page(Some(query), after, USERS_PER_PAGE).await?;
        let now = self.now();
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let with_factor = self.store.users_with_factors(&ids).await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let second_factor = with_factor.contains(&u.id);
                admin_user(u, now, second_factor)
            })
            .collect())
    }

    /// Removes every second factor and recovery code of `user_id` (a user who lost them signs
    /// in with the password again and may enrol anew). Recorded as an admin action.
    pub async fn admin_reset_factors(&self, session: &Session, user_id: i64) -> Result<(), ServiceError> {
        self.ensure_admin(session)?;
        if self.store.user_by_id(user_id).await?.is_none() {
            return Err(ServiceError::NotFound("no such user".into()));
        }
        self.reset_factors(Some(session.user.id), user_id, &Origin::default())
            .await
            .map(|_| ())
            .map_err(|_| ServiceError::Store(crate::store::StoreError::Unavailable("second factors".into())))
    }

    /// The operator's reset from the command line: like [`Self::admin_reset_factors`] for the
    /// user named `login`, with no acting account. Returns the user and how many factors went.
    pub async fn operator_reset_factors(&self, login: &str) -> Result<(User, u64), ServiceError> {
        let user = self.find_user(login).await?;
        let removed = self
            .reset_factors(None, user.id, &Origin::default())
            .await
            .map_err(|_| ServiceError::Store(crate::store::StoreError::Unavailable("second factors".into())))?;
        Ok((user, removed))
    }

    /// Enables or disables an account. Disabling ends the user's sessions and revokes their
    /// tokens at once; an admin cannot disable their own account (nobody could undo it here).
    pub async fn set_user_enabled(&self, session: &Session, user_id: i64, enabled: bool) -> Result<(), ServiceError> {
        self.ensure_admin(session)?;
        if !enabled && user_id == session.user.id {
            return Err(ServiceError::Invalid("you cannot disable your own account".into()));
        }
        let now = self.now();
        if !self.store.set_user_active(user_id, enabled, now).await? {
            return Err(ServiceError::NotFound("no such user".into()));
        }
        if !enabled {
            self.end_user_sessions(user_id, None).await?;
            self.store.end_user_access(user_id, now).await?;
        }
        let what = if enabled { "enable_user" } else { "disable_user" };
        let event = Event::new(kind::ADMIN_ACTION).user(user_id).actor(Some(session.user.id)).detail(what);
        self.record(event, &Origin::default()).await;
        Ok(())
    }

    /// Security events matching the filter (`user` is a username or email), newest first.
    pub async fn admin_events(
        &self,
        session: &Session,
        kind: &str,
        user: &str,
        ip: &str,
    ) -> Result<Vec<AdminEvent>, ServiceError> {
        self.ensure_admin(session)?;
        let user_id = match user.trim() {
            "" => None,
            login => match self.store.user_by_login(&normalize_login(login)).await? {
                Some(u) => Some(u.id),
                None => return Ok(Vec::new()),
            },
        };
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let filter = EventFilter { kind: some(kind), user_id, ip: some(ip), before_id: None, limit: 200 };
        let rows = self.events(&filter).await?;
        let ids: std::collections::BTreeSet<i64> =
            rows.iter().flat_map(|e| [e.user_id, e.actor_id]).flatten().collect();
        let mut names = std::collections::HashMap::new();
        for id in ids {
            let name = self.store.user_by_id(id).await?.map_or_else(|| format!("#{id}"), |u| u.username);
            names.insert(id, name);
        }
        let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned()).unwrap_or_default();
        let now = self.now();
        let out = rows
            .into_iter()
            .map(|e| AdminEvent {
                id: e.id,
                at: moment(e.at, now),
                user: name(e.user_id),
                actor: name(e.actor_id),
                kind: e.kind,
                client_id: e.client_id.unwrap_or_default(),
                ip: e.ip,
                detail: e.detail,
            })
            .collect();
        Ok(out)
    }

    /// Every client with its switches.
    pub async fn admin_clients(&self, session: &Session) -> Result<Vec<AdminClient>, ServiceError> {
        self.ensure_admin(session)?;
        let mut out = Vec::new();
        for r in self.store.list_clients().await? {
            let owner = match r.owner_id {
                Some(id) => self.store.user_by_id(id).await?.map(|u| u.username),
                None => None,
            };
            let c = &r.client;
            let allowed_origins = self.store.client_origins(&c.client_id).await?;
            let factors = self.store.client_factor_policy(&c.client_id).await?.unwrap_or_default();
            let logout = self.store.client_logout(&c.client_id).await?.unwrap_or_default();
            out.push(AdminClient {
                scopes: c.scopes.iter().map(str::to_owned).collect(),
                post_logout_redirect_uris: logout.post_logout_redirect_uris,
                backchannel_logout_uri: logout.backchannel_logout_uri.unwrap_or_default(),
                allowed_origins,
                require_mfa: factors.require_mfa,
                mfa_password_grant: factors.mfa_password_grant,
                client_id: c.client_id.clone(),
                name: c.name.clone(),
                confidential: c.confidential,
                owner,
                trusted: c.trusted,
                password: c.grant_types.contains(&GrantType::Password),
                implicit: c.grant_types.contains(&GrantType::Implicit),
                device: c.grant_types.contains(&GrantType::DeviceCode),
                grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
                redirect_uris: c.redirect_uris.clone(),
            });
        }
        Ok(out)
    }

    /// Sets a client's admin switches.
    pub async fn set_client_policy(
        &self,
        session: &Session,
        client_id: &str,
        policy: ClientPolicy,
    ) -> Result<(), ServiceError> {
        self.ensure_admin(session)?;
        let mut client = self.find_client(client_id).await?.client;
        if policy.implicit && client.redirect_uris.is_empty() {
            return Err(ServiceError::Invalid("the implicit grant needs a registered redirect URI".into()));
        }
        if policy.password {
            grant::grant_permitted(client.confidential, GrantType::Password)
                .map_err(|why| ServiceError::Invalid(why.into()))?;
        }
        client.trusted = policy.trusted;
        let switches = [
            (GrantType::Password, policy.password),
            (GrantType::Implicit, policy.implicit),
            (GrantType::DeviceCode, policy.device),
        ];
        for (grant, on) in switches {
            client.grant_types.retain(|g| *g != grant);
            if on {
                client.grant_types.push(grant);
            }
        }
        client.grant_types.sort_by_key(|g| g.as_str());
        let origins = super::clients::normalize_origins(&policy.allowed_origins)?;
        let factors = crate::store::ClientFactorPolicy {
            require_mfa: policy.require_mfa,
            mfa_password_grant: policy.mfa_password_grant,
        };
        if self.store.update_client(&client).await? && self.store.set_client_factor_policy(client_id, factors).await? {
            self.store.set_client_origins(client_id, &origins).await?;
            let what = format!(
                "client_policy trusted={} password={} implicit={} device={} require_mfa={} mfa_password_grant={} \
                 origins={}",
                policy.trusted,
                policy.password,
                policy.implicit,
                policy.device,
                policy.require_mfa,
                policy.mfa_password_grant,
                origins.join(" ")
            );
            let event = Event::new(kind::ADMIN_ACTION).client(client_id).actor(Some(session.user.id)).detail(what);
            self.record(event, &Origin::default()).await;
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("no client {client_id:?}")))
        }
    }
}
