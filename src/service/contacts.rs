//! Verified contacts: proving an email address or phone number with a one-time code (or, by
//! mail, a single-use link carrying it), and signing in with a code sent by SMS.
//!
//! An address is a claim until verified, and anyone may claim one: the first account to
//! verify it wins it and every other account's claim is dropped ([`ContactStore::verify_contact`]),
//! so registering someone else's address keeps nobody out. Only a verified address signs in
//! or receives a reset. Codes are stored as keyed hashes and die after
//! [`MAX_CODE_ATTEMPTS`] wrong tries; guesses also go through the throttle
//! ([`throttle::code_budgets`]), and sending is limited per recipient (one per
//! `resend_after_secs`, `daily_sends` a day) and per client address.

use super::{
    events::{kind, Event, Origin},
    notify::templates::Message,
    throttle::{self, Refusal, Verdict},
    users::normalize_login,
    Services,
};
use crate::{
    crypto::{ct_eq, mac, prefix, random_code, random_token, sha256_hex},
    i18n::Locale,
    store::{ContactCode, ContactKind, NewCode, NewMessage, StoreError, User, Verified},
};

/// What a code is for (the `purpose` column).
pub mod purpose {
    /// Verifying an email address or phone number.
    pub const VERIFY: &str = "verify";
    /// Resetting a password.
    pub const RESET: &str = "reset";
    /// An invitation: choosing the first password of an account an operator created, which
    /// also proves the email address.
    pub const INVITE: &str = "invite";
    /// Signing in (or up) by SMS.
    pub const SIGN_IN: &str = "sign_in";
}

/// How long an email verification stays valid.
pub const VERIFY_EMAIL_TTL: i64 = 24 * 3600;
/// How long an SMS code stays valid.
pub const SMS_CODE_TTL: i64 = 10 * 60;
/// How long a password reset stays valid.
pub const RESET_TTL: i64 = 15 * 60;
/// How long an invitation stays valid.
pub const INVITE_TTL: i64 = 7 * 86_400;

/// An operator's contact action refused: the reason is shown to the operator as it is.
impl From<ContactError> for super::ServiceError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Unavailable => Self::Store(StoreError::Unavailable("contacts".into())),
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// Why a contact operation did not happen. Each says what the person can do next; none says
/// whether an address belongs to an account.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// The address or number is not well formed.
    #[error("{0}")]
    Invalid(String),
    /// The account has no unverified address of that kind to verify.
    #[error("there is nothing to verify")]
    NothingToVerify,
    /// The code is wrong, expired or used.
    #[error("the code is wrong or has expired")]
    WrongCode,
    /// The link was used, expired, or its address is no longer claimed.
    #[error("this link has expired or was already used")]
    StaleLink,
    /// Another account verified the address first.
    #[error("another account has verified this address")]
    Taken,
    /// Too many wrong codes: wait this many seconds.
    #[error("too many wrong codes; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// A code was sent to this address a moment ago (or too often today): wait.
    #[error("a code was sent a moment ago; try again in {retry_after} seconds")]
    TooSoon {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// The store or the throttle failed.
    #[error("the service is temporarily unavailable")]
    Unavailable,
}

impl From<StoreError> for ContactError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => ContactError::Taken,
            e => {
                tracing::error!(error = %e, "contact storage failed");
                ContactError::Unavailable
            }
        }
    }
}

impl From<Refusal> for ContactError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Throttled { retry_after } => ContactError::Throttled { retry_after },
            Refusal::Unavailable => ContactError::Unavailable,
        }
    }
}

