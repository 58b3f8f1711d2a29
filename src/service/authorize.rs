//! The authorization endpoint's use cases (RFC 6749 §4.1, §4.2): shared by `GET /o/authorize/`
//! and the consent page's server function, so every rule is checked in one place.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{session::Session, Services};
use crate::{
    api::types::{AuthorizePage, ConsentView},
    crypto::{prefix, random_token, sha256_hex},
    oauth::{
        authorize::{validate, AuthorizeError, ValidAuthorize},
        error::{ErrorCode, OAuthError},
        model::{AuthCode, Client, GrantType},
        params::Params,
        request::ResponseType,
        scope::Scope,
    },
};

/// What the endpoint does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// Send the browser here (the login page, or back to the client).
    Redirect(String),
    /// Render the consent or error page.
    Page(AuthorizePage),
}

/// Characters escaped in `next`: everything but unreserved characters and `/`, which gives the
/// seed's `next=/o/authorize/%3Fresponse_type%3Dcode%26client_id%3D1`.
const NEXT_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The login page URL that returns to `path_and_query` afterwards.
pub fn login_url(path_and_query: &str) -> String {
    format!("/o/login/?next={}", utf8_percent_encode(path_and_query, NEXT_ESCAPE))
}

/// The login page for `next`, or the bare login page when `next` is `/`.
pub fn login_page(next: &str) -> String {
    if next == "/" { "/o/login/".to_owned() } else { login_url(next) }
}

fn error_page(e: &OAuthError) -> AuthorizeStep {
    AuthorizeStep::Page(AuthorizePage::Error { code: e.code.as_str().into(), description: e.description.to_string() })
}

fn parse(query: &str) -> Result<Params, OAuthError> {
    Params::from_pairs(url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())))
}

