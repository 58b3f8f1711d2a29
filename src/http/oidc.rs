//! The OpenID Connect documents: the JWK Set (`/o/.well-known/jwks.json`) and the provider
//! metadata (`/.well-known/openid-configuration`, the same under `/o/`, and RFC 8414's
//! `/.well-known/oauth-authorization-server`). Public, cacheable for a short while, and
//! readable from any origin (single-page apps fetch them).

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};

use super::error::OAuthResponse;
use crate::{oauth::error::OAuthError, service::Services, state::AppState};

/// How long relying parties may cache the JWK Set. A new key is published
/// `key_publish_delay` (default 300 s) before it signs, which covers this plus the server's
/// own key cache.
const JWKS_MAX_AGE: &str = "public, max-age=120";
/// How long the metadata may be cached: it changes only with the configuration.
const METADATA_MAX_AGE: &str = "public, max-age=3600";

/// The routes of this module.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/o/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(metadata))
        .route("/o/.well-known/openid-configuration", get(metadata))
        // django-oauth-toolkit's spelling, which relying parties moved from it have configured.
        .route("/o/.well-known/openid-configuration/", get(metadata))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

fn public(mut resp: Response, cache: &'static str) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

/// `GET /o/.well-known/jwks.json` (RFC 7517 §5): the keys that sign, will sign, or signed
/// tokens that have not expired yet.
async fn jwks(State(s): State<Services>) -> Response {
    match s.jwks().await {
        Ok(set) => public(Json(set).into_response(), JWKS_MAX_AGE),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            OAuthResponse::from(OAuthError::temporarily_unavailable("the service is temporarily unavailable"))
                .into_response()
        }
    }
}

/// The provider metadata (OIDC Discovery §4, RFC 8414 §3).
async fn metadata(State(s): State<Services>) -> Response {
    public(Json(s.provider_metadata()).into_response(), METADATA_MAX_AGE)
}
