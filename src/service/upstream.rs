//! Signing in with an upstream provider: starting the flow (`GET /o/login/start/<id>`, or the
//! account page's "Link" button) and finishing it at the callback (`GET
//! /o/login/callback/<id>`).
//!
//! The browser is bound to its flow by an HttpOnly, SameSite=Lax cookie holding a random value
//! whose SHA-256 keys the stored flow (state, PKCE verifier, nonce, `next`); the flow is used
//! once and expires after [`FLOW_LIFETIME`] seconds. A verified identity that matches no
//! account waits the same way, behind a second cookie, for `/o/login/finish/`
//! (`service::identities`).

use std::net::IpAddr;

use serde_json::Value;

use super::{
    events::{kind, Event, Origin},
    session::{FirstStep, Session},
    upstream_http::{UpstreamClient, CALLBACK_BUDGET},
    Services,
};
use crate::{
    crypto::{random_token, sha256_hex},
    oauth::{
        jose::JoseError,
        pkce,
        upstream::{
            authorization_url, dialect::ExchangeInput, lookup, profile_from_claims, profile_from_mapping,
            propose_username, validate_callback, validate_id_token, CallbackExpect, ExternalProfile, Protocol,
            ProviderConfig, TokenAuth, UpstreamError,
        },
    },
    service::users::normalize_login,
    store::{ExternalIdentity, PendingIdentity, StoreError, UpstreamLogin, User},
};

/// Seconds a started flow, and then a pending identity, stays usable.
pub const FLOW_LIFETIME: i64 = 600;

/// Why a sign-in (or link) with a provider failed, as the user is told. Details are logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamFailure {
    /// No enabled provider has this id.
    #[error("unknown provider")]
    UnknownProvider,
    /// Down, too slow, or answering nonsense.
    #[error("provider unavailable")]
    Unavailable,
    /// Refused at the provider (`error=` on the callback).
    #[error("refused at the provider")]
    Denied,
    /// The callback matches no flow of this browser (state, expiry, reuse).
    #[error("no matching sign-in flow")]
    BadState,
    /// The provider's answer failed verification.
    #[error("provider answer rejected")]
    Rejected,
    /// The provider answered with its own error (WeChat's `errcode`, …).
    #[error("provider error")]
    ProviderError,
    /// The identity belongs to another account.
    #[error("identity linked to another account")]
    IdentityTaken,
    /// The account has another identity at this provider.
    #[error("account already linked to this provider")]
    AlreadyLinked,
    /// The account the identity belongs to is disabled.
    #[error("account disabled")]
    Disabled,
    /// Our database failed.
    #[error("storage unavailable")]
    Store,
}

impl From<UpstreamError> for UpstreamFailure {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Unavailable(_) => UpstreamFailure::Unavailable,
            UpstreamError::Denied { .. } => UpstreamFailure::Denied,
            UpstreamError::BadState => UpstreamFailure::BadState,
            UpstreamError::Rejected(_) => UpstreamFailure::Rejected,
            UpstreamError::Provider { .. } => UpstreamFailure::ProviderError,
        }
    }
}

/// `work` (the provider's part of a sign-in) within [`CALLBACK_BUDGET`]: a provider slower
/// than that is unavailable.
pub(super) async fn within_budget<T>(
    work: impl std::future::Future<Output = Result<T, UpstreamError>>,
) -> Result<T, UpstreamError> {
    tokio::time::timeout(CALLBACK_BUDGET, work).await.unwrap_or_else(|_| {
        Err(UpstreamError::Unavailable(format!("no answer within {} s", CALLBACK_BUDGET.as_secs())))
    })
}

fn store_failure(e: StoreError) -> UpstreamFailure {
    tracing::error!(error = %e, "storage failure during an upstream sign-in");
    UpstreamFailure::Store
}

/// Where a started flow goes.
#[derive(Debug)]
pub struct Started {
    /// The cookie value binding the flow to the browser.
    pub flow_token: String,
    /// The provider's authorization URL.
    pub url: String,
}

