//! Forgot password: a reset sent to a verified email address or phone number, and the reset
//! itself, which ends every session and revokes every token of the account.
//!
//! Asking never says whether an account uses the address, in its answer or its timing: the
//! request only queues a [`Message::ResetRequest`] for the address, the same single insert
//! either way, and the outbox resolves it later into a code for the account, or nothing.

use super::{
    contacts::{kind_of, normalize_phone, purpose, ContactError},
    events::Origin,
    notify::templates::Message,
    users::{normalize_login, validate_email, validate_password},
    Services,
};
use crate::{
    crypto::sha256_hex,
    i18n::Locale,
    store::{ContactCode, ContactKind, User, Verified},
};

/// Whether a link's code sets a password: a reset's, or an invitation's.
fn sets_password(code: &ContactCode) -> bool {
    code.purpose == purpose::RESET || code.purpose == purpose::INVITE
}

impl Services {
    /// The address a reset can go to, normalised: an email address or a phone number.
    pub fn reset_address(&self, raw: &str) -> Result<String, ContactError> {
        let raw = raw.trim();
        if raw.contains('@') {
            validate_email(raw).map_err(|e| ContactError::Invalid(e.to_string()))?;
            Ok(normalize_login(raw))
        } else {
            normalize_phone(raw, &self.settings.contacts.default_region)
        }
    }

    /// Asks for a reset for `raw` (an email address or phone number); returns the address in
    /// normalised form, for the page where the code is typed. The same for every address.
    pub async fn request_reset(&self, raw: &str, locale: Locale, origin: &Origin) -> Result<String, ContactError> {
        let address = self.reset_address(raw)?;
        self.count_send(origin).await?;
        let message = self.message_for(&address, locale, &Message::ResetRequest)?;
        self.store.enqueue_message(&message).await?;
        self.wake_message_delivery();
        Ok(address)
    }

    /// The address a reset link is for (masked), if it is live; looking changes nothing.
    pub async fn peek_reset_link(&self, token: &str) -> Result<Option<String>, ContactError> {
        let found = self.store.code_by_link(&sha256_hex(token), self.now()).await?;
        Ok(found.filter(sets_password).map(|c| super::identities::mask_email(&c.address)))
    }

    /// Resets the password with a link's token.
    pub async fn reset_with_link(&self, token: &str, password: &str, origin: &Origin) -> Result<User, ContactError> {
        validate_password(password).map_err(|e| ContactError::Invalid(e.to_string()))?;
        let found = self.store.code_by_link(&sha256_hex(token), self.now()).await?;
        let found = found.filter(sets_password).ok_or(ContactError::StaleLink)?;
        self.finish_reset(&found, password, origin).await
    }

    /// Resets the password with a code sent to `address`.
    pub async fn reset_with_code(
        &self,
        address: &str,
        code: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<User, ContactError> {
        validate_password(password).map_err(|e| ContactError::Invalid(e.to_string()))?;
        let address = self.reset_address(address)?;
        let found = self.check_code(purpose::RESET, &address, code, origin).await?;
        self.finish_reset(&found, password, origin).await
    }

    /// Uses the code up, sets the password, ends every session (telling their clients) and
    /// revokes every token, then tells the owner by mail if they have a verified address.
    async fn finish_reset(&self, code: &ContactCode, password: &str, origin: &Origin) -> Result<User, ContactError> {
        let user_id = code.user_id.ok_or(ContactError::StaleLink)?;
        let user = self.store.user_by_id(user_id).await?.ok_or(ContactError::StaleLink)?;
        // The address must still be the account's verified one (an invitation's, the account's
        // address: using the link proves it).
        let invitation = code.purpose == purpose::INVITE;
        let still_theirs = match kind_of(&code.address) {
            ContactKind::Email => {
                (user.email_verified || invitation)
                    && user.email.as_deref().map(normalize_login) == Some(code.address.clone())
            }
            ContactKind::Phone => user.phone_verified && user.phone_number.as_deref() == Some(code.address.as_str()),
        };
        if !still_theirs || !user.active {
            return Err(ContactError::StaleLink);
        }
        let hash = self.hasher.hash(password).await.map_err(|_| ContactError::Unavailable)?;
        let now = self.now();
        let used = if invitation {
            let verified = self.store.verify_contact(code.id, user.id, ContactKind::Email, &code.address, now).await?;
            matches!(verified, Verified::Done { .. })
        } else {
            self.store.consume_code(code.id, now).await?
        };
        if !used {
            return Err(ContactError::StaleLink);
        }
        self.replace_password(user.id, &hash, if invitation { "invitation" } else { "reset" }, origin).await?;
        if let Some(email) = user.email.as_deref().filter(|_| user.email_verified) {
            let notice = self.message_for(
                &normalize_login(email),
                super::contacts::locale_of(Some(&user)),
                &Message::PasswordChanged,
            )?;
            self.store.enqueue_message(&notice).await?;
            self.wake_message_delivery();
        }
        Ok(user)
    }
}
