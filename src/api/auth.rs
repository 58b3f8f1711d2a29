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
    pub providers: Vec<crate::view::ProviderLink>,
    /// Whether signing in with a code sent by SMS is offered.
    pub phone_sign_in: bool,
    /// The CAPTCHA the forms that send codes carry, if it is on.
    pub captcha: Option<crate::view::CaptchaWidget>,
    /// Whether "Sign in with a passkey" is offered (the issuer is a host name).
    pub passkeys: bool,
}

/// The CSRF token for this browser and who is signed in. A GET: it changes nothing, so pages
/// reached by client-side navigation can load it without a token.
#[server(endpoint = "login_context", input = leptos::server_fn::codec::GetUrl)]
pub async fn login_context() -> Result<LoginState, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    let user = ssr::session(&s, &parts).await?.map(|sess| sess.user);
    let admin = user.as_ref().is_some_and(|u| u.admin);
    let user_agent =
        parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let providers = s
        .offered_providers(user_agent)
        .into_iter()
        .map(|p| {
            // A preset's own name has its Chinese name; a name the operator chose is kept as is.
            let preset = p.preset.filter(|preset| preset.name() == p.name);
            crate::view::ProviderLink {
                id: p.id.clone(),
                name: p.name.clone(),
                name_zh: preset.map(|preset| preset.name_zh().to_owned()).filter(|zh| *zh != p.name),
                icon: p.preset.and_then(|preset| preset.icon()).map(str::to_owned),
            }
        })
        .collect();
    Ok(LoginState {
        csrf,
        signed_in_as: user.map(|u| u.username),
        registration_open: s.settings.registration,
        admin,
        providers,
        phone_sign_in: s.settings.contacts.phone_sign_in,
        captcha: s.captcha_widget().await?,
        passkeys: s.passkeys_offered(),
    })
}

/// Signs in with a username (or email) and password, then continues to `next` (same origin
/// only). Returns where to go. Like every form's function it takes the `csrf` field, which the
/// CSRF guard has checked before the function runs.
#[server(endpoint = "login")]
pub async fn login(csrf: String, username: String, password: String, next: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    use crate::{service::users::SignInError, web::next::safe_next};
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = safe_next(&next).to_owned();
    let previous = ssr::session_token(&parts);
    let remembered = ssr::cookie(&parts, crate::web::cookie::MFA_DEVICE_COOKIE);
    match s.log_in(&username, &password, &ssr::origin(&parts), previous.as_deref(), remembered.as_deref()).await {
        Ok((step, user)) => Ok(ssr::entered(&s, &parts, step, Some(user.id), &next).await),
        Err(e) => {
            let e = match e {
                SignInError::BadCredentials => AppError::BadCredentials,
                SignInError::Throttled { retry_after } => AppError::throttled(retry_after),
                SignInError::Unavailable => AppError::Unavailable,
                SignInError::EmailNotVerified => AppError::EmailNotVerified,
            };
            let back = crate::web::next::login_page(&next);
            ssr::fail(&parts, e, &back)
        }
    }
}

/// The RP-initiated logout parameters, as the logout page carries them to its form.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogoutParams {
    /// An ID Token the client holds.
    pub id_token_hint: Option<String>,
    /// Where the client wants the browser afterwards.
    pub post_logout_redirect_uri: Option<String>,
    /// Returned to the client.
    pub state: Option<String>,
    /// The client, when there is no hint.
    pub client_id: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<LogoutParams> for crate::service::logout::LogoutRequest {
    fn from(p: LogoutParams) -> Self {
        Self {
            id_token_hint: p.id_token_hint,
            post_logout_redirect_uri: p.post_logout_redirect_uri,
            state: p.state,
            client_id: p.client_id,
        }
    }
}

/// What the logout page shows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogoutView {
    /// Token for the form.
    pub csrf: String,
    /// Who is signed in, if anyone.
    pub signed_in_as: Option<String>,
    /// The client that asked, by name.
    pub client_name: Option<String>,
    /// Where the browser will go afterwards.
    pub target: Option<String>,
    /// Why the client's request cannot be followed (the user may still sign out).
    pub problem: Option<String>,
}

/// `GET /o/logout/` (RP-initiated logout): what the confirmation page needs. Signing out
/// itself is a POST with the page's CSRF token, so a link alone never ends a session.
#[server(endpoint = "logout_context", input = leptos::server_fn::codec::GetUrl)]
pub async fn logout_context(params: LogoutParams) -> Result<LogoutView, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    let signed_in_as = ssr::session(&s, &parts).await?.map(|sess| sess.user.username);
    let (client_name, target, problem) = match s.plan_logout(&params.into()).await {
        Ok(plan) => (plan.client_name, plan.target, None),
        Err(crate::service::ServiceError::Invalid(why)) => (None, None, Some(why)),
        Err(_) => return Err(AppError::Unavailable),
    };
    Ok(LogoutView { csrf, signed_in_as, client_name, target, problem })
}

/// `POST /o/logout/`: ends the session (telling the clients that took part in it) and sends
/// the browser to the client's registered `post_logout_redirect_uri`, or to the login page.
#[server(prefix = "/o", endpoint = "logout/")]
pub async fn logout(
    csrf: String,
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let params = LogoutParams { id_token_hint, post_logout_redirect_uri, state, client_id };
    // Checked before the session ends: the hint is verified with the keys, not the session.
    let target = s.plan_logout(&params.into()).await.ok().and_then(|p| p.target);
    if let Some(token) = ssr::session_token(&parts) {
        s.log_out(&token).await;
    }
    ssr::set_cookie(&crate::web::cookie::clear_session_cookie(s.secure_cookies()));
    Ok(ssr::go_to(&parts, target.unwrap_or_else(|| "/o/login/?done=signed_out".to_owned())))
}
