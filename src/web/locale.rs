//! Which language a request is answered in: the switcher's cookie (the user's own choice),
//! else the relying party's `ui_locales`, else `Accept-Language`. Chosen here, at the edge, so
//! that `i18n` holds only the languages and their strings.

use leptos::prelude::*;

use crate::i18n::Locale;

/// The language of the request being rendered (server) or of the page (browser).
pub fn detect() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().map(|p| of_request(&p.uri, &p.headers)).unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Locale::from_tag(&l))
            .unwrap_or_default()
    }
}

/// The switcher's cookie if set (the user's own choice wins), else the relying party's
/// `ui_locales` (see [`requested_in`]), else `Accept-Language`.
#[cfg(feature = "ssr")]
pub fn of_request(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Locale {
    use axum::http::header;
    let chosen =
        crate::web::cookie::request_cookie(headers, crate::web::cookie::LANG_COOKIE).and_then(|l| Locale::from_tag(&l));
    chosen.or_else(|| uri.query().and_then(requested_in)).unwrap_or_else(|| {
        Locale::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default())
    })
}

/// The first language we have among `ui_locales` (OIDC Core §3.1.2.1: "space-separated
/// list of BCP47 language tag values, ordered by preference"), found in `query` (the
/// authorization endpoint's) or in the query of its `next` (the sign-in and sign-up pages
/// the endpoint sends users to, which then return to it). Nothing is stored: the choice
/// lasts as long as the request travels.
#[cfg(feature = "ssr")]
pub fn requested_in(query: &str) -> Option<Locale> {
    let param = crate::web::query::query_value;
    let from_list = |list: String| list.split(' ').find_map(Locale::from_tag);
    if let Some(list) = param(query, "ui_locales") {
        return from_list(list);
    }
    let next = param(query, "next")?;
    let (_, inner) = next.split_once('?')?;
    param(inner, "ui_locales").and_then(from_list)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_come_from_the_request_or_its_next() {
        for (query, want) in [
            ("ui_locales=zh-CN", Some(Locale::ZhCn)),
            ("client_id=a&ui_locales=fr-CA%20zh%20en", Some(Locale::ZhCn)),
            ("ui_locales=en+zh", Some(Locale::En)),
            ("ui_locales=fr%20zh-TW", None),
            ("client_id=a", None),
            ("next=/o/authorize/%3Fclient_id%3Da%26ui_locales%3Dja%2520zh-Hans", Some(Locale::ZhCn)),
            ("next=/o/authorize/%3Fclient_id%3Da", None),
            ("next=/account", None),
            ("", None),
        ] {
            assert_eq!(requested_in(query), want, "{query:?}");
        }
    }

    #[test]
    fn the_users_choice_beats_the_apps_which_beats_the_browser() {
        use axum::http::{header, HeaderMap, HeaderValue, Uri};
        let mut browser_zh = HeaderMap::new();
        browser_zh.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN"));
        let asks_en: Uri = "/o/authorize/?ui_locales=en".parse().unwrap();
        let plain: Uri = "/o/authorize/".parse().unwrap();
        assert_eq!(of_request(&plain, &browser_zh), Locale::ZhCn);
        assert_eq!(of_request(&asks_en, &browser_zh), Locale::En);
        let mut chose_zh = browser_zh.clone();
        chose_zh.insert(header::COOKIE, HeaderValue::from_static("yaoshi_lang=zh-CN"));
        assert_eq!(of_request(&asks_en, &chose_zh), Locale::ZhCn, "the switcher's cookie wins");
    }
}
