//! Accounts: creation, passwords, enabling and disabling, and the sign-in check shared by the
//! password grant and the login page (argon2id, dummy hash for unknown users, throttle).

use super::{
    events::{kind, Event, Origin},
    throttle::{self, Refusal, Verdict},
    ServiceError, Services,
};
use crate::store::{NewUser, StoreError, User};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (argon2 handles more, but nobody types more).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest username or email accepted at sign-in (longer ones cannot exist).
const MAX_LOGIN_LEN: usize = 254;

/// How usernames and emails compare: NFKC-normalised, trimmed and lowercased (Unicode's
/// NFKC_Casefold, closely), so `Alice`, `alice` and the fullwidth `ａｌｉｃｅ` are one name.
/// The stored username stays as typed.
pub fn normalize_login(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let folded = s.nfkc().collect::<String>().trim().to_lowercase();
    folded.nfkc().collect()
}

/// What a user provides to open an account. `Debug` leaves the password out.
#[derive(Clone, Default)]
pub struct Registration {
    /// 1–64 characters: letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Optional email.
    pub email: Option<String>,
    /// Optional display name (defaults to the username).
    pub display_name: Option<String>,
    /// The password, if the account has a local one.
    pub password: Option<String>,
    /// Admin flag.
    pub admin: bool,
    /// Whether the email is known to be the owner's (an operator vouches for it); otherwise it
    /// is a claim until its owner verifies it.
    pub email_verified: bool,
    /// The language the account's messages are written in (a tag).
    pub locale: Option<String>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in failed. Deliberately not more precise: no user enumeration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    /// Unknown user, wrong password, disabled account or no local password: all look alike.
    #[error("invalid username or password")]
    BadCredentials,
    /// Too many recent failures for this account or this address.
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds until the next attempt may start.
        retry_after: i64,
    },
    /// The store failed or the password check is saturated: no verdict, nothing counted.
    #[error("temporarily unavailable")]
    Unavailable,
    /// The password is right, but the operator requires a verified email before the first
    /// sign-in and this account's is not yet (said only to whoever knows the password).
    #[error("confirm your email address first")]
    EmailNotVerified,
}

/// Checks a username: 1-64 letters, digits, `.`, `_`, `-`.
pub(crate) fn validate_username(u: &str) -> Result<(), ServiceError> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
    if u.is_empty() || u.chars().count() > 64 || !u.chars().all(ok_char) {
        return Err(ServiceError::InvalidField(
            "username",
            "username must be 1-64 letters, digits, dots, underscores or hyphens".into(),
        ));
    }
    Ok(())
}

/// The most common passwords, shipped with the project and refused everywhere.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn is_common(password: &str) -> bool {
    let p = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|c| !c.starts_with('#') && c == p)
}

pub(crate) fn validate_email(e: &str) -> Result<(), ServiceError> {
    let ok = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::InvalidField("email", format!("{e:?} is not an email address")))
    }
}

/// Checks the password rules (length only here; never truncated).
pub fn validate_password(p: &str) -> Result<(), ServiceError> {
    let n = p.chars().count();
    let field = |m: String| Err(ServiceError::InvalidField("password", m));
    if n < MIN_PASSWORD_LEN {
        return field(format!("password must have at least {MIN_PASSWORD_LEN} characters"));
    }
    if n > MAX_PASSWORD_LEN {
        return field(format!("password must have at most {MAX_PASSWORD_LEN} characters"));
    }
    if is_common(p) {
        return field("this password is one of the most common ones; choose another".into());
    }
    Ok(())
}

