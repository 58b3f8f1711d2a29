//! OAuth error responses (RFC 6749 §5.2): JSON body, never cached.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

use crate::{
    metrics::{metrics, ErrorLabels},
    oauth::error::{ErrorCode, OAuthError},
};

/// An OAuth error as the token, revocation and introspection endpoints send it.
#[derive(Debug)]
pub struct OAuthResponse {
    /// The error.
    pub error: OAuthError,
    /// Whether the client tried HTTP Basic: then `invalid_client` carries `WWW-Authenticate`.
    pub basic: bool,
}

impl From<OAuthError> for OAuthResponse {
    fn from(error: OAuthError) -> Self {
        Self { error, basic: false }
    }
}

/// The headers every token-endpoint answer carries (RFC 6749 §5.1).
pub(super) fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let code = ErrorLabels { error: self.error.code.as_str().to_owned() };
        metrics().oauth_errors.get_or_create(&code).inc();
        let mut resp = (status, Json(&self.error)).into_response();
        no_store(&mut resp);
        // RFC 6749 §5.2: "If the client attempted to authenticate via the "Authorization"
        // request header field, the authorization server MUST respond with an HTTP 401
        // (Unauthorized) status code and include the "WWW-Authenticate" response header field".
        if self.error.code == ErrorCode::InvalidClient && self.basic {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"yaoshi\""));
        }
        resp
    }
}
