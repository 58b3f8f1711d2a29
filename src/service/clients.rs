//! Client registration and secrets. Password and implicit grants are off unless named.

use super::{
    events::{kind, Event, Origin},
    ServiceError, Services,
};
use crate::{
    crypto::{client_secret_record, prefix, random_id, random_token},
    oauth::{
        cors, grant, jwt_access,
        model::{Client, GrantType},
        redirect,
        scope::Scope,
    },
    store::{ClientRecord, ClientTokenPolicy},
};

/// What an operator or developer asks for when registering a client. `Debug` leaves the
/// secret out.
#[derive(Clone, Default)]
pub struct ClientSpec {
    /// Shown on the consent page.
    pub name: String,
    /// Public clients (SPAs, native apps) have no secret.
    pub public: bool,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Grants; empty means `authorization_code refresh_token`.
    pub grants: Vec<GrantType>,
    /// Scopes; empty means every scope the server offers.
    pub scopes: Vec<String>,
    /// Skips the consent page.
    pub trusted: bool,
    /// A fixed client_id (operators importing a client); random otherwise.
    pub client_id: Option<String>,
    /// A secret chosen by the operator, stored as argon2id; generated otherwise.
    pub secret: Option<String>,
    /// The registering user, for developer apps.
    pub owner_id: Option<i64>,
    /// Where the browser may go after RP-initiated logout, and where logout tokens go.
    pub logout: crate::store::LogoutSettings,
    /// Web origins whose pages may call the token and user info endpoints (CORS).
    pub allowed_origins: Vec<String>,
}

/// A registered client with its secret, which is shown this once and never again. `Debug`
/// leaves the secret out.
#[derive(Clone)]
pub struct NewClient {
    /// What was stored.
    pub record: ClientRecord,
    /// The plaintext secret (confidential clients with a generated secret only).
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSpec")
            .field("name", &self.name)
            .field("public", &self.public)
            .field("redirect_uris", &self.redirect_uris)
            .field("grants", &self.grants)
            .field("scopes", &self.scopes)
            .field("trusted", &self.trusted)
            .field("client_id", &self.client_id)
            .field("owner_id", &self.owner_id)
            .field("logout", &self.logout)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClient").field("record", &self.record).finish_non_exhaustive()
    }
}

