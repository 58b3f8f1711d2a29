//! The error every server function returns: typed, user-safe, carried across the wire as JSON.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::i18n::{t, Locale, Text};

/// What a page can be told. Internal details are logged on the server, never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// Unknown user, wrong password or disabled account: deliberately indistinguishable.
    BadCredentials,
    /// The current password given to confirm a change is wrong.
    WrongPassword,
    /// The page needs a signed-in user, and this browser's session has ended.
    SignedOut,
    /// The page needs a signed-in user, and this browser has no session.
    SignInRequired,
    /// Too many failed attempts: try again in this many minutes.
    Throttled(u32),
    /// The signed-in user may not see this page.
    Forbidden,
    /// The form must be reloaded (expired session or CSRF token).
    Expired,
    /// Bad input, with a readable reason.
    Invalid(String),
    /// One form field is wrong: which, and why.
    Field {
        /// The field's `name`.
        field: String,
        /// Why it is not acceptable.
        message: String,
    },
    /// The database or another dependency failed.
    Unavailable,
    /// The request never reached the function properly (network, encoding).
    Transport(String),
    /// A sign-in provider could not be reached, was too slow or answered nonsense.
    UpstreamUnavailable,
    /// The provider (or the person there) refused the sign-in.
    UpstreamDenied,
    /// The provider's answer does not belong to a sign-in this browser started (or it expired).
    UpstreamState,
    /// The provider's answer failed verification (issuer, signature, nonce, …).
    UpstreamRejected,
    /// The provider answered with an error in its own format (WeChat's `errcode`, …).
    UpstreamError,
    /// No enabled provider has that id.
    UnknownProvider,
    /// The provider identity belongs to another account.
    IdentityTaken,
    /// The account has an identity at that provider already.
    AlreadyLinked,
    /// The account is disabled.
    AccountDisabled,
    /// Unlinking would leave the account without a way to sign in.
    LastSignInMethod,
    /// The operator requires a verified email before the first sign-in.
    EmailNotVerified,
    /// A one-time code is wrong, expired or used.
    WrongCode,
    /// A verification or reset link has expired or was used.
    StaleLink,
    /// Another account verified the address first.
    ContactTaken,
    /// A code was sent to the address a moment ago.
    TooSoon,
    /// There is no unverified address to verify.
    NothingToVerify,
    /// The form's CAPTCHA answer is missing, wrong or used.
    Captcha,
    /// A second-factor code that was accepted before (RFC 6238 §5.2: a code works once).
    CodeReplayed,
    /// No such second factor, or no enrolment in progress.
    NoSuchFactor,
    /// The second step of a sign-in is missing or took too long.
    SignInExpired,
    /// A passkey's answer did not verify (or names no passkey of the account).
    PasskeyRefused,
    /// A passkey ceremony is unknown, expired or used.
    PasskeyExpired,
    /// The passkey is registered already.
    PasskeyDuplicate,
    /// A passkey's name is empty or too long.
    PasskeyName,
    /// Passkeys are not offered (the issuer is not a host name).
    PasskeysOff,
}

/// The code of [`AppError::Throttled`].
const THROTTLED: &str = "throttled";

/// The wire code, the HTTP status and the message of an error, each written once in
/// [`AppError::meta`].
struct Meta {
    /// For URLs (`?error=…`) on the no-JavaScript path.
    code: &'static str,
    /// The response status.
    status: u16,
    /// The message in a language's strings.
    text: fn(&Text) -> &'static str,
}

impl AppError {
    /// The errors that carry no text of their own, which [`AppError::from_code`] can rebuild.
    const WITHOUT_TEXT: [AppError; 32] = [
        AppError::BadCredentials,
        AppError::WrongPassword,
        AppError::SignedOut,
        AppError::SignInRequired,
        AppError::Forbidden,
        AppError::Expired,
        AppError::Unavailable,
        AppError::UpstreamUnavailable,
        AppError::UpstreamDenied,
        AppError::UpstreamState,
        AppError::UpstreamRejected,
        AppError::UpstreamError,
        AppError::UnknownProvider,
        AppError::IdentityTaken,
        AppError::AlreadyLinked,
        AppError::AccountDisabled,
        AppError::LastSignInMethod,
        AppError::EmailNotVerified,
        AppError::WrongCode,
        AppError::StaleLink,
        AppError::ContactTaken,
        AppError::TooSoon,
        AppError::NothingToVerify,
        AppError::Captcha,
        AppError::CodeReplayed,
        AppError::NoSuchFactor,
        AppError::SignInExpired,
        AppError::PasskeyRefused,
        AppError::PasskeyExpired,
        AppError::PasskeyDuplicate,
        AppError::PasskeyName,
        AppError::PasskeysOff,
    ];