/// A phone number as typed, in E.164 (`+8613800138000`); one without `+` belongs to
/// `region`. Only numbers libphonenumber's metadata calls valid are accepted.
pub fn normalize_phone(raw: &str, region: &str) -> Result<String, ContactError> {
    let invalid = || ContactError::Invalid(format!("{:?} is not a phone number", raw.trim()));
    // A number with its country code needs no region (and the parser refuses one given with
    // a region of another country).
    let region = if raw.trim().starts_with('+') { None } else { region.parse::<phonenumber::country::Id>().ok() };
    let number = phonenumber::parse(region, raw.trim()).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Which contact an address is: E.164 numbers start with `+`, addresses never do.
pub fn kind_of(address: &str) -> ContactKind {
    if address.starts_with('+') {
        ContactKind::Phone
    } else {
        ContactKind::Email
    }
}

/// The language a stored tag names, English otherwise.
pub(crate) fn locale_of(user: Option<&User>) -> Locale {
    user.and_then(|u| u.locale.as_deref()).and_then(Locale::from_tag).unwrap_or_default()
}

impl Services {
    /// The server key one-time codes and CAPTCHA challenges are keyed with (each use under
    /// its own label).
    pub(super) async fn code_key(&self) -> Result<&[u8], ContactError> {
        self.shared_key(super::shared_keys::SharedKey::ContactCode).await.map_err(ContactError::from)
    }

    /// The keyed hash a code is stored as: without the key, the million codes of an address
    /// cannot be tried against a stolen table.
    async fn code_hash(&self, purpose: &str, address: &str, code: &str) -> Result<String, ContactError> {
        Ok(mac(self.code_key().await?, "contact-code", &format!("{purpose}:{address}:{code}")))
    }

    /// Wakes this instance's message delivery (a message was queued).
    pub(super) fn wake_message_delivery(&self) {
        self.message_wake.notify_one();
    }

    /// Counts one message request from the client against its sending budget.
    pub(super) async fn count_send(&self, origin: &Origin) -> Result<(), ContactError> {
        let attempt = self.begin_attempt(throttle::send_budgets(&self.settings.throttle, origin.ip)).await?;
        self.settle(attempt, Verdict::Failure).await;
        Ok(())
    }

    /// Whether another code for `purpose` may be sent to `address` for the account `user_id`
    /// now: `TooSoon` with the wait otherwise. The pause (per purpose) and the daily count are
    /// per address and account, so
    /// that accounts squatting an address cannot use up its owner's codes; all accounts
    /// together get three days' worth a day, so that nobody can flood an address either.
    pub(super) async fn may_send_to(
        &self,
        purpose: &str,
        address: &str,
        user_id: Option<i64>,
    ) -> Result<(), ContactError> {
        let c = &self.settings.contacts;
        let now = self.now();
        let sent = |since, any, purpose| self.store.codes_sent_since(address, user_id, any, purpose, since);
        if sent(now - c.resend_after_secs, false, Some(purpose)).await? > 0 {
            return Err(ContactError::TooSoon { retry_after: c.resend_after_secs });
        }
        let day = now - 86_400;
        if sent(day, false, None).await? >= c.daily_sends || sent(day, true, None).await? >= 3 * c.daily_sends {
            return Err(ContactError::TooSoon { retry_after: 3600 });
        }
        Ok(())
    }

    /// Sends a code for `purpose` to `address` if its send limits allow one now
    /// ([`Services::may_send_to`]), then [`Services::issue_contact_code`].
    pub(super) async fn send_code(
        &self,
        purpose: &'static str,
        address: &str,
        user_id: Option<i64>,
        locale: Locale,
    ) -> Result<(), ContactError> {
        self.may_send_to(purpose, address, user_id).await?;
        self.issue_contact_code(purpose, address, user_id, locale).await
    }

    /// Makes a code for `purpose` at `address` and queues the message that carries it (a mail
    /// with a link to `link_path` and the code, or an SMS with the code), in one transaction.
    pub(super) async fn issue_contact_code(
        &self,
        purpose: &'static str,
        address: &str,
        user_id: Option<i64>,
        locale: Locale,
    ) -> Result<(), ContactError> {
        let now = self.now();
        let code = random_code();
        let code_hash = self.code_hash(purpose, address, &code).await?;
        let (ttl, link_hash, message) = match kind_of(address) {
            ContactKind::Phone => {
                let ttl = if purpose == purpose::RESET { RESET_TTL } else { SMS_CODE_TTL };
                (ttl, None, Message::SmsCode { code })
            }
            ContactKind::Email => {
                let token = random_token(prefix::LINK);
                let issuer = self.settings.issuer.trim_end_matches('/');
                let (ttl, message) = if purpose == purpose::RESET {
                    let link = format!("{issuer}/o/password/reset/?token={token}");
                    (RESET_TTL, Message::ResetByEmail { link, code })
                } else if purpose == purpose::INVITE {
                    let link = format!("{issuer}/o/password/reset/?token={token}");
                    (INVITE_TTL, Message::Invitation { link })
                } else {
                    let link = format!("{issuer}/o/verify/?token={token}");
                    (VERIFY_EMAIL_TTL, Message::VerifyEmail { link, code })
                };
                (ttl, Some(sha256_hex(&token)), message)
            }
        };
        let new_code =
            NewCode { purpose, address: address.to_owned(), user_id, link_hash, code_hash, now, expires_at: now + ttl };
        let message = self.message_for(address, locale, &message)?;
        self.store.issue_code(&new_code, &message).await?;
        self.wake_message_delivery();
        Ok(())
    }

    /// The outbox row of `message` to `address`.
    pub(super) fn message_for(
        &self,
        address: &str,
        locale: Locale,
        message: &Message,
    ) -> Result<NewMessage, ContactError> {
        let params = serde_json::to_string(message).map_err(|_| ContactError::Unavailable)?;
        Ok(NewMessage {
            channel: if kind_of(address) == ContactKind::Phone { "sms" } else { "email" },
            recipient: address.to_owned(),
            kind: message.kind(),
            locale: locale.tag(),
            params,
            now: self.now(),
        })
    }

    /// The live code for `purpose` at `address` that `code` is, through the code throttle. A
    /// wrong code counts against every live code of the address (each dies after
    /// [`MAX_CODE_ATTEMPTS`]) and against the throttle's budgets.
    pub(super) async fn check_code(
        &self,
        purpose: &str,
        address: &str,
        code: &str,
        origin: &Origin,
    ) -> Result<ContactCode, ContactError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let attempt = self.begin_attempt(throttle::code_budgets(&self.settings.throttle, address, origin.ip)).await?;
        let found = async {
            let typed = self.code_hash(purpose, address, &code).await?;
            let now = self.now();
            let live = self.store.live_codes(purpose, address, now).await?;
            let hit = live.into_iter().find(|c| ct_eq(&c.code_hash, &typed));
            if hit.is_none() {
                self.store.codes_missed(purpose, address, now).await?;
            }
            Ok::<_, ContactError>(hit)
        }
        .await;
        let verdict = match &found {
            Ok(Some(_)) => Verdict::Success,
            Ok(None) => Verdict::Failure,
            Err(_) => Verdict::Void,
        };
        self.settle(attempt, verdict).await;
        found?.ok_or(ContactError::WrongCode)
    }

    /// Sends a verification (link and code) to the account's unverified email address.
    pub async fn send_email_verification(&self, user: &User, origin: &Origin) -> Result<(), ContactError> {
        let Some(email) = user.email.as_deref().filter(|_| !user.email_verified) else {
            return Err(ContactError::NothingToVerify);
        };
        let address = normalize_login(email);
        self.count_send(origin).await?;
        self.send_code(purpose::VERIFY, &address, Some(user.id), locale_of(Some(user))).await
    }

    /// Sends a code to the account's unverified phone number.
    pub async fn send_phone_verification(&self, user: &User, origin: &Origin) -> Result<(), ContactError> {
        let Some(phone) = user.phone_number.as_deref().filter(|_| !user.phone_verified) else {
            return Err(ContactError::NothingToVerify);
        };
        self.count_send(origin).await?;
        self.send_code(purpose::VERIFY, phone, Some(user.id), locale_of(Some(user))).await
    }

    /// Sets the account's phone number (a claim until verified) and sends it a code; an empty
    /// `raw` removes the number.
    pub async fn set_phone(&self, user: &User, raw: &str, origin: &Origin) -> Result<(), ContactError> {
        if raw.trim().is_empty() {
            self.store.claim_phone(user.id, None, self.now()).await?;
            return Ok(());
        }
        let phone = normalize_phone(raw, &self.settings.contacts.default_region)?;
        if user.phone_number.as_deref() == Some(phone.as_str()) && user.phone_verified {
            return Ok(());
        }
        self.store.claim_phone(user.id, Some(&phone), self.now()).await?;
        let claimed = User { phone_number: Some(phone), phone_verified: false, ..user.clone() };
        self.send_phone_verification(&claimed, origin).await
    }

    /// Verifies the account's email address (`ContactKind::Email`) or phone number with a
    /// typed code.
    pub async fn verify_with_code(
        &self,
        user: &User,
        which: ContactKind,
        code: &str,
        origin: &Origin,
    ) -> Result<(), ContactError> {
        let address = match which {
            ContactKind::Email => user.email.as_deref().filter(|_| !user.email_verified).map(normalize_login),
            ContactKind::Phone => user.phone_number.clone().filter(|_| !user.phone_verified),
        }
        .ok_or(ContactError::NothingToVerify)?;
        let found = self.check_code(purpose::VERIFY, &address, code, origin).await?;
        if found.user_id != Some(user.id) {
            return Err(ContactError::WrongCode);
        }
        self.finish_verification(&found, origin).await.map(|_| ())
    }

    /// The address a verification link is for (masked), if the link is live: what the
    /// confirmation page shows before the person confirms. Looking changes nothing, so mail
    /// scanners that open links do not use them up.
    pub async fn peek_verification_link(&self, token: &str) -> Result<Option<String>, ContactError> {
        let found = self.store.code_by_link(&sha256_hex(token), self.now()).await?;
        Ok(found.filter(|c| c.purpose == purpose::VERIFY).map(|c| super::identities::mask_email(&c.address)))
    }

    /// Verifies the address a link was sent to; returns the account.
    pub async fn verify_with_link(&self, token: &str, origin: &Origin) -> Result<i64, ContactError> {
        let found = self.store.code_by_link(&sha256_hex(token), self.now()).await?;
        let found = found.filter(|c| c.purpose == purpose::VERIFY).ok_or(ContactError::StaleLink)?;
        self.finish_verification(&found, origin).await
    }

    /// Uses `code` up and marks its address verified for its account, dropping others'
    /// claims (each such account gets an event, shown on its account page).
    async fn finish_verification(&self, code: &ContactCode, origin: &Origin) -> Result<i64, ContactError> {
        let user_id = code.user_id.ok_or(ContactError::StaleLink)?;
        let which = kind_of(&code.address);
        let label = if which == ContactKind::Phone { "phone" } else { "email" };
        match self.store.verify_contact(code.id, user_id, which, &code.address, self.now()).await? {
            Verified::Stale => Err(ContactError::StaleLink),
            Verified::Done { dropped } => {
                self.record(Event::new(kind::CONTACT_VERIFIED).user(user_id).detail(label), origin).await;
                for other in dropped {
                    let event = Event::new(kind::CONTACT_CLAIM_DROPPED).user(other).detail(label);
                    self.record(event, &Origin::default()).await;
                }
                Ok(user_id)
            }
        }
    }

    /// Sends a sign-in code to a phone number: to its account if one verified it, else (when
    /// sign-up is open) to open one. The answer is the same either way, and nothing is sent
    /// for a number that can do neither. Returns the number in E.164.
    pub async fn send_sign_in_code(&self, raw: &str, locale: Locale, origin: &Origin) -> Result<String, ContactError> {
        if !self.settings.contacts.phone_sign_in {
            return Err(ContactError::Invalid("signing in by SMS is not offered here".into()));
        }
        let phone = normalize_phone(raw, &self.settings.contacts.default_region)?;
        self.count_send(origin).await?;
        let user = self.store.user_by_verified_phone(&phone).await?;
        self.may_send_to(purpose::SIGN_IN, &phone, user.as_ref().map(|u| u.id)).await?;
        if user.is_some() || self.settings.registration {
            let locale = user.as_ref().map_or(locale, |u| locale_of(Some(u)));
            self.issue_contact_code(purpose::SIGN_IN, &phone, user.map(|u| u.id), locale).await?;
        }
        Ok(phone)
    }

    /// Signs in with a code sent by SMS. A number no account has verified opens a new account
    /// with the number verified (the code proved it), when sign-up is open.
    pub async fn sign_in_with_code(
        &self,
        phone: &str,
        code: &str,
        locale: Locale,
        origin: &Origin,
    ) -> Result<User, ContactError> {
        let phone = normalize_phone(phone, &self.settings.contacts.default_region)?;
        let found = self.check_code(purpose::SIGN_IN, &phone, code, origin).await?;
        if !self.store.consume_code(found.id, self.now()).await? {
            return Err(ContactError::WrongCode);
        }
        let user = match self.store.user_by_verified_phone(&phone).await? {
            Some(u) if u.active => u,
            // Disabled: the same answer as a wrong code, as for passwords.
            Some(_) => return Err(ContactError::WrongCode),
            None if self.settings.registration => self.open_phone_account(&phone, locale, origin).await?,
            None => return Err(ContactError::WrongCode),
        };
        self.record(Event::new(kind::SIGN_IN_SUCCESS).user(user.id).detail("sms_code"), origin).await;
        Ok(user)
    }
}

