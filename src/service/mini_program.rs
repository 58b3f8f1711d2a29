//! `POST /o/login/wechat-mp/`: a WeChat mini program signs its user in with the code of
//! `wx.login()` and receives our tokens, as a token response (RFC 6749 §5.1).
//!
//! A mini program has no browser to send to a login page, so the client opts in to the
//! grant [`GrantType::WechatMiniProgram`], and this server, which holds the mini program's
//! appid secret in a `wechat-miniprogram` provider, trades the code with WeChat
//! (`jscode2session`) itself. The identity is found as for every WeChat application: by
//! `unionid` across the union group (the person who signed in by the website's QR login is the
//! same account here), else by `openid`, upgraded in place once a `unionid` appears. A person
//! seen for the first time gets an account, unless sign-up is closed.
//!
//! There is no per-address throttle: each attempt needs a code WeChat issued to a WeChat
//! account for this appid, which a guesser cannot make, and WeChat limits the exchanges
//! itself (`45011`, answered as `temporarily_unavailable`).

use std::net::IpAddr;

use super::{
    events::{kind, Event, Origin},
    unavailable,
    upstream::within_budget,
    Services,
};
use crate::{
    crypto::sha256_hex,
    oauth::{
        client_auth::ClientCredentials,
        error::OAuthError,
        grant,
        model::GrantType,
        request::MiniProgramLogin,
        token::TokenResponse,
        upstream::{dialect::wechat_mini_program::is_transient, ExternalProfile, ProviderConfig, UpstreamError},
    },
    service::users::normalize_login,
    store::{NewUser, StoreError, User},
};

impl Services {
    /// Authenticates the client, checks its opt-in, trades the code with WeChat, finds or
    /// makes the account and issues tokens for it.
    pub async fn wechat_mini_program_login(
        &self,
        creds: &ClientCredentials,
        login: MiniProgramLogin,
        ip: Option<IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        grant::ensure_grant_allowed(&client, GrantType::WechatMiniProgram)?;
        let scope = grant::resolve_scope(login.scope.as_ref(), &client, &self.known_scopes)?;
        let p = self.mini_program(login.provider.as_deref())?;
        let profile = self.js_code_profile(p, &login.js_code).await?;
        let user = self.mini_program_account(p, &profile, ip).await?;
        if !user.active {
            return Err(OAuthError::invalid_grant("the account is disabled"));
        }
        if self.settings.second_factors.after_provider {
            self.second_factor_allows_direct_grant(&client, user.id, ip).await?;
        }
        let event = Event::new(kind::SIGN_IN_SUCCESS)
            .user(user.id)
            .client(&client.client_id)
            .detail(format!("provider:{}", p.id));
        self.record(event, &Origin::ip(ip)).await;
        let form = self.access_form(&client, &[], None).await?;
        self.issue_tokens(&client, GrantType::WechatMiniProgram, Some(user.id), scope, &form).await
    }

    /// The configured mini program named `id`, or the only one.
    fn mini_program(&self, id: Option<&str>) -> Result<&ProviderConfig, OAuthError> {
        let mut all = self.providers().iter().filter(|p| !p.browser_flow());
        match id {
            Some(id) => all
                .find(|p| p.id == id)
                .ok_or_else(|| OAuthError::invalid_request("provider names no WeChat mini program of this server")),
            None => match (all.next(), all.next()) {
                (Some(only), None) => Ok(only),
                (Some(_), Some(_)) => Err(OAuthError::invalid_request(
                    "several WeChat mini programs are configured: name one with `provider`",
                )),
                (None, _) => Err(OAuthError::invalid_request("this server has no WeChat mini program")),
            },
        }
    }

    /// WeChat's answer to the code: who the person is in this mini program.
    async fn js_code_profile(&self, p: &ProviderConfig, js_code: &str) -> Result<ExternalProfile, OAuthError> {
        let answer = within_budget(self.platform_profile(p, js_code.to_owned(), String::new())).await;
        answer.map_err(|e| {
            tracing::info!(provider = %p.id, error = %e, "a mini program's login code was not accepted");
            match e {
                UpstreamError::Provider { code, .. } if is_transient(&code) => busy_upstream(),
                UpstreamError::Provider { code, .. } => {
                    OAuthError::invalid_grant(format!("WeChat refused the js_code (errcode {code})"))
                }
                UpstreamError::Rejected(_) => OAuthError::invalid_grant("WeChat's answer names nobody"),
                UpstreamError::Unavailable(_) | UpstreamError::Denied { .. } | UpstreamError::BadState => {
                    busy_upstream()
                }
            }
        })
    }

    /// The account of `profile`: its identity's, a sibling application's (same union id), or
    /// a new one holding the identity.
    async fn mini_program_account(
        &self,
        p: &ProviderConfig,
        profile: &ExternalProfile,
        ip: Option<IpAddr>,
    ) -> Result<User, OAuthError> {
        let taken = || OAuthError::invalid_grant("the account already has another identity at this mini program");
        let found = self.identity_to_sign_in(p, profile).await.map_err(|e| match e {
            super::upstream::UpstreamFailure::AlreadyLinked => taken(),
            _ => OAuthError::temporarily_unavailable("storage unavailable"),
        })?;
        let Some(identity) = found else {
            return self.mini_program_signup(p, profile, ip).await;
        };
        self.store.user_by_id(identity.user_id).await.map_err(unavailable)?.ok_or_else(|| {
            OAuthError::temporarily_unavailable("the account of this identity is being changed; try again")
        })
    }

    /// A new account for a person first seen in the mini program. It has no password and no
    /// email: its name is `wx-` and a digest of the identity's key, which the person may
    /// change on the account page.
    async fn mini_program_signup(
        &self,
        p: &ProviderConfig,
        profile: &ExternalProfile,
        ip: Option<IpAddr>,
    ) -> Result<User, OAuthError> {
        if !self.settings.registration {
            return Err(OAuthError::invalid_grant("no account has this WeChat identity, and sign-up is closed"));
        }
        let base = format!("wx-{}", &sha256_hex(&format!("{}|{}", p.union_group(), profile.key()))[..12]);
        let username = self.free_username(&base).await.map_err(unavailable)?;
        let new = NewUser {
            username_normalized: normalize_login(&username),
            display_name: username.clone(),
            username,
            email: None,
            email_normalized: None,
            password_hash: None,
            admin: false,
            // There is no address to verify.
            email_verified: true,
            phone_number: None,
            locale: None,
            now: self.now(),
        };
        let identity = self.identity_record(p, profile, 0);
        match self.store.create_user_with_identity(&new, &identity).await {
            Ok(user) => {
                self.record(
                    Event::new(kind::ACCOUNT_CREATED).user(user.id).detail(format!("provider:{}", p.id)),
                    &Origin::ip(ip),
                )
                .await;
                Ok(user)
            }
            // A concurrent first login of the same person made it first: sign that one in.
            Err(StoreError::Conflict(_)) => match self.store.external_identity(&p.id, profile.key()).await {
                Ok(Some(i)) => self
                    .store
                    .user_by_id(i.user_id)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| OAuthError::temporarily_unavailable("try again")),
                Ok(None) => Err(OAuthError::temporarily_unavailable("the new account's name was taken; try again")),
                Err(e) => Err(unavailable(e)),
            },
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// WeChat is down, slow or busy: RFC 6749 §5.2 `temporarily_unavailable` (503), never a
/// verdict on the code.
fn busy_upstream() -> OAuthError {
    OAuthError::temporarily_unavailable("WeChat is unavailable; try again shortly")
}
