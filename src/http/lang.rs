//! `GET /o/lang/?to=zh-CN&next=/path`: the language switch on every page. Remembers the choice
//! in a cookie and goes back to the page (same origin only). A plain link, so it works without
//! JavaScript; changing a display preference needs no CSRF protection.

use axum::{
    extract::Query,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    i18n::Locale,
    web::{cookie::LANG_COOKIE, next::safe_next},
};

/// The switch's query.
#[derive(Deserialize)]
pub struct Switch {
    to: Option<String>,
    next: Option<String>,
}

/// Sets the language cookie and returns to `next`.
pub async fn switch(Query(q): Query<Switch>) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/")).to_owned();
    let mut headers = HeaderMap::new();
    if let Some(locale) = q.to.as_deref().and_then(Locale::from_tag) {
        let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", locale.tag());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, v);
        }
    }
    match HeaderValue::from_str(&next) {
        Ok(location) => headers.insert(header::LOCATION, location),
        Err(_) => headers.insert(header::LOCATION, HeaderValue::from_static("/")),
    };
    (StatusCode::SEE_OTHER, headers).into_response()
}
