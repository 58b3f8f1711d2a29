//! The admin pages' server functions. Every one checks the admin flag; anyone else gets 403.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::{AdminEventsView, AdminUsersView};

/// Where the users page lives.
pub const USERS_PAGE: &str = "/admin/users";
/// Where the security events page lives.
pub const EVENTS_PAGE: &str = "/admin/events";

/// Security events, newest first, filtered by kind (a prefix such as `sign_in`), user
/// (username or email) and address.
#[server(endpoint = "admin/events", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_events(kind: String, user: String, ip: String) -> Result<AdminEventsView, AppError> {
    let (s, _parts, session) = super::ssr::signed_in_admin(EVENTS_PAGE).await?;
    Ok(AdminEventsView { events: s.admin_events(&session, &kind, &user, &ip).await? })
}

/// One page of the users matching `q` (username, email, phone or display name), by id
/// after `after`.
#[server(endpoint = "admin/users", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_users(q: String, after: i64) -> Result<AdminUsersView, AppError> {
    use super::ssr;
    use crate::service::admin::USERS_PER_PAGE;
    let (s, parts, session) = ssr::signed_in_admin(USERS_PAGE).await?;
    let users = s.admin_users(&session, &q, after).await?;
    let next_after = (users.len() as i64 == USERS_PER_PAGE).then(|| users.last().map(|u| u.id)).flatten();
    Ok(AdminUsersView { users, next_after, me: session.user.id, csrf: ssr::csrf_token(&parts)? })
}

/// Where a form about one user goes back to: that user's page when it was posted from there
/// (`back` = "user"), else the list.
#[cfg(feature = "ssr")]
fn back_to(back: Option<&str>, user_id: i64) -> String {
    match back {
        Some("user") => super::admin_users::user_page(user_id),
        _ => USERS_PAGE.to_owned(),
    }
}

/// Disables (`enabled` = "false") or enables an account. Disabling signs the user out
/// everywhere and revokes their tokens.
#[server(endpoint = "admin/users/active")]
pub async fn set_user_enabled(
    csrf: String,
    user_id: i64,
    enabled: bool,
    back: Option<String>,
) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = back_to(back.as_deref(), user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let result = s.set_user_enabled(&session, user_id, enabled).await;
    super::ssr::finish(&parts, &page, if enabled { "enabled" } else { "disabled" }, result)
}

/// Sends a user a verification again (`action` = `verify`) or a password reset (`reset`).
#[server(endpoint = "admin/users/contact")]
pub async fn admin_contact(
    csrf: String,
    user_id: i64,
    action: String,
    back: Option<String>,
) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = back_to(back.as_deref(), user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let result = s.admin_contact_action(&session, user_id, &action).await;
    super::ssr::finish(&parts, &page, "code_sent", result)
}

/// Removes every second factor and recovery code of a user (who lost them).
#[server(endpoint = "admin/users/factors")]
pub async fn reset_user_factors(csrf: String, user_id: i64, back: Option<String>) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = back_to(back.as_deref(), user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let result = s.admin_reset_factors(&session, user_id).await;
    super::ssr::finish(&parts, &page, "factors_reset", result)
}
