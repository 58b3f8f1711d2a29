//! The error every server function returns: typed, user-safe, carried across the wire as JSON.

use serde::{Deserialize, Serialize};
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// What a page can be told. Internal details are logged on the server, never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user, wrong password or disabled account: deliberately indistinguishable.
    #[error("Invalid username or password.")]
    BadCredentials,
    /// The current password given to confirm a change is wrong.
    #[error("The current password is not correct.")]
    WrongPassword,
    /// The page needs a signed-in user.
    #[error("You are signed out. Sign in again.")]
    SignedOut,
    /// Too many failed attempts.
    #[error("Too many failed attempts. Try again in a few minutes.")]
    Throttled,
    /// The signed-in user may not see this page.
    #[error("You do not have access to this page.")]
    Forbidden,
    /// The form must be reloaded (expired session or CSRF token).
    #[error("Your session has expired. Reload the page and try again.")]
    Expired,
    /// Bad input, with a readable reason.
    #[error("{0}")]
    Invalid(String),
    /// One form field is wrong: which, and why.
    #[error("{message}")]
    Field {
        /// The field's `name`.
        field: String,
        /// Why it is not acceptable.
        message: String,
    },
    /// The database or another dependency failed.
    #[error("The service is temporarily unavailable. Try again in a moment.")]
    Unavailable,
    /// The request never reached the function properly (network, encoding).
    #[error("The request failed: {0}")]
    Transport(String),
    /// A sign-in provider could not be reached, was too slow or answered nonsense.
    #[error("The sign-in provider could not be reached.")]
    UpstreamUnavailable,
    /// The provider (or the person there) refused the sign-in.
    #[error("The sign-in was refused at the provider.")]
    UpstreamDenied,
    /// The provider's answer does not belong to a sign-in this browser started (or it expired).
    #[error("This sign-in expired or was not started in this browser.")]
    UpstreamState,
    /// The provider's answer failed verification (issuer, signature, nonce, …).
    #[error("The provider's answer could not be verified.")]
    UpstreamRejected,
    /// No enabled provider has that id.
    #[error("Unknown sign-in provider.")]
    UnknownProvider,
    /// The provider identity belongs to another account.
    #[error("That identity is linked to another account.")]
    IdentityTaken,
    /// The account has an identity at that provider already.
    #[error("Your account is already linked to this provider.")]
    AlreadyLinked,
    /// The account is disabled.
    #[error("This account is disabled.")]
    AccountDisabled,
    /// Unlinking would leave the account without a way to sign in.
    #[error("This is your only way to sign in.")]
    LastSignInMethod,
}

impl AppError {
    /// A short code for URLs (`?error=…`) on the no-JavaScript path.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadCredentials => "credentials",
            AppError::Throttled => "throttled",
            AppError::WrongPassword => "password",
            AppError::SignedOut => "signed_out",
            AppError::Expired => "expired",
            AppError::Forbidden => "forbidden",
            AppError::Invalid(_) | AppError::Field { .. } => "invalid",
            AppError::Unavailable => "unavailable",
            AppError::Transport(_) => "transport",
            AppError::UpstreamUnavailable => "upstream_unavailable",
            AppError::UpstreamDenied => "upstream_denied",
            AppError::UpstreamState => "upstream_state",
            AppError::UpstreamRejected => "upstream_rejected",
            AppError::UnknownProvider => "unknown_provider",
            AppError::IdentityTaken => "identity_taken",
            AppError::AlreadyLinked => "already_linked",
            AppError::AccountDisabled => "account_disabled",
            AppError::LastSignInMethod => "last_method",
        }
    }

    /// The error a code from [`AppError::code`] stands for (those that carry no text).
    pub fn from_code(code: &str) -> Option<AppError> {
        Some(match code {
            "credentials" => AppError::BadCredentials,
            "throttled" => AppError::Throttled,
            "password" => AppError::WrongPassword,
            "signed_out" => AppError::SignedOut,
            "expired" => AppError::Expired,
            "forbidden" => AppError::Forbidden,
            "unavailable" => AppError::Unavailable,
            "upstream_unavailable" => AppError::UpstreamUnavailable,
            "upstream_denied" => AppError::UpstreamDenied,
            "upstream_state" => AppError::UpstreamState,
            "upstream_rejected" => AppError::UpstreamRejected,
            "unknown_provider" => AppError::UnknownProvider,
            "identity_taken" => AppError::IdentityTaken,
            "already_linked" => AppError::AlreadyLinked,
            "account_disabled" => AppError::AccountDisabled,
            "last_method" => AppError::LastSignInMethod,
            _ => return None,
        })
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadCredentials | AppError::WrongPassword | AppError::SignedOut => 401,
            AppError::Throttled => 429,
            AppError::Expired | AppError::Forbidden => 403,
            AppError::Invalid(_) | AppError::Field { .. } | AppError::Transport(_) => 400,
            AppError::Unavailable => 503,
            // A provider's trouble is reported as a refused request, not as our failure.
            AppError::UpstreamUnavailable
            | AppError::UpstreamDenied
            | AppError::UpstreamState
            | AppError::UpstreamRejected
            | AppError::UnknownProvider
            | AppError::IdentityTaken
            | AppError::AlreadyLinked
            | AppError::LastSignInMethod => 400,
            AppError::AccountDisabled => 403,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
