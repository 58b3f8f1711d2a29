//! Server-side plumbing shared by the server functions: the services, the request, the session,
//! and answering plain (no-JavaScript) form posts with a redirect.

use std::net::IpAddr;

use axum::{
    body::Body,
    extract::Request,
    http::{header, request::Parts, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::error::AppError;
use crate::service::{session::Session, Services};

/// The services, provided as context by the router.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or(AppError::Unavailable)
}

/// The request's head.
pub fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or(AppError::Unavailable)
}

/// The session cookie's value, if sent.
pub fn session_token(parts: &Parts) -> Option<String> {
    crate::web::cookie::session_token(&parts.headers)
}

/// The CSRF token the guard attached to this request (the forms on a page must carry it).
pub fn csrf_token(parts: &Parts) -> Result<String, AppError> {
    crate::web::csrf::CsrfToken::of(&parts.extensions).ok_or(AppError::Expired)
}

/// The signed-in session, if any; unavailable while the database is. Nearly every page reads
/// the session first, so this is where a page rendered during an outage gets its 503 (with
/// the error shown in the reader's language) instead of a 200.
pub async fn session(s: &Services, parts: &Parts) -> Result<Option<Session>, AppError> {
    let Some(token) = session_token(parts) else { return Ok(None) };
    s.session(&token).await.map_err(|_| {
        if let Some(res) = use_context::<ResponseOptions>() {
            res.set_status(StatusCode::SERVICE_UNAVAILABLE);
        }
        AppError::Unavailable
    })
}

/// The client's address (behind trusted proxies, the one they name).
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    crate::web::client_addr::ClientAddr::of(&parts.extensions)
}

/// The `User-Agent` header.
pub fn user_agent(parts: &Parts) -> String {
    parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Whether this is a plain HTML form post (no JavaScript): then answers are redirects.
pub fn plain_form(parts: &Parts) -> bool {
    parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(value)) {
        res.append_header(header::SET_COOKIE, v);
    }
}

/// `url` if it can be a `Location` header, else `/` (form input may hold control characters).
fn location(url: String) -> String {
    if HeaderValue::from_str(&url).is_ok() {
        url
    } else {
        "/".to_owned()
    }
}

/// Sends a plain form post on to `url` (the page script does it for enhanced forms) and
/// returns `url` for the script.
pub fn go_to(parts: &Parts, url: String) -> String {
    let url = location(url);
    if plain_form(parts) {
        leptos_axum::redirect(&url);
    }
    url
}

/// Fails with `e`: the response gets its status, and a plain form post is sent back to
/// `page` with `?error=…` (or `&error=…`) so the page can say what went wrong.
pub fn fail<T>(parts: &Parts, e: AppError, page: &str) -> Result<T, AppError> {
    if plain_form(parts) {
        let sep = if page.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&location(format!("{page}{sep}error={}", e.url_code())));
    } else if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(axum::http::StatusCode::from_u16(e.status()).unwrap_or(axum::http::StatusCode::BAD_REQUEST));
    }
    Err(e)
}

impl From<crate::service::ServiceError> for AppError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as E;
        match e {
            E::Invalid(m) | E::Conflict(m) | E::NotFound(m) => AppError::Invalid(m),
            E::InvalidField(field, message) => AppError::Field { field: field.to_owned(), message },
            E::Forbidden => AppError::Forbidden,
            E::Store(_) | E::Hash(_) => AppError::Unavailable,
        }
    }
}

/// The services, the request and the signed-in session; a signed-out visitor is sent to the
/// login page, which returns to `page` afterwards. It tells a browser whose session ended
/// (its cookie names none that is still valid) that it was signed out, and one without a
/// session cookie (a first visit, or after signing out) to sign in.
pub async fn signed_in(page: &str) -> Result<(Services, Parts, Session), AppError> {
    let s = services()?;
    let parts = parts()?;
    match session(&s, &parts).await? {
        Some(session) => Ok((s, parts, session)),
        None => {
            let e = if session_token(&parts).is_some() { AppError::SignedOut } else { AppError::SignInRequired };
            fail(&parts, e, &crate::web::next::login_url(page))
        }
    }
}

