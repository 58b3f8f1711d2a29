//! What an operator or an admin client changes on a registered client after registration:
//! its registration fields, and the admin API scopes that make it an admin client.

use super::{clients::ClientSpec, ServiceError, Services};
use crate::{
    oauth::{
        model::GrantType,
        scope::{is_admin_scope, ADMIN_SCOPES},
    },
    store::{ClientRecord, LogoutSettings},
};

/// Changes to a client: each field given replaces the stored one, an absent one stays. The
/// type (public or confidential), the client_id and the secret never change here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientChanges {
    /// Shown on the consent page.
    pub name: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Grants (empty: `authorization_code refresh_token`).
    pub grants: Option<Vec<GrantType>>,
    /// Scopes (empty: every scope the server offers).
    pub scopes: Option<Vec<String>>,
    /// Skips the consent page.
    pub trusted: Option<bool>,
    /// Where the browser may go after RP-initiated logout.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Where logout tokens go (`Some(None)` removes it).
    pub backchannel_logout_uri: Option<Option<String>>,
    /// Web origins (CORS).
    pub allowed_origins: Option<Vec<String>>,
}

/// A grant by its registered name, `device_code` standing for RFC 8628's URN and
/// `wechat_mini_program` for the mini program login's.
pub fn parse_grant(g: &str) -> Result<GrantType, ServiceError> {
    match g {
        "device_code" => Ok(GrantType::DeviceCode),
        "wechat_mini_program" => Ok(GrantType::WechatMiniProgram),
        _ => g
            .parse::<GrantType>()
            .map_err(|_| ServiceError::InvalidField("grant_types", format!("unknown grant {g:?}"))),
    }
}

fn no_client(client_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no client {client_id:?}"))
}

impl Services {
    /// Applies `changes` with the registration rules ([`Services::create_client`]); the
    /// stored client afterwards.
    pub async fn update_client(
        &self,
        client_id: &str,
        changes: &ClientChanges,
        actor: Option<i64>,
    ) -> Result<ClientRecord, ServiceError> {
        let record = self.find_client(client_id).await?;
        let c = &record.client;
        let spec = ClientSpec {
            name: changes.name.clone().unwrap_or_else(|| c.name.clone()),
            public: !c.confidential,
            redirect_uris: changes.redirect_uris.clone().unwrap_or_else(|| c.redirect_uris.clone()),
            grants: changes.grants.clone().unwrap_or_else(|| c.grant_types.clone()),
            scopes: changes.scopes.clone().unwrap_or_else(|| c.scopes.iter().map(str::to_owned).collect()),
            trusted: changes.trusted.unwrap_or(c.trusted),
            client_id: Some(c.client_id.clone()),
            ..ClientSpec::default()
        };
        let client = self.client_from_spec(&spec)?;
        let before = self.store.client_logout(client_id).await?.unwrap_or_default();
        let logout = LogoutSettings {
            post_logout_redirect_uris: changes
                .post_logout_redirect_uris
                .clone()
                .unwrap_or_else(|| before.post_logout_redirect_uris.clone()),
            backchannel_logout_uri: changes
                .backchannel_logout_uri
                .clone()
                .unwrap_or_else(|| before.backchannel_logout_uri.clone()),
        };
        super::clients::validate_logout(&logout)?;
        let origins = match &changes.allowed_origins {
            Some(raw) => Some(super::clients::normalize_origins(raw)?),
            None => None,
        };
        if !self.store.update_client(&client).await? {
            return Err(no_client(client_id));
        }
        if logout != before {
            self.store.set_client_logout(client_id, &logout).await?;
        }
        if let Some(origins) = origins {
            self.store.set_client_origins(client_id, &origins).await?;
        }
        self.admin_event(actor, format!("update_client {client_id}")).await;
        self.find_client(client_id).await
    }

    /// The admin API scopes an operator gave the client, sorted.
    pub async fn client_admin_scopes(&self, client_id: &str) -> Result<Vec<String>, ServiceError> {
        let raw = self.store.client_admin_scopes(client_id).await?.ok_or_else(|| no_client(client_id))?;
        let mut scopes: Vec<String> = raw.split_whitespace().filter(|s| is_admin_scope(s)).map(str::to_owned).collect();
        scopes.sort();
        Ok(scopes)
    }

    /// Makes the client an admin client holding `scopes` (each one of [`ADMIN_SCOPES`]), or an
    /// ordinary one again with none. Admin scopes are obtained through the client_credentials
    /// grant only, so the client must be confidential and registered for it. Tokens already
    /// issued lose what was taken away at once: the admin API checks the client's scopes on
    /// every request.
    pub async fn set_client_admin_scopes(
        &self,
        client_id: &str,
        scopes: &[String],
        actor: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let record = self.find_client(client_id).await?;
        let mut chosen: Vec<String> = Vec::new();
        for s in scopes.iter().flat_map(|s| s.split([' ', ','])).filter(|s| !s.is_empty()) {
            if !is_admin_scope(s) {
                let known = ADMIN_SCOPES.join(", ");
                return Err(ServiceError::InvalidField(
                    "admin_scopes",
                    format!("{s:?} is not an admin scope ({known})"),
                ));
            }
            if !chosen.iter().any(|c| c == s) {
                chosen.push(s.to_owned());
            }
        }
        chosen.sort();
        let c = &record.client;
        let may_hold = c.confidential && c.grant_types.contains(&GrantType::ClientCredentials);
        if !chosen.is_empty() && !may_hold {
            return Err(ServiceError::Invalid(
                "admin scopes need a confidential client with the client_credentials grant".into(),
            ));
        }
        if !self.store.set_client_admin_scopes(client_id, &chosen.join(" ")).await? {
            return Err(no_client(client_id));
        }
        self.admin_event(actor, format!("admin_scopes {client_id} {}", chosen.join(" "))).await;
        Ok(chosen)
    }
}