    /// The one table: every variant's code, status and message.
    fn meta(&self) -> Meta {
        use AppError as E;
        let (code, status, text): (&'static str, u16, fn(&Text) -> &'static str) = match self {
            E::BadCredentials => ("credentials", 401, |t| t.err_credentials),
            E::WrongPassword => ("password", 401, |t| t.err_wrong_password),
            E::SignedOut => ("signed_out", 401, |t| t.err_signed_out),
            E::SignInRequired => ("sign_in", 401, |t| t.err_sign_in_required),
            E::Throttled(1) => (THROTTLED, 429, |t| t.err_throttled_one),
            E::Throttled(_) => (THROTTLED, 429, |t| t.err_throttled),
            E::Forbidden => ("forbidden", 403, |t| t.err_forbidden),
            E::Expired => ("expired", 403, |t| t.err_expired),
            E::Invalid(_) | E::Field { .. } => ("invalid", 400, |t| t.err_check_form),
            E::Unavailable => ("unavailable", 503, |t| t.err_unavailable),
            E::Transport(_) => ("transport", 400, |t| t.err_transport),
            // A provider's trouble is reported as a refused request, not as our failure.
            E::UpstreamUnavailable => ("upstream_unavailable", 400, |t| t.err_upstream_unavailable),
            E::UpstreamDenied => ("upstream_denied", 400, |t| t.err_upstream_denied),
            E::UpstreamState => ("upstream_state", 400, |t| t.err_upstream_state),
            E::UpstreamRejected => ("upstream_rejected", 400, |t| t.err_upstream_rejected),
            E::UpstreamError => ("upstream_error", 400, |t| t.err_upstream_error),
            E::UnknownProvider => ("unknown_provider", 400, |t| t.err_unknown_provider),
            E::IdentityTaken => ("identity_taken", 400, |t| t.err_identity_taken),
            E::AlreadyLinked => ("already_linked", 400, |t| t.err_already_linked),
            E::AccountDisabled => ("account_disabled", 403, |t| t.err_account_disabled),
            E::LastSignInMethod => ("last_method", 400, |t| t.err_last_method),
            E::EmailNotVerified => ("email_not_verified", 403, |t| t.err_email_not_verified),
            E::WrongCode => ("wrong_code", 400, |t| t.err_wrong_code),
            E::StaleLink => ("stale_link", 400, |t| t.err_stale_link),
            E::ContactTaken => ("contact_taken", 409, |t| t.err_contact_taken),
            E::TooSoon => ("too_soon", 429, |t| t.err_too_soon),
            E::NothingToVerify => ("nothing_to_verify", 400, |t| t.err_nothing_to_verify),
            E::Captcha => ("captcha", 400, |t| t.err_captcha),
            E::CodeReplayed => ("code_replayed", 400, |t| t.err_code_replayed),
            E::NoSuchFactor => ("no_such_factor", 400, |t| t.err_no_such_factor),
            E::SignInExpired => ("sign_in_expired", 400, |t| t.err_sign_in_expired),
            E::PasskeyRefused => ("passkey_refused", 400, |t| t.err_passkey_refused),
            E::PasskeyExpired => ("passkey_expired", 400, |t| t.err_passkey_expired),
            E::PasskeyDuplicate => ("passkey_duplicate", 409, |t| t.err_passkey_duplicate),
            E::PasskeyName => ("passkey_name", 400, |t| t.err_passkey_name),
            E::PasskeysOff => ("passkeys_off", 400, |t| t.err_passkeys_off),
        };
        Meta { code, status, text }
    }

    /// A short code for URLs (`?error=…`) on the no-JavaScript path.
    pub fn code(&self) -> &'static str {
        self.meta().code
    }

    /// The code with what the message needs: `throttled_<minutes>`, else [`AppError::code`].
    pub fn url_code(&self) -> String {
        match self {
            AppError::Throttled(minutes) => format!("{THROTTLED}_{minutes}"),
            other => other.code().to_owned(),
        }
    }

    /// The error a code from [`AppError::url_code`] stands for (those that carry no text).
    pub fn from_code(code: &str) -> Option<AppError> {
        if let Some(minutes) = code.strip_prefix(THROTTLED).and_then(|m| m.strip_prefix('_')) {
            return minutes.parse().ok().filter(|m| (1..=1440).contains(m)).map(AppError::Throttled);
        }
        Self::WITHOUT_TEXT.into_iter().find(|e| e.code() == code)
    }

    /// The throttle's answer for a wait of `retry_after` seconds, in whole minutes (at least 1).
    pub fn throttled(retry_after: i64) -> AppError {
        AppError::Throttled(((retry_after.max(1) + 59) / 60).min(1440) as u32)
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        self.meta().status
    }

    /// The message in the language of `t`. Messages written by the service (why a field is
    /// not acceptable) are passed through as they are.
    pub fn text(&self, t: &Text) -> String {
        match self {
            AppError::Invalid(m) | AppError::Field { message: m, .. } => m.clone(),
            AppError::Transport(m) => format!("{}{m}", t.err_transport),
            AppError::Throttled(n) => (self.meta().text)(t).replace("{n}", &n.to_string()),
            _ => (self.meta().text)(t).to_owned(),
        }
    }
}

/// In English, for logs and tests; pages use [`error_text`].
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Locale::En.text()))
    }
}

impl std::error::Error for AppError {}

/// An error, in the page's language.
pub fn error_text(e: &AppError) -> String {
    e.text(t())
}

/// The message for `?error=<code>` on a page reached by a plain form post.
pub fn error_for_code(code: &str) -> Option<String> {
    if code == AppError::Invalid(String::new()).code() {
        return Some(t().err_check_form.into());
    }
    AppError::from_code(code).map(|e| error_text(&e))
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