/// Like [`signed_in`], for the admin pages: anyone but an admin gets 403.
pub async fn signed_in_admin(page: &str) -> Result<(Services, Parts, Session), AppError> {
    let (s, parts, session) = signed_in(page).await?;
    match s.ensure_admin(&session) {
        Ok(()) => Ok((s, parts, session)),
        // Rendering the page: it shows the error, with the status.
        Err(_) if parts.method == axum::http::Method::GET => {
            if let Some(res) = use_context::<ResponseOptions>() {
                res.set_status(axum::http::StatusCode::FORBIDDEN);
            }
            Err(AppError::Forbidden)
        }
        Err(_) => fail(&parts, AppError::Forbidden, page),
    }
}

/// Hands a fresh client secret to the next load of `page` (and only it): a short-lived
/// HttpOnly cookie scoped to the page, never a URL, so the secret stays out of history and
/// logs.
pub fn flash_secret(s: &Services, page: &str, client_id: &str, secret: &str) {
    use crate::web::cookie::{http_only_cookie, APP_SECRET_COOKIE};
    let value = format!("{client_id}:{secret}");
    set_cookie(&http_only_cookie(APP_SECRET_COOKIE, &value, page, "Strict", 300, s.secure_cookies()));
}

/// The secret [`flash_secret`] handed to `page`, cleared as it is read, if it is for a
/// client `shown` accepts (so a planted cookie cannot show anything odd).
pub fn take_secret(
    s: &Services,
    parts: &Parts,
    page: &str,
    shown: impl Fn(&str) -> bool,
) -> Option<crate::view::OneTimeSecret> {
    use crate::web::cookie::{http_only_cookie, APP_SECRET_COOKIE};
    let flashed = cookie(parts, APP_SECRET_COOKIE)?;
    set_cookie(&http_only_cookie(APP_SECRET_COOKIE, "", page, "Strict", 0, s.secure_cookies()));
    let (client_id, secret) = flashed.split_once(':')?;
    shown(client_id).then(|| crate::view::OneTimeSecret { client_id: client_id.to_owned(), secret: secret.to_owned() })
}

/// Back to `page` with `?done=what`, which the page turns into a notice.
pub fn done(parts: &Parts, page: &str, what: &str) -> Result<String, AppError> {
    Ok(go_to(parts, format!("{page}?done={what}")))
}

/// The result of a form's service call: on to `page?done=what`, or back with the error.
pub fn finish<E: Into<AppError>>(
    parts: &Parts,
    page: &str,
    what: &str,
    result: Result<(), E>,
) -> Result<String, AppError> {
    match result {
        Ok(()) => done(parts, page, what),
        Err(e) => fail(parts, e.into(), page),
    }
}

impl From<crate::service::contacts::ContactError> for AppError {
    fn from(e: crate::service::contacts::ContactError) -> Self {
        use crate::service::contacts::ContactError as E;
        match e {
            E::Invalid(why) => AppError::Invalid(why),
            E::NothingToVerify => AppError::NothingToVerify,
            E::WrongCode => AppError::WrongCode,
            E::StaleLink => AppError::StaleLink,
            E::Taken => AppError::ContactTaken,
            E::Throttled { retry_after } => AppError::throttled(retry_after),
            E::TooSoon { .. } => AppError::TooSoon,
            E::Unavailable => AppError::Unavailable,
        }
    }
}

impl From<crate::service::captcha::CaptchaError> for AppError {
    fn from(e: crate::service::captcha::CaptchaError) -> Self {
        use crate::service::captcha::CaptchaError as E;
        match e {
            E::Failed => AppError::Captcha,
            E::Unavailable => AppError::Unavailable,
        }
    }
}

