//! The token endpoint's use cases (RFC 6749 §3.2, §4, §6), revocation (RFC 7009),
//! introspection (RFC 7662) and user info: one implementation for every adapter.

use std::net::IpAddr;

use serde::Serialize;

use super::{
    access_token::{AccessForm, Binding, Issued},
    dpop::Presented,
    events::{kind, Event, Origin},
    throttle::{self, Refusal, Verdict},
    unavailable,
    users::SignInError,
    Services,
};
use crate::{
    crypto::{prefix, random_id, random_token, sha256_hex},
    oauth::{
        client_auth::{presented_secret, ClientCredentials},
        discovery::USERINFO_PATH,
        error::{ErrorCode, OAuthError},
        grant,
        model::{AuthCode, Client, GrantType},
        request::TokenRequest,
        scope::Scope,
        token::{issues_refresh_token, TokenResponse},
    },
    store::{AccessRecord, NewRefresh, NewTokens, Redemption},
};

/// Random token values made before they are stored, so that a transaction in the store can
/// decide whether they are issued.
pub(super) struct Minted {
    pub(super) access: String,
    pub(super) refresh: Option<String>,
    /// The access token's lifetime in seconds.
    pub(super) ttl: i64,
    /// The DPoP key they are bound to.
    pub(super) binding: Option<Binding>,
}

impl Minted {
    fn new(grant: GrantType, s: &Services, form: &AccessForm) -> Self {
        Self {
            access: random_token(prefix::ACCESS),
            refresh: issues_refresh_token(grant).then(|| random_token(prefix::REFRESH)),
            ttl: crate::oauth::grant::access_token_lifetime(
                grant,
                s.settings.access_token_ttl,
                s.settings.implicit_token_ttl,
            ),
            binding: form.binding.clone(),
        }
    }

    /// What the store keeps: hashes, lifetimes, the family.
    pub(super) fn rows(
        &self,
        s: &Services,
        client: &Client,
        user_id: Option<i64>,
        scope: &Scope,
        family: Option<String>,
        refresh_scope: Option<Scope>,
    ) -> NewTokens {
        let now = s.now();
        let family_id = match (family, &self.refresh) {
            (Some(f), _) => Some(f),
            (None, Some(_)) => Some(random_id()),
            (None, None) => None,
        };
        NewTokens {
            family_id,
            client_id: client.client_id.clone(),
            user_id,
            scope: scope.clone(),
            access_hash: sha256_hex(&self.access),
            access_expires_at: now + self.ttl,
            refresh: self.refresh.as_ref().map(|r| NewRefresh {
                hash: sha256_hex(r),
                expires_at: now + s.settings.refresh_token_ttl,
                scope: refresh_scope.unwrap_or_else(|| scope.clone()),
                jkt: self.binding.as_ref().filter(|b| b.refresh).map(|b| b.jkt.clone()),
            }),
            access_jkt: self.binding.as_ref().map(|b| b.jkt.clone()),
            now,
        }
    }

    /// What the client receives (RFC 6749 §5.1).
    pub(super) fn response(self, scope: &Scope) -> TokenResponse {
        TokenResponse {
            access_token: self.access,
            token_type: if self.binding.is_some() { TokenResponse::DPOP } else { TokenResponse::BEARER },
            expires_in: self.ttl,
            scope: Some(scope.to_string()),
            refresh_token: self.refresh,
            id_token: None,
        }
    }
}

