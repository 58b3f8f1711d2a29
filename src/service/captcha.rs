//! The CAPTCHA hook on the forms that send a code to any address a visitor types (phone
//! sign-in, forgot password), so that a script cannot spend the platform's SMS budget or
//! flood inboxes from many addresses at once. The send limits and the throttle still apply;
//! this makes each request cost the sender something. Off unless `[captcha]` turns it on.
//!
//! - **Proof of work** (`pow`): each rendered form carries a fresh challenge,
//!   `EXPIRES.NONCE.MAC` (the MAC under a server key, so any instance can check it and none
//!   stores it); the browser's script (`public/captcha.js`) finds a counter such that
//!   SHA-256 of `CHALLENGE:COUNTER` starts with `pow_bits` zero bits, and sends that string.
//! - **Provider** (`provider`): the page embeds the operator's widget (Turnstile, hCaptcha,
//!   reCAPTCHA); its token is checked with the provider's `siteverify` endpoint.
//!
//! Either answer is good once: its digest is recorded until the challenge would have expired.

use std::time::Duration;

use super::{events::Origin, Services};
use crate::{
    config::{provider_url, CaptchaKind},
    crypto::{ct_eq, mac, random_token, sha256_hex},
    view::CaptchaWidget,
};

/// How long a challenge (or a provider's token) is good for.
pub const CHALLENGE_TTL: i64 = 600;
/// The MAC's purpose label.
const POW_LABEL: &str = "captcha-pow";
/// Time allowed for the provider's verification.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a CAPTCHA answer was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptchaError {
    /// No answer, a wrong or expired one, or one used before.
    #[error("the anti-robot check was not passed")]
    Failed,
    /// The check could not be made (the database, or the provider, did not answer).
    #[error("the anti-robot check is unavailable")]
    Unavailable,
}

/// The challenge that expires at `expires`, with the random `nonce`, under `key`.
pub fn pow_challenge(key: &[u8], bits: u8, expires: i64, nonce: &str) -> String {
    format!("{expires}.{nonce}.{}", mac(key, POW_LABEL, &format!("{bits}.{expires}.{nonce}")))
}

/// The leading zero bits of a digest.
pub fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// SHA-256 of `answer` starts with `bits` zero bits.
fn enough_work(answer: &str, bits: u8) -> bool {
    use sha2::Digest as _;
    leading_zero_bits(&sha2::Sha256::digest(answer.as_bytes())) >= u32::from(bits)
}

/// Checks a solved challenge (`CHALLENGE:COUNTER`) at `now`; returns when its challenge
/// expires.
pub fn check_pow(key: &[u8], bits: u8, answer: &str, now: i64) -> Result<i64, CaptchaError> {
    let (challenge, counter) = answer.rsplit_once(':').ok_or(CaptchaError::Failed)?;
    let mut parts = challenge.splitn(3, '.');
    let (Some(expires), Some(nonce), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CaptchaError::Failed);
    };
    let expires: i64 = expires.parse().map_err(|_| CaptchaError::Failed)?;
    let genuine = ct_eq(challenge, &pow_challenge(key, bits, expires, nonce));
    let counter_ok = !counter.is_empty() && counter.len() <= 12 && counter.bytes().all(|b| b.is_ascii_digit());
    if !genuine || expires <= now || expires > now + CHALLENGE_TTL || !counter_ok || !enough_work(answer, bits) {
        return Err(CaptchaError::Failed);
    }
    Ok(expires)
}

/// What the browser's script does: the first counter that makes `challenge` an answer.
pub fn solve_pow(challenge: &str, bits: u8) -> String {
    (0u64..)
        .map(|counter| format!("{challenge}:{counter}"))
        .find(|answer| enough_work(answer, bits))
        .expect("some counter has enough zero bits")
}

/// The one HTTP client of the provider check.
fn provider_http() -> Option<&'static reqwest::Client> {
    static HTTP: std::sync::OnceLock<Option<reqwest::Client>> = std::sync::OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("yaoshi/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok()
    })
    .as_ref()
}

impl Services {
    /// What a form that sends codes carries now: a fresh challenge, the provider's widget, or
    /// nothing when the CAPTCHA is off.
    pub async fn captcha_widget(&self) -> Result<Option<CaptchaWidget>, CaptchaError> {
        let c = &self.settings.captcha;
        Ok(match c.kind {
            CaptchaKind::Off => None,
            CaptchaKind::Pow => {
                let key = self.code_key().await.map_err(|_| CaptchaError::Unavailable)?;
                let nonce = random_token("");
                let challenge = pow_challenge(key, c.pow_bits, self.now() + CHALLENGE_TTL, &nonce);
                Some(CaptchaWidget::Pow { challenge, bits: c.pow_bits })
            }
            CaptchaKind::Provider => Some(CaptchaWidget::Provider {
                site_key: c.site_key.clone().unwrap_or_default(),
                widget_class: c.widget_class.clone().unwrap_or_default(),
                script_url: c.script_url.clone().unwrap_or_default(),
            }),
        })
    }

