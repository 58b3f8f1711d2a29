//! Signing in and out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

/// What the login page needs from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// The CSRF token the form must carry.
    pub csrf: String,
    /// The signed-in user's name, if a session exists.
    pub signed_in_as: Option<String>,
    /// Whether the sign-up page is open.
    pub registration_open: bool,
    /// Whether the signed-in user may use the admin pages.
    pub admin: bool,
    /// The "Sign in with …" providers.
    pub providers: Vec<super::types::ProviderLink>,
}

/// The CSRF token for this browser and who is signed in. A GET: it changes nothing, so pages
/// reached by client-side navigation can load it without a token.
#[server(endpoint = "login_context", input = leptos::server_fn::codec::GetUrl)]
pub async fn login_context() -> Result<LoginState, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    let user = ssr::session(&s, &parts).await.map(|sess| sess.user);
    let admin = user.as_ref().is_some_and(|u| u.admin);
    let providers = s.providers().iter().map(|p| super::types::ProviderLink { id: p.id.clone(), name: p.name.clone() }).collect();
    Ok(LoginState { csrf, signed_in_as: user.map(|u| u.username), registration_open: s.settings.registration, admin, providers })
}

/// Signs in with a username (or email) and password, then continues to `next` (same origin
/// only). Returns where to go. Like every form's function it takes the `csrf` field, which the
/// CSRF guard has checked before the function runs.
#[server(endpoint = "login")]
pub async fn login(csrf: String, username: String, password: String, next: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    use crate::service::{session::{safe_next, session_cookie}, users::SignInError};
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = safe_next(&next).to_owned();
    let previous = ssr::session_token(&parts);
    match s.log_in(&username, &password, ssr::client_ip(&parts), &ssr::user_agent(&parts), previous.as_deref()).await {
        Ok((token, _user)) => {
            ssr::set_cookie(&session_cookie(&token, s.secure_cookies()));
            Ok(ssr::go_to(&parts, next))
        }
        Err(e) => {
            let e = match e {
                SignInError::BadCredentials => AppError::BadCredentials,
                SignInError::Throttled => AppError::Throttled,
                SignInError::Unavailable => AppError::Unavailable,
            };
            let back = crate::service::authorize::login_page(&next);
            ssr::fail(&parts, e, &back)
        }
    }
}

/// `POST /o/logout/`: ends the session and returns to the login page.
#[server(prefix = "/o", endpoint = "logout/")]
pub async fn logout(csrf: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    if let Some(token) = ssr::session_token(&parts) {
        s.log_out(&token).await;
    }
    ssr::set_cookie(&crate::service::session::clear_session_cookie(s.secure_cookies()));
    Ok(ssr::go_to(&parts, "/o/login/".to_owned()))
}
