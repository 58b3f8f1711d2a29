//! The consent page's decision.

use leptos::prelude::*;

use super::error::AppError;

/// Approves (`decision=approve`) or denies the authorization request `query`, validated
/// again by the same service as `GET /o/authorize/`. Returns where the browser goes next:
/// the client's redirect URI, the login page, or back to an error page.
#[server(endpoint = "consent")]
pub async fn decide(csrf: String, query: String, decision: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    use crate::{service::authorize::AuthorizeStep, view::AuthorizePage};
    let s = ssr::services()?;
    let parts = ssr::parts()?;
    let session = ssr::session(&s, &parts).await?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return ssr::fail(
                &parts,
                AppError::Invalid("choose Approve or Deny".into()),
                &format!("/o/authorize/?{query}"),
            )
        }
    };
    match s.decide(&query, session.as_ref(), approve).await {
        AuthorizeStep::Redirect(url) => Ok(ssr::go_to(&parts, url)),
        AuthorizeStep::SignIn { back, login_hint } => {
            Ok(ssr::go_to(&parts, crate::web::next::login_url_hinted(&back, login_hint.as_deref())))
        }
        AuthorizeStep::SecondStep { pending, back } => {
            ssr::set_cookie(&crate::web::cookie::mfa_pending_cookie(&pending, s.secure_cookies()));
            Ok(ssr::go_to(&parts, crate::web::next::second_step_url(&back)))
        }
        AuthorizeStep::Page(AuthorizePage::Error { description, .. }) => {
            ssr::fail(&parts, AppError::Invalid(description), &format!("/o/authorize/?{query}"))
        }
        // A decision never asks again, nor posts a form itself (`decide` sends those through a
        // GET of the endpoint): it answers with a redirect or an error.
        AuthorizeStep::Page(AuthorizePage::Consent(_)) | AuthorizeStep::FormPost { .. } => {
            ssr::fail(&parts, AppError::Expired, &format!("/o/authorize/?{query}"))
        }
    }
}