impl Services {
    /// Opens an account for a phone number a sign-in code just proved: a generated username
    /// (the person may change their display name later), no password, the number verified.
    async fn open_phone_account(&self, phone: &str, locale: Locale, origin: &Origin) -> Result<User, ContactError> {
        use rand::Rng;
        for _ in 0..5 {
            let username = format!("u{:010}", rand::rngs::OsRng.gen_range(0..10_000_000_000u64));
            let new = crate::store::NewUser {
                username_normalized: normalize_login(&username),
                display_name: username.clone(),
                username,
                email: None,
                email_normalized: None,
                email_verified: false,
                phone_number: Some(phone.to_owned()),
                locale: Some(locale.tag().to_owned()),
                password_hash: None,
                admin: false,
                now: self.now(),
            };
            match self.store.create_user(&new).await {
                Ok(user) => {
                    self.record(Event::new(kind::ACCOUNT_CREATED).user(user.id).detail("sms_sign_up"), origin).await;
                    return Ok(user);
                }
                // Another sign-up with the same number won the race: that account is theirs.
                Err(StoreError::Conflict(_)) => {
                    if let Some(user) = self.store.user_by_verified_phone(phone).await? {
                        return Ok(user);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ContactError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_written_in_e164() {
        assert_eq!(normalize_phone("138 0013 8000", "CN").unwrap(), "+8613800138000");
        assert_eq!(normalize_phone("+86 138 0013 8000", "US").unwrap(), "+8613800138000");
        assert_eq!(normalize_phone("(201) 555-0123", "US").unwrap(), "+12015550123");
        for bad in ["", "12345", "+86 123", "not a number", "+999 1234567"] {
            assert!(matches!(normalize_phone(bad, "CN"), Err(ContactError::Invalid(_))), "{bad:?}");
        }
        assert_eq!(kind_of("+8613800138000"), ContactKind::Phone);
        assert_eq!(kind_of("a@example.com"), ContactKind::Email);
    }
}
