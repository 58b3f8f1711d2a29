//! Developer apps: clients that users register for themselves (`/account/apps`). A user sees
//! and changes only their own; someone else's client_id answers exactly like an unknown one.
//! The password and implicit grants are the operator's to switch on (admin pages), so a
//! developer can pick only the code, refresh and client-credentials grants.

use super::{
    clients::{ClientSpec, NewClient},
    present::moment,
    ServiceError, Services,
};
use crate::{oauth::model::GrantType, store::ClientRecord, view::DevApp};

/// The grants a developer may choose.
pub const DEVELOPER_GRANTS: [GrantType; 3] =
    [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials];

/// What the register/edit form sends.
#[derive(Clone, Debug, Default)]
pub struct AppForm {
    /// Shown on the consent page.
    pub name: String,
    /// Public clients (SPAs, native apps) have no secret. Ignored when editing.
    pub public: bool,
    /// Redirect URIs, one per line (or separated by spaces).
    pub redirect_uris: String,
    /// Grant type names from [`DEVELOPER_GRANTS`].
    pub grants: Vec<String>,
    /// Web origins for CORS, one per line (or separated by spaces).
    pub allowed_origins: String,
}

impl AppForm {
    fn redirect_uris(&self) -> Vec<String> {
        self.redirect_uris.split_whitespace().map(str::to_owned).collect()
    }

    fn allowed_origins(&self) -> Vec<String> {
        self.allowed_origins.split_whitespace().map(str::to_owned).collect()
    }

    fn grants(&self) -> Result<Vec<GrantType>, ServiceError> {
        self.grants
            .iter()
            .map(|name| {
                DEVELOPER_GRANTS.into_iter().find(|g| g.as_str() == name).ok_or_else(|| {
                    ServiceError::InvalidField("grants", format!("the grant {name:?} cannot be chosen here"))
                })
            })
            .collect()
    }
}

/// How the pages show a client, on a page made at `now`.
pub fn dev_app(r: &ClientRecord, allowed_origins: Vec<String>, now: i64) -> DevApp {
    DevApp {
        allowed_origins,
        client_id: r.client.client_id.clone(),
        name: r.client.name.clone(),
        confidential: r.client.confidential,
        redirect_uris: r.client.redirect_uris.clone(),
        grant_types: r.client.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
        created_at: moment(r.created_at, now),
    }
}

impl Services {
    /// The user's registered clients.
    pub async fn developer_apps(&self, user_id: i64) -> Result<Vec<DevApp>, ServiceError> {
        let now = self.now();
        let mut apps = Vec::new();
        for r in self.store.clients_owned_by(user_id).await? {
            let origins = self.store.client_origins(&r.client.client_id).await?;
            apps.push(dev_app(&r, origins, now));
        }
        Ok(apps)
    }

    /// Registers a client owned by the user; a confidential one comes with a generated secret.
    pub async fn register_app(&self, user_id: i64, form: &AppForm) -> Result<NewClient, ServiceError> {
        let spec = ClientSpec {
            name: form.name.clone(),
            public: form.public,
            redirect_uris: form.redirect_uris(),
            grants: form.grants()?,
            owner_id: Some(user_id),
            allowed_origins: form.allowed_origins(),
            ..ClientSpec::default()
        };
        if spec.grants.is_empty() {
            return Err(ServiceError::InvalidField("grants", "choose at least one grant type".into()));
        }
        self.create_client(spec).await
    }

    /// Changes name, redirect URIs, web origins and developer-chosen grants; the type, secret, scopes and
    /// the operator's switches (trusted, password, implicit) stay as they are.
    pub async fn edit_app(&self, user_id: i64, client_id: &str, form: &AppForm) -> Result<(), ServiceError> {
        let record = self.owned_client(user_id, client_id).await?;
        let mut grants = form.grants()?;
        if grants.is_empty() {
            return Err(ServiceError::InvalidField("grants", "choose at least one grant type".into()));
        }
        grants.extend(record.client.grant_types.iter().copied().filter(|g| !DEVELOPER_GRANTS.contains(g)));
        let spec = ClientSpec {
            name: form.name.clone(),
            public: !record.client.confidential,
            redirect_uris: form.redirect_uris(),
            grants,
            scopes: record.client.scopes.iter().map(str::to_owned).collect(),
            // An admin trusted the app with the URIs they saw: new ones need consent again
            // until an admin looks.
            trusted: record.client.trusted && form.redirect_uris() == record.client.redirect_uris,
            client_id: Some(record.client.client_id.clone()),
            ..ClientSpec::default()
        };
        let client = self.client_from_spec(&spec)?;
        let origins = super::clients::normalize_origins(&form.allowed_origins())?;
        if self.store.update_client(&client).await? {
            self.store.set_client_origins(client_id, &origins).await?;
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// Replaces the secret of the user's confidential client; the new one is returned once.
    pub async fn rotate_app_secret(&self, user_id: i64, client_id: &str) -> Result<String, ServiceError> {
        self.owned_client(user_id, client_id).await?;
        self.rotate_client_secret(client_id).await
    }

    /// Deletes the user's client with its codes, tokens and consents.
    pub async fn delete_app(&self, user_id: i64, client_id: &str) -> Result<(), ServiceError> {
        self.owned_client(user_id, client_id).await?;
        self.delete_client(client_id).await
    }

    async fn owned_client(&self, user_id: i64, client_id: &str) -> Result<ClientRecord, ServiceError> {
        match self.store.client(client_id).await? {
            Some(r) if r.owner_id == Some(user_id) => Ok(r),
            _ => Err(not_found()),
        }
    }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("no such app among yours".into())
}
