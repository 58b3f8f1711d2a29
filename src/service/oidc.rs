//! OpenID Connect on top of the token endpoint: the ID Token of the authorization code grant
//! (OIDC Core §3.1.3.3) and of refreshes of such grants (§12.2), and the provider metadata.
//! The claim rules are in [`crate::oauth::id_token`] and [`crate::oauth::discovery`].

use rand::rngs::OsRng;

use super::{keys::KeyCache, session::Session, unavailable, Services};
use crate::{
    i18n::Locale,
    oauth::{
        discovery::{provider_metadata, ProviderFacts, ProviderMetadata},
        error::OAuthError,
        id_token::{id_token_claims, session_id, IdTokenFacts, Person, TYP},
        logout::read_hint,
        model::{AuthCode, Client, GrantType},
        scope::Scope,
    },
    store::{OidcGrant, RefreshRecord, User},
};

/// What each instance keeps for OpenID Connect: its copy of the signing keys.
#[derive(Default)]
pub(crate) struct OidcState {
    pub(super) keys: KeyCache,
}

/// How the user authenticated for a grant: what its ID Tokens state besides the user.
struct Authentication<'a> {
    auth_time: Option<i64>,
    session_hash: Option<&'a str>,
    nonce: Option<&'a str>,
    /// The session's `amr`, when the caller holds the session; otherwise read from the
    /// session by its hash.
    amr: Option<&'a str>,
}

/// What else the response carrying an ID Token holds.
#[derive(Clone, Copy)]
struct IssuedWith<'a> {
    access_token: Option<&'a str>,
    code: Option<&'a str>,
}

/// The claims source for a stored user.
pub(super) fn person(user: &User) -> Person<'_> {
    Person {
        id: user.id,
        username: &user.username,
        display_name: &user.display_name,
        email: user.email.as_deref(),
        email_verified: user.email_verified,
        phone_number: user.phone_number.as_deref(),
        phone_number_verified: user.phone_verified,
        memberships: None,
    }
}

impl Services {
    pub(super) async fn sid_key(&self) -> Result<&[u8], OAuthError> {
        self.shared_key(super::shared_keys::SharedKey::OidcSid).await.map_err(unavailable)
    }

    /// The active user `user_id`, or `invalid_grant`.
    async fn active_user(&self, user_id: i64) -> Result<User, OAuthError> {
        match self.store.user_by_id(user_id).await.map_err(unavailable)? {
            Some(u) if u.active => Ok(u),
            _ => Err(OAuthError::invalid_grant("the user is disabled or gone")),
        }
    }

    /// Signs an ID Token for `user`, issued to `client_id` with what the same response carries
    /// (`at_hash` of an access token, `c_hash` of a code).
    async fn sign_id_token(
        &self,
        client_id: &str,
        user: &User,
        scope: &Scope,
        auth: &Authentication<'_>,
        issued_with: IssuedWith<'_>,
    ) -> Result<String, OAuthError> {
        let key = self.signer().await?;
        let sid = match auth.session_hash {
            Some(hash) => Some(session_id(self.sid_key().await?, hash)),
            None => None,
        };
        // What the session used (OIDC Core §2 `amr`, `acr`); unknown once it has ended.
        let amr = match (auth.amr, auth.session_hash) {
            (Some(amr), _) => Some(amr.to_owned()),
            (None, Some(hash)) => self.store.session_amr(hash).await.map_err(unavailable)?,
            (None, None) => None,
        };
        let memberships = self.memberships_for(scope, user.id, client_id).await?;
        let claims = id_token_claims(&IdTokenFacts {
            issuer: &self.settings.issuer,
            client_id,
            person: Person { memberships: memberships.as_ref(), ..person(user) },
            scope,
            auth_time: auth.auth_time,
            nonce: auth.nonce,
            access_token: issued_with.access_token,
            code: issued_with.code,
            sid: sid.as_deref(),
            amr: amr.as_deref(),
            alg: key.alg(),
            now: self.now(),
            lifetime: self.settings.id_token_ttl,
        });
        Ok(key.sign(TYP, &claims, &mut OsRng))
    }

