//! The authorization endpoint's use cases (RFC 6749 §4.1, §4.2): shared by `GET /o/authorize/`
//! and the consent page's server function, so every rule is checked in one place.

use super::{
    events::{kind, Event, Origin},
    par::Expanded,
    session::Session,
    Services,
};
use crate::{
    crypto::{prefix, random_token, sha256_hex},
    oauth::{
        acr,
        authorize::{
            after_consent, after_login, check_session, validate, AuthorizeError, ClientAnswer, NoSession, ResponseMode,
            SignedIn, ValidAuthorize,
        },
        error::{ErrorCode, OAuthError},
        model::{AuthCode, Client, GrantType},
        params::Params,
        scope::Scope,
    },
    view::{AuthorizePage, ConsentView},
};

/// What the endpoint does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// Send the browser here (back to the client, or to this endpoint again).
    Redirect(String),
    /// Send the browser to the login page, which returns to `back` (a path on this origin)
    /// afterwards with the sign-in form pre-filled with `login_hint` (OIDC Core §3.1.2.1).
    SignIn {
        /// Where the login page returns to.
        back: String,
        /// The client's `login_hint`, if any.
        login_hint: Option<String>,
    },
    /// Send the browser to the second step of signing in (`/o/login/mfa/`) with this pending
    /// sign-in (for its cookie), which returns to `back`: the session did not pass the second
    /// factor the request or the client asks for (step-up).
    SecondStep {
        /// The pending sign-in of the session's user.
        pending: String,
        /// Where the second step returns to.
        back: String,
    },
    /// Render the consent or error page.
    Page(AuthorizePage),
    /// Have the browser POST the answer to the client (Form Post Response Mode).
    FormPost {
        /// The client's redirect URI.
        action: String,
        /// The response parameters.
        fields: Vec<(String, String)>,
    },
}

impl From<ClientAnswer> for AuthorizeStep {
    fn from(a: ClientAnswer) -> Self {
        match a {
            ClientAnswer::Redirect(url) => AuthorizeStep::Redirect(url),
            ClientAnswer::FormPost { action, fields } => AuthorizeStep::FormPost { action, fields },
        }
    }
}

/// Where the consent page sends the denial of a `form_post` request (see [`Services::decide`]).
pub const DENIED_PATH: &str = "/o/authorize/denied/";