/// How a callback ended well.
#[derive(Debug)]
pub enum Finished {
    /// A known identity: a new session (its cookie value) for its account, or the second step
    /// when the account has a second factor.
    SignedIn(FirstStep),
    /// The identity is now linked to the signed-in account.
    Linked,
    /// A new identity, waiting behind this cookie value on the finish page.
    Pending(String),
}

/// What a callback did, and where the browser goes next.
#[derive(Debug)]
pub struct CallbackOutcome {
    /// A "link" flow (the answer goes to the account page).
    pub link: bool,
    /// Where the flow continues (the login `next`).
    pub next: String,
    /// The result.
    pub result: Result<Finished, UpstreamFailure>,
}

/// What is known of the identity a provider names.
enum Known {
    /// It is linked (and now keyed by its union id, if it has one).
    Stored(ExternalIdentity),
    /// Not at this provider, but the account with this id has it at another provider of
    /// the union group.
    Sibling(i64),
    /// Nowhere.
    Unknown,
}

/// The endpoints and rules of one provider, from its configuration or discovery.
struct Endpoints {
    authorization: String,
    token: String,
    userinfo: Option<String>,
    jwks: Option<String>,
    issuer: Option<String>,
    iss_required: bool,
    token_auth: TokenAuth,
}

/// The browser's side of a request, for the session a sign-in opens.
#[derive(Clone, Debug, Default)]
pub struct BrowserInfo {
    /// Peer address.
    pub ip: Option<IpAddr>,
    /// `User-Agent`.
    pub user_agent: String,
    /// The session cookie it sent, which a sign-in ends.
    pub previous_session: Option<String>,
    /// The device cookie it sent (see `service::device`).
    pub device: Option<String>,
    /// The remembered-device cookie of the second step it sent (see `service::factors`).
    pub remembered: Option<String>,
}

impl BrowserInfo {
    /// Where the request comes from, for the throttle and the event trail.
    pub fn origin(&self) -> Origin {
        Origin { ip: self.ip, user_agent: self.user_agent.clone(), device: self.device.clone() }
    }
}

impl Services {
    /// The enabled providers, in the configured order.
    pub fn providers(&self) -> &[ProviderConfig] {
        &self.settings.providers
    }

    /// The providers the login page offers to a browser with this user agent (WeChat's own
    /// browser gets the official-account login in place of the QR code).
    pub fn offered_providers(&self, user_agent: &str) -> Vec<&ProviderConfig> {
        crate::oauth::upstream::offered(&self.settings.providers, user_agent)
    }

