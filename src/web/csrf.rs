//! The CSRF token the browser guard (`http::browser`) attaches to each page request, for the
//! forms on the page to repeat (double submit against the `yaoshi_csrf` cookie).

/// The form field that must repeat the CSRF cookie.
pub const CSRF_FIELD: &str = "csrf";

/// This browser's CSRF token, available to pages and server functions as a request extension.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// The token the guard attached to this request, if it ran.
    pub fn of(extensions: &axum::http::Extensions) -> Option<String> {
        extensions.get::<CsrfToken>().map(|t| t.0.clone())
    }
}