/// What introspection says of a token (RFC 7662 §2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    /// Whether the token is currently usable.
    pub active: bool,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The resource owner's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Bearer` or `DPoP` (bound, RFC 9449 §6.2) for access tokens, `refresh_token` for
    /// refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Expiry, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The DPoP key a bound token is bound to (RFC 9449 §6.2: `{"jkt": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<serde_json::Value>,
    /// With the `groups` scope: the user's groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// With the `groups` scope: the user's roles in the client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// The claims `/o/userinfo/` returns for a token's scopes (OIDC Core §5.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The user id, always.
    pub sub: String,
    /// With `profile`: the username, as this endpoint named it before the OIDC claims (the
    /// same value as `preferred_username`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The standard claims the scopes release (OIDC Core §5.4): `name`, `preferred_username`
    /// with `profile`; `email`, `email_verified` with `email`. The same as in the ID Token.
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// How an access token was presented to a resource of this server.
#[derive(Clone, Copy, Debug)]
pub enum TokenScheme<'a> {
    /// `Authorization: Bearer` or a form body (RFC 6750 §2).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1) with the request's `DPoP` header, if it had one.
    Dpop(Option<Presented<'a>>),
}

/// Why an access token was refused at a resource (RFC 6750 §3.1, RFC 9449 §7.1).
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// Missing, unknown, expired or revoked token, or one that acts for no active user; or a
    /// DPoP-bound token presented as a bearer token, or an unbound one as a DPoP token.
    #[error("the access token is invalid, expired or revoked")]
    InvalidToken,
    /// The DPoP proof is missing, invalid, or made with another key than the token's.
    #[error("{0}")]
    InvalidProof(std::borrow::Cow<'static, str>),
    /// The proof must carry the nonce this server provides (RFC 9449 §9).
    #[error("the DPoP proof must carry the server's nonce")]
    UseDpopNonce,
    /// The store failed.
    #[error("storage unavailable")]
    Unavailable,
}

