//! Browser sign-in: sessions behind an HttpOnly cookie (random id, stored hashed, rotated at
//! login, idle and absolute lifetimes) and the `next` parameter that must never leave the origin.

use std::net::IpAddr;

use super::{
    events::{kind, Event, Origin},
    factors::{amr_with_otp, FactorError, FactorUsed},
    users::SignInError,
    Services,
};
use crate::{
    crypto::{prefix, random_token, sha256_hex},
    store::{NewSession, User},
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yaoshi_session";
/// A session ends after this long without activity.
pub const IDLE_LIFETIME: i64 = 24 * 3600;
/// A session ends this long after sign-in, active or not.
pub const ABSOLUTE_LIFETIME: i64 = 14 * 24 * 3600;
/// Activity is written back at most this often, to spare the database a write per request.
const TOUCH_EVERY: i64 = 60;

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub hash: String,
    /// Who is signed in.
    pub user: User,
    /// When they signed in.
    pub auth_time: i64,
    /// How they signed in: RFC 8176 `amr` values, space-separated (`pwd`, `otp`, `mfa`, ...).
    pub amr: String,
}

/// Where a first step of signing in (a password, an SMS code, a provider) leads.
#[derive(Clone, Debug)]
pub enum FirstStep {
    /// A session is open: its cookie value.
    Session(String),
    /// The account has a second factor: no session yet, only this pending sign-in (for an
    /// HttpOnly cookie) that the second step (`/o/login/mfa/`) completes.
    SecondStep(String),
}

impl Services {
    /// Whether cookies must be `Secure` (the issuer is https).
    pub fn secure_cookies(&self) -> bool {
        self.settings.issuer.starts_with("https://")
    }

    /// Checks the credentials; then opens a new session (the previous one, if any, ends, so a
    /// session id is never carried across a sign-in), or for an account with a second factor
    /// only a pending sign-in. `remembered` is the browser's remembered-device cookie.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        origin: &Origin,
        previous: Option<&str>,
        remembered: Option<&str>,
    ) -> Result<(FirstStep, User), SignInError> {
        let user = self.sign_in(login, password, origin).await?;
        let step = self.after_first_step(&user, "pwd", origin, previous, remembered).await?;
        Ok((step, user))
    }

    /// After a first step that proved `amr` for `user`: a session, or when the account has a
    /// second factor (and this browser is not a remembered device the operator allows), a
    /// pending sign-in.
    pub async fn after_first_step(
        &self,
        user: &User,
        amr: &str,
        origin: &Origin,
        previous: Option<&str>,
        remembered: Option<&str>,
    ) -> Result<FirstStep, SignInError> {
        let unavailable = |_| SignInError::Unavailable;
        if self.needs_second_step(user, remembered).await.map_err(unavailable)? {
            return Ok(FirstStep::SecondStep(self.pending_sign_in(user.id, amr).await.map_err(unavailable)?));
        }
        self.start_session(user, origin.ip, &origin.user_agent, previous, amr).await.map(FirstStep::Session)
    }

    /// The second step of a sign-in: the pending sign-in `pending` (its cookie) and a TOTP or
    /// recovery code, through the throttle. Opens the session, whose `amr` adds `otp` and `mfa`
    /// to the first step's. Returns the cookie value and the user.
    pub async fn finish_second_step(
        &self,
        pending: &str,
        code: &str,
        origin: &Origin,
        previous: Option<&str>,
    ) -> Result<(String, User), FactorError> {
        let p = self.read_pending_sign_in(pending).await?;
        let user = self.store.user_by_id(p.user_id).await?.filter(|u| u.active).ok_or(FactorError::Expired)?;
        let used = self.check_second_factor(user.id, code, origin).await?;
        let how = match used {
            FactorUsed::Totp => "second_factor:totp",
            FactorUsed::Recovery => "second_factor:recovery_code",
        };
        self.record(Event::new(kind::SIGN_IN_SUCCESS).user(user.id).detail(how), origin).await;
        let token = self
            .start_session(&user, origin.ip, &origin.user_agent, previous, &amr_with_otp(&p.amr))
            .await
            .map_err(|_| FactorError::Unavailable)?;
        Ok((token, user))
    }

    /// Opens a session for `user` (ending `previous`, so a session id never survives a
    /// sign-in) authenticated by `amr`, and returns the cookie value. Callers that have only
    /// seen a first step go through [`Services::after_first_step`] instead.
    pub async fn start_session(
        &self,
        user: &User,
        ip: Option<IpAddr>,
        user_agent: &str,
        previous: Option<&str>,
        amr: &str,
    ) -> Result<String, SignInError> {
        if let Some(old) = previous {
            let _ = self.store.delete_session(&sha256_hex(old)).await;
        }
        let token = random_token(prefix::SESSION);
        let now = self.now();
        let session = NewSession {
            session_hash: sha256_hex(&token),
            user_id: user.id,
            auth_time: now,
            expires_at: now + ABSOLUTE_LIFETIME,
            user_agent: user_agent.chars().take(300).collect(),
            ip: ip.map(|i| i.to_string()).unwrap_or_default(),
            amr: amr.to_owned(),
        };
        self.store.insert_session(&session).await.map_err(|e| {
            tracing::error!(error = %e, "cannot store a session");
            SignInError::Unavailable
        })?;
        Ok(token)
    }

    /// The live session behind a cookie value, if any. A storage error is an error, not
    /// "signed out": a browser with a session must see the outage page, not the login page
    /// (which would lose the request it was on, e.g. an authorization request).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, crate::store::StoreError> {
        let now = self.now();
        let hash = sha256_hex(token);
        let found = self.store.session(&hash, now, now - IDLE_LIFETIME).await.inspect_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
        })?;
        let Some((record, user)) = found else { return Ok(None) };
        if now - record.last_seen_at >= TOUCH_EVERY {
            let _ = self.store.touch_session(&hash, now).await;
        }
        Ok(Some(Session { hash, user, auth_time: record.auth_time, amr: record.amr }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::service::{users::Registration, FixedClock};

    /// Services over a fresh SQLite file, reading time from `clock`.
    async fn services(dir: &std::path::Path, clock: Arc<FixedClock>) -> Services {
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = crate::store::connect(&url, &Default::default()).await.expect("store");
        let settings = crate::config::Settings {
            argon2: crate::config::Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 },
            ..Default::default()
        };
        Services::new(store, settings).expect("services").with_clock(clock)
    }

    #[tokio::test]
    async fn a_session_ends_after_its_idle_lifetime_on_the_services_clock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FixedClock::at(1_700_000_000));
        let s = services(dir.path(), clock.clone()).await;
        let user = s
            .create_user(Registration {
                username: "clocked".into(),
                email: None,
                display_name: None,
                password: Some("a long enough password".into()),
                ..Registration::default()
            })
            .await
            .expect("user");
        let token = s.start_session(&user, None, "test", None, "pwd").await.expect("session");
        assert_eq!(s.session(&token).await.unwrap().map(|x| x.auth_time), Some(1_700_000_000));
        clock.advance(IDLE_LIFETIME - 1);
        assert!(s.session(&token).await.unwrap().is_some(), "still within the idle lifetime");
        clock.advance(IDLE_LIFETIME + 1);
        assert!(s.session(&token).await.unwrap().is_none(), "idle for longer than the lifetime");
    }
}