    /// The enabled provider with this id.
    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.settings.providers.iter().find(|p| p.id == id)
    }

    /// Our redirect URI at a provider: `{issuer}/o/login/callback/{id}`.
    pub fn upstream_redirect_uri(&self, id: &str) -> String {
        format!("{}/o/login/callback/{id}", self.settings.issuer)
    }

    fn upstream_client(&self) -> &UpstreamClient {
        &self.upstream
    }

    async fn endpoints(&self, p: &ProviderConfig) -> Result<Endpoints, UpstreamError> {
        let default_auth = TokenAuth::ClientSecretPost;
        match &p.protocol {
            Protocol::OAuth2 { authorization_endpoint, token_endpoint, userinfo_endpoint, .. } => Ok(Endpoints {
                authorization: authorization_endpoint.clone(),
                token: token_endpoint.clone(),
                userinfo: Some(userinfo_endpoint.clone()),
                jwks: None,
                issuer: None,
                iss_required: false,
                token_auth: p.quirks.token_auth.unwrap_or(default_auth),
            }),
            Protocol::Platform { authorization_endpoint, api_base, .. } => Ok(Endpoints {
                authorization: authorization_endpoint.clone(),
                token: api_base.clone(),
                userinfo: None,
                jwks: None,
                issuer: None,
                iss_required: false,
                token_auth: default_auth,
            }),
            Protocol::Oidc { issuer } => {
                let m = self.upstream_client().metadata(issuer, self.now()).await?;
                Ok(Endpoints {
                    authorization: m.authorization_endpoint.clone(),
                    token: m.token_endpoint.clone(),
                    userinfo: m.userinfo_endpoint.clone(),
                    jwks: Some(m.jwks_uri.clone()),
                    issuer: Some(issuer.clone()),
                    iss_required: m.authorization_response_iss_parameter_supported,
                    token_auth: p.quirks.token_auth.unwrap_or_else(|| m.token_auth()),
                })
            }
        }
    }

    /// Starts a sign-in with provider `id` that continues to `next` (already checked by
    /// `safe_next`), or, with `link_user`, links the identity to that signed-in account.
    pub async fn start_upstream(
        &self,
        id: &str,
        next: &str,
        link_user: Option<i64>,
    ) -> Result<Started, UpstreamFailure> {
        // A mini program signs in at `/o/login/wechat-mp/`, never through a browser.
        let p = self.provider(id).filter(|p| p.browser_flow()).ok_or(UpstreamFailure::UnknownProvider)?;
        let endpoints = self.endpoints(p).await.map_err(|e| {
            tracing::warn!(provider = %p.id, error = %e, "cannot start a sign-in with the provider");
            UpstreamFailure::from(e)
        })?;
        let (flow_token, state, verifier) = (random_token(""), random_token(""), random_token(""));
        let nonce = p.issuer().map(|_| random_token(""));
        let challenge = p.quirks.pkce.then(|| pkce::s256(&verifier));
        let redirect_uri = self.upstream_redirect_uri(&p.id);
        let url = match &p.protocol {
            Protocol::Platform { dialect, .. } => {
                dialect.authorization_url(&endpoints.authorization, &p.client_id, &p.scopes, &redirect_uri, &state)?
            }
            _ => authorization_url(
                p,
                &endpoints.authorization,
                &redirect_uri,
                &state,
                challenge.as_deref(),
                nonce.as_deref(),
            )?,
        };
        let now = self.now();
        let flow = UpstreamLogin {
            flow_hash: sha256_hex(&flow_token),
            provider: p.id.clone(),
            state,
            pkce_verifier: verifier,
            nonce,
            next: next.to_owned(),
            link_user_id: link_user,
            created_at: now,
            expires_at: now + FLOW_LIFETIME,
        };
        self.store.insert_upstream_login(&flow).await.map_err(store_failure)?;
        Ok(Started { flow_token, url })
    }

    /// The callback: checks it against the browser's flow, redeems the code, verifies who the
    /// provider says the user is, then signs in, links, or leaves a pending identity.
    pub async fn finish_upstream(
        &self,
        id: &str,
        flow_token: Option<&str>,
        query: &str,
        session: Option<&Session>,
        browser: &BrowserInfo,
    ) -> CallbackOutcome {
        let flow = match flow_token {
            Some(t) => self.store.take_upstream_login(&sha256_hex(t), self.now()).await,
            None => Ok(None),
        };
        let flow = match flow {
            Ok(Some(f)) if f.provider == id => f,
            Ok(_) => {
                tracing::warn!(provider = %id, "a provider callback matches no sign-in flow of this browser");
                return CallbackOutcome { link: false, next: "/".into(), result: Err(UpstreamFailure::BadState) };
            }
            Err(e) => return CallbackOutcome { link: false, next: "/".into(), result: Err(store_failure(e)) },
        };
        let result = self.complete_flow(&flow, query, session, browser).await;
        if let Err(e) = &result {
            tracing::info!(provider = %id, failure = %e, "sign-in with a provider did not complete");
        }
        CallbackOutcome { link: flow.link_user_id.is_some(), next: flow.next, result }
    }

    async fn complete_flow(
        &self,
        flow: &UpstreamLogin,
        query: &str,
        session: Option<&Session>,
        browser: &BrowserInfo,
    ) -> Result<Finished, UpstreamFailure> {
        let p = self.provider(&flow.provider).ok_or(UpstreamFailure::UnknownProvider)?;
        let profile = within_budget(self.verified_profile(p, flow, query)).await.map_err(|e| {
            tracing::warn!(provider = %p.id, error = %e, "provider callback refused");
            UpstreamFailure::from(e)
        })?;
        if let Some(link_user) = flow.link_user_id {
            // The account to link is the one still signed in in this browser.
            if session.map(|s| s.user.id) != Some(link_user) {
                return Err(UpstreamFailure::BadState);
            }
            return self.link_profile(p, &profile, link_user).await;
        }
        match self.identity_to_sign_in(p, &profile).await? {
            Some(identity) => {
                let user = self
                    .store
                    .user_by_id(identity.user_id)
                    .await
                    .map_err(store_failure)?
                    .ok_or(UpstreamFailure::Store)?;
                if !user.active {
                    return Err(UpstreamFailure::Disabled);
                }
                let event =
                    Event::new(kind::SIGN_IN_SUCCESS).user(user.id).detail(format!("provider:{}", flow.provider));
                self.record(event, &browser.origin()).await;
                let (previous, remembered) = (browser.previous_session.as_deref(), browser.remembered.as_deref());
                let step = if self.settings.second_factors.after_provider {
                    self.after_first_step(&user, "", &browser.origin(), previous, remembered).await
                } else {
                    self.start_session(&user, browser.ip, &browser.user_agent, previous, "")
                        .await
                        .map(FirstStep::Session)
                };
                Ok(Finished::SignedIn(step.map_err(|_| UpstreamFailure::Store)?))
            }
            None => self.hold_pending(p, profile, &flow.next).await.map(Finished::Pending),
        }
    }

    /// Steps 2-4 of the callback: the authorization response, the code exchange, the ID Token
    /// or user info, and the profile they give.
    async fn verified_profile(
        &self,
        p: &ProviderConfig,
        flow: &UpstreamLogin,
        query: &str,
    ) -> Result<ExternalProfile, UpstreamError> {
        let endpoints = self.endpoints(p).await?;
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let code_params: &[&str] = match &p.protocol {
            Protocol::Platform { dialect, .. } => dialect.code_params(),
            _ => &["code"],
        };
        let expect = CallbackExpect {
            state: &flow.state,
            issuer: endpoints.issuer.as_deref(),
            iss_required: endpoints.iss_required,
            code_params,
        };
        let code = validate_callback(&params, &expect)?;
        let redirect_uri = self.upstream_redirect_uri(&p.id);
        if let Protocol::Platform { .. } = &p.protocol {
            return self.platform_profile(p, code, redirect_uri).await;
        }
        let verifier = p.quirks.pkce.then_some(flow.pkce_verifier.as_str());
        let client = self.upstream_client();
        let tokens =
            client.exchange_code(p, &endpoints.token, endpoints.token_auth, &code, &redirect_uri, verifier).await?;
        match &p.protocol {
            Protocol::OAuth2 { mapping, .. } => {
                let endpoint = endpoints.userinfo.as_deref().unwrap_or_default();
                let mut profile = profile_from_mapping(&client.userinfo(p, endpoint, &tokens).await?, mapping)?;
                // WeChat names the unionid in the token response too (the user info of an
                // application without the permission to read it leaves it out).
                if let (None, Some(path)) = (&profile.union_id, &mapping.union_id) {
                    let raw = Value::Object(tokens.raw.clone());
                    profile.union_id = lookup(&raw, path).and_then(Value::as_str).map(str::to_owned);
                }
                Ok(profile)
            }
            Protocol::Platform { .. } => Err(UpstreamError::Unavailable("a platform provider has its own flow".into())),
            Protocol::Oidc { issuer } => {
                let id_token = tokens
                    .id_token
                    .as_deref()
                    .ok_or_else(|| UpstreamError::Rejected("no id_token in the token response".into()))?;
                let claims = self
                    .verified_claims(p, issuer, endpoints.jwks.as_deref().unwrap_or_default(), id_token, flow)
                    .await?;
                let mut profile = profile_from_claims(&claims)?;
                if let (true, Some(endpoint)) = (profile.incomplete(), endpoints.userinfo.as_deref()) {
                    match client.userinfo(p, endpoint, &tokens).await {
                        Ok(info) => profile.merge_userinfo(&info)?,
                        Err(e) => {
                            tracing::warn!(provider = %p.id, error = %e, "user info unavailable; using the ID Token alone")
                        }
                    }
                }
                Ok(profile)
            }
        }
    }

    /// A platform provider's own flow (`oauth::upstream::dialect`) from `code` to the user:
    /// the callback's code, or a mini program's `js_code` (with no redirect URI).
    pub(super) async fn platform_profile(
        &self,
        p: &ProviderConfig,
        code: String,
        redirect_uri: String,
    ) -> Result<ExternalProfile, UpstreamError> {
        let Protocol::Platform { dialect, api_base, .. } = &p.protocol else {
            return Err(UpstreamError::Unavailable(format!("{} has no flow of its own", p.id)));
        };
        let input = ExchangeInput {
            api_base: api_base.clone(),
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.clone(),
            code,
            redirect_uri,
            now: self.now(),
        };
        self.upstream_client().run_exchange(dialect.exchange(input)?).await
    }

    /// The ID Token's claims once verified; the JWK Set is fetched again once when the token
    /// names a key the cached set lacks (the provider rotated its keys).
    async fn verified_claims(
        &self,
        p: &ProviderConfig,
        issuer: &str,
        jwks_uri: &str,
        id_token: &str,
        flow: &UpstreamLogin,
    ) -> Result<Value, UpstreamError> {
        let nonce = flow.nonce.as_deref().unwrap_or_default();
        let client = self.upstream_client();
        let now = self.now();
        let keys = client.jwks(jwks_uri, now, false).await?;
        let first = validate_id_token(id_token, &keys, issuer, &p.client_id, nonce, now);
        let claims = match first {
            Err(JoseError::UnknownKey) => {
                let keys = client.jwks(jwks_uri, now, true).await?;
                validate_id_token(id_token, &keys, issuer, &p.client_id, nonce, now)
            }
            other => other,
        };
        claims.map_err(|e| UpstreamError::Rejected(format!("ID Token: {e}")))
    }

    /// The identity `profile` names, found as WeChat-style providers need it:
    ///
    /// 1. by union id at this provider: the person signed in here before;
    /// 2. by the per-application id at this provider: an identity first seen before the
    ///    application was bound to its platform account, which is upgraded in place to the
    ///    union id now given (never duplicated);
    /// 3. by union id at another provider of the union group (the same person through another
    ///    application of the platform account): [`Known::Sibling`], the account to add this
    ///    provider's identity to.
    async fn known_identity(&self, p: &ProviderConfig, profile: &ExternalProfile) -> Result<Known, UpstreamFailure> {
        let union = match profile.union_id.as_deref() {
            Some(u) => self.store.identities_by_union(p.union_group(), u).await.map_err(store_failure)?,
            None => Vec::new(),
        };
        if let Some(own) = union.iter().find(|i| i.provider == p.id) {
            return Ok(Known::Stored(own.clone()));
        }
        let by_app = self.store.identity_by_app_subject(&p.id, &profile.subject).await.map_err(store_failure)?;
        if let Some(mut identity) = by_app {
            if let (None, Some(u)) = (&identity.union_id, profile.union_id.as_deref()) {
                if union.iter().any(|i| i.user_id != identity.user_id) {
                    tracing::warn!(
                        provider = %p.id,
                        "a union id names another account than the application id; the application id's account is kept"
                    );
                }
                self.store
                    .set_identity_union(&p.id, &profile.subject, p.union_group(), u)
                    .await
                    .map_err(store_failure)?;
                identity.subject = u.to_owned();
                identity.union_id = Some(u.to_owned());
                identity.union_group = Some(p.union_group().to_owned());
            }
            return Ok(Known::Stored(identity));
        }
        Ok(union.first().map_or(Known::Unknown, |sibling| Known::Sibling(sibling.user_id)))
    }

    /// The identity of `profile` found by [`Self::known_identity`], adding it to the account
    /// of a sibling provider's identity.
    pub(super) async fn identity_to_sign_in(
        &self,
        p: &ProviderConfig,
        profile: &ExternalProfile,
    ) -> Result<Option<ExternalIdentity>, UpstreamFailure> {
        match self.known_identity(p, profile).await? {
            Known::Stored(i) => Ok(Some(i)),
            Known::Unknown => Ok(None),
            Known::Sibling(user_id) => {
                let identity = self.identity_record(p, profile, user_id);
                match self.store.link_identity(&identity).await {
                    Ok(()) => Ok(Some(identity)),
                    // The account already has another identity at this provider.
                    Err(StoreError::Conflict(_)) => Err(UpstreamFailure::AlreadyLinked),
                    Err(e) => Err(store_failure(e)),
                }
            }
        }
    }

    /// The identity record for `profile` at `p`, linked to `user_id`.
    pub(super) fn identity_record(
        &self,
        p: &ProviderConfig,
        profile: &ExternalProfile,
        user_id: i64,
    ) -> ExternalIdentity {
        ExternalIdentity {
            provider: p.id.clone(),
            subject: profile.key().to_owned(),
            app_subject: profile.subject.clone(),
            union_id: profile.union_id.clone(),
            union_group: profile.union_id.as_ref().map(|_| p.union_group().to_owned()),
            user_id,
            email: profile.email.clone(),
            created_at: self.now(),
        }
    }

    async fn link_profile(
        &self,
        p: &ProviderConfig,
        profile: &ExternalProfile,
        user_id: i64,
    ) -> Result<Finished, UpstreamFailure> {
        match self.known_identity(p, profile).await? {
            Known::Stored(i) if i.user_id == user_id => return Ok(Finished::Linked),
            Known::Stored(_) => return Err(UpstreamFailure::IdentityTaken),
            Known::Sibling(other) if other != user_id => return Err(UpstreamFailure::IdentityTaken),
            Known::Sibling(_) | Known::Unknown => {}
        }
        let identity = self.identity_record(p, profile, user_id);
        match self.store.link_identity(&identity).await {
            Ok(()) => Ok(Finished::Linked),
            // The account has an identity at this provider (or the identity was just linked
            // by a concurrent flow): either way nothing changed.
            Err(StoreError::Conflict(_)) => Err(UpstreamFailure::AlreadyLinked),
            Err(e) => Err(store_failure(e)),
        }
    }

    /// Stores a new identity for the finish page; returns the pending cookie's value.
    async fn hold_pending(
        &self,
        p: &ProviderConfig,
        profile: ExternalProfile,
        next: &str,
    ) -> Result<String, UpstreamFailure> {
        let username = self.free_username(&propose_username(&profile)).await.map_err(store_failure)?;
        let email = profile.email.clone().filter(|e| super::users::validate_email(e).is_ok());
        let token = random_token("");
        let now = self.now();
        let key = profile.key().to_owned();
        let pending = PendingIdentity {
            pending_hash: sha256_hex(&token),
            provider: p.id.clone(),
            subject: key,
            union_group: profile.union_id.as_ref().map(|_| p.union_group().to_owned()),
            union_id: profile.union_id,
            app_subject: profile.subject,
            username,
            display_name: profile.display_name,
            email_verified: profile.email_verified && email.is_some(),
            email,
            next: next.to_owned(),
            created_at: now,
            expires_at: now + FLOW_LIFETIME,
        };
        self.store.insert_pending_identity(&pending).await.map_err(store_failure)?;
        Ok(token)
    }

    /// `base`, or `base-2` … `base-99`, whichever nobody uses yet (the person may still
    /// change it on the finish page).
    pub(super) async fn free_username(&self, base: &str) -> Result<String, StoreError> {
        for n in 1..100 {
            let candidate = if n == 1 {
                base.to_owned()
            } else {
                let suffix = format!("-{n}");
                let kept: String = base.chars().take(64 - suffix.len()).collect();
                format!("{kept}{suffix}")
            };
            if self.store.user_by_login(&normalize_login(&candidate)).await?.is_none() {
                return Ok(candidate);
            }
        }
        Ok(base.to_owned())
    }

    /// The account a pending identity may be linked to: the provider is trusted to verify
    /// emails, it says it verified this one, and an active account with a password has it.
    pub(crate) async fn link_candidate(&self, pending: &PendingIdentity) -> Result<Option<User>, StoreError> {
        let allowed = self.provider(&pending.provider).is_some_and(|p| p.link_by_verified_email);
        let Some(email) = pending.email.as_deref().filter(|_| allowed && pending.email_verified) else {
            return Ok(None);
        };
        let user = self.store.user_by_login(&normalize_login(email)).await?;
        Ok(user.filter(|u| {
            u.active
                && u.password_hash.is_some()
                && u.email.as_deref().map(normalize_login) == Some(normalize_login(email))
        }))
    }
}