impl Services {
    /// Authenticates the client of a token, revocation or introspection request (RFC 6749
    /// §2.3). Unknown clients and wrong secrets get the same `invalid_client`. A generated
    /// secret (256 random bits, stored as SHA-256) is compared in constant time; an
    /// operator-chosen one (argon2id) goes through the hashing pool and its own throttle per
    /// client and address, so guessing it is slow and a flood cannot take the pool.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        ip: Option<IpAddr>,
    ) -> Result<Client, OAuthError> {
        let failed = || OAuthError::invalid_client("client authentication failed");
        let Some(record) = self.store.client(creds.client_id()).await.map_err(unavailable)? else {
            // Client ids are not secret (RFC 6749 §2.2); a cheap comparison keeps floods of
            // unknown ids from occupying the argon2 pool that password sign-ins need.
            if let Some(secret) = creds.secret() {
                let _ = crate::crypto::ct_eq(&crate::crypto::sha256_hex(secret), &crate::crypto::sha256_hex(""));
            }
            return Err(failed());
        };
        if let Some(secret) = presented_secret(creds, &record.client)? {
            let stored = record.secret_hash.as_deref().ok_or_else(failed)?;
            let matched = match stored.strip_prefix("sha256:") {
                Some(hex) => crate::crypto::ct_eq(&sha256_hex(secret), hex),
                None => self.check_chosen_secret(&record.client.client_id, secret, stored, ip).await?,
            };
            if !matched {
                return Err(failed());
            }
            if crate::crypto::is_imported_hash(stored) {
                self.upgrade_imported_secret(&record.client.client_id, secret).await;
            }
        }
        Ok(record.client)
    }

    /// A client secret imported as a Django hash (PBKDF2 at up to a million rounds per check)
    /// that has just verified becomes the SHA-256 record generated secrets have: DOT generates
    /// secrets of ample entropy, which no dictionary holds, so every later request costs one
    /// hash instead of a worker's second. A failure leaves the Django hash, which still works.
    async fn upgrade_imported_secret(&self, client_id: &str, secret: &str) {
        let record = crate::crypto::client_secret_record(secret);
        if let Err(e) = self.store.set_client_secret(client_id, &record).await {
            tracing::warn!(error = %e, client_id, "the imported client secret hash stays for now");
        }
    }

    /// An operator-chosen client secret against its argon2id record, through the throttle. A
    /// throttled attempt answers like a wrong secret; a saturated pool, 503.
    async fn check_chosen_secret(
        &self,
        client_id: &str,
        secret: &str,
        stored: &str,
        ip: Option<IpAddr>,
    ) -> Result<bool, OAuthError> {
        let budgets = throttle::client_secret_budgets(&self.settings.throttle, client_id, ip);
        let attempt = match self.begin_attempt(budgets).await {
            Ok(a) => a,
            Err(Refusal::Throttled { .. }) => return Ok(false),
            Err(Refusal::Unavailable) => return Err(busy()),
        };
        let Ok(matched) = self.hasher.verify(secret, Some(stored)).await else {
            let _ = self.settle(attempt, Verdict::Void).await;
            return Err(busy());
        };
        let verdict = if matched { Verdict::Success } else { Verdict::Failure };
        if let Some(budget) = self.settle(attempt, verdict).await {
            self.record(Event::new(kind::LOCKOUT).client(client_id).detail(budget), &Origin::ip(ip)).await;
        }
        Ok(matched)
    }

    /// `POST /o/token/`: authenticates the client, validates the grant and issues tokens.
    ///
    /// `resources` are the request's RFC 8707 `resource` parameters: the audiences of a JWT
    /// access token (see [`crate::oauth::jwt_access::audience`]); `proof` its DPoP proof, whose
    /// key the tokens are then bound to (RFC 9449 §5).
    pub async fn exchange(
        &self,
        creds: &ClientCredentials,
        req: TokenRequest,
        resources: &[&str],
        proof: Option<Presented<'_>>,
        ip: Option<IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        grant::ensure_grant_allowed(&client, req.grant_type())?;
        let form = self.access_form(&client, resources, proof).await?;
        match req {
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                self.redeem_code(&client, &code, redirect_uri.as_deref(), code_verifier.as_deref(), &form).await
            }
            TokenRequest::Password { username, password, scope } => {
                self.password_grant(&client, &username, &password, scope.as_ref(), ip, &form).await
            }
            TokenRequest::ClientCredentials { scope } => {
                let scope = self.client_credentials_scope(&client, scope.as_ref()).await?;
                self.issue_tokens(&client, GrantType::ClientCredentials, None, scope, &form).await
            }
            TokenRequest::RefreshToken { refresh_token, scope } => {
                self.refresh(&client, &refresh_token, scope.as_ref(), &form).await
            }
            TokenRequest::DeviceCode { device_code } => self.device_code_grant(&client, &device_code, &form).await,
        }
    }

    /// RFC 6749 §4.1.3. The code is consumed before anything else so that exactly one of any
    /// number of concurrent redemptions can succeed; a second redemption revokes every token
    /// the first one produced (RFC 6749 §10.5, "SHOULD revoke").
    async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        form: &AccessForm,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.now();
        let code_hash = sha256_hex(code);
        let minted = Minted::new(GrantType::AuthorizationCode, self, form);
        // Validation runs inside the store's transaction, so the tokens exist before any
        // concurrent second redemption can revoke the family (whose id is the code's hash).
        let validate = |stored: &AuthCode| {
            let granted = grant::validate_code_exchange(stored, client, redirect_uri, verifier, now)?;
            Ok(minted.rows(self, client, granted.user_id, &granted.scope, Some(code_hash.clone()), None))
        };
        let issued = match self.store.redeem_auth_code(&code_hash, now, &validate).await.map_err(unavailable)? {
            Redemption::Issued(c) => c,
            Redemption::Refused(e) => return Err(e),
            Redemption::Reused => {
                self.store.revoke_family(&code_hash, now).await.map_err(unavailable)?;
                self.reuse_event(kind::CODE_REPLAY, &client.client_id, None).await;
                return Err(OAuthError::invalid_grant("the authorization code was already used"));
            }
            Redemption::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
        };
        if let Err(e) = self.ensure_user_active(Some(issued.user_id)).await {
            self.store.revoke_family(&code_hash, now).await.map_err(unavailable)?;
            return Err(e);
        }
        let mut response =
            match self.respond(form, minted, &client.client_id, Some(issued.user_id), &issued.scope).await {
                Ok(r) => r,
                Err(e) => {
                    self.store.revoke_family(&code_hash, now).await.map_err(unavailable)?;
                    return Err(e);
                }
            };
        // OIDC Core §3.1.3.3: an authentication request (scope `openid`) gets an ID Token.
        if issued.scope.contains("openid") {
            match self.code_id_token(client, &issued, &code_hash, &response.access_token).await {
                Ok(id_token) => response.id_token = Some(id_token),
                Err(e) => {
                    self.store.revoke_family(&code_hash, now).await.map_err(unavailable)?;
                    return Err(e);
                }
            }
        }
        Ok(response)
    }

    /// RFC 6749 §4.4.2 `scope`: the client's own scopes, plus the admin API scopes an operator
    /// gave it. Those exist for this grant only: a token acting for a user never carries them.
    /// With no `scope` requested, the client gets everything it may have (§3.3 default).
    async fn client_credentials_scope(&self, client: &Client, requested: Option<&Scope>) -> Result<Scope, OAuthError> {
        let raw = self.store.client_admin_scopes(&client.client_id).await.map_err(unavailable)?.unwrap_or_default();
        let admin = Scope::from_iter(raw.split_whitespace().filter(|s| crate::oauth::scope::is_admin_scope(s)));
        if admin.is_empty() {
            return grant::resolve_scope(requested, client, &self.known_scopes);
        }
        let widened = Client { scopes: client.scopes.union(&admin), ..client.clone() };
        grant::resolve_scope(requested, &widened, &self.known_scopes.union(&admin))
    }

    /// RFC 6749 §4.3.2, with the sign-in throttle shared with the login page.
    async fn password_grant(
        &self,
        client: &Client,
        username: &str,
        password: &str,
        scope: Option<&Scope>,
        ip: Option<IpAddr>,
        form: &AccessForm,
    ) -> Result<TokenResponse, OAuthError> {
        let scope = grant::resolve_scope(scope, client, &self.known_scopes)?;
        // A throttled attempt gets exactly the answer of a wrong password, so the throttle
        // tells a guesser nothing about the account.
        let user = self.sign_in(username, password, &Origin::ip(ip)).await.map_err(|e| match e {
            SignInError::BadCredentials | SignInError::Throttled { .. } => {
                OAuthError::invalid_grant("invalid username or password")
            }
            SignInError::EmailNotVerified => {
                OAuthError::invalid_grant("the account's email address is not verified yet")
            }
            SignInError::Unavailable => busy(),
        })?;
        self.second_factor_allows_direct_grant(client, user.id, ip).await?;
        self.issue_tokens(client, GrantType::Password, Some(user.id), scope, form).await
    }

    /// The password grant (and a mini program's login, when second factors apply after a
    /// provider) carries no second factor, so an account that has one may not use it (a stolen
    /// password alone must not be enough), unless the operator allows it for this client.
    /// RFC 6749 §5.2 `invalid_grant`: "The provided authorization grant (e.g., ... resource
    /// owner credentials) is invalid", with a description that says why.
    pub(super) async fn second_factor_allows_direct_grant(
        &self,
        client: &Client,
        user_id: i64,
        ip: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        if !self.has_second_factor(user_id).await.map_err(|_| busy())? {
            return Ok(());
        }
        let policy = self.store.client_factor_policy(&client.client_id).await.map_err(unavailable)?;
        if policy.is_some_and(|p| p.mfa_password_grant) {
            return Ok(());
        }
        let event =
            Event::new(kind::SIGN_IN_FAILURE).user(user_id).client(&client.client_id).detail("second_factor_required");
        self.record(event, &Origin::ip(ip)).await;
        Err(OAuthError::invalid_grant(
            "this account uses two-step verification: sign in through the browser (authorization code flow)",
        ))
    }

    pub(super) async fn ensure_user_active(&self, user_id: Option<i64>) -> Result<(), OAuthError> {
        let Some(id) = user_id else { return Ok(()) };
        match self.store.user_by_id(id).await.map_err(unavailable)? {
            Some(u) if u.active => Ok(()),
            _ => Err(OAuthError::invalid_grant("the user is disabled or gone")),
        }
    }

    /// Mints and stores the tokens of one grant, the access token in the client's `form`.
    pub(super) async fn issue_tokens(
        &self,
        client: &Client,
        grant: GrantType,
        user_id: Option<i64>,
        scope: Scope,
        form: &AccessForm,
    ) -> Result<TokenResponse, OAuthError> {
        let minted = Minted::new(grant, self, form);
        let rows = minted.rows(self, client, user_id, &scope, None, Some(scope.clone()));
        self.store.insert_tokens(&rows).await.map_err(unavailable)?;
        self.respond(form, minted, &client.client_id, user_id, &scope).await
    }

    /// The response for tokens just stored, with the access token in the client's `form`.
    pub(super) async fn respond(
        &self,
        form: &AccessForm,
        minted: Minted,
        client_id: &str,
        user_id: Option<i64>,
        scope: &Scope,
    ) -> Result<TokenResponse, OAuthError> {
        let issued_at = self.now();
        let expires_at = issued_at + minted.ttl;
        let mut response = minted.response(scope);
        let issued = Issued { client_id, user_id, scope, issued_at, expires_at };
        response.access_token = self.present_access(form, response.access_token, &issued).await?;
        Ok(response)
    }

    /// RFC 7009 §2.1: revokes a token the client owns. Unknown tokens and other clients'
    /// tokens are left alone and still answered with success (§2.2).
    pub async fn revoke(&self, creds: &ClientCredentials, token: &str, ip: Option<IpAddr>) -> Result<(), OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        let now = self.now();
        if let Some(r) = self.store.refresh_token(&sha256_hex(token)).await.map_err(unavailable)? {
            if r.client_id == client.client_id {
                self.store.revoke_family(&r.family_id, now).await.map_err(unavailable)?;
            }
            return Ok(());
        }
        let key = self.access_record_key(token).await?;
        if let Some(a) = self.store.access_token(&key).await.map_err(unavailable)? {
            if a.client_id == client.client_id {
                self.store.revoke_access_token(&key, now).await.map_err(unavailable)?;
            }
        }
        Ok(())
    }

    /// RFC 7662: what an authenticated client may learn about a token. Only confidential
    /// clients (resource servers) may ask.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<Introspection, OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        if !client.confidential {
            return Err(OAuthError::invalid_client("client authentication failed"));
        }
        let now = self.now();
        let key = self.access_record_key(token).await?;
        let (record, token_type) = match self.store.access_token(&key).await.map_err(unavailable)? {
            Some(a) => {
                let kind = if a.jkt.is_some() { TokenResponse::DPOP } else { TokenResponse::BEARER };
                (a, kind)
            }
            None => match self.store.refresh_token(&sha256_hex(token)).await.map_err(unavailable)? {
                Some(r) if r.rotated_at.is_none() => (
                    AccessRecord {
                        family_id: Some(r.family_id),
                        client_id: r.client_id,
                        user_id: r.user_id,
                        scope: r.scope,
                        created_at: r.created_at,
                        expires_at: r.expires_at,
                        revoked_at: r.revoked_at,
                        jkt: r.jkt,
                    },
                    "refresh_token",
                ),
                _ => return Ok(Introspection::default()),
            },
        };
        if record.revoked_at.is_some() || record.expires_at <= now {
            return Ok(Introspection::default());
        }
        let username = match record.user_id {
            Some(id) => match self.store.user_by_id(id).await.map_err(unavailable)? {
                Some(u) if u.active => Some(u.username),
                _ => return Ok(Introspection::default()),
            },
            None => None,
        };
        let memberships = match record.user_id {
            Some(id) => self.memberships_for(&record.scope, id, &record.client_id).await?,
            None => None,
        };
        let (groups, roles) = memberships.map(|m| (m.groups, m.roles)).unzip();
        Ok(Introspection {
            groups,
            roles,
            active: true,
            scope: Some(record.scope.to_string()),
            client_id: Some(record.client_id),
            username,
            token_type: Some(token_type.into()),
            exp: Some(record.expires_at),
            iat: Some(record.created_at),
            sub: record.user_id.map(|id| id.to_string()),
            iss: Some(self.settings.issuer.clone()),
            cnf: record.jkt.as_deref().map(crate::oauth::dpop::confirmation),
        })
    }

    /// The user behind an access token presented with `scheme`, with the claims its scopes
    /// allow.
    pub async fn userinfo(&self, token: &str, scheme: TokenScheme<'_>) -> Result<UserInfo, BearerError> {
        let now = self.now();
        let key = self.access_record_key(token).await.map_err(|_| BearerError::Unavailable)?;
        let record = self
            .store
            .access_token(&key)
            .await
            .map_err(|_| BearerError::Unavailable)?
            .filter(|a| a.revoked_at.is_none() && a.expires_at > now)
            .ok_or(BearerError::InvalidToken)?;
        self.check_sender(token, record.jkt.as_deref(), scheme, USERINFO_PATH).await?;
        let user_id = record.user_id.ok_or(BearerError::InvalidToken)?;
        let user = self
            .store
            .user_by_id(user_id)
            .await
            .map_err(|_| BearerError::Unavailable)?
            .filter(|u| u.active)
            .ok_or(BearerError::InvalidToken)?;
        let memberships = self
            .memberships_for(&record.scope, user.id, &record.client_id)
            .await
            .map_err(|_| BearerError::Unavailable)?;
        let person = crate::oauth::id_token::Person { memberships: memberships.as_ref(), ..super::oidc::person(&user) };
        Ok(UserInfo {
            sub: user.id.to_string(),
            username: record.scope.contains("profile").then(|| user.username.clone()),
            claims: crate::oauth::id_token::scope_claims(&record.scope, &person),
        })
    }
}

