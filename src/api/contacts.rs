//! Verified contacts and recovery: the server functions of the account page's "Email and
//! phone" section, the verification link's page, signing in by SMS code, and forgot password.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::ACCOUNT_PAGE;
use super::error::AppError;

/// Where a forgotten password is reset.
pub const FORGOT_PAGE: &str = "/o/password/forgot/";
/// Where the new password is set.
pub const RESET_PAGE: &str = "/o/password/reset/";

/// Which contact a form is about: `phone`, else the email address.
#[cfg(feature = "ssr")]
fn contact_kind(which: &str) -> crate::store::ContactKind {
    if which == "phone" {
        crate::store::ContactKind::Phone
    } else {
        crate::store::ContactKind::Email
    }
}

/// Sends the account's unverified email address (`which` = `email`) or phone number
/// (`phone`) a code again.
#[server(endpoint = "account/contacts/send")]
pub async fn send_verification(csrf: String, which: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(ACCOUNT_PAGE).await?;
    let origin = ssr::origin(&parts);
    let result = match contact_kind(&which) {
        crate::store::ContactKind::Email => s.send_email_verification(&session.user, &origin).await,
        crate::store::ContactKind::Phone => s.send_phone_verification(&session.user, &origin).await,
    };
    ssr::finish(&parts, ACCOUNT_PAGE, "code_sent", result)
}

/// Verifies the account's email address or phone number with the code sent to it.
#[server(endpoint = "account/contacts/verify")]
pub async fn verify_contact(csrf: String, which: String, code: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(ACCOUNT_PAGE).await?;
    let result = s.verify_with_code(&session.user, contact_kind(&which), &code, &ssr::origin(&parts)).await;
    ssr::finish(&parts, ACCOUNT_PAGE, "verified", result)
}

/// Sets (or, empty, removes) the account's phone number and sends it a code.
#[server(endpoint = "account/contacts/phone")]
pub async fn set_phone(csrf: String, phone: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(ACCOUNT_PAGE).await?;
    let what = if phone.trim().is_empty() { "saved" } else { "code_sent" };
    let result = s.set_phone(&session.user, &phone, &ssr::origin(&parts)).await;
    ssr::finish(&parts, ACCOUNT_PAGE, what, result)
}

/// What the verification link's page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The CSRF token the form must carry.
    pub csrf: String,
    /// The address the link is for (masked), or `None` when the link is dead.
    pub address: Option<String>,
}

/// `GET /o/verify/?token=…`: the address the link verifies, without using it up.
#[server(endpoint = "verify_context", input = leptos::server_fn::codec::GetUrl)]
pub async fn verify_context(token: String) -> Result<LinkView, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    Ok(LinkView { csrf, address: s.peek_verification_link(&token).await? })
}

/// `GET /o/password/reset/?token=…`: the address a reset link is for, without using it up.
#[server(endpoint = "reset_context", input = leptos::server_fn::codec::GetUrl)]
pub async fn reset_context(token: String) -> Result<LinkView, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    let address = if token.is_empty() { None } else { s.peek_reset_link(&token).await? };
    Ok(LinkView { csrf, address })
}

/// Confirms the address of a verification link: on to the account page (or the login page,
/// for a browser that is not signed in) saying it is verified.
#[server(endpoint = "verify")]
pub async fn confirm_link(csrf: String, token: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let back = format!("/o/verify/?token={}", crate::web::query::urlencode(&token));
    match s.verify_with_link(&token, &ssr::origin(&parts)).await {
        Ok(_) if ssr::session(&s, &parts).await?.is_some() => ssr::done(&parts, ACCOUNT_PAGE, "verified"),
        Ok(_) => ssr::done(&parts, "/o/login/", "verified"),
        Err(e) => ssr::fail(&parts, e.into(), &back),
    }
}

/// The login page's phone tab, with `extra` (already encoded) after `method=phone`.
#[cfg(feature = "ssr")]
fn phone_tab(next: &str, extra: &str) -> String {
    format!("/o/login/?method=phone&next={}{extra}", crate::web::query::urlencode(next))
}

