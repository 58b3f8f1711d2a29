//! Protection for the browser-facing forms: every server-function POST must come from this
//! origin and carry the CSRF token that matches this browser's `yaoshi_csrf` cookie
//! (double submit, compared in constant time). Plain form posts are answered with 303.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    crypto::{ct_eq, random_token},
    web::{
        cookie::{cookie_value, CSRF_COOKIE},
        csrf::{CsrfToken, CSRF_FIELD},
    },
};

/// Server functions live under this prefix, except logout, which has the seed's `/o/` path.
const SERVER_FN_PREFIX: &str = "/api/";
const LOGOUT_PATH: &str = "/o/logout/";
/// The admin REST API (bearer tokens, see `admin_api`), which shares the prefix.
const ADMIN_API_PREFIX: &str = "/api/v1/";
/// Largest form body read for the check.
const MAX_FORM: usize = 64 * 1024;

/// The CSRF cookie, if exactly one was sent: two means another site planted one (cookie
/// tossing from a sibling domain), and then neither is trusted.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::COOKIE)?.to_str().ok()?;
    let prefix = format!("{CSRF_COOKIE}=");
    if raw.split(';').filter(|kv| kv.trim_start().starts_with(&prefix)).count() != 1 {
        return None;
    }
    cookie_value(raw, CSRF_COOKIE).filter(|v| v.len() >= 32 && v.len() <= 100).map(str::to_owned)
}

/// False when the browser says the request came from another site (`Sec-Fetch-Site`), which
/// still holds for form posts whose `Origin` is `null`.
fn same_site_fetch(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// True when `Origin` is absent, opaque, or names the host this request was sent to. Browsers
/// send `Origin: null` for form posts from pages with `Referrer-Policy: no-referrer`, as ours
/// are; those are still bound by the CSRF token.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    if origin == "null" {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let bare = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    bare.is_some_and(|h| !host.is_empty() && h.eq_ignore_ascii_case(host))
}

/// The parameters of RP-initiated logout a client may send (RP-Initiated Logout §2).
const LOGOUT_PARAMS: [&str; 5] = ["id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales"];

/// 303 to the logout confirmation page with the client's logout parameters from `form`.
fn to_logout_page(form: &[u8]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(form).filter(|(k, _)| LOGOUT_PARAMS.contains(&k.as_ref())))
        .finish();
    let location = if query.is_empty() { LOGOUT_PATH.to_owned() } else { format!("{LOGOUT_PATH}?{query}") };
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => forbidden("unusable logout parameters"),
    }
}

fn forbidden(why: &'static str) -> Response {
    tracing::warn!(why, "refused a form post");
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Forbidden: this form expired or was sent from another site. Reload the page and try again.",
    )
        .into_response()
}

/// The middleware: issues the CSRF cookie, checks server-function posts, and turns their
/// 302 answers into 303 (after a POST the browser must GET the next page).
pub async fn guard(mut req: Request, next: Next) -> Response {
    let existing = cookie_token(req.headers());
    let token = existing.clone().unwrap_or_else(|| random_token(""));
    let path = req.uri().path();
    // The admin API is called with bearer tokens, never with the browser's cookies: no CSRF.
    let server_fn = path.starts_with(SERVER_FN_PREFIX) && !path.starts_with(ADMIN_API_PREFIX);
    let is_form_post = req.method() == Method::POST && (server_fn || path == LOGOUT_PATH);
    if is_form_post {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else { return forbidden("form too large") };
        let refusal = if !same_origin(&parts.headers) || !same_site_fetch(&parts.headers) {
            Some("foreign origin")
        } else {
            let sent = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
            match &existing {
                None => Some("no CSRF cookie"),
                Some(expected) if !sent.is_some_and(|s| ct_eq(&s, expected)) => Some("missing or wrong CSRF token"),
                Some(_) => None,
            }
        };
        if let Some(why) = refusal {
            // RP-Initiated Logout §2: the end-session endpoint takes POST too. A client's POST
            // cannot carry our token, so it is shown the confirmation page, as a GET would be;
            // only that page's own form ends a session.
            if parts.uri.path() == LOGOUT_PATH {
                return to_logout_page(&bytes);
            }
            return forbidden(why);
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    // Only pages (and the forms on them) need the cookie; API clients never get one.
    let is_page =
        req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if is_form_post && resp.status() == StatusCode::FOUND {
        *resp.status_mut() = StatusCode::SEE_OTHER;
    }
    if existing.is_none() && (is_page || is_form_post) {
        let cookie = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cross_site_fetches_and_tossed_cookies_are_refused() {
        assert!(same_site_fetch(&headers(&[])));
        assert!(same_site_fetch(&headers(&[(header::HeaderName::from_static("sec-fetch-site"), "same-origin")])));
        assert!(!same_site_fetch(&headers(&[(header::HeaderName::from_static("sec-fetch-site"), "cross-site")])));
        assert!(!same_site_fetch(&headers(&[(header::HeaderName::from_static("sec-fetch-site"), "same-site")])));
        let token = "a".repeat(43);
        assert_eq!(
            cookie_token(&headers(&[(header::COOKIE, format!("yaoshi_csrf={token}").as_str())])),
            Some(token.clone())
        );
        assert_eq!(
            cookie_token(&headers(&[(header::COOKIE, format!("yaoshi_csrf={token}; yaoshi_csrf={token}").as_str())])),
            None
        );
    }

    #[test]
    fn origin_must_match_the_host() {
        assert!(same_origin(&headers(&[(header::HOST, "localhost:9000")])));
        assert!(same_origin(&headers(&[(header::HOST, "localhost:9000"), (header::ORIGIN, "http://localhost:9000")])));
        assert!(!same_origin(&headers(&[(header::HOST, "localhost:9000"), (header::ORIGIN, "http://evil.example")])));
        assert!(same_origin(&headers(&[(header::HOST, "localhost:9000"), (header::ORIGIN, "null")])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "localhost:9000"),
            (header::ORIGIN, "http://localhost:9000.evil")
        ])));
    }
}