impl From<crate::service::upstream::UpstreamFailure> for AppError {
    fn from(e: crate::service::upstream::UpstreamFailure) -> Self {
        use crate::service::upstream::UpstreamFailure as F;
        match e {
            F::UnknownProvider => AppError::UnknownProvider,
            F::Unavailable => AppError::UpstreamUnavailable,
            F::Denied => AppError::UpstreamDenied,
            F::BadState => AppError::UpstreamState,
            F::Rejected => AppError::UpstreamRejected,
            F::ProviderError => AppError::UpstreamError,
            F::IdentityTaken => AppError::IdentityTaken,
            F::AlreadyLinked => AppError::AlreadyLinked,
            F::Disabled => AppError::AccountDisabled,
            F::Store => AppError::Unavailable,
        }
    }
}

impl From<crate::service::identities::FinishError> for AppError {
    fn from(e: crate::service::identities::FinishError) -> Self {
        use crate::service::identities::FinishError as F;
        match e {
            F::Expired => AppError::UpstreamState,
            F::Closed => AppError::Invalid("sign-up is closed on this server".into()),
            F::Invalid(e) => e.into(),
            F::WrongPassword => AppError::WrongPassword,
            F::Throttled { retry_after } => AppError::throttled(retry_after),
            F::Taken => AppError::IdentityTaken,
            F::Unavailable => AppError::Unavailable,
        }
    }
}

impl From<crate::service::identities::UnlinkError> for AppError {
    fn from(e: crate::service::identities::UnlinkError) -> Self {
        use crate::service::identities::UnlinkError as U;
        match e {
            U::LastMethod => AppError::LastSignInMethod,
            U::NotLinked => AppError::Invalid("that provider is not linked to your account".into()),
            U::Unavailable => AppError::Unavailable,
        }
    }
}

/// The browser's side of the request, for a session that a sign-in opens.
pub fn browser_info(parts: &Parts) -> crate::service::upstream::BrowserInfo {
    crate::service::upstream::BrowserInfo {
        ip: client_ip(parts),
        user_agent: user_agent(parts),
        previous_session: session_token(parts),
        device: cookie(parts, crate::web::cookie::DEVICE_COOKIE),
        remembered: cookie(parts, crate::web::cookie::MFA_DEVICE_COOKIE),
    }
}

/// Where a passed first step of signing in leads: with a session, its cookie (and, for
/// `device_for`, this browser's device cookie) and on to `next`; for an account with a second
/// factor, the pending sign-in's cookie and the second step, which keeps `next`.
pub async fn entered(
    s: &Services,
    parts: &Parts,
    step: crate::service::session::FirstStep,
    device_for: Option<i64>,
    next: &str,
) -> String {
    use crate::{
        service::session::FirstStep,
        web::cookie::{device_cookie, mfa_pending_cookie, session_cookie},
    };
    match step {
        FirstStep::Session(token) => {
            set_cookie(&session_cookie(&token, s.secure_cookies()));
            // This browser is now known to the account: it keeps the right to try its
            // password while strangers are locked out.
            if let Some(device) = match device_for {
                Some(user_id) => s.device_token(user_id).await,
                None => None,
            } {
                set_cookie(&device_cookie(&device, s.secure_cookies()));
            }
            go_to(parts, next.to_owned())
        }
        FirstStep::SecondStep(pending) => {
            set_cookie(&mfa_pending_cookie(&pending, s.secure_cookies()));
            go_to(parts, crate::web::next::second_step_url(next))
        }
    }
}

/// Where the request comes from, for the throttle and the event trail.
pub fn origin(parts: &Parts) -> crate::service::events::Origin {
    browser_info(parts).origin()
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    crate::web::cookie::request_cookie(&parts.headers, name)
}

/// Middleware: a server function's error answer carries the status of its error
/// ([`AppError::status`]). The server-function layer answers 500 to every error whose function
/// did not set a status: a request whose arguments do not decode (a field missing or repeated,
/// bytes that are not UTF-8) never reaches its function, and is the client's fault.
pub async fn error_status(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let from_server_fn = resp.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER);
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR || !from_server_fn {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // An error is a short JSON object; anything else stays a 500.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(e.status()).unwrap_or(parts.status);
    }
    Response::from_parts(parts, Body::from(bytes))
}
