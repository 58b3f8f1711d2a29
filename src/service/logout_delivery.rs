//! Delivering back-channel logout notices from the outbox (Back-Channel Logout 1.0 §2.5), at
//! least once: every instance runs [`Services::deliver_logout_notices`], which claims due
//! notices with a lease, signs each one's logout token from its row (the same `jti` and `iat`
//! on every attempt, so receivers drop repeats) and POSTs it. A 2xx answer removes the notice;
//! anything else is retried after a delay that doubles from `logout_retry_base` up to
//! [`MAX_DELAY`], until the notice is [`GIVE_UP_AFTER`] old or has had [`MAX_ATTEMPTS`].

use std::{sync::OnceLock, time::Duration};

use rand::rngs::OsRng;

use super::{
    events::{kind, Event, Origin},
    Services,
};
use crate::{
    oauth::logout::{logout_token_claims, LOGOUT_TOKEN_TYP},
    store::LogoutNotice,
};

/// How long one POST may take, in all.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claimed notice stays with the instance that claimed it: longer than a batch of
/// concurrent POSTs takes, so another instance takes it over only after a crash.
const LEASE: i64 = 30;
/// Notices claimed (and sent concurrently) at once.
const CLAIM: i64 = 16;
/// The longest wait between two attempts.
pub const MAX_DELAY: i64 = 3600;
/// A notice this old when an attempt fails is given up.
pub const GIVE_UP_AFTER: i64 = 24 * 3600;
/// A notice that failed this many times is given up.
pub const MAX_ATTEMPTS: i64 = 40;
/// How long a given-up notice is kept (with its last error) for an operator to look at.
pub const GIVEN_UP_KEPT: i64 = 7 * 86_400;

/// The wait before the next attempt after `failures` failed ones: `base` doubled per earlier
/// failure, capped at [`MAX_DELAY`].
pub fn retry_delay(base: i64, failures: i64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.max(1).saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// Whether a notice created at `created_at` that has now failed `failures` times is given up.
pub fn gives_up(created_at: i64, failures: i64, now: i64) -> bool {
    failures >= MAX_ATTEMPTS || now - created_at >= GIVE_UP_AFTER
}

/// The client for logout tokens: short timeouts, no redirects (a token goes to the registered
/// URI or nowhere).
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// Why an attempt failed, short and free of secrets (no token, no URL), for `last_error`.
fn failure(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        "request failed".into()
    }
}

impl Services {
    /// Wakes this instance's delivery worker (a session ended with notices to send).
    pub(super) fn wake_logout_delivery(&self) {
        self.logout_wake.notify_one();
    }

    /// The delivery worker, until `stop` completes (checked between rounds, so a round in
    /// flight finishes and leaves no lease behind). Each round claims and sends at most one
    /// batch (see [`super::worker::run_rounds`]).
    pub async fn deliver_logout_notices(self, stop: impl std::future::Future<Output = ()>) {
        let wake = self.logout_wake.clone();
        super::worker::run_rounds("back-channel logout delivery", CLAIM as usize, &wake, stop, || {
            self.deliver_due_logout_notices()
        })
        .await;
    }

    /// Claims the notices due now and attempts each once, concurrently; returns how many it
    /// claimed.
    pub async fn deliver_due_logout_notices(&self) -> Result<usize, crate::store::StoreError> {
        let now = self.now();
        let notices = self.store.claim_logout_notices(now, now + LEASE, CLAIM).await?;
        let claimed = notices.len();
        let mut attempts = tokio::task::JoinSet::new();
        for notice in notices {
            let s = self.clone();
            attempts.spawn(async move { s.attempt(notice).await });
        }
        while attempts.join_next().await.is_some() {}
        Ok(claimed)
    }

    /// One attempt at one notice, and its outcome recorded.
    async fn attempt(&self, notice: LogoutNotice) {
        let outcome = match self.logout_token(&notice).await {
            Ok(token) => {
                let form = [("logout_token", token.as_str())];
                match http().post(&notice.backchannel_uri).form(&form).send().await {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                    Err(e) => Err(failure(&e)),
                }
            }
            Err(e) => Err(format!("cannot sign: {}", e.description)),
        };
        let client_id = notice.client_id.as_str();
        let stored = match outcome {
            Ok(()) => {
                tracing::info!(%client_id, jti = %notice.jti, "back-channel logout delivered");
                self.store.logout_notice_delivered(notice.id).await
            }
            Err(error) => self.attempt_failed(&notice, &error).await,
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, %client_id, "cannot record a back-channel logout attempt");
        }
    }

    async fn attempt_failed(&self, notice: &LogoutNotice, error: &str) -> crate::store::StoreResult<()> {
        let (now, failures) = (self.now(), notice.attempts + 1);
        let client_id = notice.client_id.as_str();
        if gives_up(notice.created_at, failures, now) {
            tracing::error!(%client_id, jti = %notice.jti, attempts = failures, %error, "back-channel logout given up");
            let event = Event::new(kind::BACKCHANNEL_ABANDONED).user(notice.user_id).client(client_id);
            self.record(event.detail(format!("{failures} attempts, last: {error}")), &Origin::default()).await;
            return self.store.logout_notice_failed(notice.id, now, error, Some(now)).await;
        }
        let next = now + retry_delay(self.settings.logout_retry_base, failures);
        tracing::warn!(%client_id, jti = %notice.jti, attempts = failures, %error, retry_at = next, "back-channel logout not delivered");
        self.store.logout_notice_failed(notice.id, next, error, None).await
    }

    /// The notice's logout token (§2.4), signed now with the current key.
    async fn logout_token(&self, n: &LogoutNotice) -> Result<String, crate::oauth::error::OAuthError> {
        let key = self.signer().await?;
        let sub = n.user_id.to_string();
        let claims = logout_token_claims(
            &self.settings.issuer,
            &n.client_id,
            &sub,
            Some(&n.sid),
            &n.jti,
            n.created_at,
            self.now(),
        );
        Ok(key.sign(LOGOUT_TOKEN_TYP, &claims, &mut OsRng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_base_up_to_an_hour() {
        let delays: Vec<i64> = (1..=6).map(|n| retry_delay(5, n)).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160]);
        assert_eq!(retry_delay(5, 11), MAX_DELAY);
        assert_eq!(retry_delay(5, 1_000), MAX_DELAY, "no overflow");
        assert_eq!(retry_delay(0, 1), 1, "never zero");
    }

    #[test]
    fn a_notice_is_given_up_by_age_or_attempts() {
        assert!(!gives_up(0, 1, GIVE_UP_AFTER - 1));
        assert!(gives_up(0, 1, GIVE_UP_AFTER));
        assert!(gives_up(1_000, MAX_ATTEMPTS, 1_001));
        assert!(!gives_up(1_000, MAX_ATTEMPTS - 1, 1_001));
    }
}