impl Services {
    /// Opens an account. `Conflict` when the username or email is taken.
    pub async fn create_user(&self, r: Registration) -> Result<User, ServiceError> {
        let username = r.username.trim().to_owned();
        validate_username(&username)?;
        let email = r.email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
        if let Some(e) = &email {
            validate_email(e)?;
        }
        let password_hash = match &r.password {
            Some(p) => {
                validate_password(p)?;
                Some(self.hasher.hash(p).await?)
            }
            None => None,
        };
        let new = NewUser {
            username_normalized: normalize_login(&username),
            email_normalized: email.as_deref().map(normalize_login),
            display_name: r
                .display_name
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| username.clone()),
            username,
            email,
            email_verified: r.email_verified,
            phone_number: None,
            locale: r.locale,
            password_hash,
            admin: r.admin,
            now: self.now(),
        };
        self.store.create_user(&new).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::Conflict("that username or email is already registered".into()),
            other => other.into(),
        })
    }

    /// Self-service sign-up (when the operator allows it): like [`Services::create_user`], never
    /// as an admin, and throttled per address. A taken username and a taken email get the same
    /// answer, which names neither, so sign-up cannot be used to learn who has an account.
    pub async fn register(&self, r: Registration, origin: &Origin) -> Result<User, ServiceError> {
        if !self.settings.registration {
            return Err(ServiceError::Invalid("sign-up is closed on this server".into()));
        }
        validate_username(r.username.trim())?;
        let email = r.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned);
        if let Some(e) = &email {
            validate_email(e)?;
        }
        if let Some(p) = &r.password {
            validate_password(p)?;
        }
        let attempt = match self.begin_attempt(throttle::signup_budgets(&self.settings.throttle, origin.ip)).await {
            Ok(a) => a,
            Err(Refusal::Throttled { .. }) => {
                return Err(ServiceError::Invalid("too many sign-ups from this network; try again later".into()))
            }
            Err(Refusal::Unavailable) => return Err(ServiceError::Store(StoreError::Unavailable("throttle".into()))),
        };
        // Every completed sign-up counts against the address's budget, taken names included.
        let created = self.open_account(r, email).await;
        let verdict = if matches!(created, Err(ServiceError::Store(_) | ServiceError::Hash(_))) {
            Verdict::Void
        } else {
            Verdict::Failure
        };
        let _ = self.settle(attempt, verdict).await;
        let user = created?;
        self.record(Event::new(kind::ACCOUNT_CREATED).user(user.id).detail("sign_up"), origin).await;
        if let Some(email) = user.email.as_deref().filter(|_| !user.email_verified) {
            // Sent at once, within the per-recipient limits (so sign-ups cannot flood an
            // address); the account page can send it again.
            let address = normalize_login(email);
            let locale = super::contacts::locale_of(Some(&user));
            if let Err(e) = self.send_code(super::contacts::purpose::VERIFY, &address, Some(user.id), locale).await {
                tracing::warn!(error = %e, "the verification of a new account's email was not sent");
            }
        }
        Ok(user)
    }

    async fn open_account(&self, r: Registration, email: Option<String>) -> Result<User, ServiceError> {
        let not_available = || ServiceError::Invalid("that username or email is not available".into());
        if self.store.user_by_login(&normalize_login(&r.username)).await?.is_some() {
            return Err(not_available());
        }
        if let Some(email) = &email {
            if self.store.user_by_login(&normalize_login(email)).await?.is_some() {
                return Err(not_available());
            }
        }
        // A conflict now is a username held back after an account deletion, a name that
        // equals another's email, or a race with another sign-up: not available either way.
        self.create_user(Registration { admin: false, email_verified: false, email, ..r }).await.map_err(|e| match e {
            ServiceError::Conflict(_) => not_available(),
            other => other,
        })
    }

    /// The user named `login` (username or email), or `NotFound`.
    pub async fn find_user(&self, login: &str) -> Result<User, ServiceError> {
        self.store
            .user_by_login(&normalize_login(login))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user {login:?}")))
    }

    /// Replaces a user's password.
    pub async fn set_password(&self, login: &str, password: &str) -> Result<(), ServiceError> {
        validate_password(password)?;
        let user = self.find_user(login).await?;
        let hash = self.hasher.hash(password).await?;
        self.replace_password(user.id, &hash, "operator", &Origin::default()).await?;
        Ok(())
    }

    /// Gives the account a new password hash when its owner cannot use the old one (an
    /// operator set it, or a reset): every session ends and every token is revoked, so
    /// nothing obtained with the old password stays; a `PASSWORD_CHANGED` event says `why`.
    pub(super) async fn replace_password(
        &self,
        user_id: i64,
        hash: &str,
        why: &str,
        origin: &Origin,
    ) -> crate::store::StoreResult<()> {
        let now = self.now();
        self.store.set_password_hash(user_id, Some(hash), now).await?;
        self.end_user_sessions(user_id, None).await?;
        self.store.end_user_access(user_id, now).await?;
        self.record(Event::new(kind::PASSWORD_CHANGED).user(user_id).detail(why), origin).await;
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions and revokes its tokens.
    pub async fn set_active(&self, login: &str, active: bool) -> Result<User, ServiceError> {
        let user = self.find_user(login).await?;
        let now = self.now();
        self.store.set_user_active(user.id, active, now).await?;
        if !active {
            self.end_user_sessions(user.id, None).await?;
            self.store.end_user_access(user.id, now).await?;
        }
        let what = if active { "enable_user" } else { "disable_user" };
        self.record(Event::new(kind::ADMIN_ACTION).user(user.id).detail(what), &Origin::default()).await;
        Ok(User { active, ..user })
    }

    /// Checks a username-or-email and password through the throttle ([`super::throttle`]).
    /// Unknown users, users without a local password and disabled users cost the same work and
    /// get the same answer as a wrong password; a throttled attempt costs no hash.
    pub async fn sign_in(&self, login: &str, password: &str, origin: &Origin) -> Result<User, SignInError> {
        let login = normalize_login(login);
        if login.is_empty() || login.chars().count() > MAX_LOGIN_LEN {
            // No account can have such a name: refused before any hashing or counting.
            return Err(SignInError::BadCredentials);
        }
        let user = self.store.user_by_login(&login).await.map_err(|e| {
            tracing::error!(error = %e, "user lookup failed at sign-in");
            SignInError::Unavailable
        })?;
        // The canonical account: its id, or for a name no account has the name itself, so
        // that every spelling of one account (username, email, case, NFKC) shares a counter.
        let account = user.as_ref().map_or_else(|| format!("name:{login}"), |u| u.id.to_string());
        // Asked for unknown names too, so both cost the same.
        let known = self.known_origin(user.as_ref().map_or(-1, |u| u.id), origin).await;
        let budgets = throttle::password_budgets(&self.settings.throttle, &account, origin.ip, known);
        let attempt = match self.begin_attempt(budgets).await {
            Ok(a) => a,
            Err(Refusal::Throttled { retry_after }) => return Err(SignInError::Throttled { retry_after }),
            Err(Refusal::Unavailable) => return Err(SignInError::Unavailable),
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let Ok(matched) = self.hasher.verify(password, stored).await else {
            // A saturated pool is no verdict on the password.
            self.settle(attempt, Verdict::Void).await;
            return Err(SignInError::Unavailable);
        };
        let (verdict, reason) = match &user {
            Some(u) if matched && u.active => (Verdict::Success, "password"),
            Some(u) if matched => (Verdict::Failure, if u.active { "wrong_password" } else { "disabled" }),
            Some(u) if u.password_hash.is_none() => (Verdict::Failure, "no_password"),
            Some(_) => (Verdict::Failure, "wrong_password"),
            None => (Verdict::Failure, "unknown_user"),
        };
        let spent = self.settle(attempt, verdict).await;
        let user_id = user.as_ref().map(|u| u.id);
        let event = |kind| {
            let e = Event::new(kind);
            match user_id {
                Some(id) => e.user(id),
                None => e,
            }
        };
        if let Some(budget) = spent {
            self.record(event(kind::LOCKOUT).detail(budget), origin).await;
        }
        match (verdict, user) {
            (Verdict::Success, Some(u))
                if self.settings.contacts.require_verified_email && u.email.is_some() && !u.email_verified =>
            {
                self.record(event(kind::SIGN_IN_FAILURE).detail("email_not_verified"), origin).await;
                Err(SignInError::EmailNotVerified)
            }
            (Verdict::Success, Some(u)) => {
                self.record(event(kind::SIGN_IN_SUCCESS).detail(reason), origin).await;
                self.upgrade_imported_hash(&u, password).await;
                Ok(u)
            }
            _ => {
                self.record(event(kind::SIGN_IN_FAILURE).detail(reason), origin).await;
                Err(SignInError::BadCredentials)
            }
        }
    }

    /// After a successful sign-in with a hash imported from Django, replaces it with argon2id
    /// (what Django's `check_password(setter=…)` does when its preferred hasher changes). A
    /// failure only leaves the old hash in place: it still verifies.
    async fn upgrade_imported_hash(&self, user: &User, password: &str) {
        if !user.password_hash.as_deref().is_some_and(crate::crypto::is_imported_hash) {
            return;
        }
        let hash = match self.hasher.hash(password).await {
            Ok(h) => h,
            Err(e) => return tracing::warn!(error = %e, user_id = user.id, "the imported password hash stays for now"),
        };
        if let Err(e) = self.store.set_password_hash(user.id, Some(&hash), self.now()).await {
            tracing::warn!(error = %e, user_id = user.id, "the imported password hash stays for now");
        }
    }

    /// Checks the signed-in user's current password (to confirm a change) through the
    /// throttle, per account and address: a stolen session cannot guess it quickly either.
    pub async fn confirm_password(&self, user: &User, password: &str, origin: &Origin) -> Result<(), SignInError> {
        let budgets = throttle::password_budgets(&self.settings.throttle, &user.id.to_string(), origin.ip, true);
        let attempt = match self.begin_attempt(budgets).await {
            Ok(a) => a,
            Err(Refusal::Throttled { retry_after }) => return Err(SignInError::Throttled { retry_after }),
            Err(Refusal::Unavailable) => return Err(SignInError::Unavailable),
        };
        let Ok(matched) = self.hasher.verify(password, user.password_hash.as_deref()).await else {
            self.settle(attempt, Verdict::Void).await;
            return Err(SignInError::Unavailable);
        };
        let verdict = if matched { Verdict::Success } else { Verdict::Failure };
        if let Some(budget) = self.settle(attempt, verdict).await {
            self.record(Event::new(kind::LOCKOUT).user(user.id).detail(budget), origin).await;
        }
        if matched {
            Ok(())
        } else {
            self.record(Event::new(kind::SIGN_IN_FAILURE).user(user.id).detail("wrong_current_password"), origin).await;
            Err(SignInError::BadCredentials)
        }
    }

    /// Whether `origin` is one the account signed in from before: its device cookie, or an
    /// address with a successful sign-in on record.
    async fn known_origin(&self, user_id: i64, origin: &Origin) -> bool {
        let device = match &origin.device {
            Some(cookie) => self.device_account(cookie).await,
            None => None,
        };
        if device == Some(user_id) {
            return true;
        }
        match origin.ip {
            Some(ip) => self.store.signed_in_from(user_id, &ip.to_string()).await.unwrap_or(false),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_emails_are_checked() {
        for bad in ["", "has space", "semi;colon", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        for good in ["zp", "Alice.B", "li_lei-2", "张三"] {
            assert!(validate_username(good).is_ok(), "{good:?}");
        }
        for bad in ["a", "a@b", "@b.c", "a b@c.d", "a@.c", "a@c."] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        assert!(validate_email("a@b.cn").is_ok());
        assert_eq!(normalize_login("  Alice "), "alice");
        assert_eq!(normalize_login("ｈｅｌｄｏｕｔ"), "heldout", "fullwidth letters are the same name");
        assert_eq!(normalize_login("\u{3000}ＡＬＩＣＥ\u{3000}"), "alice", "an ideographic space is trimmed");
        assert_eq!(normalize_login("Ｍｕｌｌｅｒ@Ｅｘａｍｐｌｅ.ｃｏｍ"), "muller@example.com");
    }

    #[test]
    fn debug_output_leaves_the_password_out() {
        let r =
            Registration { username: "zp".into(), password: Some("penadmin-secret".into()), ..Registration::default() };
        let shown = format!("{r:?}");
        assert!(shown.contains("zp") && !shown.contains("penadmin-secret"), "{shown}");
    }

    #[test]
    fn passwords_have_a_minimum_and_are_never_truncated() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("longenough").is_ok());
        assert!(validate_password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        for common in ["password123", "Qwerty123", "1q2w3e4r5t", "woaini1314"] {
            assert!(matches!(validate_password(common), Err(ServiceError::InvalidField("password", _))), "{common}");
        }
    }
}