    /// The ID Token of a redeemed code that was granted `openid` (OIDC Core §3.1.3.3), with the
    /// code's `nonce`, `auth_time` and session. The authentication is recorded under the token
    /// family (`family_id`) so that refreshes can repeat it.
    pub(super) async fn code_id_token(
        &self,
        client: &Client,
        code: &AuthCode,
        family_id: &str,
        access_token: &str,
    ) -> Result<String, OAuthError> {
        let user = self.active_user(code.user_id).await?;
        let grant = OidcGrant {
            family_id: family_id.to_owned(),
            user_id: user.id,
            session_hash: code.session_hash.clone(),
            auth_time: code.auth_time,
        };
        self.store.insert_oidc_grant(&grant, self.now()).await.map_err(unavailable)?;
        if let Some(session) = &code.session_hash {
            // This client is told (back-channel) when the session ends.
            self.store
                .record_session_client(session, &client.client_id, user.id, self.now())
                .await
                .map_err(unavailable)?;
        }
        let auth = Authentication {
            auth_time: Some(code.auth_time),
            session_hash: code.session_hash.as_deref(),
            nonce: code.nonce.as_deref(),
            amr: None,
        };
        let with = IssuedWith { access_token: Some(access_token), code: None };
        self.sign_id_token(&client.client_id, &user, &code.scope, &auth, with).await
    }

    /// The ID Token the authorization endpoint itself returns (implicit, OIDC Core §3.2.2.10;
    /// hybrid, §3.3.2.11): the session's user, `auth_time` and `sid`, the request's `nonce`,
    /// `at_hash` and `c_hash` for the access token and code of the same response.
    pub(super) async fn front_channel_id_token(
        &self,
        client_id: &str,
        session: &Session,
        scope: &Scope,
        nonce: Option<&str>,
        access_token: Option<&str>,
        code: Option<&str>,
    ) -> Result<String, OAuthError> {
        let auth = Authentication {
            auth_time: Some(session.auth_time),
            session_hash: Some(&session.hash),
            nonce,
            amr: Some(&session.amr),
        };
        self.sign_id_token(client_id, &session.user, scope, &auth, IssuedWith { access_token, code }).await
    }

    /// The subject of an `id_token_hint` (OIDC Core §3.1.2.1): it must verify against our own
    /// published keys and name us as issuer; it may have expired.
    pub(super) async fn id_token_hint_subject(&self, hint: &str) -> Result<String, OAuthError> {
        let keys = self.jwks().await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the signing keys");
            OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again")
        })?;
        read_hint(hint, &keys, &self.settings.issuer)
            .map(|h| h.subject)
            .map_err(|e| OAuthError::invalid_request(e.to_string()))
    }

    /// The ID Token of a refresh (OIDC Core §12.2): only when the access token keeps `openid`
    /// and the family's original grant was issued one; same `iss`, `sub`, `aud`, `auth_time`
    /// and `sid` as then, no `nonce`.
    pub(super) async fn refresh_id_token(
        &self,
        stored: &RefreshRecord,
        client: &Client,
        scope: &Scope,
        access_token: &str,
    ) -> Result<Option<String>, OAuthError> {
        if !scope.contains("openid") || stored.user_id.is_none() {
            return Ok(None);
        }
        let Some(grant) = self.store.oidc_grant(&stored.family_id).await.map_err(unavailable)? else {
            return Ok(None);
        };
        if Some(grant.user_id) != stored.user_id {
            return Ok(None);
        }
        let user = self.active_user(grant.user_id).await?;
        let auth = Authentication {
            auth_time: Some(grant.auth_time),
            session_hash: grant.session_hash.as_deref(),
            nonce: None,
            amr: None,
        };
        let with = IssuedWith { access_token: Some(access_token), code: None };
        self.sign_id_token(&client.client_id, &user, scope, &auth, with).await.map(Some)
    }

    /// The provider metadata (OIDC Discovery §3, RFC 8414 §2) of this configuration.
    pub fn provider_metadata(&self) -> ProviderMetadata {
        provider_metadata(&ProviderFacts {
            issuer: &self.settings.issuer,
            scopes: &self.known_scopes,
            grant_types: GrantType::ALL,
            id_token_algs: &[self.settings.signing_alg],
            ui_locales: &[Locale::En.tag(), Locale::ZhCn.tag()],
        })
    }
}