/// Each origin validated and normalised (`oauth::cors`), duplicates dropped, sorted.
pub fn normalize_origins(raw: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut origins = raw
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| {
            cors::validate_registration(o)
                .map_err(|why| ServiceError::InvalidField("allowed_origins", format!("origin {o:?}: {why}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if origins.len() > MAX_ORIGINS {
        return Err(ServiceError::InvalidField("allowed_origins", format!("at most {MAX_ORIGINS} origins")));
    }
    origins.sort();
    origins.dedup();
    Ok(origins)
}

/// A token policy with its resource indicators validated (RFC 8707 §2: absolute URIs without
/// fragment), duplicates dropped, at most [`jwt_access::MAX_RESOURCES`].
pub fn checked_token_policy(mut policy: ClientTokenPolicy) -> Result<ClientTokenPolicy, ServiceError> {
    let mut resources: Vec<String> = Vec::with_capacity(policy.resources.len());
    for r in policy.resources.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        jwt_access::validate_resource(r)
            .map_err(|why| ServiceError::InvalidField("resources", format!("resource {r:?}: {why}")))?;
        if !resources.iter().any(|known| known == r) {
            resources.push(r.to_owned());
        }
    }
    if resources.len() > jwt_access::MAX_RESOURCES {
        let most = jwt_access::MAX_RESOURCES;
        return Err(ServiceError::InvalidField("resources", format!("at most {most} resources")));
    }
    policy.resources = resources;
    Ok(policy)
}

/// The most web origins one client may register.
pub const MAX_ORIGINS: usize = 20;

/// Logout URIs follow the redirect URI rules (exact, no fragment, https or loopback http);
/// a back-channel URI is called by the server, so it must be http(s).
pub(super) fn validate_logout(l: &crate::store::LogoutSettings) -> Result<(), ServiceError> {
    for uri in l.post_logout_redirect_uris.iter().chain(&l.backchannel_logout_uri) {
        redirect::validate_registration(uri)
            .map_err(|why| ServiceError::Invalid(format!("logout URI {uri:?}: {why}")))?;
    }
    if l.backchannel_logout_uri.as_deref().is_some_and(|u| !u.starts_with("https://") && !u.starts_with("http://")) {
        return Err(ServiceError::Invalid("the back-channel logout URI must be http(s)".into()));
    }
    Ok(())
}

impl Services {
    /// Validates and registers a client.
    pub async fn create_client(&self, spec: ClientSpec) -> Result<NewClient, ServiceError> {
        let client = self.client_from_spec(&spec)?;
        validate_logout(&spec.logout)?;
        let origins = normalize_origins(&spec.allowed_origins)?;
        let (record, secret) = match (client.confidential, spec.secret) {
            (false, Some(_)) => return Err(ServiceError::Invalid("public clients have no secret".into())),
            (false, None) => (None, None),
            (true, Some(chosen)) => {
                if chosen.len() < 8 {
                    return Err(ServiceError::Invalid("a chosen client secret needs at least 8 characters".into()));
                }
                (Some(self.hasher.hash(&chosen).await?), None)
            }
            (true, None) => {
                let generated = random_token(prefix::CLIENT_SECRET);
                (Some(client_secret_record(&generated)), Some(generated))
            }
        };
        let record = ClientRecord { client, secret_hash: record, owner_id: spec.owner_id, created_at: self.now() };
        self.store.create_client(&record).await.map_err(|e| match ServiceError::from(e) {
            ServiceError::Conflict(_) => ServiceError::Conflict("that client_id is already registered".into()),
            other => other,
        })?;
        if spec.logout != crate::store::LogoutSettings::default() {
            self.store.set_client_logout(&record.client.client_id, &spec.logout).await?;
        }
        if !origins.is_empty() {
            self.store.set_client_origins(&record.client.client_id, &origins).await?;
        }
        let event = Event::new(kind::CLIENT_CREATED).client(&record.client.client_id).actor(spec.owner_id);
        self.record(event.detail(record.client.name.clone()), &Origin::default()).await;
        Ok(NewClient { record, secret })
    }

    pub(super) fn client_from_spec(&self, spec: &ClientSpec) -> Result<Client, ServiceError> {
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::Invalid("a client needs a name of 1-100 characters".into()));
        }
        for uri in &spec.redirect_uris {
            redirect::validate_registration(uri)
                .map_err(|why| ServiceError::Invalid(format!("redirect URI {uri:?}: {why}")))?;
        }
        let mut grants = spec.grants.clone();
        if grants.is_empty() {
            grants = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
        }
        grants.sort_by_key(|g| g.as_str());
        grants.dedup();
        let browser = grants.iter().any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
        if browser && spec.redirect_uris.is_empty() {
            return Err(ServiceError::Invalid("authorization_code and implicit need at least one redirect URI".into()));
        }
        for grant in &grants {
            grant::grant_permitted(!spec.public, *grant).map_err(|why| ServiceError::Invalid(why.into()))?;
        }
        let scopes = if spec.scopes.is_empty() {
            self.known_scopes.clone()
        } else {
            let s =
                Scope::parse(&spec.scopes.join(" ")).map_err(|e| ServiceError::Invalid(e.description.to_string()))?;
            if let Some(unknown) = s.unknown_in(&self.known_scopes) {
                return Err(ServiceError::Invalid(format!("unknown scope {unknown:?}")));
            }
            s
        };
        let client_id = match &spec.client_id {
            Some(id) if !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_graphic() && c != ':') => {
                id.clone()
            }
            Some(_) => {
                return Err(ServiceError::Invalid(
                    "client_id must be 1-100 visible ASCII characters without ':'".into(),
                ))
            }
            None => random_id(),
        };
        Ok(Client {
            client_id,
            name: name.to_owned(),
            confidential: !spec.public,
            redirect_uris: spec.redirect_uris.clone(),
            grant_types: grants,
            scopes,
            trusted: spec.trusted,
        })
    }

    /// The client with this id, or `NotFound`.
    pub async fn find_client(&self, client_id: &str) -> Result<ClientRecord, ServiceError> {
        self.store.client(client_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no client {client_id:?}")))
    }

    /// The web origins a client registered for CORS.
    pub async fn client_origins(&self, client_id: &str) -> Result<Vec<String>, ServiceError> {
        Ok(self.store.client_origins(client_id).await?)
    }

    /// Replaces a client's web origins after validating them.
    pub async fn set_client_origins(&self, client_id: &str, raw: &[String]) -> Result<(), ServiceError> {
        let origins = normalize_origins(raw)?;
        self.store.set_client_origins(client_id, &origins).await?;
        Ok(())
    }

    /// How a client's access tokens are issued and its requests made.
    pub async fn client_token_policy(&self, client_id: &str) -> Result<ClientTokenPolicy, ServiceError> {
        self.store
            .client_token_policy(client_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no client {client_id:?}")))
    }

    /// Replaces a client's token policy after validating its resource indicators.
    pub async fn set_client_token_policy(
        &self,
        client_id: &str,
        policy: ClientTokenPolicy,
    ) -> Result<(), ServiceError> {
        let policy = checked_token_policy(policy)?;
        if !self.store.set_client_token_policy(client_id, &policy).await? {
            return Err(ServiceError::NotFound(format!("no client {client_id:?}")));
        }
        Ok(())
    }

    /// The value of `Access-Control-Allow-Origin` for a request from `origin` (the `Origin`
    /// header as sent): the header itself when that origin is registered by `client_id` (the
    /// requesting client, when it could be told) or, with `None`, by any client. `None` means
    /// no CORS headers at all, which the browser enforces by hiding the answer. A failing
    /// store also answers `None`: no cross-origin reads while in doubt.
    pub async fn cors_origin(&self, origin: &str, client_id: Option<&str>) -> Option<String> {
        let normalized = cors::request_origin(origin)?;
        match self.store.origin_registered(&normalized, client_id).await {
            Ok(true) => Some(origin.to_owned()),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the registered web origins");
                None
            }
        }
    }

    /// Replaces a confidential client's secret with a new generated one, returned this once.
    pub async fn rotate_client_secret(&self, client_id: &str) -> Result<String, ServiceError> {
        let record = self.find_client(client_id).await?;
        if !record.client.confidential {
            return Err(ServiceError::Invalid("public clients have no secret".into()));
        }
        let secret = random_token(prefix::CLIENT_SECRET);
        self.store.set_client_secret(client_id, &client_secret_record(&secret)).await?;
        self.record(Event::new(kind::CLIENT_SECRET_ROTATED).client(client_id), &Origin::default()).await;
        Ok(secret)
    }

    /// Deletes a client with all its codes, tokens and consents.
    pub async fn delete_client(&self, client_id: &str) -> Result<(), ServiceError> {
        if self.store.delete_client(client_id).await? {
            self.record(Event::new(kind::CLIENT_DELETED).client(client_id), &Origin::default()).await;
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("no client {client_id:?}")))
        }
    }
}
