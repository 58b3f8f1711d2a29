//! Pushed authorization requests (RFC 9126): a client sends its authorization request's
//! parameters to `POST /o/par/`, authenticated as at the token endpoint, and sends the browser
//! to `/o/authorize/` with only `client_id` and the `request_uri` it got back. The request's
//! parameters then never pass through the browser, and they come from the client itself.
//!
//! Pure: the service stores the parameters under the hash of the reference and passes the time.

use serde::Serialize;

use crate::oauth::{error::OAuthError, params::Params};

/// RFC 9126 §2.2: the `request_uri` is a URN of this form (the suffix is random).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request waits for the browser (RFC 9126 §2.2 `expires_in`: "a short
/// lifetime"; the RFC's own example answers 60).
pub const LIFETIME: i64 = 60;

/// How long it lives once the browser brought it to `/o/authorize/`: long enough to sign in,
/// pass a second factor and consent, which all return to the same short URL.
pub const OPEN_LIFETIME: i64 = 600;

/// Parameters that authenticate the client: used at the push, never stored with the request.
pub const CREDENTIALS: &[&str] = &["client_secret", "client_assertion", "client_assertion_type"];

/// The answer to a push (RFC 9126 §2.2), sent with 201 Created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PushedRequest {
    /// The reference to send the browser with.
    pub request_uri: String,
    /// Seconds until it expires unused.
    pub expires_in: i64,
}

/// Checks a push by the authenticated `client_id` (RFC 9126 §2.1): "The request_uri
/// authorization request parameter is one exception, and it MUST NOT be provided", and a
/// `client_id` in the body, if any, must be the authenticated client's. The rest is checked
/// as the authorization endpoint checks it, by the caller.
pub fn check_push(params: &Params, client_id: &str) -> Result<(), OAuthError> {
    if params.get("request_uri").is_some() {
        return Err(OAuthError::invalid_request("request_uri must not be pushed"));
    }
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            crate::oauth::error::ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    match params.get("client_id") {
        Some(id) if id != client_id => Err(OAuthError::invalid_request("client_id is not the authenticated client")),
        _ => Ok(()),
    }
}

/// The random part of a `request_uri` of ours, if it is one.
pub fn reference(request_uri: &str) -> Option<&str> {
    request_uri.strip_prefix(REQUEST_URI_PREFIX).filter(|r| {
        !r.is_empty() && r.len() <= 128 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Why a `request_uri` cannot be used (RFC 9126 §4: the authorization server "MUST check"
/// that it was issued to the client and has not expired).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UseError {
    /// Not a reference this server made, or none stored.
    #[error("the request_uri is unknown")]
    Unknown,
    /// Pushed by another client than the request's `client_id`.
    #[error("the request_uri was pushed by another client")]
    OtherClient,
    /// Past its lifetime.
    #[error("the request_uri has expired")]
    Expired,
    /// Already answered (RFC 9126 §4: one-time use).
    #[error("the request_uri was already used")]
    Used,
}

/// A stored push as the checks need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed<'a> {
    /// Who pushed it.
    pub client_id: &'a str,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once an authorization response was sent for it.
    pub used: bool,
}

/// Whether `pushed` may serve a request from `client_id` at `now`.
pub fn check_use(pushed: &Pushed, client_id: Option<&str>, now: i64) -> Result<(), UseError> {
    if client_id != Some(pushed.client_id) {
        return Err(UseError::OtherClient);
    }
    if pushed.used {
        return Err(UseError::Used);
    }
    if pushed.expires_at <= now {
        return Err(UseError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    fn params(q: &str) -> Params {
        Params::from_form(q.as_bytes()).unwrap()
    }

    #[test]
    fn a_push_names_no_request_uri_and_no_other_client() {
        assert!(check_push(&params("response_type=code&client_id=app"), "app").is_ok());
        assert!(check_push(&params("response_type=code"), "app").is_ok());
        let e = check_push(&params("client_id=app&request_uri=urn%3Ax"), "app").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(check_push(&params("client_id=other"), "app").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(check_push(&params("request=eyJ"), "app").unwrap_err().code, ErrorCode::RequestNotSupported);
    }

    #[test]
    fn only_our_references() {
        assert_eq!(reference("urn:ietf:params:oauth:request_uri:abc_DEF-1"), Some("abc_DEF-1"));
        for not in ["urn:ietf:params:oauth:request_uri:", "https://app/r", "urn:ietf:params:oauth:request_uri:a b"] {
            assert_eq!(reference(not), None, "{not:?}");
        }
    }

    #[test]
    fn use_rules() {
        let p = Pushed { client_id: "app", expires_at: 100, used: false };
        assert_eq!(check_use(&p, Some("app"), 99), Ok(()));
        assert_eq!(check_use(&p, Some("app"), 100), Err(UseError::Expired));
        assert_eq!(check_use(&p, Some("other"), 99), Err(UseError::OtherClient));
        assert_eq!(check_use(&p, None, 99), Err(UseError::OtherClient));
        assert_eq!(check_use(&Pushed { used: true, ..p }, Some("app"), 99), Err(UseError::Used));
    }
}
