//! `GET /o/login/start/<provider>` and `GET /o/login/callback/<provider>`: signing in with an
//! upstream provider. Both always answer with a redirect: on to the provider, on to `next`, to
//! the finish page, or back to the login page (or the account page, for a link) with
//! `?error=…`, so that a provider that is down, slow or wrong never shows as a 5xx here.

use axum::{
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{
    api::{error::AppError, upstream::FINISH_PAGE},
    service::{
        session::FirstStep,
        upstream::{BrowserInfo, Finished},
    },
    state::AppState,
    web::{
        cookie::{
            clear_flow_cookie, flow_cookie, pending_cookie, request_cookie, session_cookie, session_token, FLOW_COOKIE,
        },
        next::{login_page, safe_next},
    },
};

/// A 303 to `location` with `cookies` set.
fn see_other(location: &str, cookies: &[String]) -> Response {
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `page` with `error=<code>` added to its query.
fn with_error(page: &str, e: &AppError) -> String {
    let sep = if page.contains('?') { '&' } else { '?' };
    format!("{page}{sep}error={}", e.code())
}

/// Starts a sign-in: `?next=` is where to continue afterwards (a path on this origin).
pub(super) async fn start(State(state): State<AppState>, Path(provider): Path<String>, req: Request) -> Response {
    let s = &state.services;
    let next = url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| safe_next(&v).to_owned())
        .unwrap_or_else(|| "/".to_owned());
    match s.start_upstream(&provider, &next, None).await {
        Ok(started) => see_other(&started.url, &[flow_cookie(&started.flow_token, s.secure_cookies())]),
        Err(e) => see_other(&with_error(&login_page(&next), &e.into()), &[]),
    }
}

/// The provider sends the browser back here with `code` and `state` (or `error`).
pub(super) async fn callback(State(state): State<AppState>, Path(provider): Path<String>, req: Request) -> Response {
    let s = &state.services;
    let headers = req.headers();
    let previous_session = session_token(headers);
    let session = match &previous_session {
        Some(t) => match s.session(t).await {
            Ok(session) => session,
            // Whether this links or signs in is unknown while the database is unreachable.
            Err(_) => return see_other(&with_error("/o/login/", &AppError::Unavailable), &[]),
        },
        None => None,
    };
    let browser = BrowserInfo {
        ip: crate::web::client_addr::ClientAddr::of(req.extensions()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
        previous_session,
        device: request_cookie(headers, crate::web::cookie::DEVICE_COOKIE),
        remembered: request_cookie(headers, crate::web::cookie::MFA_DEVICE_COOKIE),
    };
    let flow = request_cookie(headers, FLOW_COOKIE);
    let query = req.uri().query().unwrap_or_default();
    let outcome = s.finish_upstream(&provider, flow.as_deref(), query, session.as_ref(), &browser).await;
    let secure = s.secure_cookies();
    let mut cookies = vec![clear_flow_cookie(secure)];
    let next = safe_next(&outcome.next).to_owned();
    let location = match outcome.result {
        Ok(Finished::SignedIn(FirstStep::Session(token))) => {
            cookies.push(session_cookie(&token, secure));
            next
        }
        Ok(Finished::SignedIn(FirstStep::SecondStep(pending))) => {
            cookies.push(crate::web::cookie::mfa_pending_cookie(&pending, secure));
            crate::web::next::second_step_url(&next)
        }
        Ok(Finished::Linked) => "/account?done=linked".to_owned(),
        Ok(Finished::Pending(token)) => {
            cookies.push(pending_cookie(&token, secure));
            FINISH_PAGE.to_owned()
        }
        Err(e) if outcome.link => with_error("/account", &e.into()),
        Err(e) => with_error(&login_page(&next), &e.into()),
    };
    see_other(&location, &cookies)
}
