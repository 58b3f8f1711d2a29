//! Second factors: the security page's server functions (enrol TOTP, confirm it, remove it,
//! regenerate recovery codes) and the second step of signing in. New recovery codes reach the
//! page once, through a short-lived HttpOnly cookie scoped to it (never a URL), as the
//! developer apps page shows a new secret.

use leptos::prelude::*;

use super::error::AppError;
use crate::view::{SecondStepView, SecurityView};

/// Where the security page lives.
pub const SECURITY_PAGE: &str = "/account/security";
/// Where the second step of signing in lives.
pub const SECOND_STEP_PAGE: &str = "/o/login/mfa/";

#[cfg(feature = "ssr")]
fn factor_error(e: crate::service::factors::FactorError) -> AppError {
    use crate::service::factors::FactorError as E;
    match e {
        E::WrongCode => AppError::WrongCode,
        E::Replayed => AppError::CodeReplayed,
        E::Throttled { retry_after } => AppError::throttled(retry_after),
        E::WrongPassword => AppError::WrongPassword,
        E::NotFound => AppError::NoSuchFactor,
        E::Expired => AppError::SignInExpired,
        E::Unavailable => AppError::Unavailable,
    }
}

/// Hands new recovery codes of `user_id` to the next load of the security page.
#[cfg(feature = "ssr")]
fn flash_codes(s: &crate::service::Services, user_id: i64, codes: &[String]) {
    use crate::web::cookie::{http_only_cookie, RECOVERY_CODES_COOKIE};
    let value = format!("{user_id}:{}", codes.join(","));
    super::ssr::set_cookie(&http_only_cookie(
        RECOVERY_CODES_COOKIE,
        &value,
        SECURITY_PAGE,
        "Strict",
        300,
        s.secure_cookies(),
    ));
}

/// The account's second factors, the enrolment in progress (with its QR code) and recovery
/// codes made by the previous request (shown this once).
#[server(endpoint = "account/security", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_security() -> Result<SecurityView, AppError> {
    use super::ssr;
    use crate::{
        service::{factors::qr_svg, present::moment},
        view::{EnrolmentView, FactorItem},
        web::cookie::{http_only_cookie, RECOVERY_CODES_COOKIE},
    };
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    let csrf = ssr::csrf_token(&parts)?;
    let user = &session.user;
    let now = s.now();
    let factors = s
        .factor_list(user.id)
        .await
        .map_err(factor_error)?
        .into_iter()
        .map(|f| FactorItem {
            id: f.id,
            kind: f.kind,
            added_at: moment(f.added_at, now),
            last_used_at: f.last_used_at.map(|at| moment(at, now)),
        })
        .collect();
    let enrolment = s.pending_totp(user).await.map_err(factor_error)?.map(|e| EnrolmentView {
        qr_svg: qr_svg(&e.uri),
        secret: e.secret,
        uri: e.uri,
    });
    let mut new_codes = Vec::new();
    if let Some(flashed) = ssr::cookie(&parts, RECOVERY_CODES_COOKIE) {
        ssr::set_cookie(&http_only_cookie(RECOVERY_CODES_COOKIE, "", SECURITY_PAGE, "Strict", 0, s.secure_cookies()));
        // Only this user's, so a cookie planted for another account shows nothing.
        if let Some((owner, codes)) = flashed.split_once(':') {
            if owner == user.id.to_string() {
                new_codes = codes.split(',').map(str::to_owned).collect();
            }
        }
    }
    Ok(SecurityView {
        csrf,
        has_password: user.password_hash.is_some(),
        factors,
        enrolment,
        recovery_left: s.recovery_codes_left(user.id).await.map_err(factor_error)?,
        new_codes,
        passkeys_offered: s.passkeys_offered(),
        passkeys: s
            .passkey_list(user.id)
            .await
            .map_err(|_| AppError::Unavailable)?
            .into_iter()
            .map(|p| crate::view::PasskeyItem {
                id: p.id,
                name: p.name,
                added_at: moment(p.created_at, now),
                last_used_at: p.last_used_at.map(|at| moment(at, now)),
            })
            .collect(),
    })
}

/// Starts a TOTP enrolment (a new secret); the page then shows its QR code. The answer's
/// query differs from the page's own URL, so that the enhanced form's navigation loads it
/// (a change of fragment alone would not).
#[server(endpoint = "account/security/totp")]
pub async fn start_totp(csrf: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.begin_totp(&session.user).await {
        Ok(_) => Ok(ssr::go_to(&parts, format!("{SECURITY_PAGE}?step=enrol#enrol"))),
        Err(e) => ssr::fail(&parts, factor_error(e), SECURITY_PAGE),
    }
}

/// Confirms the enrolment with the app's first code; the recovery codes are shown next.
#[server(endpoint = "account/security/totp/confirm")]
pub async fn confirm_totp(csrf: String, code: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.confirm_totp(&session, &code, &ssr::origin(&parts)).await {
        Ok(codes) => {
            flash_codes(&s, session.user.id, &codes);
            ssr::done(&parts, SECURITY_PAGE, "factor_added")
        }
        Err(e) => ssr::fail(&parts, factor_error(e), SECURITY_PAGE),
    }
}

/// Removes a factor after the password and a current code.
#[server(endpoint = "account/security/remove")]
pub async fn remove_factor(csrf: String, factor_id: i64, password: String, code: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.remove_factor(&session, factor_id, &password, &code, &ssr::origin(&parts)).await {
        Ok(()) => ssr::done(&parts, SECURITY_PAGE, "factor_removed"),
        Err(e) => ssr::fail(&parts, factor_error(e), SECURITY_PAGE),
    }
}

