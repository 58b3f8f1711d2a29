//! Signing in with a provider: the finish page's functions (create the account, or link the
//! existing one) and the account page's Link and Unlink.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::PendingView;

/// Where a first sign-in with a provider becomes an account.
pub const FINISH_PAGE: &str = "/o/login/finish/";

/// What the finish page shows for this browser's pending identity. A GET.
#[server(endpoint = "login/finish", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_pending() -> Result<PendingView, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let csrf = ssr::csrf_token(&parts)?;
    let token = ssr::cookie(&parts, crate::web::cookie::PENDING_COOKIE).ok_or(AppError::UpstreamState)?;
    Ok(s.pending_view(&token, csrf).await?)
}

/// The end of both finishing functions: drop the pending cookie, then sign in (or on to the
/// second step) and continue.
#[cfg(feature = "ssr")]
async fn entered(
    parts: &axum::http::request::Parts,
    s: &crate::service::Services,
    step: crate::service::session::FirstStep,
    next: &str,
) -> String {
    use crate::web::{cookie::clear_pending_cookie, next::safe_next};
    super::ssr::set_cookie(&clear_pending_cookie(s.secure_cookies()));
    super::ssr::entered(s, parts, step, None, safe_next(next)).await
}

/// Creates the account (no password) for the pending identity, signs it in and continues to
/// where the sign-in started.
#[server(endpoint = "login/finish/signup")]
pub async fn finish_signup(csrf: String, username: String) -> Result<String, AppError> {
    use super::ssr;
    use crate::{service::identities::FinishError, web::cookie::PENDING_COOKIE};
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let Some(token) = ssr::cookie(&parts, PENDING_COOKIE) else {
        return ssr::fail(&parts, AppError::UpstreamState, "/o/login/");
    };
    match s.finish_signup(&token, &username, &ssr::browser_info(&parts)).await {
        Ok((step, next)) => Ok(entered(&parts, &s, step, &next).await),
        Err(FinishError::Expired) => ssr::fail(&parts, AppError::UpstreamState, "/o/login/"),
        Err(e) => ssr::fail(&parts, e.into(), FINISH_PAGE),
    }
}

/// Links the pending identity to the account with its verified email once that account's
/// password is given, signs it in and continues.
#[server(endpoint = "login/finish/link")]
pub async fn finish_link(csrf: String, password: String) -> Result<String, AppError> {
    use super::ssr;
    use crate::{service::identities::FinishError, web::cookie::PENDING_COOKIE};
    let _checked_by_guard = csrf;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let Some(token) = ssr::cookie(&parts, PENDING_COOKIE) else {
        return ssr::fail(&parts, AppError::UpstreamState, "/o/login/");
    };
    match s.finish_link(&token, &password, &ssr::browser_info(&parts)).await {
        Ok((step, next)) => Ok(entered(&parts, &s, step, &next).await),
        Err(FinishError::Expired) => ssr::fail(&parts, AppError::UpstreamState, "/o/login/"),
        Err(e) => ssr::fail(&parts, e.into(), FINISH_PAGE),
    }
}

/// Starts a sign-in with `provider` whose identity is linked to the signed-in account; returns
/// the provider's URL (a plain form post is redirected there).
#[server(endpoint = "account/link")]
pub async fn link_provider(csrf: String, provider: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(super::account::ACCOUNT_PAGE).await?;
    match s.start_upstream(&provider, super::account::ACCOUNT_PAGE, Some(session.user.id)).await {
        Ok(started) => {
            ssr::set_cookie(&crate::web::cookie::flow_cookie(&started.flow_token, s.secure_cookies()));
            Ok(ssr::go_to(&parts, started.url))
        }
        Err(e) => ssr::fail(&parts, e.into(), super::account::ACCOUNT_PAGE),
    }
}

/// Unlinks the account's identity at `provider`, unless it is the last way to sign in.
#[server(endpoint = "account/unlink")]
pub async fn unlink_provider(csrf: String, provider: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(super::account::ACCOUNT_PAGE).await?;
    match s.unlink_provider(session.user.id, &provider).await {
        Ok(()) => ssr::done(&parts, super::account::ACCOUNT_PAGE, "unlinked"),
        Err(e) => ssr::fail(&parts, e.into(), super::account::ACCOUNT_PAGE),
    }
}
