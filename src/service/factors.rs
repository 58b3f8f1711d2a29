//! Second factors: TOTP enrolment (a secret sealed under the server's factor key, confirmed by
//! a first code), single-use recovery codes, the check of either through the sign-in throttle
//! (each TOTP step accepted once, on every instance), and removing or resetting them.
//!
//! The protocol is [`crate::oauth::totp`]; this module adds the key, the store and the clock.
//!
//! # The factor key
//!
//! TOTP secrets must be readable by the server (a code is computed from them), so they cannot
//! be hashed: they are sealed with XChaCha20-Poly1305 under a 256-bit key, bound to their
//! account (the associated data), so a sealed secret copied to another account's row does not
//! open. The key is the operator's `[second_factors] key` / `YAOSHI_FACTOR_KEY` when set, so a
//! copy of the database alone holds no usable secret; otherwise one made by the first instance
//! and kept in `server_secrets`, like the other server keys (then the secrets are only as safe
//! as the database, which the README says). Recovery codes are stored as HMACs under the same
//! key.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::{
    events::{kind, Event, Origin},
    session::Session,
    throttle::{self, Refusal, Verdict},
    Services,
};
use crate::{
    crypto::{ct_eq, mac, random_id, random_token},
    oauth::totp::{self, TotpError},
    store::{FactorRow, StoreError, User},
};

/// The kind of a TOTP factor, as stored.
pub const TOTP: &str = "totp";
/// Recovery codes made at enrolment and on each regeneration.
pub const RECOVERY_CODES: usize = 10;
/// An enrolment not confirmed within this many seconds is no longer offered.
pub const ENROLMENT_LIFETIME: i64 = 15 * 60;
/// How long the second step of a sign-in may take after the first.
pub const PENDING_LIFETIME: i64 = 5 * 60;
/// Name of the database-held factor key (used only without an operator key).
const FACTOR_KEY: &str = "second-factor-key-v1";
/// Sealed secrets start with this version tag.
const SEALED_V1: &str = "x1";

/// Why a second-factor operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FactorError {
    /// The code is not a current code of the account's factors, nor one of its unused
    /// recovery codes.
    #[error("the code is not correct")]
    WrongCode,
    /// A TOTP code that was accepted before (RFC 6238 §5.2).
    #[error("this code was used already; wait for the next one")]
    Replayed,
    /// Too many wrong codes: try again after this many seconds.
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds until the next attempt may start.
        retry_after: i64,
    },
    /// The account's password was wrong (removing a factor).
    #[error("the password is not correct")]
    WrongPassword,
    /// There is no enrolment in progress (or it expired), or no such factor.
    #[error("there is no such second factor")]
    NotFound,
    /// The second step of a sign-in is missing or expired.
    #[error("the sign-in expired; sign in again")]
    Expired,
    /// Storage failed, or the stored secret does not open (wrong key): logged, never shown.
    #[error("temporarily unavailable")]
    Unavailable,
}

impl From<StoreError> for FactorError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "second-factor storage failed");
        FactorError::Unavailable
    }
}

/// What a passed second step used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorUsed {
    /// A TOTP code.
    Totp,
    /// A recovery code (now used up).
    Recovery,
}

/// An enrolment in progress: what the page shows to set up the authenticator app.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// The factor's id.
    pub id: i64,
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
}

/// One confirmed factor, for the account page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorInfo {
    /// Its id.
    pub id: i64,
    /// `totp`.
    pub kind: String,
    /// When it was confirmed.
    pub added_at: i64,
    /// When a code of it was last accepted.
    pub last_used_at: Option<i64>,
}

impl FactorInfo {
    /// The factor as listed, if its enrolment was confirmed.
    pub fn confirmed(f: FactorRow) -> Option<Self> {
        Some(Self { id: f.id, kind: f.kind, added_at: f.confirmed_at?, last_used_at: f.last_used_at })
    }
}

/// A sign-in whose password (or other first step) was right, waiting for the second factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSignIn {
    /// Who is signing in.
    pub user_id: i64,
    /// The first step's `amr` values (RFC 8176), space-separated (`pwd`, `sms`, or none).
    pub amr: String,
}

