//! The account page's server functions: each checks the session, then makes one service call.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::AccountView;

/// Where the account page lives.
pub const ACCOUNT_PAGE: &str = "/account";

#[cfg(feature = "ssr")]
fn confirm_error(e: crate::service::account::ConfirmError) -> AppError {
    use crate::service::account::ConfirmError as E;
    match e {
        E::WrongCurrent => AppError::WrongPassword,
        E::Throttled { retry_after } => AppError::throttled(retry_after),
        E::Invalid(m) => AppError::Invalid(m),
        E::Unavailable => AppError::Unavailable,
    }
}

/// What the account page shows; sends signed-out visitors to the login page. A GET, like
/// every read.
#[server(endpoint = "account", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_account() -> Result<AccountView, AppError> {
    let (s, parts, session) = super::ssr::signed_in(ACCOUNT_PAGE).await?;
    let csrf = super::ssr::csrf_token(&parts)?;
    Ok(s.account_view(&session, csrf).await?)
}

/// Saves display name and email.
#[server(endpoint = "account/profile")]
pub async fn update_profile(csrf: String, display_name: String, email: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in(ACCOUNT_PAGE).await?;
    let result = s.update_profile(session.user.id, &display_name, &email).await;
    super::ssr::finish(&parts, ACCOUNT_PAGE, "profile", result)
}

/// Changes the password; other sessions end and refresh tokens are revoked.
#[server(endpoint = "account/password")]
pub async fn change_password(csrf: String, current_password: String, new_password: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(ACCOUNT_PAGE).await?;
    match s.change_password(&session, &current_password, &new_password, &ssr::origin(&parts)).await {
        Ok(()) => ssr::done(&parts, ACCOUNT_PAGE, "password"),
        Err(e) => ssr::fail(&parts, confirm_error(e), ACCOUNT_PAGE),
    }
}

/// Deletes the account after checking the password, signs the browser out and says goodbye
/// on the login page.
#[server(endpoint = "account/delete")]
pub async fn delete_account(csrf: String, password: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(ACCOUNT_PAGE).await?;
    match s.delete_account(&session, &password, &ssr::origin(&parts)).await {
        Ok(()) => {
            ssr::set_cookie(&crate::web::cookie::clear_session_cookie(s.secure_cookies()));
            Ok(ssr::go_to(&parts, "/o/login/?done=account_deleted".to_owned()))
        }
        Err(e) => ssr::fail(&parts, confirm_error(e), ACCOUNT_PAGE),
    }
}

/// Revokes an authorized app: its consent and every token it holds for this user.
#[server(endpoint = "account/revoke")]
pub async fn revoke_app(csrf: String, client_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in(ACCOUNT_PAGE).await?;
    let result = s.revoke_app(session.user.id, &client_id).await;
    super::ssr::finish(&parts, ACCOUNT_PAGE, "revoked", result)
}

/// Signs out one browser (`session_id` as listed) or, with an empty id, every other browser.
#[server(endpoint = "account/sessions")]
pub async fn end_sessions(csrf: String, session_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = super::ssr::signed_in(ACCOUNT_PAGE).await?;
    let which = (!session_id.is_empty()).then_some(session_id.as_str());
    let result = s.end_sessions(&session, which).await;
    super::ssr::finish(&parts, ACCOUNT_PAGE, "sessions", result)
}
