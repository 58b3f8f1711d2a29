//! Extractors that turn HTTP into the core's inputs: form pairs that keep duplicates (so a
//! repeated parameter can be refused), HTTP Basic credentials, access tokens and DPoP proofs.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap},
};

use super::error::OAuthResponse;
use crate::{
    oauth::{client_auth::parse_basic, error::OAuthError, params::Params},
    service::dpop::Presented,
};

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

/// The access token in the `Authorization` header, if one was sent: `Bearer` (RFC 6750 §2.1)
/// or `DPoP` (RFC 9449 §7.1), whose flag is then set.
#[derive(Debug)]
pub struct HeaderToken(pub Option<(String, bool)>);

impl<S: Send + Sync> FromRequestParts<S> for HeaderToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .and_then(|(scheme, t)| {
                let dpop = scheme.eq_ignore_ascii_case("dpop");
                (dpop || scheme.eq_ignore_ascii_case("bearer")).then(|| (t.trim().to_owned(), dpop))
            })
            .filter(|(t, _)| !t.is_empty());
        Ok(Self(token))
    }
}

/// The request's DPoP proof (RFC 9449 §4.1), if it sent one; [`MultipleProofs`] if it sent
/// several or one that is not text (§4.3 check 1: "There is not more than one DPoP HTTP
/// request header field").
#[derive(Debug)]
pub struct DpopHeader(pub Result<Option<String>, MultipleProofs>);

/// More than one `DPoP` header, or one that is not visible ASCII.
#[derive(Debug, Clone, Copy)]
pub struct MultipleProofs;

impl DpopHeader {
    /// Whether the request carried anything in a `DPoP` header.
    pub fn sent(&self) -> bool {
        !matches!(self.0, Ok(None))
    }

    /// The proof, to be checked against a request with `method`.
    pub fn presented<'a>(&'a self, method: &'a str) -> Result<Option<Presented<'a>>, OAuthError> {
        match &self.0 {
            Ok(proof) => Ok(proof.as_deref().map(|proof| Presented { proof, method })),
            Err(MultipleProofs) => Err(OAuthError::invalid_dpop_proof("send one DPoP header, in visible ASCII")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DpopHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all("dpop").iter();
        let proof = match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => v.to_str().map(|s| Some(s.trim().to_owned())).map_err(|_| MultipleProofs),
            (Some(_), Some(_)) => Err(MultipleProofs),
        };
        Ok(Self(proof))
    }
}