/// Normalises a typed recovery code: letters and digits only, lowercase.
fn normalize_recovery(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// A new recovery code: 10 base32 characters (50 bits from the OS generator), shown as
/// `abcde-fghij`.
fn new_recovery_code() -> String {
    let mut bytes = [0u8; 7];
    OsRng.fill_bytes(&mut bytes);
    let text = totp::base32_encode(&bytes).to_ascii_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

/// The `amr` of a session that passed the second step after `first` (RFC 8176 §2: `otp`, and
/// `mfa` since two factors were used).
pub fn amr_with_otp(first: &str) -> String {
    let mut values: Vec<&str> = first.split_whitespace().collect();
    for v in ["otp", "mfa"] {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values.join(" ")
}

/// The QR code of `text` as an `<svg>` element, rendered here so that no third party ever
/// sees the secret it carries. Empty if `text` is too long for a QR code (a key URI never is).
pub fn qr_svg(text: &str) -> String {
    use qrcode::{render::svg, EcLevel, QrCode};
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
        return String::new();
    };
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // Inline in the page: without the XML declaration the renderer writes first.
    match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => String::new(),
    }
}

impl Services {
    /// The 256-bit key secrets are sealed with (see the module documentation).
    async fn factor_key(&self) -> Result<&[u8; 32], FactorError> {
        self.factor_key
            .get_or_try_init(|| async {
                if let Some(key) = self.settings.second_factors.key_bytes() {
                    return Ok(key);
                }
                let stored = self.store.shared_secret(FACTOR_KEY, &random_token(""), self.now()).await?;
                Ok(Sha256::digest(stored.as_bytes()).into())
            })
            .await
    }

    /// The key that signs pending sign-ins and remembered devices.
    async fn pending_key(&self) -> Result<&[u8], FactorError> {
        self.shared_key(super::shared_keys::SharedKey::PendingSignIn).await.map_err(FactorError::from)
    }

    async fn seal(&self, user_id: i64, secret: &[u8]) -> Result<String, FactorError> {
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.factor_key().await?));
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let aad = format!("totp:{user_id}");
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad: aad.as_bytes() })
            .map_err(|_| FactorError::Unavailable)?;
        Ok(format!("{SEALED_V1}.{}.{}", URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(sealed)))
    }

    async fn open(&self, row: &FactorRow) -> Result<Vec<u8>, FactorError> {
        let broken = || {
            tracing::error!(factor = row.id, "a second-factor secret does not open (was the factor key changed?)");
            FactorError::Unavailable
        };
        let mut parts = row.secret_sealed.split('.');
        let (Some(SEALED_V1), Some(nonce), Some(body), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(broken());
        };
        let nonce = URL_SAFE_NO_PAD.decode(nonce).ok().filter(|n| n.len() == 24).ok_or_else(broken)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| broken())?;
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.factor_key().await?));
        let aad = format!("totp:{}", row.user_id);
        cipher.decrypt(XNonce::from_slice(&nonce), Payload { msg: &body, aad: aad.as_bytes() }).map_err(|_| broken())
    }

    async fn recovery_hash(&self, user_id: i64, code: &str) -> Result<String, FactorError> {
        Ok(mac(self.factor_key().await?, "recovery-code", &format!("{user_id}:{}", normalize_recovery(code))))
    }

    /// Whether the account has a confirmed second factor.
    pub async fn has_second_factor(&self, user_id: i64) -> Result<bool, FactorError> {
        Ok(self.store.factors(user_id).await?.iter().any(|f| f.confirmed_at.is_some())
            || !self.store.passkeys(user_id).await?.is_empty())
    }

    /// The account's confirmed factors.
    pub async fn factor_list(&self, user_id: i64) -> Result<Vec<FactorInfo>, FactorError> {
        Ok(self.store.factors(user_id).await?.into_iter().filter_map(FactorInfo::confirmed).collect())
    }

    /// How many unused recovery codes the account has.
    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64, FactorError> {
        Ok(self.store.recovery_codes_left(user_id).await?)
    }

    /// Starts (or restarts) a TOTP enrolment for `user`: a new random secret (RFC 4226 §4 R6,
    /// 160 bits), sealed and stored unconfirmed.
    pub async fn begin_totp(&self, user: &User) -> Result<Enrolment, FactorError> {
        let mut secret = [0u8; totp::SECRET_LEN];
        OsRng.fill_bytes(&mut secret);
        let sealed = self.seal(user.id, &secret).await?;
        let id = self.store.begin_factor(user.id, TOTP, &sealed, self.now()).await?;
        Ok(self.enrolment(id, user, &secret))
    }

    fn enrolment(&self, id: i64, user: &User, secret: &[u8]) -> Enrolment {
        let issuer = url::Url::parse(&self.settings.issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "Yaoshi".into());
        Enrolment { id, secret: totp::base32_encode(secret), uri: totp::key_uri(&issuer, &user.username, secret) }
    }

    /// The enrolment in progress for `user`, if one was started within
    /// [`ENROLMENT_LIFETIME`].
    pub async fn pending_totp(&self, user: &User) -> Result<Option<Enrolment>, FactorError> {
        let now = self.now();
        let rows = self.store.factors(user.id).await?;
        let Some(row) =
            rows.into_iter().rev().find(|f| f.confirmed_at.is_none() && f.created_at > now - ENROLMENT_LIFETIME)
        else {
            return Ok(None);
        };
        let secret = self.open(&row).await?;
        Ok(Some(self.enrolment(row.id, user, &secret)))
    }

    /// Confirms the enrolment in progress with its first code (through the throttle) and
    /// returns the new recovery codes, to be shown once.
    pub async fn confirm_totp(
        &self,
        session: &Session,
        code: &str,
        origin: &Origin,
    ) -> Result<Vec<String>, FactorError> {
        let user = &session.user;
        let now = self.now();
        let rows = self.store.factors(user.id).await?;
        let row = rows
            .into_iter()
            .rev()
            .find(|f| f.confirmed_at.is_none() && f.created_at > now - ENROLMENT_LIFETIME)
            .ok_or(FactorError::NotFound)?;
        let attempt = self.begin_factor_attempt(user.id, origin).await?;
        let secret = match self.open(&row).await {
            Ok(s) => s,
            Err(e) => {
                self.settle(attempt, Verdict::Void).await;
                return Err(e);
            }
        };
        let Ok(step) = totp::verify(&secret, code, now, None) else {
            self.settle_factor(attempt, user.id, false, origin).await;
            return Err(FactorError::WrongCode);
        };
        self.settle_factor(attempt, user.id, true, origin).await;
        if !self.store.confirm_factor(row.id, user.id, step, now).await? {
            return Err(FactorError::NotFound);
        }
        let codes = self.replace_recovery_codes(user.id).await?;
        self.record(Event::new(kind::FACTOR_ADDED).user(user.id).detail(TOTP), origin).await;
        Ok(codes)
    }

    async fn replace_recovery_codes(&self, user_id: i64) -> Result<Vec<String>, FactorError> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let mut hashes = Vec::with_capacity(codes.len());
        for c in &codes {
            hashes.push(self.recovery_hash(user_id, c).await?);
        }
        self.store.replace_recovery_codes(user_id, &hashes, self.now()).await?;
        Ok(codes)
    }

    /// New recovery codes for an account with a factor, after a current code (TOTP or
    /// recovery); the old ones stop working.
    pub async fn regenerate_recovery_codes(
        &self,
        session: &Session,
        code: &str,
        origin: &Origin,
    ) -> Result<Vec<String>, FactorError> {
        self.check_second_factor(session.user.id, code, origin).await?;
        let codes = self.replace_recovery_codes(session.user.id).await?;
        self.record(Event::new(kind::RECOVERY_CODES_REGENERATED).user(session.user.id), origin).await;
        Ok(codes)
    }

    /// Removes the factor `id` after the account's password (when it has one) and a current
    /// code; with the last factor the recovery codes go too.
    pub async fn remove_factor(
        &self,
        session: &Session,
        id: i64,
        password: &str,
        code: &str,
        origin: &Origin,
    ) -> Result<(), FactorError> {
        let user = &session.user;
        if !self.factor_list(user.id).await?.iter().any(|f| f.id == id) {
            return Err(FactorError::NotFound);
        }
        if user.password_hash.is_some() {
            self.confirm_password(user, password, origin).await.map_err(|e| match e {
                super::users::SignInError::BadCredentials => FactorError::WrongPassword,
                super::users::SignInError::Throttled { retry_after } => FactorError::Throttled { retry_after },
                _ => FactorError::Unavailable,
            })?;
        }
        self.check_second_factor(user.id, code, origin).await?;
        if !self.store.delete_factor(user.id, id).await? {
            return Err(FactorError::NotFound);
        }
        self.record(Event::new(kind::FACTOR_REMOVED).user(user.id).detail(TOTP), origin).await;
        Ok(())
    }

    /// An admin's reset: every factor and recovery code of `user_id` goes (the user signs in
    /// with the password alone and may enrol again). Recorded as an admin action.
    pub async fn reset_factors(
        &self,
        actor_id: Option<i64>,
        user_id: i64,
        origin: &Origin,
    ) -> Result<u64, FactorError> {
        let gone = self.store.delete_all_factors(user_id).await?;
        let event = Event::new(kind::ADMIN_ACTION).user(user_id).actor(actor_id).detail("reset_second_factors");
        self.record(event, origin).await;
        Ok(gone)
    }

    async fn begin_factor_attempt(&self, user_id: i64, origin: &Origin) -> Result<throttle::Attempt, FactorError> {
        match self.begin_attempt(throttle::factor_budgets(&self.settings.throttle, user_id, origin.ip)).await {
            Ok(a) => Ok(a),
            Err(Refusal::Throttled { retry_after }) => Err(FactorError::Throttled { retry_after }),
            Err(Refusal::Unavailable) => Err(FactorError::Unavailable),
        }
    }

    async fn settle_factor(&self, attempt: throttle::Attempt, user_id: i64, ok: bool, origin: &Origin) {
        let spent = self.settle(attempt, if ok { Verdict::Success } else { Verdict::Failure }).await;
        if let Some(budget) = spent {
            self.record(Event::new(kind::LOCKOUT).user(user_id).detail(budget), origin).await;
        }
        if !ok {
            self.record(Event::new(kind::SIGN_IN_FAILURE).user(user_id).detail("wrong_second_factor"), origin).await;
        }
    }

    /// Checks a code typed for `user_id`'s second factor, through the throttle: six digits are
    /// a TOTP code of one of the confirmed factors (accepted once per time step, RFC 6238
    /// §5.2), anything else a recovery code (used up). A replay counts as a failure.
    pub async fn check_second_factor(
        &self,
        user_id: i64,
        code: &str,
        origin: &Origin,
    ) -> Result<FactorUsed, FactorError> {
        let attempt = self.begin_factor_attempt(user_id, origin).await?;
        let outcome = self.try_code(user_id, code).await;
        if outcome == Err(FactorError::Unavailable) {
            self.settle(attempt, Verdict::Void).await;
        } else {
            self.settle_factor(attempt, user_id, outcome.is_ok(), origin).await;
        }
        outcome
    }

    async fn try_code(&self, user_id: i64, code: &str) -> Result<FactorUsed, FactorError> {
        let now = self.now();
        if totp::normalize_code(code).is_some() {
            let mut replayed = false;
            for row in self.store.factors(user_id).await?.iter().filter(|f| f.confirmed_at.is_some()) {
                let secret = self.open(row).await?;
                match totp::verify(&secret, code, now, row.last_step) {
                    // The store accepts a step once, even against a concurrent request.
                    Ok(step) if self.store.accept_step(row.id, step, now).await? => return Ok(FactorUsed::Totp),
                    Ok(_) | Err(TotpError::Replayed) => replayed = true,
                    Err(_) => {}
                }
            }
            return Err(if replayed { FactorError::Replayed } else { FactorError::WrongCode });
        }
        let normalized = normalize_recovery(code);
        if normalized.len() != 10 {
            return Err(FactorError::WrongCode);
        }
        let hash = self.recovery_hash(user_id, code).await?;
        if self.store.use_recovery_code(user_id, &hash, now).await? {
            Ok(FactorUsed::Recovery)
        } else {
            Err(FactorError::WrongCode)
        }
    }

    /// A token for the second step of a sign-in of `user_id` whose first step proved `amr`:
    /// `<user>.<amr>.<expires>.<nonce>.<MAC>`, kept in an HttpOnly cookie until the second
    /// step, for [`PENDING_LIFETIME`]. No session exists until that step succeeds.
    pub async fn pending_sign_in(&self, user_id: i64, amr: &str) -> Result<String, FactorError> {
        let key = self.pending_key().await?;
        let amr = amr.replace(' ', "+");
        let body = format!("{user_id}.{amr}.{}.{}", self.now() + PENDING_LIFETIME, random_id());
        Ok(format!("{body}.{}", mac(key, "pending-sign-in", &body)))
    }

    /// The pending sign-in a token names, if its MAC is right and it has not expired.
    pub async fn read_pending_sign_in(&self, token: &str) -> Result<PendingSignIn, FactorError> {
        let (body, tag) = token.rsplit_once('.').ok_or(FactorError::Expired)?;
        let key = self.pending_key().await?;
        if !ct_eq(&mac(key, "pending-sign-in", body), tag) {
            return Err(FactorError::Expired);
        }
        let mut parts = body.split('.');
        let (Some(user), Some(amr), Some(expires)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(FactorError::Expired);
        };
        let expires: i64 = expires.parse().map_err(|_| FactorError::Expired)?;
        if expires <= self.now() {
            return Err(FactorError::Expired);
        }
        Ok(PendingSignIn { user_id: user.parse().map_err(|_| FactorError::Expired)?, amr: amr.replace('+', " ") })
    }

    /// A cookie value that lets this browser skip the second step for `user_id` for the
    /// operator's `remember_device_secs`, or `None` when the operator does not allow it.
    pub async fn remembered_device(&self, user_id: i64) -> Option<(String, i64)> {
        let secs = self.settings.second_factors.remember_device_secs;
        if secs <= 0 {
            return None;
        }
        let key = self.pending_key().await.ok()?;
        let body = format!("{user_id}.{}", self.now() + secs);
        Some((format!("{body}.{}", mac(key, "remembered-device", &body)), secs))
    }

    /// Whether a remembered-device cookie value lets this browser skip the second step for
    /// `user_id` now (never when the operator switched it off).
    pub async fn skips_second_step(&self, user_id: i64, token: Option<&str>) -> bool {
        if self.settings.second_factors.remember_device_secs <= 0 {
            return false;
        }
        let (Some((body, tag)), Ok(key)) = (token.and_then(|t| t.rsplit_once('.')), self.pending_key().await) else {
            return false;
        };
        if !ct_eq(&mac(key, "remembered-device", body), tag) {
            return false;
        }
        match body.split_once('.') {
            Some((user, until)) => {
                user.parse() == Ok(user_id) && until.parse::<i64>().is_ok_and(|until| until > self.now())
            }
            None => false,
        }
    }

    /// Whether a sign-in of `user` that proved its first step must go through the second
    /// (it has a factor, and this browser is not a remembered device the operator allows).
    pub async fn needs_second_step(&self, user: &User, remembered: Option<&str>) -> Result<bool, FactorError> {
        Ok(self.has_second_factor(user.id).await? && !self.skips_second_step(user.id, remembered).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_base32_characters_typed_in_any_case() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_eq!(normalize_recovery(&code.to_uppercase().replace('-', " ")), code.replace('-', ""));
        assert_ne!(new_recovery_code(), new_recovery_code());
    }

    #[test]
    fn the_qr_code_is_an_inline_svg() {
        let svg = qr_svg("otpauth://totp/example.com:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=example.com");
        assert!(svg.starts_with("<svg"), "{svg:.60}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
    }

    #[test]
    fn the_amr_after_the_second_step_says_otp_and_mfa() {
        assert_eq!(amr_with_otp("pwd"), "pwd otp mfa");
        assert_eq!(amr_with_otp(""), "otp mfa");
        assert_eq!(amr_with_otp("pwd otp mfa"), "pwd otp mfa");
    }
}
