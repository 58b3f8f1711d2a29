//! Pushed authorization requests (RFC 9126): the push at `POST /o/par/`, and the authorization
//! endpoint's use of a `request_uri` in place of the request's parameters.

use std::net::IpAddr;

use super::{unavailable, Services};
use crate::{
    crypto::{random_token, sha256_hex},
    oauth::{
        authorize::{validate, AuthorizeError},
        client_auth::ClientCredentials,
        error::{ErrorCode, OAuthError},
        par::{self, Pushed, PushedRequest},
        params::Params,
    },
};

/// An authorization request as the endpoint works on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Expanded {
    /// The request's parameters: the query itself, or what was pushed.
    pub query: String,
    /// The query as the browser sent it (for a pushed request, only `client_id` and
    /// `request_uri`): what the login, second-step and consent pages come back with.
    pub outer: String,
    /// The stored push's hash, if the request was pushed.
    pub pushed: Option<String>,
}

impl Services {
    /// `POST /o/par/` (RFC 9126 §2): authenticates the client as the token endpoint does,
    /// checks the request as the authorization endpoint would ("the authorization server MUST
    /// ... validate the pushed request as it would an authorization request"), and stores it.
    pub async fn push_authorization_request(
        &self,
        creds: &ClientCredentials,
        params: &Params,
        ip: Option<IpAddr>,
    ) -> Result<PushedRequest, OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        par::check_push(params, &client.client_id)?;
        let mut stored = params.to_form(par::CREDENTIALS);
        if params.get("client_id").is_none() {
            let id: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &client.client_id)
                .finish();
            stored = if stored.is_empty() { id } else { format!("{id}&{stored}") };
        }
        let request = Params::from_form(stored.as_bytes())?;
        validate(&request, Some(&client), &self.known_scopes).map_err(|e| match e {
            AuthorizeError::Page(e) | AuthorizeError::Redirect(_, e) => e,
        })?;
        let reference = random_token("");
        let now = self.now();
        self.store
            .push_request(&sha256_hex(&reference), &client.client_id, &stored, now, now + par::LIFETIME)
            .await
            .map_err(unavailable)?;
        Ok(PushedRequest { request_uri: format!("{}{reference}", par::REQUEST_URI_PREFIX), expires_in: par::LIFETIME })
    }

    /// The request behind `query`: a pushed one's stored parameters, checked (RFC 9126 §4:
    /// issued to this client, not expired, not used), or the query itself, which a client that
    /// must push may not send. An error is shown on a page: the redirect URI is not known yet.
    pub(super) async fn expand_pushed(&self, query: &str) -> Result<Expanded, OAuthError> {
        let params = Params::from_form(query.as_bytes())?;
        let client_id = params.get("client_id");
        let plain = || Expanded { query: query.to_owned(), outer: query.to_owned(), pushed: None };
        let Some(reference) = params.get("request_uri").and_then(par::reference) else {
            // A request_uri of another form is refused by the validator (request_uri_not_supported).
            if let Some(id) = client_id.filter(|_| params.get("request_uri").is_none()) {
                let policy = self.store.client_token_policy(id).await.map_err(unavailable)?;
                if policy.is_some_and(|p| p.require_par) {
                    return Err(OAuthError::invalid_request(
                        "this client must push its authorization requests to the pushed authorization request endpoint",
                    ));
                }
            }
            return Ok(plain());
        };
        let hash = sha256_hex(reference);
        let invalid = |why: String| OAuthError::new(ErrorCode::InvalidRequestUri, why);
        let record = self
            .store
            .pushed_request(&hash)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| invalid(par::UseError::Unknown.to_string()))?;
        let now = self.now();
        let pushed =
            Pushed { client_id: &record.client_id, expires_at: record.expires_at, used: record.used_at.is_some() };
        par::check_use(&pushed, client_id, now).map_err(|e| invalid(e.to_string()))?;
        if record.opened_at.is_none() {
            self.store.open_pushed_request(&hash, now, now + par::OPEN_LIFETIME).await.map_err(unavailable)?;
        }
        Ok(Expanded { query: record.params, outer: query.to_owned(), pushed: Some(hash) })
    }

    /// The URL the sign-in or consent pages return to, for the request `continued` (the
    /// expanded request with what was just satisfied taken out): a pushed request keeps its
    /// short URL and stores the change instead.
    pub(super) async fn return_to(&self, e: &Expanded, continued: String) -> Result<String, OAuthError> {
        match &e.pushed {
            Some(hash) => {
                if continued != e.query {
                    self.store.update_pushed_request(hash, &continued).await.map_err(unavailable)?;
                }
                Ok(format!("/o/authorize/?{}", e.outer))
            }
            None => Ok(format!("/o/authorize/?{continued}")),
        }
    }

    /// Marks a pushed request answered, just before its answer goes out; a second answer for
    /// one push is refused (RFC 9126 §4: "one-time use").
    pub(super) async fn spend_pushed(&self, e: &Expanded) -> Result<(), OAuthError> {
        let Some(hash) = &e.pushed else { return Ok(()) };
        match self.store.use_pushed_request(hash, self.now()).await.map_err(unavailable)? {
            true => Ok(()),
            false => Err(OAuthError::new(ErrorCode::InvalidRequestUri, par::UseError::Used.to_string())),
        }
    }
}
