//! The device authorization grant (RFC 8628): the user code's alphabet and form, the device
//! authorization request and response, and what the token endpoint answers a polling device.
//!
//! Randomness and the clock come from the caller: [`user_code_from`] takes random bytes,
//! [`poll`] takes `now`.

use serde::Serialize;

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::scope::Scope;

/// RFC 8628 §6.1: "the following set is an example of a character set … BCDFGHJKLMNPQRSTVWXZ
/// (base-20)": consonants only, so no word is spelt by accident and no two letters look alike
/// (no vowels, so no `O`/`0` or `I`/`1`).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code: 20^8 ≈ 2^34.6 codes, which with guesses throttled and a code
/// living minutes is beyond guessing (§5.1).
pub const USER_CODE_LEN: usize = 8;
/// RFC 8628 §3.2 `interval`: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL: i64 = 5;
/// RFC 8628 §3.5 `slow_down`: "the interval MUST be increased by 5 seconds for this and all
/// subsequent requests."
pub const SLOW_DOWN_STEP: i64 = 5;

/// A user code made from random bytes by rejection sampling (so every letter is equally
/// likely): bytes of 240 and above are skipped, the rest pick `byte % 20`. `None` when the
/// bytes ran out before [`USER_CODE_LEN`] letters.
pub fn user_code_from(random: impl IntoIterator<Item = u8>) -> Option<String> {
    let limit = 256 - 256 % USER_CODE_ALPHABET.len();
    let code: String = random
        .into_iter()
        .filter(|b| usize::from(*b) < limit)
        .take(USER_CODE_LEN)
        .map(|b| char::from(USER_CODE_ALPHABET[usize::from(b) % USER_CODE_ALPHABET.len()]))
        .collect();
    (code.len() == USER_CODE_LEN).then_some(code)
}

/// How a user code is shown and sent: `XXXX-XXXX` (§6.1: "the dash character" may be shown to
/// aid readability).
pub fn display_user_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(USER_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// A user code as typed, in its stored form: §6.1 "the server should … be case insensitive"
/// and ignore "any punctuation, such as dashes"; spaces are ignored too. `None` for anything
/// that cannot be a user code (wrong length, a letter outside the alphabet), which needs no
/// lookup and costs no guess.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !matches!(c, '-' | ' ' | '\t')).map(|c| c.to_ascii_uppercase()).collect();
    let valid = code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(code)
}

/// The device authorization request's own parameter (RFC 8628 §3.1): `scope`, OPTIONAL. The
/// client authenticates as at the token endpoint (§3.1: "client_id REQUIRED if the client is
/// not authenticating with the authorization server").
pub fn requested_scope(p: &Params) -> Result<Option<Scope>, OAuthError> {
    p.get("scope").map(Scope::parse).transpose()
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuthorization {
    /// "REQUIRED. The device verification code."
    pub device_code: String,
    /// "REQUIRED. The end-user verification code", as shown (`XXXX-XXXX`).
    pub user_code: String,
    /// "REQUIRED. The end-user verification URI on the authorization server."
    pub verification_uri: String,
    /// "OPTIONAL. A verification URI that includes the "user_code"".
    pub verification_uri_complete: String,
    /// "REQUIRED. The lifetime in seconds of the "device_code" and "user_code"."
    pub expires_in: i64,
    /// "OPTIONAL. The minimum amount of time in seconds that the client SHOULD wait between
    /// polling requests to the token endpoint."
    pub interval: i64,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"[redacted]")
            .field("user_code", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Where the user enters the code, and the same with the code filled in.
pub fn verification_uris(issuer: &str, user_code: &str) -> (String, String) {
    let base = format!("{}/o/device/", issuer.trim_end_matches('/'));
    let complete = format!("{base}?user_code={}", display_user_code(user_code));
    (base, complete)
}

/// What the user decided on a device authorization request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Nobody has decided yet.
    Pending,
    /// The user approved it.
    Approved,
    /// The user denied it.
    Denied,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
        }
    }

    /// The status a stored name means, if any.
    pub fn parse(s: &str) -> Option<Self> {
        [DeviceStatus::Pending, DeviceStatus::Approved, DeviceStatus::Denied].into_iter().find(|d| d.as_str() == s)
    }
}

/// A stored device authorization as a poll sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePollState {
    /// The client it was issued to.
    pub client_id: String,
    /// What the user decided.
    pub status: DeviceStatus,
    /// The current minimum seconds between polls.
    pub interval: i64,
    /// The previous poll, if there was one.
    pub polled_at: Option<i64>,
    /// Unix second from which the device code is no longer valid.
    pub expires_at: i64,
    /// Whether tokens were already issued for it.
    pub consumed: bool,
}

/// What one poll of the token endpoint gets (RFC 8628 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// The user approved: issue the tokens (once).
    Issue,
    /// `authorization_pending`.
    Pending,
    /// `slow_down`: the interval grows by [`SLOW_DOWN_STEP`].
    SlowDown,
    /// `access_denied`: "The authorization request was denied."
    Denied,
    /// `expired_token`.
    Expired,
    /// `invalid_grant`: another client's device code, or one already redeemed.
    Invalid,
}

impl PollOutcome {
    /// The error this outcome answers with; `None` for [`PollOutcome::Issue`].
    pub fn error(self) -> Option<OAuthError> {
        let (code, description) = match self {
            PollOutcome::Issue => return None,
            PollOutcome::Pending => (ErrorCode::AuthorizationPending, "the user has not decided yet"),
            PollOutcome::SlowDown => (ErrorCode::SlowDown, "polling too fast: wait 5 seconds longer between polls"),
            PollOutcome::Denied => (ErrorCode::AccessDenied, "the user denied the request"),
            PollOutcome::Expired => (ErrorCode::ExpiredToken, "the device code has expired"),
            PollOutcome::Invalid => (ErrorCode::InvalidGrant, "unknown or already used device code"),
        };
        Some(OAuthError::new(code, description))
    }
}

