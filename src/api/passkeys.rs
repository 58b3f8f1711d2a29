//! Passkeys: the server functions behind `public/passkey.js`. Each ceremony has two calls: an
//! `…/options` call, which the script makes with `fetch` and which answers the ceremony's id
//! and the options for `navigator.credentials.create()` / `.get()` as JSON text; then the
//! authenticator's answer, which the script posts with a plain form, so the answer is a
//! redirect like every other form's (`?done=…`, `?error=…`).

use leptos::prelude::*;

use super::error::AppError;

#[cfg(feature = "ssr")]
fn passkey_error(e: crate::service::passkeys::PasskeyError) -> AppError {
    use crate::service::passkeys::PasskeyError as E;
    match e {
        E::NotOffered => AppError::PasskeysOff,
        E::Expired => AppError::PasskeyExpired,
        E::Refused => AppError::PasskeyRefused,
        E::Duplicate => AppError::PasskeyDuplicate,
        E::BadName => AppError::PasskeyName,
        E::NotFound => AppError::NoSuchFactor,
        E::WrongPassword => AppError::WrongPassword,
        E::Throttled { retry_after } => AppError::throttled(retry_after),
        E::SignInExpired => AppError::SignInExpired,
        E::Unavailable => AppError::Unavailable,
    }
}

#[cfg(feature = "ssr")]
fn options_json(start: crate::service::passkeys::CeremonyStart) -> Result<String, AppError> {
    serde_json::to_string(&start).map_err(|_| AppError::Unavailable)
}

/// Starts registering a passkey for the signed-in account.
#[server(endpoint = "account/security/passkey/options")]
pub async fn passkey_registration_options(csrf: String) -> Result<String, AppError> {
    use super::{factors::SECURITY_PAGE, ssr};
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.begin_passkey_registration(&session.user).await {
        Ok(start) => options_json(start),
        Err(e) => ssr::fail(&parts, passkey_error(e), SECURITY_PAGE),
    }
}

/// Finishes registering a passkey: the authenticator's answer (`credential`, JSON) to the
/// ceremony, stored under `name`.
#[server(endpoint = "account/security/passkey")]
pub async fn add_passkey(csrf: String, ceremony: String, name: String, credential: String) -> Result<String, AppError> {
    use super::{factors::SECURITY_PAGE, ssr};
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.finish_passkey_registration(&session, &ceremony, &name, &credential, &ssr::origin(&parts)).await {
        Ok(()) => ssr::done(&parts, SECURITY_PAGE, "passkey_added"),
        Err(e) => ssr::fail(&parts, passkey_error(e), SECURITY_PAGE),
    }
}

/// Removes a passkey after the password.
#[server(endpoint = "account/security/passkey/remove")]
pub async fn remove_passkey(csrf: String, passkey_id: i64, password: String) -> Result<String, AppError> {
    use super::{factors::SECURITY_PAGE, ssr};
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.remove_passkey(&session, passkey_id, &password, &ssr::origin(&parts)).await {
        Ok(()) => ssr::done(&parts, SECURITY_PAGE, "passkey_removed"),
        Err(e) => ssr::fail(&parts, passkey_error(e), SECURITY_PAGE),
    }
}

/// Starts the second step of the pending sign-in this browser holds, with a passkey.
#[server(endpoint = "login/mfa/passkey/options")]
pub async fn passkey_second_step_options(csrf: String) -> Result<String, AppError> {
    use super::ssr;
    use crate::web::{cookie::MFA_PENDING_COOKIE, next::login_page};
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let Some(pending) = ssr::cookie(&parts, MFA_PENDING_COOKIE) else {
        return ssr::fail(&parts, AppError::SignInExpired, &login_page("/"));
    };
    match s.begin_pending_passkey_step(&pending).await {
        Ok(start) => options_json(start),
        Err(e) => ssr::fail(&parts, passkey_error(e), super::factors::SECOND_STEP_PAGE),
    }
}

/// The second step of signing in with a passkey; then the session opens and the browser
/// continues to `next`, as after a code.
#[server(endpoint = "login/mfa/passkey")]
pub async fn login_passkey_second_step(
    csrf: String,
    ceremony: String,
    credential: String,
    next: String,
    remember: Option<String>,
) -> Result<String, AppError> {
    use crate::service::passkeys::PasskeyError;
    let _checked_by_guard = csrf;
    let step = match super::factors::SecondStep::begin(&next) {
        Ok(step) => step,
        Err(answer) => return answer,
    };
    let previous = super::ssr::session_token(&step.parts);
    let origin = super::ssr::origin(&step.parts);
    let result =
        step.s.finish_passkey_second_step(&step.pending, &ceremony, &credential, &origin, previous.as_deref()).await;
    step.finish(result, remember.is_some(), |e| matches!(e, PasskeyError::SignInExpired), passkey_error).await
}

/// Starts a sign-in with a passkey alone (no username: the authenticator offers its
/// discoverable credentials).
#[server(endpoint = "login/passkey/options")]
pub async fn passkey_sign_in_options(csrf: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    match s.begin_passkey_sign_in().await {
        Ok(start) => options_json(start),
        Err(e) => ssr::fail(&parts, passkey_error(e), "/o/login/"),
    }
}

/// Signs in with a passkey alone, then continues to `next`.
#[server(endpoint = "login/passkey")]
pub async fn login_with_passkey(
    csrf: String,
    ceremony: String,
    credential: String,
    next: String,
) -> Result<String, AppError> {
    use super::ssr;
    use crate::{
        service::session::FirstStep,
        web::next::{login_page, safe_next},
    };
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = safe_next(&next).to_owned();
    let previous = ssr::session_token(&parts);
    match s.finish_passkey_sign_in(&ceremony, &credential, &ssr::origin(&parts), previous.as_deref()).await {
        Ok((token, user)) => Ok(ssr::entered(&s, &parts, FirstStep::Session(token), Some(user.id), &next).await),
        Err(e) => ssr::fail(&parts, passkey_error(e), &login_page(&next)),
    }
}
