//! The admin console's account pages: creating a user from `/admin/users`, and everything
//! `/admin/users/{id}` does to one account. Each is the admin check, then the service call the
//! admin API makes for the same change, with the admin recorded as the actor.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::AdminUserView;

/// The page of user `id`.
pub fn user_page(id: i64) -> String {
    format!("{}/{id}", super::admin::USERS_PAGE)
}

/// Everything `/admin/users/{id}` shows.
#[server(endpoint = "admin/user", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_admin_user(id: i64) -> Result<AdminUserView, AppError> {
    use super::ssr;
    let (s, parts, session) = ssr::signed_in_admin(&user_page(id)).await?;
    Ok(s.admin_user_view(&session, id, ssr::csrf_token(&parts)?).await?)
}

/// Creates an account (with a password, or none and optionally an invitation to choose one)
/// and opens its page. Checkboxes arrive as `Some("on")` when ticked.
#[server(endpoint = "admin/users/create")]
pub async fn admin_create_user(
    csrf: String,
    username: String,
    email: String,
    display_name: String,
    password: String,
    invite: Option<String>,
    admin: Option<String>,
) -> Result<String, AppError> {
    use super::{admin::USERS_PAGE, ssr};
    use crate::service::users::Registration;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in_admin(USERS_PAGE).await?;
    let registration = Registration {
        username,
        email: Some(email.trim().to_owned()).filter(|e| !e.is_empty()),
        display_name: Some(display_name.trim().to_owned()).filter(|n| !n.is_empty()),
        password: Some(password).filter(|p| !p.is_empty()),
        admin: admin.is_some(),
        email_verified: false,
        locale: None,
    };
    match s.create_account(registration, invite.is_some(), Some(session.user.id), None).await {
        Ok(user) => ssr::done(&parts, &user_page(user.id), if invite.is_some() { "invited" } else { "user_created" }),
        Err(e) => ssr::fail(&parts, e.into(), USERS_PAGE),
    }
}

/// Saves a user's display name, email address and phone number (a new address or number is
/// unverified).
#[server(endpoint = "admin/user/profile")]
pub async fn admin_save_profile(
    csrf: String,
    user_id: i64,
    display_name: String,
    email: String,
    phone_number: String,
) -> Result<String, AppError> {
    use crate::service::user_admin::ProfileChanges;
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, _) = super::ssr::signed_in_admin(&page).await?;
    let changes = ProfileChanges {
        display_name: Some(display_name),
        email: Some(email.trim().to_owned()),
        phone_number: Some(phone_number),
    };
    let result = s.change_profile(user_id, &changes).await.map(|_| ());
    super::ssr::finish(&parts, &page, "saved", result)
}

/// Sets a user's password: their sessions end and their tokens are revoked.
#[server(endpoint = "admin/user/password")]
pub async fn admin_set_password(csrf: String, user_id: i64, password: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, _) = super::ssr::signed_in_admin(&page).await?;
    let result = s.set_password_of(user_id, &password).await;
    super::ssr::finish(&parts, &page, "password_set", result)
}

/// Mails the user an invitation to choose their password.
#[server(endpoint = "admin/user/invite")]
pub async fn admin_invite(csrf: String, user_id: i64) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let result = s.invite_user(user_id, Some(session.user.id)).await;
    super::ssr::finish(&parts, &page, "invited", result)
}

/// Ends one session of the user (`session_id`), or all of them (none given).
#[server(endpoint = "admin/user/sessions")]
pub async fn admin_end_sessions(csrf: String, user_id: i64, session_id: Option<String>) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let actor = Some(session.user.id);
    let result = match session_id.filter(|id| !id.is_empty()) {
        Some(id) => s.end_session_of(user_id, &id, actor).await.map(|_| ()),
        None => s.end_sessions_of(user_id, actor).await,
    };
    super::ssr::finish(&parts, &page, "sessions_ended", result)
}

/// Withdraws the user's consent for a client and revokes its tokens for them.
#[server(endpoint = "admin/user/consent")]
pub async fn admin_revoke_consent(csrf: String, user_id: i64, client_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, _) = super::ssr::signed_in_admin(&page).await?;
    let result = s.revoke_grant_of(user_id, &client_id).await;
    super::ssr::finish(&parts, &page, "revoked", result)
}

/// Adds the user to a group (`member` = "true") or removes them from it.
#[server(endpoint = "admin/user/group")]
pub async fn admin_user_group(csrf: String, user_id: i64, group_id: i64, member: bool) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    let actor = Some(session.user.id);
    let result = if member {
        s.add_group_member(group_id, user_id, actor).await.map(|_| ())
    } else {
        s.remove_group_member(group_id, user_id, actor).await.map(|_| ())
    };
    super::ssr::finish(&parts, &page, "saved", result)
}

/// Deletes the account (its sessions, tokens, consents and memberships go with it), then
/// back to the user list.
#[server(endpoint = "admin/user/delete")]
pub async fn admin_delete_user(csrf: String, user_id: i64) -> Result<String, AppError> {
    use super::admin::USERS_PAGE;
    use crate::service::ServiceError;
    let _checked_by_guard = csrf;
    let page = user_page(user_id);
    let (s, parts, session) = super::ssr::signed_in_admin(&page).await?;
    if user_id == session.user.id {
        let own = ServiceError::Invalid("you cannot delete your own account here".into());
        return super::ssr::fail(&parts, own.into(), &page);
    }
    match s.delete_user(user_id, Some(session.user.id)).await {
        Ok(_) => super::ssr::done(&parts, USERS_PAGE, "user_deleted"),
        Err(e) => super::ssr::fail(&parts, e.into(), &page),
    }
}
