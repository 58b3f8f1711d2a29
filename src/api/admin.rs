//! The admin pages' server functions. Every one checks the admin flag; anyone else gets 403.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::{AdminClientsView, AdminEventsView, AdminUsersView};

/// Where the users page lives.
pub const USERS_PAGE: &str = "/admin/users";
/// Where the clients page lives.
pub const CLIENTS_PAGE: &str = "/admin/clients";
/// Where the security events page lives.
pub const EVENTS_PAGE: &str = "/admin/events";

/// Security events, newest first, filtered by kind (a prefix such as `sign_in`), user
/// (username or email) and address.
#[server(endpoint = "admin/events", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_events(kind: String, user: String, ip: String) -> Result<AdminEventsView, AppError> {
    let (s, _parts, session) = super::ssr::signed_in_admin(EVENTS_PAGE).await?;
    Ok(AdminEventsView { events: s.admin_events(&session, &kind, &user, &ip).await? })
}

/// Users matching `q` (username, email or display name).
#[server(endpoint = "admin/users", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_users(q: String) -> Result<AdminUsersView, AppError> {
    use super::ssr;
    let (s, parts, session) = ssr::signed_in_admin(USERS_PAGE).await?;
    let users = s.admin_users(&session, &q).await?;
    Ok(AdminUsersView { users, me: session.user.id, csrf: ssr::csrf_token(&parts)? })
}

/// Disables (`enabled` = "false") or enables an account. Disabling signs the user out
/// everywhere and revokes their tokens.
#[server(endpoint = "admin/users/active")]
pub async fn set_user_enabled(csrf: String, user_id: i64, enabled: bool) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(USERS_PAGE).await?;
    let result = s.set_user_enabled(&session, user_id, enabled).await;
    super::ssr::finish(&parts, USERS_PAGE, if enabled { "enabled" } else { "disabled" }, result)
}

/// Sends a user a verification again (`action` = `verify`) or a password reset (`reset`).
#[server(endpoint = "admin/users/contact")]
pub async fn admin_contact(csrf: String, user_id: i64, action: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(USERS_PAGE).await?;
    let result = s.admin_contact_action(&session, user_id, &action).await;
    super::ssr::finish(&parts, USERS_PAGE, "code_sent", result)
}

/// Removes every second factor and recovery code of a user (who lost them).
#[server(endpoint = "admin/users/factors")]
pub async fn reset_user_factors(csrf: String, user_id: i64) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(USERS_PAGE).await?;
    let result = s.admin_reset_factors(&session, user_id).await;
    super::ssr::finish(&parts, USERS_PAGE, "factors_reset", result)
}

/// Every client with its switches.
#[server(endpoint = "admin/clients", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_clients() -> Result<AdminClientsView, AppError> {
    use super::ssr;
    let (s, parts, session) = ssr::signed_in_admin(CLIENTS_PAGE).await?;
    let clients = s.admin_clients(&session).await?;
    Ok(AdminClientsView { clients, csrf: ssr::csrf_token(&parts)? })
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
