//! OAuth error codes and the error value every protocol check returns.
//!
//! The codes are those of RFC 6749 §5.2 (token endpoint) and §4.1.2.1
//! (authorization endpoint), `OpenID` Connect Core 1.0 §3.1.2.6 and RFC 6750 §3.1
//! (protected resources).

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// A registered OAuth / `OpenID` Connect error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: "The request is missing a required parameter, includes an
    /// unsupported parameter value (other than grant type), repeats a parameter,
    /// includes multiple credentials, utilizes more than one mechanism for
    /// authenticating the client, or is otherwise malformed."
    InvalidRequest,
    /// RFC 6749 §5.2: "Client authentication failed (e.g., unknown client, no
    /// client authentication included, or unsupported authentication method)."
    InvalidClient,
    /// RFC 6749 §5.2: "The provided authorization grant (e.g., authorization code,
    /// resource owner credentials) or refresh token is invalid, expired, revoked,
    /// does not match the redirection URI used in the authorization request, or
    /// was issued to another client."
    InvalidGrant,
    /// RFC 6749 §5.2: "The authenticated client is not authorized to use this
    /// authorization grant type."
    UnauthorizedClient,
    /// RFC 6749 §5.2: "The authorization grant type is not supported by the
    /// authorization server."
    UnsupportedGrantType,
    /// RFC 6749 §5.2: "The requested scope is invalid, unknown, malformed, or
    /// exceeds the scope granted by the resource owner."
    InvalidScope,
    /// RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the
    /// request."
    AccessDenied,
    /// RFC 6749 §4.1.2.1: "The authorization server does not support obtaining an
    /// authorization code using this method."
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: "The authorization server encountered an unexpected
    /// condition that prevented it from fulfilling the request."
    ServerError,
    /// RFC 6749 §4.1.2.1: "The authorization server is currently unable to handle
    /// the request due to a temporary overloading or maintenance of the server."
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User
    /// authentication."
    LoginRequired,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User consent."
    ConsentRequired,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User
    /// interaction of some form to proceed."
    InteractionRequired,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request parameter".
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request_uri parameter".
    RequestUriNotSupported,
    /// OIDC Core §3.1.2.6: "The request_uri in the Authorization Request returns an error or
    /// contains invalid data." (RFC 9126 §4: an unknown, expired or used pushed request.)
    InvalidRequestUri,
    /// RFC 6750 §3.1: "The access token provided is expired, revoked, malformed,
    /// or invalid for other reasons."
    InvalidToken,
    /// RFC 8628 §3.5: "The authorization request is still pending as the end user hasn't
    /// yet completed the user-interaction steps".
    AuthorizationPending,
    /// RFC 8628 §3.5: "A variant of "authorization_pending", the authorization request is
    /// still pending and polling should continue, but the interval MUST be increased by 5
    /// seconds for this and all subsequent requests."
    SlowDown,
    /// RFC 8628 §3.5: "The "device_code" has expired, and the device authorization session
    /// has concluded."
    ExpiredToken,
    /// RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed."
    InvalidTarget,
    /// RFC 9449 §5: "the DPoP proof is invalid" (also §7.1 at a resource).
    InvalidDpopProof,
    /// RFC 9449 §8: the server requires a nonce in the DPoP proof; the `DPoP-Nonce` header of
    /// the same response provides one.
    UseDpopNonce,
}

impl ErrorCode {
    /// The code as it appears in the `error` parameter on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidToken => "invalid_token",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status a JSON error response with this code carries.
    ///
    /// RFC 6749 §5.2: "The authorization server responds with an HTTP 400 (Bad
    /// Request) status code (unless specified otherwise)"; `invalid_client` "MAY
    /// return an HTTP 401 (Unauthorized) status code"; RFC 6750 §3.1 gives
    /// `invalid_token` "HTTP 401 (Unauthorized)".
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An OAuth error: a code plus a human-readable `error_description`.
///
/// Serializes as the RFC 6749 §5.2 body
/// `{"error": "...", "error_description": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The registered error code.
    #[serde(rename = "error")]
    pub code: ErrorCode,
    /// RFC 6749 §5.2: "Human-readable ASCII text providing additional
    /// information, used to assist the client developer".
    #[serde(rename = "error_description")]
    pub description: Cow<'static, str>,
}

