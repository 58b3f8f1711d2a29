//! The admin REST API under `/api/v1/`: the platform's other services look users up, create
//! and disable them, manage groups, roles and clients, and read the security events, with an
//! access token from the client_credentials grant of an admin client (see
//! [`crate::service::admin_token`]). JSON in and out; errors are RFC 9457 problem details;
//! `PUT` and `DELETE` are idempotent; updates take `If-Match` against the `ETag` of a read
//! (RFC 9110 §13.1.1). The OpenAPI 3.1 document at `/api/v1/openapi.json` is derived from
//! these handlers and their types ([`openapi::ApiDoc`]).
//!
//! Handlers are thin: the caller and its scope ([`auth::Admin`]), the input, one service call,
//! a DTO.

mod auth;
mod clients;
mod events;
mod groups;
mod openapi;
mod problem;
mod roles;
mod user_access;
mod users;

use axum::{
    http::{header, HeaderMap, HeaderValue},
    middleware::{self, Next},
    response::Response,
    routing::{delete, get, post, put},
    Router,
};
use serde::Serialize;

pub use openapi::ApiDoc;
pub use problem::Problem;

use crate::state::AppState;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// Every route of the API (under [`PREFIX`]), and a problem for any other path below it.
pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).put(users::replace).patch(users::patch).delete(users::delete))
        .route("/users/{id}/password", put(users::set_password))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/groups", get(users::groups))
        .route("/users/{id}/invitation", post(users::invite))
        .route("/users/{id}/sessions", get(user_access::sessions).delete(user_access::end_sessions))
        .route("/users/{id}/sessions/{session_id}", delete(user_access::end_session))
        .route("/users/{id}/consents", get(user_access::consents))
        .route("/users/{id}/consents/{client_id}", delete(user_access::revoke_consent))
        .route("/users/{id}/identities", get(user_access::identities))
        .route("/users/{id}/factors", get(user_access::factors).delete(user_access::reset_factors))
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{id}", get(groups::get).patch(groups::rename).delete(groups::delete))
        .route("/groups/{id}/members/{user_id}", put(groups::add_member).delete(groups::remove_member))
        .route("/roles", get(roles::list))
        .route(
            "/clients/{client_id}/roles/{role}/users/{user_id}",
            put(roles::assign_user).delete(roles::unassign_user),
        )
        .route(
            "/clients/{client_id}/roles/{role}/groups/{group_id}",
            put(roles::assign_group).delete(roles::unassign_group),
        )
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/{client_id}", get(clients::get).patch(clients::patch).delete(clients::delete))
        .route("/clients/{client_id}/secret", post(clients::rotate_secret))
        .route("/events", get(events::list))
        .fallback(problem::not_found)
        .layer(middleware::from_fn(no_store));
    Router::new().nest(PREFIX, api)
}

/// Answers are about accounts and carry one-time secrets: never stored by a cache
/// (RFC 9111 §5.2.2.5).
async fn no_store(req: axum::extract::Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The strong entity tag of a representation: a digest of its JSON, so it changes exactly
/// when what a client read changes (RFC 9110 §8.8.3).
fn etag_of<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    format!("\"{}\"", &crate::crypto::sha256_hex(&json)[..32])
}

/// RFC 9110 §13.1.1: with `If-Match`, the update goes ahead only if the current
/// representation's tag is listed (strong comparison, so weak tags never match) or the
/// header is `*`. Without the header the update is unconditional.
fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(()) };
    let value = value.to_str().map_err(|_| Problem::precondition_failed())?;
    if value.trim() == "*" || value.split(',').map(str::trim).any(|tag| tag == current) {
        Ok(())
    } else {
        Err(Problem::precondition_failed())
    }
}

/// `ETag: tag` as a header pair.
fn etag_header(tag: &str) -> [(header::HeaderName, HeaderValue); 1] {
    [(header::ETAG, HeaderValue::from_str(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")))]
}

/// The default and largest page sizes of the list routes.
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

/// A page size from a query: the default when absent; out of 1-[`MAX_PAGE`], a 400.
fn page_size(limit: Option<i64>) -> Result<i64, Problem> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(Problem::bad_request(format!("limit must be between 1 and {MAX_PAGE}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_strongly() {
        let tag = etag_of(&serde_json::json!({"a": 1}));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(check_if_match(&HeaderMap::new(), &tag).is_ok(), "no header, no condition");
        assert!(check_if_match(&with("*"), &tag).is_ok());
        assert!(check_if_match(&with(&tag), &tag).is_ok());
        assert!(check_if_match(&with(&format!("\"x\", {tag}")), &tag).is_ok());
        assert_eq!(check_if_match(&with("\"other\""), &tag).unwrap_err().status, 412);
        assert_eq!(check_if_match(&with(&format!("W/{tag}")), &tag).unwrap_err().status, 412, "weak never matches");
        assert_ne!(etag_of(&serde_json::json!({"a": 2})), tag);
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_size(Some(200)).unwrap(), 200);
        assert_eq!(page_size(Some(0)).unwrap_err().status, 400);
        assert_eq!(page_size(Some(201)).unwrap_err().status, 400);
    }
}
