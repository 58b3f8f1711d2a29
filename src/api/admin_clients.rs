//! The admin console's `/admin/clients`: every client with the switches only an operator
//! may flip, and registering, editing, rotating the secret of and deleting clients through the
//! calls the admin API makes. A generated secret is shown once, on the next load of the page
//! ([`super::ssr::flash_secret`]).

use leptos::prelude::*;

use super::error::AppError;
use crate::view::AdminClientsView;

/// Where the clients page lives.
pub const CLIENTS_PAGE: &str = "/admin/clients";

/// Every client with its switches.
#[server(endpoint = "admin/clients", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_clients() -> Result<AdminClientsView, AppError> {
    use super::ssr;
    let (s, parts, session) = ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let clients = s.admin_clients(&session).await?;
    let new_secret = ssr::take_secret(&s, &parts, CLIENTS_PAGE, |id| clients.iter().any(|c| c.client_id == id));
    Ok(AdminClientsView { clients, new_secret, csrf: ssr::csrf_token(&parts)? })
}

/// Sets a client's switches. Checkboxes arrive as `Some("on")` when ticked.
#[server(endpoint = "admin/clients/policy")]
#[allow(clippy::too_many_arguments)]
pub async fn set_client_policy(
    csrf: String,
    client_id: String,
    trusted: Option<String>,
    password: Option<String>,
    implicit: Option<String>,
    device_code: Option<String>,
    allowed_origins: Option<String>,
    require_mfa: Option<String>,
    mfa_password_grant: Option<String>,
) -> Result<String, AppError> {
    use crate::service::admin::ClientPolicy;
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let policy = ClientPolicy {
        trusted: trusted.is_some(),
        password: password.is_some(),
        implicit: implicit.is_some(),
        device: device_code.is_some(),
        allowed_origins: allowed_origins.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        require_mfa: require_mfa.is_some(),
        mfa_password_grant: mfa_password_grant.is_some(),
    };
    let result = s.set_client_policy(&session, &client_id, policy).await;
    super::ssr::finish(&parts, CLIENTS_PAGE, "saved", result)
}

/// The grants a console form ticked (checkboxes arrive as `Some("on")`).
#[cfg(feature = "ssr")]
fn ticked(
    grants: [(&str, Option<String>); 5],
) -> Result<Vec<crate::oauth::model::GrantType>, crate::service::ServiceError> {
    grants
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(g, _)| crate::service::client_admin::parse_grant(g))
        .collect()
}

/// One URI per line (or space), blanks dropped.
#[cfg(feature = "ssr")]
fn lines(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Registers a client as an operator; a confidential one's secret is shown once.
#[server(endpoint = "admin/clients/create")]
#[allow(clippy::too_many_arguments)]
pub async fn admin_create_client(
    csrf: String,
    name: String,
    client_type: Option<String>,
    redirect_uris: String,
    authorization_code: Option<String>,
    refresh_token: Option<String>,
    client_credentials: Option<String>,
    device_code: Option<String>,
    password: Option<String>,
    trusted: Option<String>,
) -> Result<String, AppError> {
    use super::ssr;
    use crate::service::clients::ClientSpec;
    let _checked_by_guard = csrf;
    let (s, parts, _) = ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let grants = ticked([
        ("authorization_code", authorization_code),
        ("refresh_token", refresh_token),
        ("client_credentials", client_credentials),
        ("device_code", device_code),
        ("password", password),
    ]);
    let spec = grants.map(|grants| ClientSpec {
        name: name.trim().to_owned(),
        public: client_type.as_deref() == Some("public"),
        redirect_uris: lines(&redirect_uris),
        grants,
        trusted: trusted.is_some(),
        ..ClientSpec::default()
    });
    match spec {
        Ok(spec) => match s.create_client(spec).await {
            Ok(created) => {
                if let Some(secret) = &created.secret {
                    ssr::flash_secret(&s, CLIENTS_PAGE, &created.record.client.client_id, secret);
                }
                ssr::done(&parts, CLIENTS_PAGE, "client_created")
            }
            Err(e) => ssr::fail(&parts, e.into(), CLIENTS_PAGE),
        },
        Err(e) => ssr::fail(&parts, e.into(), CLIENTS_PAGE),
    }
}

/// Saves a client's registration: name, redirect URIs, the code, refresh and
/// client_credentials grants (the switches' grants stay as they are), scopes and logout URIs.
#[server(endpoint = "admin/clients/edit")]
#[allow(clippy::too_many_arguments)]
pub async fn admin_edit_client(
    csrf: String,
    client_id: String,
    name: String,
    redirect_uris: String,
    authorization_code: Option<String>,
    refresh_token: Option<String>,
    client_credentials: Option<String>,
    scopes: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
) -> Result<String, AppError> {
    use crate::{oauth::model::GrantType, service::client_admin::ClientChanges};
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let result = async {
        let current = s.find_client(&client_id).await?.client.grant_types;
        let switched = [GrantType::Password, GrantType::Implicit, GrantType::DeviceCode, GrantType::WechatMiniProgram];
        let mut grants = ticked([
            ("authorization_code", authorization_code),
            ("refresh_token", refresh_token),
            ("client_credentials", client_credentials),
            ("device_code", None),
            ("password", None),
        ])?;
        grants.extend(current.into_iter().filter(|g| switched.contains(g)));
        let backchannel = backchannel_logout_uri.trim().to_owned();
        let changes = ClientChanges {
            name: Some(name.trim().to_owned()),
            redirect_uris: Some(lines(&redirect_uris)),
            grants: Some(grants),
            scopes: Some(lines(&scopes)),
            post_logout_redirect_uris: Some(lines(&post_logout_redirect_uris)),
            backchannel_logout_uri: Some(Some(backchannel).filter(|b| !b.is_empty())),
            ..ClientChanges::default()
        };
        s.update_client(&client_id, &changes, Some(session.user.id)).await.map(|_| ())
    }
    .await;
    super::ssr::finish(&parts, CLIENTS_PAGE, "saved", result)
}

/// Replaces a confidential client's secret; the new one is shown once.
#[server(endpoint = "admin/clients/rotate")]
pub async fn admin_rotate_secret(csrf: String, client_id: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, _) = ssr::signed_in_admin(CLIENTS_PAGE).await?;
    match s.rotate_client_secret(&client_id).await {
        Ok(secret) => {
            ssr::flash_secret(&s, CLIENTS_PAGE, &client_id, &secret);
            ssr::done(&parts, CLIENTS_PAGE, "rotated")
        }
        Err(e) => ssr::fail(&parts, e.into(), CLIENTS_PAGE),
    }
}

/// Deletes a client with its tokens, consents and roles.
#[server(endpoint = "admin/clients/delete")]
pub async fn admin_delete_client(csrf: String, client_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, _) = super::ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let result = s.delete_client(&client_id).await;
    super::ssr::finish(&parts, CLIENTS_PAGE, "client_deleted", result)
}
