//! `GET /o/authorize/`: redirects (to the login page, or back to the client), posts the answer
//! to the client (`response_mode=form_post`), or renders the consent or error page with Leptos.

use axum::{
    extract::{Request, State},
    http::header,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use leptos::prelude::*;

use super::form_post;
use crate::web::csrf::CsrfToken;
use crate::{
    app::shell,
    crypto::random_token,
    service::{authorize::AuthorizeStep, session::Session, Services},
    state::AppState,
    view::{AuthorizeData, AuthorizePage},
};

/// RFC 6749 §3.1: "The authorization server MUST support the use of the HTTP "GET" method".
pub(super) async fn authorize(State(state): State<AppState>, req: Request) -> Response {
    let s = &state.services;
    let query = req.uri().query().unwrap_or_default().to_owned();
    let step = match browser_session(s, req.headers()).await {
        Ok(session) => s.authorize(&query, session.as_ref()).await,
        Err(step) => step,
    };
    respond(state, req, step).await
}

/// `GET /o/authorize/denied/`: where the consent page sends the denial of a `form_post`
/// request, to be posted to the client.
pub(super) async fn denied(State(state): State<AppState>, req: Request) -> Response {
    let s = &state.services;
    let query = req.uri().query().unwrap_or_default().to_owned();
    let step = match browser_session(s, req.headers()).await {
        Ok(session) => s.denied(&query, session.as_ref()).await,
        Err(step) => step,
    };
    // An error page is the authorization endpoint's page.
    let mut req = req;
    if let Ok(uri) = format!("/o/authorize/?{query}").parse() {
        *req.uri_mut() = uri;
    }
    respond(state, req, step).await
}

/// The browser's session, if any; while the database is unreachable, the outage page (not the
/// login page: the request would be lost, and signing in cannot work either).
async fn browser_session(s: &Services, headers: &header::HeaderMap) -> Result<Option<Session>, AuthorizeStep> {
    let Some(token) = crate::web::cookie::session_token(headers) else { return Ok(None) };
    s.session(&token).await.map_err(|_| AuthorizeStep::unavailable())
}

/// The page that makes the browser POST `fields` to the client (Form Post Response Mode §2).
/// It holds tokens, so it is never stored; its policy lets only its own script run and the form
/// go only to the client.
fn form_post_response(req: &Request, action: &str, fields: &[(String, String)]) -> Response {
    let locale = crate::web::locale::of_request(req.uri(), req.headers());
    let nonce = random_token("");
    let html = form_post::page(action, fields, &nonce, locale.text().continue_to_app, locale.tag());
    let csp = form_post::content_security_policy(action, &nonce);
    let mut resp = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::PRAGMA, "no-cache".to_owned()),
        ],
        html,
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&csp) {
        resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

async fn respond(state: AppState, req: Request, step: AuthorizeStep) -> Response {
    let s = &state.services;
    match step {
        // RFC 6749 §4.1.2 answers with 302 Found.
        AuthorizeStep::Redirect(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        AuthorizeStep::SignIn { back, login_hint } => {
            let url = crate::web::next::login_url_hinted(&back, login_hint.as_deref());
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
        }
        AuthorizeStep::SecondStep { pending, back } => {
            let url = crate::web::next::second_step_url(&back);
            let cookie = crate::web::cookie::mfa_pending_cookie(&pending, s.secure_cookies());
            (StatusCode::FOUND, [(header::LOCATION, url), (header::SET_COOKIE, cookie)]).into_response()
        }
        AuthorizeStep::FormPost { action, fields } => form_post_response(&req, &action, &fields),
        AuthorizeStep::Page(page) => {
            let csrf = CsrfToken::of(req.extensions()).unwrap_or_default();
            // An error page says what failed: 503 while the service is unavailable (RFC 6749
            // §4.1.2.1 `temporarily_unavailable`), 400 for a bad request.
            let error_status = match &page {
                AuthorizePage::Error { code, .. } if code == "temporarily_unavailable" => {
                    Some(StatusCode::SERVICE_UNAVAILABLE)
                }
                AuthorizePage::Error { .. } => Some(StatusCode::BAD_REQUEST),
                _ => None,
            };
            let data = AuthorizeData { page, csrf };
            let options = state.leptos_options.clone();
            let services = s.clone();
            let render = leptos_axum::render_app_async_with_context(
                move || {
                    provide_context(services.clone());
                    provide_context(data.clone());
                },
                move || shell(options.clone()),
            );
            let mut resp = render(req).await.into_response();
            if let Some(status) = error_status {
                *resp.status_mut() = status;
            }
            resp
        }
    }
}
