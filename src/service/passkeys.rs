//! Passkeys (WebAuthn Level 3): registering several per account, using one as the second step
//! of a sign-in, and signing in with one alone (a discoverable credential, no username).
//!
//! The ceremonies are verified by `webauthn-rs`; this module adds the store, the clock and the
//! accounts. The relying party is the issuer: its host is the RP ID and its origin the only
//! origin accepted (WebAuthn §5.1.3 step 9, §7.1 steps 8–9). Browsers refuse an IP address as
//! an RP ID, so with an issuer like `http://127.0.0.1:9000` passkeys are simply not offered.
//!
//! Each ceremony has two requests: the options (with a fresh challenge) and the
//! authenticator's answer. Between them its state waits in the database under the hash of a
//! random id the browser holds, for [`CEREMONY_LIFETIME`], and is taken once, so an answer
//! cannot be replayed, on any instance.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{
    events::{kind, Event, Origin},
    session::Session,
    Services,
};
use crate::{
    crypto::{random_id, sha256_hex},
    store::{NewPasskey, PasskeyRow, StoreError, User},
};

/// How long the browser has between the options and its answer (WebAuthn's own timeout is
/// five minutes; this leaves room for a slow network).
pub const CEREMONY_LIFETIME: i64 = 6 * 60;
/// The longest name a passkey may have, in characters.
pub const NAME_MAX: usize = 60;
/// The kind of a passkey, as the security page and events name it.
pub const PASSKEY: &str = "passkey";

const REGISTER: &str = "register";
const SECOND_FACTOR: &str = "second_factor";
const SIGN_IN: &str = "sign_in";

/// Why a passkey operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The issuer is not a host name a browser accepts as an RP ID (an IP address).
    #[error("passkeys are not available on this server")]
    NotOffered,
    /// The ceremony is unknown, expired, used already, or another account's.
    #[error("the passkey request expired: try again")]
    Expired,
    /// The authenticator's answer did not verify (wrong challenge, origin, signature, counter,
    /// an unknown credential, or no user verification).
    #[error("the passkey was not accepted")]
    Refused,
    /// The credential is registered already.
    #[error("this passkey is registered already")]
    Duplicate,
    /// The name is empty or too long.
    #[error("give the passkey a name of at most 60 characters")]
    BadName,
    /// No such passkey of this account.
    #[error("no such passkey")]
    NotFound,
    /// The password confirming a removal is wrong.
    #[error("the password is not correct")]
    WrongPassword,
    /// Too many wrong passwords: wait.
    #[error("too many attempts")]
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// The pending sign-in (the first step) is missing or took too long.
    #[error("sign in again")]
    SignInExpired,
    /// The database did not answer.
    #[error("the service is unavailable")]
    Unavailable,
}

impl From<StoreError> for PasskeyError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "passkey storage failed");
        PasskeyError::Unavailable
    }
}

/// A ceremony's first half, for the browser: the id to send back and the options for
/// `navigator.credentials.create()` or `.get()` (WebAuthn's JSON forms, binary as base64url).
#[derive(Clone, Debug, Serialize)]
pub struct CeremonyStart {
    /// The ceremony's id.
    pub ceremony: String,
    /// `{"publicKey": …}`.
    pub options: serde_json::Value,
}

/// One of an account's passkeys, for the security page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// Row id (for removing it).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it last signed a sign-in.
    pub last_used_at: Option<i64>,
}

impl From<PasskeyRow> for PasskeyInfo {
    fn from(p: PasskeyRow) -> Self {
        Self { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at }
    }
}

/// A registration between its requests: the handle the account's passkeys share and the
/// library's state.
#[derive(Serialize, Deserialize)]
struct Registering {
    handle: Uuid,
    state: PasskeyRegistration,
}

/// The `amr` value (RFC 8176 §2) of a sign-in with a passkey: `swk` for a credential that may
/// be copied between devices (backup eligible, WebAuthn §6.1 flag BE: a synced passkey lives
/// in software), `hwk` for one bound to its authenticator.
fn key_amr(backup_eligible: bool) -> &'static str {
    if backup_eligible {
        "swk"
    } else {
        "hwk"
    }
}

/// The `amr` of a session whose first step proved `first` and whose second was a passkey:
/// the key, and `mfa` since two factors were used.
pub fn amr_with_key(first: &str, backup_eligible: bool) -> String {
    let mut values: Vec<&str> = first.split_whitespace().collect();
    for v in [key_amr(backup_eligible), "mfa"] {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values.join(" ")
}

/// A passkey's name as stored: trimmed, not empty, at most [`NAME_MAX`] characters.
fn clean_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(PasskeyError::BadName);
    }
    Ok(name.to_owned())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise WebAuthn state");
        PasskeyError::Unavailable
    })
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(text).map_err(|_| PasskeyError::Refused)
}