impl OAuthError {
    /// An error with any code and description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: description.into() }
    }

    /// An `invalid_request` error.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// An `invalid_client` error.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// An `invalid_grant` error.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// An `unauthorized_client` error.
    pub fn unauthorized_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    /// An `unsupported_grant_type` error.
    pub fn unsupported_grant_type(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnsupportedGrantType, description)
    }

    /// An `invalid_scope` error.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// An `invalid_target` error (RFC 8707 §2).
    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }

    /// An `invalid_dpop_proof` error (RFC 9449 §5).
    pub fn invalid_dpop_proof(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, description)
    }

    /// A `use_dpop_nonce` error (RFC 9449 §8).
    pub fn use_dpop_nonce() -> Self {
        Self::new(ErrorCode::UseDpopNonce, "the DPoP proof must carry the nonce this server provides in DPoP-Nonce")
    }

    /// A `server_error` error.
    pub fn server_error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }

    /// A `temporarily_unavailable` error.
    pub fn temporarily_unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, description)
    }
}

/// Text the client chose, made fit to quote in an `error_description`: RFC 6749 §5.2 limits
/// it to `%x20-21 / %x23-5B / %x5D-7E`, so other characters are dropped, and at most 64 are
/// kept; `?` if none is left.
pub fn quoted(input: &str) -> String {
    let kept: String = input.chars().filter(|c| matches!(*c, ' ' | '!' | '#'..='[' | ']'..='~')).take(64).collect();
    if kept.is_empty() {
        "?".to_owned()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_stays_in_the_description_character_set() {
        assert_eq!(quoted("login"), "login");
        assert_eq!(quoted("x\"\n\\\u{0}é"), "x");
        assert_eq!(quoted("\u{0}\u{b}"), "?");
        assert_eq!(quoted(&"a".repeat(100)).len(), 64);
    }

    const TABLE: [(ErrorCode, &str, u16); 23] = [
        (ErrorCode::InvalidRequest, "invalid_request", 400),
        (ErrorCode::InvalidClient, "invalid_client", 401),
        (ErrorCode::InvalidGrant, "invalid_grant", 400),
        (ErrorCode::UnauthorizedClient, "unauthorized_client", 400),
        (ErrorCode::UnsupportedGrantType, "unsupported_grant_type", 400),
        (ErrorCode::InvalidScope, "invalid_scope", 400),
        (ErrorCode::AccessDenied, "access_denied", 400),
        (ErrorCode::UnsupportedResponseType, "unsupported_response_type", 400),
        (ErrorCode::ServerError, "server_error", 500),
        (ErrorCode::TemporarilyUnavailable, "temporarily_unavailable", 503),
        (ErrorCode::LoginRequired, "login_required", 400),
        (ErrorCode::ConsentRequired, "consent_required", 400),
        (ErrorCode::InteractionRequired, "interaction_required", 400),
        (ErrorCode::RequestNotSupported, "request_not_supported", 400),
        (ErrorCode::RequestUriNotSupported, "request_uri_not_supported", 400),
        (ErrorCode::InvalidRequestUri, "invalid_request_uri", 400),
        (ErrorCode::InvalidToken, "invalid_token", 401),
        (ErrorCode::AuthorizationPending, "authorization_pending", 400),
        (ErrorCode::SlowDown, "slow_down", 400),
        (ErrorCode::ExpiredToken, "expired_token", 400),
        (ErrorCode::InvalidTarget, "invalid_target", 400),
        (ErrorCode::InvalidDpopProof, "invalid_dpop_proof", 400),
        (ErrorCode::UseDpopNonce, "use_dpop_nonce", 400),
    ];

    #[test]
    fn wire_codes_display_and_status() {
        for (code, wire, status) in TABLE {
            assert_eq!(code.as_str(), wire);
            assert_eq!(code.to_string(), wire);
            assert_eq!(code.status(), status, "{wire}");
        }
    }

    #[test]
    fn shorthands_pick_their_code() {
        let cases = [
            (OAuthError::invalid_request("d"), ErrorCode::InvalidRequest),
            (OAuthError::invalid_client("d"), ErrorCode::InvalidClient),
            (OAuthError::invalid_grant("d"), ErrorCode::InvalidGrant),
            (OAuthError::unauthorized_client("d"), ErrorCode::UnauthorizedClient),
            (OAuthError::unsupported_grant_type("d"), ErrorCode::UnsupportedGrantType),
            (OAuthError::invalid_scope("d"), ErrorCode::InvalidScope),
            (OAuthError::server_error("d"), ErrorCode::ServerError),
            (OAuthError::temporarily_unavailable("d"), ErrorCode::TemporarilyUnavailable),
        ];
        for (err, code) in cases {
            assert_eq!(err.code, code);
            assert_eq!(err.description, "d");
        }
    }

    #[test]
    fn display_and_json_body() {
        let err = OAuthError::new(ErrorCode::InvalidGrant, format!("code {}", "expired"));
        assert_eq!(err.to_string(), "invalid_grant: code expired");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json, serde_json::json!({"error": "invalid_grant", "error_description": "code expired"}));
        let boxed: Box<dyn std::error::Error> = Box::new(err);
        assert_eq!(boxed.to_string(), "invalid_grant: code expired");
    }
}
