//! The admin console's `/admin/groups`: create, rename and delete groups, add and remove
//! members (by username), give and take back roles of clients. Each is the admin check, then
//! the service call the admin API makes for the same change.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::AdminGroupsView;

/// Where the groups page lives.
pub const GROUPS_PAGE: &str = "/admin/groups";

/// Every group with its members and roles.
#[server(endpoint = "admin/groups", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_groups() -> Result<AdminGroupsView, AppError> {
    use super::ssr;
    let (s, parts, session) = ssr::signed_in_admin(GROUPS_PAGE).await?;
    Ok(s.admin_groups_view(&session, ssr::csrf_token(&parts)?).await?)
}

/// Creates a group.
#[server(endpoint = "admin/groups/create")]
pub async fn admin_create_group(csrf: String, name: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(GROUPS_PAGE).await?;
    let result = s.create_group(&name, Some(session.user.id)).await.map(|_| ());
    super::ssr::finish(&parts, GROUPS_PAGE, "group_created", result)
}

/// Renames a group.
#[server(endpoint = "admin/groups/rename")]
pub async fn admin_rename_group(csrf: String, group_id: i64, name: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(GROUPS_PAGE).await?;
    let result = s.rename_group(group_id, &name, Some(session.user.id)).await.map(|_| ());
    super::ssr::finish(&parts, GROUPS_PAGE, "saved", result)
}

/// Deletes a group with its memberships and role assignments.
#[server(endpoint = "admin/groups/delete")]
pub async fn admin_delete_group(csrf: String, group_id: i64) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(GROUPS_PAGE).await?;
    let result = s.delete_group(group_id, Some(session.user.id)).await.map(|_| ());
    super::ssr::finish(&parts, GROUPS_PAGE, "group_deleted", result)
}

/// Adds the user named `login` (username or email) to a group (`member` = "true"), or
/// removes them.
#[server(endpoint = "admin/groups/member")]
pub async fn admin_group_member(csrf: String, group_id: i64, login: String, member: bool) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in_admin(GROUPS_PAGE).await?;
    let actor = Some(session.user.id);
    let result = match s.find_user(login.trim()).await {
        Ok(user) if member => s.add_group_member(group_id, user.id, actor).await.map(|_| ()),
        Ok(user) => s.remove_group_member(group_id, user.id, actor).await.map(|_| ()),
        Err(e) => Err(e),
    };
    super::ssr::finish(&parts, GROUPS_PAGE, "saved", result)
}

/// Gives a role of a client (`held` = "true") or takes it back, from the user `user_id` or
/// the group `group_id` (exactly one), then back to that holder's page.
#[server(endpoint = "admin/roles")]
pub async fn admin_role(
    csrf: String,
    client_id: String,
    role: String,
    held: bool,
    user_id: Option<i64>,
    group_id: Option<i64>,
) -> Result<String, AppError> {
    use crate::{service::ServiceError, store::RoleHolder};
    let _checked_by_guard = csrf;
    let (holder, page) = match (user_id, group_id) {
        (Some(id), None) => (Some(RoleHolder::User(id)), super::admin_users::user_page(id)),
        (None, Some(id)) => (Some(RoleHolder::Group(id)), GROUPS_PAGE.to_owned()),
        _ => (None, GROUPS_PAGE.to_owned()),
    };
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let result = match holder {
        Some(holder) => s.admin_set_role(&session, &client_id, &role, holder, held).await,
        None => Err(ServiceError::Invalid("a role goes to one user or one group".into())),
    };
    super::ssr::finish(&parts, &page, "saved", result)
}