/// Replaces the recovery codes after a current code; the new ones are shown next.
#[server(endpoint = "account/security/recovery")]
pub async fn regenerate_codes(csrf: String, code: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(SECURITY_PAGE).await?;
    match s.regenerate_recovery_codes(&session, &code, &ssr::origin(&parts)).await {
        Ok(codes) => {
            flash_codes(&s, session.user.id, &codes);
            ssr::done(&parts, SECURITY_PAGE, "codes_regenerated")
        }
        Err(e) => ssr::fail(&parts, factor_error(e), SECURITY_PAGE),
    }
}

/// The cookies of a session opened by the second step: the session, the known device, the
/// remembered browser when asked for (and allowed); the pending sign-in is done.
#[cfg(feature = "ssr")]
pub(crate) async fn opened_after_second_step(s: &crate::service::Services, token: &str, user_id: i64, remember: bool) {
    use super::ssr;
    use crate::web::cookie::{device_cookie, http_only_cookie, session_cookie, MFA_DEVICE_COOKIE};
    let secure = s.secure_cookies();
    ssr::set_cookie(&session_cookie(token, secure));
    forget_pending(s);
    if let Some(device) = s.device_token(user_id).await {
        ssr::set_cookie(&device_cookie(&device, secure));
    }
    if remember {
        if let Some((value, secs)) = s.remembered_device(user_id).await {
            ssr::set_cookie(&http_only_cookie(MFA_DEVICE_COOKIE, &value, "/", "Lax", secs, secure));
        }
    }
}

/// Clears the pending sign-in's cookie.
#[cfg(feature = "ssr")]
pub(crate) fn forget_pending(s: &crate::service::Services) {
    use crate::web::cookie::{http_only_cookie, MFA_PENDING_COOKIE};
    super::ssr::set_cookie(&http_only_cookie(MFA_PENDING_COOKIE, "", "/", "Lax", 0, s.secure_cookies()));
}

/// What the second step's page needs.
#[server(endpoint = "login/mfa/context", input = leptos::server_fn::codec::GetUrl)]
pub async fn second_step_context() -> Result<SecondStepView, AppError> {
    use super::ssr;
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let remember_days = s.settings.second_factors.remember_device_secs / 86_400;
    let pending = ssr::cookie(&parts, crate::web::cookie::MFA_PENDING_COOKIE);
    let passkey = match pending {
        Some(p) if s.passkeys_offered() => match s.read_pending_sign_in(&p).await {
            Ok(p) => !s.passkey_list(p.user_id).await.map_err(|_| AppError::Unavailable)?.is_empty(),
            Err(_) => false,
        },
        _ => false,
    };
    Ok(SecondStepView { csrf: ssr::csrf_token(&parts)?, remember_days, passkey })
}

/// The second step of signing in: a TOTP or recovery code for the pending sign-in this
/// browser holds; then the session opens and the browser continues to `next`. `remember`
/// (a ticked checkbox) lets this browser skip the step for a while, if the operator allows.
#[server(endpoint = "login/mfa")]
pub async fn login_second_step(
    csrf: String,
    code: String,
    next: String,
    remember: Option<String>,
) -> Result<String, AppError> {
    use crate::service::factors::FactorError;
    let _checked_by_guard = csrf;
    let step = match SecondStep::begin(&next) {
        Ok(step) => step,
        Err(answer) => return answer,
    };
    let previous = super::ssr::session_token(&step.parts);
    let origin = super::ssr::origin(&step.parts);
    let result = step.s.finish_second_step(&step.pending, &code, &origin, previous.as_deref()).await;
    step.finish(result, remember.is_some(), |e| matches!(e, FactorError::Expired), factor_error).await
}

/// A second step in progress, as its server functions (a code, a passkey) begin: the
/// request, where it continues, and the pending sign-in of the first step.
#[cfg(feature = "ssr")]
pub(crate) struct SecondStep {
    /// The services.
    pub s: crate::service::Services,
    /// The request.
    pub parts: axum::http::request::Parts,
    /// Where the browser continues (already checked to be a path here).
    pub next: String,
    /// The pending sign-in's cookie value.
    pub pending: String,
}

#[cfg(feature = "ssr")]
impl SecondStep {
    /// The step for `next`; without a pending sign-in (expired, or never begun), the answer
    /// that sends the browser to sign in again.
    pub(crate) fn begin(next: &str) -> Result<Self, Result<String, AppError>> {
        use super::ssr;
        use crate::web::next::{login_page, safe_next};
        let s = ssr::services().map_err(Err)?;
        let parts = ssr::parts().map_err(Err)?;
        let next = safe_next(next).to_owned();
        let Some(pending) = ssr::cookie(&parts, crate::web::cookie::MFA_PENDING_COOKIE) else {
            return Err(ssr::fail(&parts, AppError::SignInExpired, &login_page(&next)));
        };
        Ok(SecondStep { s, parts, next, pending })
    }

    /// Answers the step: the session opens and the browser continues; an expired pending
    /// sign-in starts over at the login page; any other failure shows the step again.
    pub(crate) async fn finish<E>(
        self,
        result: Result<(String, crate::store::User), E>,
        remember: bool,
        expired: impl FnOnce(&E) -> bool,
        error: impl FnOnce(E) -> AppError,
    ) -> Result<String, AppError> {
        use super::ssr;
        use crate::web::next::{login_page, second_step_url};
        match result {
            Ok((token, user)) => {
                opened_after_second_step(&self.s, &token, user.id, remember).await;
                Ok(ssr::go_to(&self.parts, self.next))
            }
            Err(e) if expired(&e) => {
                forget_pending(&self.s);
                ssr::fail(&self.parts, AppError::SignInExpired, &login_page(&self.next))
            }
            Err(e) => ssr::fail(&self.parts, error(e), &second_step_url(&self.next)),
        }
    }
}
