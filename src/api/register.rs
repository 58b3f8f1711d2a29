//! Signing up.

use leptos::prelude::*;

use super::error::AppError;

/// Opens an account, signs the new user in and continues to `next` (same origin only; the
/// account page by default).
#[server(endpoint = "register")]
pub async fn register(
    csrf: String,
    username: String,
    email: String,
    display_name: String,
    password: String,
    next: String,
) -> Result<String, AppError> {
    use super::ssr;
    use crate::{
        service::users::Registration,
        web::{cookie::session_cookie, next::safe_next},
    };
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = match safe_next(&next) {
        "/" => "/account".to_owned(),
        other => other.to_owned(),
    };
    let registration = Registration {
        username,
        email: Some(email),
        display_name: Some(display_name),
        password: Some(password),
        locale: Some(crate::web::locale::of_request(&parts.uri, &parts.headers).tag().to_owned()),
        ..Registration::default()
    };
    let user = match s.register(registration, &ssr::origin(&parts)).await {
        Ok(user) => user,
        Err(e) => return ssr::fail(&parts, e.into(), "/o/register/"),
    };
    // The operator wants the address proved before the first sign-in: the mail is on its way.
    if s.settings.contacts.require_verified_email && user.email.is_some() && !user.email_verified {
        return ssr::done(&parts, "/o/login/", "check_email");
    }
    let previous = ssr::session_token(&parts);
    match s.start_session(&user, ssr::client_ip(&parts), &ssr::user_agent(&parts), previous.as_deref(), "pwd").await {
        Ok(token) => {
            ssr::set_cookie(&session_cookie(&token, s.secure_cookies()));
            Ok(ssr::go_to(&parts, next))
        }
        Err(_) => ssr::fail(&parts, AppError::Unavailable, "/o/login/"),
    }
}
