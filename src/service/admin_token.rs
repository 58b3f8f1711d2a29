//! Who is calling the admin API: the admin client behind a bearer access token (RFC 6750)
//! from the client_credentials grant, and whether it holds the scope a route needs.

use super::Services;
use crate::oauth::scope::is_admin_scope;

/// Why a bearer token does not open an admin API route (RFC 6750 §3.1).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminAuthError {
    /// No bearer token was sent: 401 without an error code (§3.1: "the resource server
    /// SHOULD NOT include an error code").
    #[error("this API needs a bearer access token")]
    Missing,
    /// `invalid_token`: unknown, expired or revoked (401).
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    /// `insufficient_scope`: the token (or, since, its client) lacks the route's scope (403).
    #[error("the access token lacks the scope {0}")]
    InsufficientScope(&'static str),
    /// The store failed (503).
    #[error("storage unavailable")]
    Unavailable,
}

/// An admin client that presented a usable token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminCaller {
    /// The client the token was issued to.
    pub client_id: String,
}

impl Services {
    /// The admin client behind `bearer`, if the token is live, was issued by the
    /// client_credentials grant (it acts for no user), carries `needed`, and its client still
    /// holds `needed` as an admin scope: an operator who takes a scope away closes the door at
    /// once, before the tokens expire.
    pub async fn admin_caller(
        &self,
        bearer: Option<&str>,
        needed: &'static str,
    ) -> Result<AdminCaller, AdminAuthError> {
        debug_assert!(is_admin_scope(needed));
        let token = bearer.filter(|t| !t.is_empty()).ok_or(AdminAuthError::Missing)?;
        let key = self.access_record_key(token).await.map_err(|_| AdminAuthError::Unavailable)?;
        let now = self.now();
        let record = self
            .store
            .access_token(&key)
            .await
            .map_err(|_| AdminAuthError::Unavailable)?
            .filter(|a| a.revoked_at.is_none() && a.expires_at > now)
            .ok_or(AdminAuthError::InvalidToken)?;
        if record.user_id.is_some() || !record.scope.contains(needed) {
            return Err(AdminAuthError::InsufficientScope(needed));
        }
        let held = self.store.client_admin_scopes(&record.client_id).await.map_err(|_| AdminAuthError::Unavailable)?;
        if !held.is_some_and(|h| h.split_whitespace().any(|s| s == needed)) {
            return Err(AdminAuthError::InsufficientScope(needed));
        }
        Ok(AdminCaller { client_id: record.client_id })
    }
}
