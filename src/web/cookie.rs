//! The browser's cookies: every cookie name, the one reader of `Cookie` headers and the one
//! builder of `Set-Cookie` values (HttpOnly always; Secure when the issuer is https).

use axum::http::{header, HeaderMap};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yaoshi_session";
/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "yaoshi_csrf";
/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "yaoshi_lang";
/// The cookie that binds a started flow to the browser.
pub const FLOW_COOKIE: &str = "yaoshi_upstream";
/// The cookie that binds a pending identity to the browser.
pub const PENDING_COOKIE: &str = "yaoshi_pending";
/// The cookie that marks a browser that signed in to an account before (see
/// `service::device`).
pub const DEVICE_COOKIE: &str = "yaoshi_device";
/// The developer apps page's one-time secret (see `api::apps`).
pub const APP_SECRET_COOKIE: &str = "yaoshi_new_secret";
/// A sign-in waiting for its second step (see `service::factors`).
pub const MFA_PENDING_COOKIE: &str = "yaoshi_mfa";
/// A browser the operator lets skip the second step for a while (see `service::factors`).
pub const MFA_DEVICE_COOKIE: &str = "yaoshi_mfa_device";
/// The security page's one-time recovery codes (see `api::factors`).
pub const RECOVERY_CODES_COOKIE: &str = "yaoshi_recovery_codes";

/// The value of cookie `name`, from any of the request's `Cookie` headers.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, name))
        .map(str::to_owned)
}

/// The session cookie's value, if the request carries one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    request_cookie(headers, SESSION_COOKIE)
}

/// A `Set-Cookie` value for an HttpOnly cookie, Secure under https; `max_age` 0 removes it.
pub fn http_only_cookie(name: &str, value: &str, path: &str, same_site: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value for a session (HttpOnly, SameSite=Lax, Secure under https).
pub fn session_cookie(token: &str, secure: bool) -> String {
    http_only_cookie(SESSION_COOKIE, token, "/", "Lax", crate::service::session::ABSOLUTE_LIFETIME, secure)
}

/// The `Set-Cookie` value for a device cookie (HttpOnly, SameSite=Lax, Secure under https).
/// It survives sign-out: it is no session, only the right to keep trying a password.
pub fn device_cookie(token: &str, secure: bool) -> String {
    http_only_cookie(DEVICE_COOKIE, token, "/", "Lax", crate::service::device::DEVICE_LIFETIME, secure)
}

/// The `Set-Cookie` value for a sign-in waiting for its second step (HttpOnly, SameSite=Lax
/// so that it survives the redirect back from a provider, for the pending sign-in's lifetime).
pub fn mfa_pending_cookie(token: &str, secure: bool) -> String {
    http_only_cookie(MFA_PENDING_COOKIE, token, "/", "Lax", crate::service::factors::PENDING_LIFETIME, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    http_only_cookie(SESSION_COOKIE, "", "/", "Lax", 0, secure)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> String {
    http_only_cookie(name, value, path, "Lax", max_age, secure)
}

/// `Set-Cookie` for a started flow (only the callback, under `/o/login/`, needs it).
pub fn flow_cookie(token: &str, secure: bool) -> String {
    cookie(FLOW_COOKIE, token, "/o/login/", crate::service::upstream::FLOW_LIFETIME, secure)
}

/// `Set-Cookie` that removes the flow cookie.
pub fn clear_flow_cookie(secure: bool) -> String {
    cookie(FLOW_COOKIE, "", "/o/login/", 0, secure)
}

/// `Set-Cookie` for a pending identity (the finish page and its server functions need it).
pub fn pending_cookie(token: &str, secure: bool) -> String {
    cookie(PENDING_COOKIE, token, "/", crate::service::upstream::FLOW_LIFETIME, secure)
}

/// `Set-Cookie` that removes the pending cookie.
pub fn clear_pending_cookie(secure: bool) -> String {
    cookie(PENDING_COOKIE, "", "/", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_lax() {
        let c = session_cookie("abc", true);
        assert!(
            c.starts_with("yaoshi_session=abc;")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")
                && c.ends_with("Secure")
        );
        assert!(!session_cookie("abc", false).contains("Secure"));
        assert_eq!(cookie_value("a=1; yaoshi_session=xyz; b=2", SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value("a=1", SESSION_COOKIE), None);
    }
}