impl AuthorizeStep {
    /// The error page while the service cannot answer (RFC 6749 §4.1.2.1
    /// `temporarily_unavailable`): the request is not answered to the client, since its
    /// redirect URI could not be checked.
    pub fn unavailable() -> Self {
        error_page(&OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again"))
    }
}

fn error_page(e: &OAuthError) -> AuthorizeStep {
    AuthorizeStep::Page(AuthorizePage::Error { code: e.code.as_str().into(), description: e.description.to_string() })
}

/// Whether a session may answer a request that may ask for a second factor.
enum StepUp {
    /// It may: nothing more is asked, or it passed a second factor.
    Satisfied,
    /// It did not pass one, and the account has one: the second step, with this pending
    /// sign-in of the session's first step.
    SecondStep(String),
    /// The client requires a second factor, and the account has none.
    Refused,
}

impl Services {
    /// Whether `session` passed the second factor the request (`acr_values`) or the client
    /// (its "require a second factor" switch) asks for (see [`acr::needs_second_factor`]). A
    /// voluntary `acr_values` is answered with the one factor an account without a second one
    /// has (OIDC Core §5.5.1.1: `acr` is voluntary unless essential); the client's switch is
    /// not.
    async fn step_up(&self, query: &str, client: &Client, session: &Session) -> Result<StepUp, AuthorizeStep> {
        if acr::has_second_factor(&session.amr) {
            return Ok(StepUp::Satisfied);
        }
        let failed = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "second-factor lookup failed");
            AuthorizeStep::unavailable()
        };
        let policy = self.store.client_factor_policy(&client.client_id).await.map_err(|e| failed(&e))?;
        let required = policy.unwrap_or_default().require_mfa;
        let acr_values = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "acr_values").map(|(_, v)| v);
        if !acr::needs_second_factor(acr_values.as_deref(), required) {
            return Ok(StepUp::Satisfied);
        }
        match self.has_second_factor(session.user.id).await.map_err(|e| failed(&e))? {
            true => {
                let pending = self.pending_sign_in(session.user.id, &session.amr).await.map_err(|e| failed(&e))?;
                Ok(StepUp::SecondStep(pending))
            }
            false if required => Ok(StepUp::Refused),
            false => Ok(StepUp::Satisfied),
        }
    }

    /// Validates the request; `Err` is the step to take instead (error page or error redirect).
    async fn validated(&self, query: &str) -> Result<(ValidAuthorize, Client), AuthorizeStep> {
        let params = Params::from_form(query.as_bytes()).map_err(|e| error_page(&e))?;
        let client = match params.get("client_id") {
            Some(id) => self.store.client(id).await.map_err(|e| {
                tracing::error!(error = %e, "client lookup failed");
                AuthorizeStep::unavailable()
            })?,
            None => None,
        };
        let client = client.map(|r| r.client);
        let v = validate(&params, client.as_ref(), &self.known_scopes).map_err(|e| match e {
            AuthorizeError::Page(e) => error_page(&e),
            AuthorizeError::Redirect(t, e) => t.error(&e, &self.settings.issuer).into(),
        })?;
        // `validate` accepts only a known client, so this is always `Some` here.
        let client = client.ok_or_else(|| error_page(&OAuthError::invalid_request("unknown client_id")))?;
        Ok((v, client))
    }

    /// The session, if it may answer `v` (see [`check_session`]) now.
    fn usable_session<'s>(
        &self,
        v: &ValidAuthorize,
        session: Option<&'s Session>,
        hinted: Option<&str>,
    ) -> Result<&'s Session, NoSession> {
        let session = session.ok_or(NoSession::SignedOut)?;
        let subject = session.user.id.to_string();
        check_session(v, Some(SignedIn { auth_time: session.auth_time, subject: &subject }), hinted, self.now())?;
        Ok(session)
    }

    /// `GET /o/authorize/`: log in first, then skip consent when it was given before (or the
    /// client is trusted), else ask.
    pub async fn authorize(&self, query: &str, session: Option<&Session>) -> AuthorizeStep {
        let request = match self.expand_pushed(query).await {
            Ok(e) => e,
            Err(e) => return error_page(&e),
        };
        let query = request.query.as_str();
        let (v, client) = match self.validated(query).await {
            Ok(ok) => ok,
            Err(step) => return step,
        };
        let issuer = &self.settings.issuer;
        let hinted = match &v.id_token_hint {
            Some(hint) => match self.id_token_hint_subject(hint).await {
                Ok(sub) => Some(sub),
                Err(e) => return v.target().error(&e, issuer).into(),
            },
            None => None,
        };
        let session = match self.usable_session(&v, session, hinted.as_deref()) {
            Ok(s) => s,
            // OIDC Core §3.1.2.1: with prompt=none, "The Authorization Server MUST NOT display
            // any authentication or consent user interface pages".
            Err(why) if v.prompt.none => {
                let e = OAuthError::new(ErrorCode::LoginRequired, why.describe());
                return v.target().error(&e, issuer).into();
            }
            Err(_) => {
                return match self.return_to(&request, after_login(query)).await {
                    Ok(back) => AuthorizeStep::SignIn { back, login_hint: v.login_hint.clone() },
                    Err(e) => error_page(&e),
                };
            }
        };
        match self.step_up(query, &client, session).await {
            Ok(StepUp::Satisfied) => {}
            Ok(StepUp::SecondStep(_)) if v.prompt.none => {
                let e = OAuthError::new(ErrorCode::LoginRequired, "a sign-in with a second factor is needed");
                return v.target().error(&e, issuer).into();
            }
            Ok(StepUp::SecondStep(pending)) => {
                return match self.return_to(&request, after_login(query)).await {
                    Ok(back) => AuthorizeStep::SecondStep { pending, back },
                    Err(e) => error_page(&e),
                };
            }
            Ok(StepUp::Refused) => {
                let e = OAuthError::new(
                    ErrorCode::AccessDenied,
                    "this application requires two-step verification, which the account has not set up",
                );
                return v.target().error(&e, issuer).into();
            }
            Err(step) => return step,
        }
        let remembered = match self.store.consent(session.user.id, &client.client_id).await {
            Ok(scope) => scope.is_some_and(|s| v.scope.is_subset(&s)),
            Err(e) => {
                tracing::error!(error = %e, "consent lookup failed");
                false
            }
        };
        if client.trusted || (remembered && !v.prompt.consent) {
            return self.grant(&v, &client, session, &request).await;
        }
        if v.prompt.none {
            let e = OAuthError::new(ErrorCode::ConsentRequired, "the user has not approved this app");
            return v.target().error(&e, issuer).into();
        }
        AuthorizeStep::Page(AuthorizePage::Consent(self.consent_view(&v, &client, session, &request.outer)))
    }

    /// The consent page's decision. The request is validated again: the form is user input.
    ///
    /// A decision is answered with a URL (it is a server function), so a `form_post` answer
    /// is made by a GET of this endpoint instead: after an approval, the request again (now
    /// approved, it answers at once); after a denial, [`Self::denied`].
    pub async fn decide(&self, outer: &str, session: Option<&Session>, approve: bool) -> AuthorizeStep {
        let request = match self.expand_pushed(outer).await {
            Ok(e) => e,
            Err(e) => return error_page(&e),
        };
        let query = request.query.as_str();
        let (v, client) = match self.validated(query).await {
            Ok(ok) => ok,
            Err(step) => return step,
        };
        let Some(session) = session else {
            return AuthorizeStep::SignIn { back: format!("/o/authorize/?{outer}"), login_hint: None };
        };
        // The consent form is user input: the step-up the request needs is checked again.
        match self.step_up(query, &client, session).await {
            Ok(StepUp::Satisfied) => {}
            Ok(StepUp::SecondStep(pending)) => {
                return AuthorizeStep::SecondStep { pending, back: format!("/o/authorize/?{outer}") }
            }
            Ok(StepUp::Refused) => {
                let e = OAuthError::new(ErrorCode::AccessDenied, "this application requires two-step verification");
                return v.target().error(&e, &self.settings.issuer).into();
            }
            Err(step) => return step,
        }
        let form_post = v.response_mode == ResponseMode::FormPost;
        if !approve {
            if form_post {
                return AuthorizeStep::Redirect(format!("{DENIED_PATH}?{outer}"));
            }
            let e = match self.spend_pushed(&request).await {
                Ok(()) => OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
                Err(e) => e,
            };
            return v.target().error(&e, &self.settings.issuer).into();
        }
        // A new approval adds to what was approved before (the consent widens, never narrows).
        let previous = self.store.consent(session.user.id, &client.client_id).await.ok().flatten().unwrap_or_default();
        let scope: Scope = previous.iter().chain(v.scope.iter()).map(str::to_owned).collect();
        if let Err(e) = self.store.save_consent(session.user.id, &client.client_id, &scope, self.now()).await {
            tracing::error!(error = %e, "cannot store a consent");
            let e = OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again");
            if form_post {
                return error_page(&e);
            }
            return v.target().error(&e, &self.settings.issuer).into();
        }
        let given = Event::new(kind::CONSENT_GIVEN).user(session.user.id).client(&client.client_id);
        self.record(given.detail(v.scope.to_string()), &Origin::default()).await;
        if form_post {
            return match self.return_to(&request, after_consent(query)).await {
                Ok(back) => AuthorizeStep::Redirect(back),
                Err(e) => error_page(&e),
            };
        }
        self.grant(&v, &client, session, &request).await
    }

    /// `GET /o/authorize/denied/`: the denial of a `form_post` request, posted to the client.
    /// Only the signed-in user's browser gets here from the consent page; anyone else could
    /// as well send the client an `access_denied` of their own.
    pub async fn denied(&self, outer: &str, session: Option<&Session>) -> AuthorizeStep {
        let request = match self.expand_pushed(outer).await {
            Ok(e) => e,
            Err(e) => return error_page(&e),
        };
        let (v, _) = match self.validated(&request.query).await {
            Ok(ok) => ok,
            Err(step) => return step,
        };
        if session.is_none() {
            return AuthorizeStep::SignIn { back: format!("/o/authorize/?{outer}"), login_hint: None };
        }
        let e = match self.spend_pushed(&request).await {
            Ok(()) => OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
            Err(e) => e,
        };
        v.target().error(&e, &self.settings.issuer).into()
    }

    /// Answers the approved request: a code (§4.1.2), an access token (§4.2.2), an ID Token
    /// (OIDC Core §3.2.2.5, §3.3.2.5), or several, by the request's response mode.
    async fn grant(&self, v: &ValidAuthorize, client: &Client, session: &Session, request: &Expanded) -> AuthorizeStep {
        let issuer = &self.settings.issuer;
        let target = v.target();
        if let Err(e) = self.spend_pushed(request).await {
            return target.error(&e, issuer).into();
        }
        match self.response_parameters(v, client, session).await {
            Ok(pairs) => {
                let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                target.with(&pairs, issuer).into()
            }
            Err(e) => target.error(&e, issuer).into(),
        }
    }

    async fn response_parameters(
        &self,
        v: &ValidAuthorize,
        client: &Client,
        session: &Session,
    ) -> Result<Vec<(&'static str, String)>, OAuthError> {
        let mut out = Vec::new();
        let code = if v.response_type.code { Some(self.issue_code(v, session).await?) } else { None };
        if let Some(code) = &code {
            out.push(("code", code.clone()));
        }
        let tokens = if v.response_type.token {
            let form = self.access_form(client, &[], None).await?;
            let issued =
                self.issue_tokens(client, GrantType::Implicit, Some(session.user.id), v.scope.clone(), &form).await?;
            let grant = crate::metrics::GrantLabels { grant: GrantType::Implicit.as_str().to_owned() };
            crate::metrics::metrics().tokens.get_or_create(&grant).inc();
            Some(issued)
        } else {
            None
        };
        if let Some(t) = &tokens {
            out.push(("access_token", t.access_token.clone()));
            out.push(("token_type", t.token_type.to_owned()));
            out.push(("expires_in", t.expires_in.to_string()));
            out.push(("scope", t.scope.clone().unwrap_or_default()));
        }
        if v.response_type.id_token {
            let access = tokens.as_ref().map(|t| t.access_token.as_str());
            let id_token = self
                .front_channel_id_token(
                    &client.client_id,
                    session,
                    &v.scope,
                    v.nonce.as_deref(),
                    access,
                    code.as_deref(),
                )
                .await?;
            out.push(("id_token", id_token));
        }
        Ok(out)
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
