//! The account page's server functions: each checks the session, then makes one service call.

use leptos::prelude::*;

use super::{error::AppError, types::AccountView};

/// Where the account page lives.
pub const ACCOUNT_PAGE: &str = "/account";

#[cfg(feature = "ssr")]
async fn signed_in() -> Result<(crate::service::Services, axum::http::request::Parts, crate::service::session::Session), AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    match ssr::session(&s, &parts).await {
        Some(session) => Ok((s, parts, session)),
        None => ssr::fail(&parts, AppError::SignedOut, &crate::service::authorize::login_url(ACCOUNT_PAGE)),
    }
}

#[cfg(feature = "ssr")]
fn done(parts: &axum::http::request::Parts, what: &str) -> Result<String, AppError> {
    Ok(super::ssr::go_to(parts, format!("{ACCOUNT_PAGE}?done={what}")))
}

#[cfg(feature = "ssr")]
fn service_error(e: crate::service::ServiceError) -> AppError {
    use crate::service::ServiceError as E;
    match e {
        E::Invalid(m) | E::Conflict(m) | E::NotFound(m) => AppError::Invalid(m),
        E::InvalidField(field, message) => AppError::Field { field: field.to_owned(), message },
        E::Store(_) | E::Hash(_) => AppError::Unavailable,
    }
}

/// What the account page shows; sends signed-out visitors to the login page. A GET, like
/// every read.
#[server(endpoint = "account", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_account() -> Result<AccountView, AppError> {
    let (s, parts, session) = signed_in().await?;
    let csrf = super::ssr::csrf_token(&parts)?;
    s.account_view(&session, csrf).await.map_err(service_error)
}

/// Saves display name and email.
#[server(endpoint = "account/profile")]
pub async fn update_profile(csrf: String, display_name: String, email: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = signed_in().await?;
    match s.update_profile(session.user.id, &display_name, &email).await {
        Ok(()) => done(&parts, "profile"),
        Err(e) => super::ssr::fail(&parts, service_error(e), ACCOUNT_PAGE),
    }
}

/// Changes the password; other sessions end and refresh tokens are revoked.
#[server(endpoint = "account/password")]
pub async fn change_password(csrf: String, current_password: String, new_password: String) -> Result<String, AppError> {
    use crate::service::account::PasswordChangeError as E;
    let _checked_by_guard = csrf;
    let (s, parts, session) = signed_in().await?;
    match s.change_password(&session, &current_password, &new_password).await {
        Ok(()) => done(&parts, "password"),
        Err(e) => {
            let e = match e {
                E::WrongCurrent => AppError::WrongPassword,
                E::Invalid(m) => AppError::Invalid(m),
                E::Unavailable => AppError::Unavailable,
            };
            super::ssr::fail(&parts, e, ACCOUNT_PAGE)
        }
    }
}

/// Revokes an authorized app: its consent and every token it holds for this user.
#[server(endpoint = "account/revoke")]
pub async fn revoke_app(csrf: String, client_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = signed_in().await?;
    match s.revoke_app(session.user.id, &client_id).await {
        Ok(()) => done(&parts, "revoked"),
        Err(e) => super::ssr::fail(&parts, service_error(e), ACCOUNT_PAGE),
    }
}

/// Signs out one browser (`session_id` as listed) or, with an empty id, every other browser.
#[server(endpoint = "account/sessions")]
pub async fn end_sessions(csrf: String, session_id: String) -> Result<String, AppError> {
    let _checked_by_guard = csrf;
    let (s, parts, session) = signed_in().await?;
    let which = (!session_id.is_empty()).then_some(session_id.as_str());
    match s.end_sessions(&session, which).await {
        Ok(()) => done(&parts, "sessions"),
        Err(e) => super::ssr::fail(&parts, service_error(e), ACCOUNT_PAGE),
    }
}