    /// Checks the answer a form came with (nothing to check when the CAPTCHA is off) and uses
    /// it up.
    pub async fn check_captcha(&self, answer: Option<&str>, origin: &Origin) -> Result<(), CaptchaError> {
        let (c, now) = (&self.settings.captcha, self.now());
        let answer = answer.map(str::trim).unwrap_or_default();
        match c.kind {
            CaptchaKind::Off => Ok(()),
            _ if answer.is_empty() || answer.len() > 4096 => Err(CaptchaError::Failed),
            // The work is checked first: only a solved challenge costs a write.
            CaptchaKind::Pow => {
                let key = self.code_key().await.map_err(|_| CaptchaError::Unavailable)?;
                let expires = check_pow(key, c.pow_bits, answer, now)?;
                self.spend_captcha(answer, expires).await
            }
            // Spent first: a token seen before is refused without asking the provider again.
            CaptchaKind::Provider => {
                self.spend_captcha(answer, now + CHALLENGE_TTL).await?;
                self.verify_with_provider(answer, origin).await
            }
        }
    }

    /// Records `answer` as used until `expires`; refused if it was used before.
    async fn spend_captcha(&self, answer: &str, expires: i64) -> Result<(), CaptchaError> {
        match self.store.spend_once(&sha256_hex(&format!("captcha:{answer}")), expires).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(CaptchaError::Failed),
            Err(_) => Err(CaptchaError::Unavailable),
        }
    }

    /// Asks the provider whether `token` is a passed challenge for this site.
    async fn verify_with_provider(&self, token: &str, origin: &Origin) -> Result<(), CaptchaError> {
        let c = &self.settings.captcha;
        let (Some(http), Some(url)) = (provider_http(), provider_url(c.verify_url.as_deref())) else {
            return Err(CaptchaError::Unavailable);
        };
        let mut form = vec![("secret", c.secret.clone().unwrap_or_default()), ("response", token.to_owned())];
        if let Some(ip) = origin.ip {
            form.push(("remoteip", ip.to_string()));
        }
        let answer = http.post(url).form(&form).send().await.map_err(|e| {
            tracing::warn!(error = %e.without_url(), "the CAPTCHA provider did not answer");
            CaptchaError::Unavailable
        })?;
        let body: serde_json::Value = answer.json().await.map_err(|_| CaptchaError::Unavailable)?;
        if body["success"].as_bool() == Some(true) {
            Ok(())
        } else {
            Err(CaptchaError::Failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test key";

    #[test]
    fn zero_bits_are_counted_from_the_first_byte() {
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x00, 0x01, 0xff]), 15);
        assert_eq!(leading_zero_bits(&[0x00, 0x00]), 16);
        assert_eq!(leading_zero_bits(&[0x0f, 0x00]), 4);
    }

    #[test]
    fn a_solved_challenge_is_accepted_until_it_expires() {
        let challenge = pow_challenge(KEY, 10, 1_000 + CHALLENGE_TTL, "nonce");
        let answer = solve_pow(&challenge, 10);
        assert_eq!(check_pow(KEY, 10, &answer, 1_000), Ok(1_000 + CHALLENGE_TTL));
        assert_eq!(check_pow(KEY, 10, &answer, 1_000 + CHALLENGE_TTL), Err(CaptchaError::Failed), "expired");
    }

    #[test]
    fn forged_or_unsolved_challenges_are_refused() {
        let challenge = pow_challenge(KEY, 10, 2_000, "nonce");
        let answer = solve_pow(&challenge, 10);
        assert!(check_pow(b"another key", 10, &answer, 1_500).is_err(), "another server's");
        assert!(check_pow(KEY, 12, &answer, 1_500).is_err(), "made for fewer bits");
        let (_, counter) = answer.rsplit_once(':').unwrap();
        let later = pow_challenge(KEY, 10, 2_100, "nonce");
        assert!(check_pow(KEY, 10, &format!("{later}:{counter}"), 1_500).is_err(), "the counter of another");
        let far = pow_challenge(KEY, 10, 1_500 + CHALLENGE_TTL + 1, "nonce");
        assert!(check_pow(KEY, 10, &solve_pow(&far, 10), 1_500).is_err(), "expires too late to be ours");
        // Some counter below the solution has too few zero bits: the first one tried.
        let unsolved = (0..).map(|n| format!("{challenge}:{n}")).find(|a| !enough_work(a, 10)).unwrap();
        assert!(check_pow(KEY, 10, &unsolved, 1_500).is_err(), "not enough work");
        for junk in ["", ":", "1.2:3", "x.y.z:1", &format!("{challenge}:"), &format!("{challenge}:1e3")] {
            assert!(check_pow(KEY, 10, junk, 1_500).is_err(), "{junk:?}");
        }
    }
}