/// Decides a poll by `client_id` at `now` (RFC 8628 §3.4, §3.5). In order: a device code of
/// another client, or one redeemed before, is `invalid_grant` (RFC 6749 §5.2, "issued to
/// another client"); past its lifetime, `expired_token`; denied, `access_denied`; a poll
/// sooner than `interval` after the previous one, `slow_down`; then `authorization_pending`
/// until the user approves.
pub fn poll(state: &DevicePollState, client_id: &str, now: i64) -> PollOutcome {
    if state.client_id != client_id || state.consumed {
        return PollOutcome::Invalid;
    }
    if now >= state.expires_at {
        return PollOutcome::Expired;
    }
    if state.status == DeviceStatus::Denied {
        return PollOutcome::Denied;
    }
    if state.polled_at.is_some_and(|last| now < last + state.interval) {
        return PollOutcome::SlowDown;
    }
    match state.status {
        DeviceStatus::Approved => PollOutcome::Issue,
        _ => PollOutcome::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: DeviceStatus, polled_at: Option<i64>) -> DevicePollState {
        DevicePollState { client_id: "tv".into(), status, interval: 5, polled_at, expires_at: 1_000, consumed: false }
    }

    #[test]
    fn user_codes_use_the_alphabet_uniformly() {
        let code = user_code_from((0..=255u8).cycle().skip(3).take(64)).unwrap();
        assert_eq!(code.len(), USER_CODE_LEN);
        assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)), "{code}");
        // Bytes past the last whole multiple of 20 are skipped, not folded onto early letters.
        assert_eq!(user_code_from([240, 255, 0, 1, 2, 3, 4, 5, 6, 19]).as_deref(), Some("BCDFGHJZ"));
        assert_eq!(user_code_from([19, 39, 239]).as_deref(), None);
        assert_eq!(user_code_from([19u8; 8]).as_deref(), Some("ZZZZZZZZ"));
    }

    #[test]
    fn user_codes_are_shown_with_a_dash_and_read_back_loosely() {
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
        for typed in ["BCDF-GHJK", "bcdf-ghjk", " bcdf ghjk ", "BCDFGHJK", "b-c-d-f-g-h-j-k"] {
            assert_eq!(normalize_user_code(typed).as_deref(), Some("BCDFGHJK"), "{typed:?}");
        }
        for typed in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0", "BCDF_GHJK", "ＢCDF-GHJK"] {
            assert_eq!(normalize_user_code(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn verification_uris_carry_the_shown_code() {
        let (base, complete) = verification_uris("https://id.example/", "BCDFGHJK");
        assert_eq!(base, "https://id.example/o/device/");
        assert_eq!(complete, "https://id.example/o/device/?user_code=BCDF-GHJK");
    }

    #[test]
    fn polls_follow_rfc_8628_section_3_5() {
        use DeviceStatus::{Approved, Denied as Refused, Pending as Undecided};
        use PollOutcome::*;
        assert_eq!(poll(&state(Undecided, None), "tv", 100), Pending);
        assert_eq!(poll(&state(Undecided, Some(100)), "tv", 104), SlowDown);
        assert_eq!(poll(&state(Undecided, Some(100)), "tv", 105), Pending);
        assert_eq!(poll(&state(Approved, Some(100)), "tv", 105), Issue);
        assert_eq!(poll(&state(Approved, Some(100)), "tv", 101), SlowDown);
        assert_eq!(poll(&state(Refused, Some(100)), "tv", 101), Denied);
        assert_eq!(poll(&state(Approved, None), "tv", 1_000), Expired);
        assert_eq!(poll(&state(Undecided, None), "other", 100), Invalid);
        let used = DevicePollState { consumed: true, ..state(Approved, None) };
        assert_eq!(poll(&used, "tv", 100), Invalid);
        let slowed = DevicePollState { interval: 10, ..state(Undecided, Some(100)) };
        assert_eq!(poll(&slowed, "tv", 109), SlowDown);
        assert_eq!(poll(&slowed, "tv", 110), Pending);
    }

    #[test]
    fn outcomes_answer_with_the_rfc_codes() {
        let codes = [
            (PollOutcome::Pending, "authorization_pending"),
            (PollOutcome::SlowDown, "slow_down"),
            (PollOutcome::Denied, "access_denied"),
            (PollOutcome::Expired, "expired_token"),
            (PollOutcome::Invalid, "invalid_grant"),
        ];
        for (outcome, wire) in codes {
            let err = outcome.error().unwrap();
            assert_eq!(err.code.as_str(), wire);
            assert_eq!(err.code.status(), 400);
        }
        assert!(PollOutcome::Issue.error().is_none());
        assert_eq!(DeviceStatus::parse("approved"), Some(DeviceStatus::Approved));
        assert_eq!(DeviceStatus::parse("nope"), None);
    }

    #[test]
    fn the_scope_parameter_is_optional() {
        let p = Params::from_form(b"client_id=tv&scope=openid+profile").unwrap();
        assert_eq!(requested_scope(&p).unwrap().unwrap().to_string(), "openid profile");
        let none = Params::from_form(b"client_id=tv").unwrap();
        assert_eq!(requested_scope(&none).unwrap(), None);
    }
}
