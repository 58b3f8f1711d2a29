//! Extractors that turn HTTP into the core's inputs: form pairs that keep duplicates (so a
//! repeated parameter can be refused), HTTP Basic credentials, and bearer tokens.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap},
};

use super::error::OAuthResponse;
use crate::oauth::{client_auth::parse_basic, error::OAuthError, params::Params};

/// A form-encoded OAuth request: its parameters and any HTTP Basic credentials.
pub struct OAuthForm {
    /// `Authorization: Basic` credentials, decoded (RFC 6749 §2.3.1).
    pub basic: Option<(String, String)>,
    /// The body's parameters.
    pub params: Params,
}

impl std::fmt::Debug for OAuthForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthForm")
            .field("basic_client_id", &self.basic.as_ref().map(|(id, _)| id))
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Decoded `Authorization: Basic` credentials; other schemes are not client authentication.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthResponse> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed = || OAuthResponse { error: OAuthError::invalid_client("malformed Basic credentials"), basic: true };
    let value = value.to_str().map_err(|_| malformed())?;
    if !value.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic ")) {
        return Ok(None);
    }
    parse_basic(value).map(Some).map_err(|error| OAuthResponse { error, basic: true })
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let basic = basic_credentials(req.headers())?;
        let used_basic = basic.is_some();
        let reject = |error: OAuthError| OAuthResponse { error, basic: used_basic };
        // RFC 6749 §3.2: the client uses "the "application/x-www-form-urlencoded" format".
        if !is_form(req.headers()) {
            return Err(reject(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| reject(OAuthError::invalid_request("the request body could not be read")))?;
        let params = Params::from_form(&body).map_err(reject)?;
        Ok(Self { basic, params })
    }
}

/// An RFC 6750 §2.1 bearer token from the `Authorization` header, if one was sent.
#[derive(Debug)]
pub struct BearerToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Self(token))
    }
}