impl Services {
    /// RFC 9449 §7.1: a DPoP-bound token is only good as `Authorization: DPoP` with a proof
    /// for this request made with its key (`ath` naming the token); an unbound one only as a
    /// bearer token.
    async fn check_sender(
        &self,
        token: &str,
        bound: Option<&str>,
        scheme: TokenScheme<'_>,
        path: &str,
    ) -> Result<(), BearerError> {
        let (jkt, presented) = match (bound, scheme) {
            (None, TokenScheme::Bearer) => return Ok(()),
            (Some(_), TokenScheme::Bearer) | (None, TokenScheme::Dpop(_)) => return Err(BearerError::InvalidToken),
            (Some(_), TokenScheme::Dpop(None)) => {
                return Err(BearerError::InvalidProof("a DPoP-bound token needs a DPoP proof".into()))
            }
            (Some(jkt), TokenScheme::Dpop(Some(p))) => (jkt, p),
        };
        let proof = self.accept_proof(presented, path, Some(token)).await.map_err(|e| match e.code {
            ErrorCode::UseDpopNonce => BearerError::UseDpopNonce,
            ErrorCode::TemporarilyUnavailable => BearerError::Unavailable,
            _ => BearerError::InvalidProof(e.description),
        })?;
        if proof.jkt != jkt {
            return Err(BearerError::InvalidProof("the DPoP proof is made with another key than the token's".into()));
        }
        Ok(())
    }
}

/// The answer while the password check is saturated (RFC 6749 §5.2 `temporarily_unavailable`,
/// 503 with `Retry-After`): never a verdict on the credentials.
fn busy() -> OAuthError {
    OAuthError::temporarily_unavailable("the service is busy; try again shortly")
}