/// `query` without `prompt=login`, so that returning from the forced login does not loop.
fn without_prompt_login(query: &str) -> String {
    let kept = url::form_urlencoded::parse(query.as_bytes()).filter_map(|(k, v)| {
        if k != "prompt" {
            return Some((k.into_owned(), v.into_owned()));
        }
        let rest: Vec<&str> = v.split(' ').filter(|w| !w.is_empty() && *w != "login").collect();
        (!rest.is_empty()).then(|| (k.into_owned(), rest.join(" ")))
    });
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

impl Services {
    /// Validates the request; `Err` is the step to take instead (error page or error redirect).
    async fn validated(&self, query: &str) -> Result<(ValidAuthorize, Client), AuthorizeStep> {
        let params = parse(query).map_err(|e| error_page(&e))?;
        let client = match params.get("client_id") {
            Some(id) => self.store.client(id).await.map_err(|e| {
                tracing::error!(error = %e, "client lookup failed");
                error_page(&OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again"))
            })?,
            None => None,
        };
        let client = client.map(|r| r.client);
        let v = validate(&params, client.as_ref(), &self.known_scopes).map_err(|e| match e {
            AuthorizeError::Page(e) => error_page(&e),
            AuthorizeError::Redirect(t, e) => AuthorizeStep::Redirect(t.error(&e, &self.settings.issuer)),
        })?;
        // `validate` accepts only a known client, so this is always `Some` here.
        let client = client.ok_or_else(|| error_page(&OAuthError::invalid_request("unknown client_id")))?;
        Ok((v, client))
    }

    /// `GET /o/authorize/`: log in first, then skip consent when it was given before (or the
    /// client is trusted), else ask.
    pub async fn authorize(&self, query: &str, session: Option<&Session>) -> AuthorizeStep {
        let (v, client) = match self.validated(query).await {
            Ok(ok) => ok,
            Err(step) => return step,
        };
        let issuer = &self.settings.issuer;
        let Some(session) = session.filter(|_| !v.prompt.login) else {
            if v.prompt.none {
                let e = OAuthError::new(ErrorCode::LoginRequired, "the user is not signed in");
                return AuthorizeStep::Redirect(v.target().error(&e, issuer));
            }
            let back = if v.prompt.login { without_prompt_login(query) } else { query.to_owned() };
            return AuthorizeStep::Redirect(login_url(&format!("/o/authorize/?{back}")));
        };
        let remembered = match self.store.consent(session.user.id, &client.client_id).await {
            Ok(scope) => scope.is_some_and(|s| v.scope.is_subset(&s)),
            Err(e) => {
                tracing::error!(error = %e, "consent lookup failed");
                false
            }
        };
        if client.trusted || (remembered && !v.prompt.consent) {
            return self.grant(&v, &client, session).await;
        }
        if v.prompt.none {
            let e = OAuthError::new(ErrorCode::ConsentRequired, "the user has not approved this app");
            return AuthorizeStep::Redirect(v.target().error(&e, issuer));
        }
        AuthorizeStep::Page(AuthorizePage::Consent(self.consent_view(&v, &client, session, query)))
    }

    /// The consent page's decision. The request is validated again: the form is user input.
    pub async fn decide(&self, query: &str, session: Option<&Session>, approve: bool) -> AuthorizeStep {
        let (v, client) = match self.validated(query).await {
            Ok(ok) => ok,
            Err(step) => return step,
        };
        let Some(session) = session else {
            return AuthorizeStep::Redirect(login_url(&format!("/o/authorize/?{query}")));
        };
        if !approve {
            let e = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            return AuthorizeStep::Redirect(v.target().error(&e, &self.settings.issuer));
        }
        // A new approval adds to what was approved before (the consent widens, never narrows).
        let previous = self.store.consent(session.user.id, &client.client_id).await.ok().flatten().unwrap_or_default();
        let scope: Scope = previous.iter().chain(v.scope.iter()).map(str::to_owned).collect();
        if let Err(e) = self.store.save_consent(session.user.id, &client.client_id, &scope, self.now()).await {
            tracing::error!(error = %e, "cannot store a consent");
            let e = OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again");
            return AuthorizeStep::Redirect(v.target().error(&e, &self.settings.issuer));
        }
        self.grant(&v, &client, session).await
    }

    /// Issues a code (§4.1.2) or, for implicit, an access token in the fragment (§4.2.2).
    async fn grant(&self, v: &ValidAuthorize, client: &Client, session: &Session) -> AuthorizeStep {
        let issuer = &self.settings.issuer;
        let target = v.target();
        let result = match v.response_type {
            ResponseType::Code => self.issue_code(v, session).await.map(|code| target.with(&[("code", &code)], issuer)),
            ResponseType::Token => self
                .issue_tokens(client, GrantType::Implicit, Some(session.user.id), v.scope.clone(), None)
                .await
                .map(|t| {
                    let expires_in = t.expires_in.to_string();
                    let scope = t.scope.clone().unwrap_or_default();
                    target.with(
                        &[("access_token", &t.access_token), ("token_type", t.token_type), ("expires_in", &expires_in), ("scope", &scope)],
                        issuer,
                    )
                }),
        };
        AuthorizeStep::Redirect(result.unwrap_or_else(|e| target.error(&e, issuer)))
    }

    async fn issue_code(&self, v: &ValidAuthorize, session: &Session) -> Result<String, OAuthError> {
        let now = self.now();
        let code = random_token(prefix::CODE);
        let stored = AuthCode {
            client_id: v.client_id.clone(),
            user_id: session.user.id,
            redirect_uri: v.redirect_uri.clone(),
            redirect_uri_explicit: v.redirect_uri_explicit,
            scope: v.scope.clone(),
            code_challenge: v.code_challenge.clone(),
            nonce: v.nonce.clone(),
            auth_time: session.auth_time,
            session_hash: Some(session.hash.clone()),
            expires_at: now + self.settings.auth_code_ttl,
        };
        self.store.insert_auth_code(&sha256_hex(&code), &stored, now).await.map_err(super::unavailable)?;
        Ok(code)
    }

    fn consent_view(&self, v: &ValidAuthorize, client: &Client, session: &Session, query: &str) -> ConsentView {
        ConsentView {
            client_name: client.name.clone(),
            client_id: client.client_id.clone(),
            redirect_host: url::Url::parse(&v.redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| v.redirect_uri.clone()),
            scopes: self.scope_items(&v.scope),
            username: session.user.username.clone(),
            query: query.to_owned(),
        }
    }
}