/// Sends a sign-in code to a phone number, then shows the form for it.
#[server(endpoint = "login/phone/send")]
pub async fn send_sign_in_code(
    csrf: String,
    phone: String,
    next: String,
    captcha: Option<String>,
) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = crate::web::next::safe_next(&next).to_owned();
    let locale = crate::web::locale::of_request(&parts.uri, &parts.headers);
    let origin = ssr::origin(&parts);
    if let Err(e) = s.check_captcha(captcha.as_deref(), &origin).await {
        return ssr::fail(&parts, e.into(), &phone_tab(&next, ""));
    }
    match s.send_sign_in_code(&phone, locale, &origin).await {
        Ok(e164) => {
            let extra = format!("&phone={}&done=code_sent", crate::web::query::urlencode(&e164));
            Ok(ssr::go_to(&parts, phone_tab(&next, &extra)))
        }
        Err(e) => ssr::fail(&parts, e.into(), &phone_tab(&next, "")),
    }
}

/// Signs in with the code sent to a phone number (opening an account for a new number when
/// sign-up is open), then continues to `next` like a password sign-in.
#[server(endpoint = "login/phone")]
pub async fn phone_login(csrf: String, phone: String, code: String, next: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let next = crate::web::next::safe_next(&next).to_owned();
    let origin = ssr::origin(&parts);
    let locale = crate::web::locale::of_request(&parts.uri, &parts.headers);
    let back = phone_tab(&next, &format!("&phone={}", crate::web::query::urlencode(&phone)));
    let user = match s.sign_in_with_code(&phone, &code, locale, &origin).await {
        Ok(user) => user,
        Err(e) => return ssr::fail(&parts, e.into(), &back),
    };
    let previous = ssr::session_token(&parts);
    let remembered = ssr::cookie(&parts, crate::web::cookie::MFA_DEVICE_COOKIE);
    // RFC 8176 §2 `sms`: a code sent by SMS.
    match s.after_first_step(&user, "sms", &origin, previous.as_deref(), remembered.as_deref()).await {
        Ok(step) => Ok(ssr::entered(&s, &parts, step, Some(user.id), &next).await),
        Err(_) => ssr::fail(&parts, AppError::Unavailable, &back),
    }
}

/// Asks for a reset code for an email address or phone number; on to the reset page, which
/// says the same for every address.
#[server(endpoint = "password/forgot")]
pub async fn forgot_password(csrf: String, address: String, captcha: Option<String>) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let locale = crate::web::locale::of_request(&parts.uri, &parts.headers);
    let origin = ssr::origin(&parts);
    if let Err(e) = s.check_captcha(captcha.as_deref(), &origin).await {
        return ssr::fail(&parts, e.into(), FORGOT_PAGE);
    }
    match s.request_reset(&address, locale, &origin).await {
        Ok(to) => Ok(ssr::go_to(&parts, format!("{RESET_PAGE}?to={}", crate::web::query::urlencode(&to)))),
        Err(e) => ssr::fail(&parts, e.into(), FORGOT_PAGE),
    }
}

/// Sets a new password with a reset link's `token`, or with the `code` sent to `to`; every
/// session of the account ends. On to the login page.
#[server(endpoint = "password/reset")]
pub async fn reset_password(
    csrf: String,
    token: Option<String>,
    to: Option<String>,
    code: Option<String>,
    password: String,
) -> Result<String, AppError> {
    use super::ssr;
    use crate::web::query::urlencode;
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let origin = ssr::origin(&parts);
    let (result, back) = match (token.filter(|t| !t.is_empty()), to) {
        (Some(token), _) => {
            (s.reset_with_link(&token, &password, &origin).await, format!("{RESET_PAGE}?token={}", urlencode(&token)))
        }
        (None, Some(to)) => (
            s.reset_with_code(&to, code.as_deref().unwrap_or_default(), &password, &origin).await,
            format!("{RESET_PAGE}?to={}", urlencode(&to)),
        ),
        (None, None) => return ssr::fail(&parts, AppError::StaleLink, FORGOT_PAGE),
    };
    match result {
        Ok(_) => {
            ssr::set_cookie(&crate::web::cookie::clear_session_cookie(s.secure_cookies()));
            ssr::done(&parts, "/o/login/", "reset")
        }
        Err(e) => ssr::fail(&parts, e.into(), &back),
    }
}