fn options(value: &impl Serialize) -> Result<serde_json::Value, PasskeyError> {
    serde_json::to_value(value).map_err(|_| PasskeyError::Unavailable)
}

fn credential_id(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Services {
    /// The relying party: RP ID the issuer's host, origin the issuer's. `None` when the issuer
    /// cannot be one (an IP address or no host).
    fn relying_party(&self) -> Option<Webauthn> {
        let url = Url::parse(&self.settings.issuer).ok()?;
        let host = url.domain()?.to_owned();
        let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
        WebauthnBuilder::new(&host, &origin).ok()?.rp_name(&host).build().ok()
    }

    fn rp(&self) -> Result<Webauthn, PasskeyError> {
        self.relying_party().ok_or(PasskeyError::NotOffered)
    }

    /// Whether passkeys are offered (the issuer is a host name).
    pub fn passkeys_offered(&self) -> bool {
        self.relying_party().is_some()
    }

    async fn store_ceremony(&self, kind: &str, user_id: Option<i64>, state: &str) -> Result<String, PasskeyError> {
        let id = random_id();
        self.store.insert_ceremony(&sha256_hex(&id), kind, user_id, state, self.now() + CEREMONY_LIFETIME).await?;
        Ok(id)
    }

    /// Takes the ceremony `id` of `kind` (once); the account it was for must be `user_id`.
    async fn take_ceremony(&self, id: &str, kind: &str, user_id: Option<i64>) -> Result<String, PasskeyError> {
        let row = self.store.take_ceremony(&sha256_hex(id), kind, self.now()).await?.ok_or(PasskeyError::Expired)?;
        if row.user_id != user_id {
            return Err(PasskeyError::Expired);
        }
        Ok(row.state)
    }

    /// The account's passkeys, oldest first.
    pub async fn passkey_list(&self, user_id: i64) -> Result<Vec<PasskeyInfo>, PasskeyError> {
        Ok(self.store.passkeys(user_id).await?.into_iter().map(PasskeyInfo::from).collect())
    }

    /// Starts registering a passkey for `user`: a discoverable credential with user
    /// verification (so it can sign in alone), not one the account has already.
    pub async fn begin_passkey_registration(&self, user: &User) -> Result<CeremonyStart, PasskeyError> {
        let rp = self.rp()?;
        let existing = self.store.passkeys(user.id).await?;
        let handle = match existing.first() {
            Some(p) => Uuid::parse_str(&p.user_handle).map_err(|_| PasskeyError::Unavailable)?,
            None => Uuid::new_v4(),
        };
        let mut exclude = Vec::new();
        for p in &existing {
            exclude.push(from_json::<Passkey>(&p.credential)?.cred_id().clone());
        }
        let display = if user.display_name.is_empty() { &user.username } else { &user.display_name };
        let (ccr, state) = rp
            .start_passkey_registration(handle, &user.username, display, Some(exclude))
            .map_err(|_| PasskeyError::Unavailable)?;
        // Ask for a discoverable credential (WebAuthn §5.4.4 `residentKey`), which the
        // passwordless sign-in needs; the library's passkey registration leaves it optional.
        let mut options = options(&ccr)?;
        options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
        let state = to_json(&Registering { handle, state })?;
        let ceremony = self.store_ceremony(REGISTER, Some(user.id), &state).await?;
        Ok(CeremonyStart { ceremony, options })
    }

    /// Finishes a registration: the authenticator's answer `response` (JSON) to the ceremony,
    /// verified, then stored under `name`.
    pub async fn finish_passkey_registration(
        &self,
        session: &Session,
        ceremony: &str,
        name: &str,
        response: &str,
        origin: &Origin,
    ) -> Result<(), PasskeyError> {
        let rp = self.rp()?;
        let name = clean_name(name)?;
        let user = &session.user;
        let state: Registering = from_json(&self.take_ceremony(ceremony, REGISTER, Some(user.id)).await?)?;
        let answer: RegisterPublicKeyCredential = from_json(response)?;
        let passkey = rp.finish_passkey_registration(&answer, &state.state).map_err(|e| {
            tracing::info!(error = %e, "a passkey registration did not verify");
            PasskeyError::Refused
        })?;
        let new = NewPasskey {
            user_id: user.id,
            user_handle: &state.handle.to_string(),
            credential_id: &credential_id(passkey.cred_id().as_ref()),
            name: &name,
            credential: &to_json(&passkey)?,
        };
        if !self.store.insert_passkey(&new, self.now()).await? {
            return Err(PasskeyError::Duplicate);
        }
        self.record(Event::new(kind::FACTOR_ADDED).user(user.id).detail(PASSKEY), origin).await;
        Ok(())
    }

    /// Removes the passkey `id` after the account's password (when it has one); with the
    /// account's last second factor its recovery codes go too.
    pub async fn remove_passkey(
        &self,
        session: &Session,
        id: i64,
        password: &str,
        origin: &Origin,
    ) -> Result<(), PasskeyError> {
        let user = &session.user;
        if !self.store.passkeys(user.id).await?.iter().any(|p| p.id == id) {
            return Err(PasskeyError::NotFound);
        }
        if user.password_hash.is_some() {
            self.confirm_password(user, password, origin).await.map_err(|e| match e {
                super::users::SignInError::BadCredentials => PasskeyError::WrongPassword,
                super::users::SignInError::Throttled { retry_after } => PasskeyError::Throttled { retry_after },
                _ => PasskeyError::Unavailable,
            })?;
        }
        if !self.store.delete_passkey(user.id, id).await? {
            return Err(PasskeyError::NotFound);
        }
        self.record(Event::new(kind::FACTOR_REMOVED).user(user.id).detail(PASSKEY), origin).await;
        Ok(())
    }

    /// Starts the second step of `user_id`'s sign-in with one of their passkeys.
    pub async fn begin_passkey_second_step(&self, user_id: i64) -> Result<CeremonyStart, PasskeyError> {
        let rp = self.rp()?;
        let mut keys = Vec::new();
        for p in self.store.passkeys(user_id).await? {
            keys.push(from_json::<Passkey>(&p.credential)?);
        }
        if keys.is_empty() {
            return Err(PasskeyError::NotFound);
        }
        let (rcr, state) = rp.start_passkey_authentication(&keys).map_err(|_| PasskeyError::Unavailable)?;
        let ceremony = self.store_ceremony(SECOND_FACTOR, Some(user_id), &to_json(&state)?).await?;
        Ok(CeremonyStart { ceremony, options: options(&rcr)? })
    }

    /// Verifies `user_id`'s passkey answer to a second-step ceremony and records its use;
    /// returns whether the credential is backup eligible (for `amr`).
    pub async fn check_passkey_second_step(
        &self,
        user_id: i64,
        ceremony: &str,
        response: &str,
        origin: &Origin,
    ) -> Result<bool, PasskeyError> {
        let rp = self.rp()?;
        let state: PasskeyAuthentication =
            from_json(&self.take_ceremony(ceremony, SECOND_FACTOR, Some(user_id)).await?)?;
        let answer: PublicKeyCredential = from_json(response)?;
        let row = self
            .store
            .passkey_by_credential(&credential_id(answer.get_credential_id()))
            .await?
            .filter(|p| p.user_id == user_id);
        let Some(row) = row else {
            self.passkey_failed(Some(user_id), origin).await;
            return Err(PasskeyError::Refused);
        };
        match rp.finish_passkey_authentication(&answer, &state) {
            Ok(result) => {
                self.passkey_used(&row, &result).await?;
                Ok(result.backup_eligible())
            }
            Err(e) => {
                tracing::info!(error = %e, "a passkey assertion did not verify");
                self.passkey_failed(Some(user_id), origin).await;
                Err(PasskeyError::Refused)
            }
        }
    }

    /// Starts the second step of the pending sign-in `pending` (its cookie) with a passkey.
    pub async fn begin_pending_passkey_step(&self, pending: &str) -> Result<CeremonyStart, PasskeyError> {
        let p = self.read_pending_sign_in(pending).await.map_err(|_| PasskeyError::SignInExpired)?;
        self.begin_passkey_second_step(p.user_id).await
    }

    /// The second step of a sign-in with a passkey: the pending sign-in `pending` (its cookie)
    /// and the authenticator's answer to the ceremony. Opens the session, whose `amr` adds the
    /// key and `mfa` to the first step's. Returns the cookie value and the user.
    pub async fn finish_passkey_second_step(
        &self,
        pending: &str,
        ceremony: &str,
        response: &str,
        origin: &Origin,
        previous: Option<&str>,
    ) -> Result<(String, User), PasskeyError> {
        let p = self.read_pending_sign_in(pending).await.map_err(|_| PasskeyError::SignInExpired)?;
        let user = self.store.user_by_id(p.user_id).await?.filter(|u| u.active).ok_or(PasskeyError::SignInExpired)?;
        let backup_eligible = self.check_passkey_second_step(user.id, ceremony, response, origin).await?;
        self.record(Event::new(kind::SIGN_IN_SUCCESS).user(user.id).detail("second_factor:passkey"), origin).await;
        let token = self
            .start_session(&user, origin.ip, &origin.user_agent, previous, &amr_with_key(&p.amr, backup_eligible))
            .await
            .map_err(|_| PasskeyError::Unavailable)?;
        Ok((token, user))
    }

    /// Starts a sign-in with a passkey alone: no account is known yet, the authenticator
    /// offers its discoverable credentials for this RP.
    pub async fn begin_passkey_sign_in(&self) -> Result<CeremonyStart, PasskeyError> {
        let rp = self.rp()?;
        let (mut rcr, state) = rp.start_discoverable_authentication().map_err(|_| PasskeyError::Unavailable)?;
        // A click on "Sign in with a passkey" asks at once; conditional mediation (the
        // library's default here) would wait for an autofill that this page does not use.
        rcr.mediation = None;
        let ceremony = self.store_ceremony(SIGN_IN, None, &to_json(&state)?).await?;
        Ok(CeremonyStart { ceremony, options: options(&rcr)? })
    }

    /// Finishes a sign-in with a passkey alone: the credential names its account (its user
    /// handle must be that account's), the signature and user verification are checked, and a
    /// session opens whose `amr` is the key's. Returns the cookie value and the user.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        response: &str,
        origin: &Origin,
        previous: Option<&str>,
    ) -> Result<(String, User), PasskeyError> {
        let rp = self.rp()?;
        let state: DiscoverableAuthentication = from_json(&self.take_ceremony(ceremony, SIGN_IN, None).await?)?;
        let answer: PublicKeyCredential = from_json(response)?;
        let (handle, cred_id) = rp.identify_discoverable_authentication(&answer).map_err(|_| PasskeyError::Refused)?;
        let row = self
            .store
            .passkey_by_credential(&credential_id(cred_id))
            .await?
            .filter(|p| p.user_handle == handle.to_string());
        let Some(row) = row else {
            self.passkey_failed(None, origin).await;
            return Err(PasskeyError::Refused);
        };
        let user = self.store.user_by_id(row.user_id).await?.filter(|u| u.active).ok_or(PasskeyError::Refused)?;
        let key = DiscoverableKey::from(&from_json::<Passkey>(&row.credential)?);
        let result = match rp.finish_discoverable_authentication(&answer, state, &[key]) {
            Ok(result) => result,
            Err(e) => {
                tracing::info!(error = %e, "a passkey sign-in did not verify");
                self.passkey_failed(Some(user.id), origin).await;
                return Err(PasskeyError::Refused);
            }
        };
        self.passkey_used(&row, &result).await?;
        self.record(Event::new(kind::SIGN_IN_SUCCESS).user(user.id).detail(PASSKEY), origin).await;
        let amr = key_amr(result.backup_eligible());
        let token = self
            .start_session(&user, origin.ip, &origin.user_agent, previous, amr)
            .await
            .map_err(|_| PasskeyError::Unavailable)?;
        Ok((token, user))
    }

    /// Stores the counter a verified assertion moved forward, and the time of use.
    async fn passkey_used(
        &self,
        row: &PasskeyRow,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<(), PasskeyError> {
        let mut passkey: Passkey = from_json(&row.credential)?;
        passkey.update_credential(result);
        self.store.passkey_used(row.id, &to_json(&passkey)?, self.now()).await?;
        Ok(())
    }

    async fn passkey_failed(&self, user_id: Option<i64>, origin: &Origin) {
        let mut event = Event::new(kind::SIGN_IN_FAILURE).detail("passkey_refused");
        if let Some(id) = user_id {
            event = event.user(id);
        }
        self.record(event, origin).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_after_a_password_is_two_factors() {
        assert_eq!(amr_with_key("pwd", false), "pwd hwk mfa");
        assert_eq!(amr_with_key("pwd", true), "pwd swk mfa");
        assert_eq!(amr_with_key("pwd hwk mfa", false), "pwd hwk mfa");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Laptop ").as_deref(), Ok("Laptop"));
        assert_eq!(clean_name(" "), Err(PasskeyError::BadName));
        assert_eq!(clean_name(&"x".repeat(NAME_MAX + 1)), Err(PasskeyError::BadName));
        assert_eq!(clean_name("a\nb"), Err(PasskeyError::BadName));
    }
}
