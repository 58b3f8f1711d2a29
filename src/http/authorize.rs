//! `GET /o/authorize/`: redirects (to the login page, or back to the client) or renders the
//! consent or error page with Leptos.

use axum::{
    extract::{Request, State},
    http::header,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use leptos::prelude::*;

use super::browser::CsrfToken;
use crate::{
    api::types::{AuthorizeData, AuthorizePage},
    app::shell,
    server::AppState,
    service::authorize::AuthorizeStep,
};

/// RFC 6749 §3.1: "The authorization server MUST support the use of the HTTP "GET" method".
pub(super) async fn authorize(State(state): State<AppState>, req: Request) -> Response {
    let s = &state.services;
    let query = req.uri().query().unwrap_or_default().to_owned();
    let session = match super::session_token(req.headers()) {
        Some(t) => s.session(&t).await,
        None => None,
    };
    match s.authorize(&query, session.as_ref()).await {
        // RFC 6749 §4.1.2 answers with 302 Found.
        AuthorizeStep::Redirect(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        AuthorizeStep::Page(page) => {
            let csrf = CsrfToken::of(req.extensions()).unwrap_or_default();
            let is_error = matches!(page, AuthorizePage::Error { .. });
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
            if is_error {
                *resp.status_mut() = StatusCode::BAD_REQUEST;
            }
            resp
        }
    }
}
