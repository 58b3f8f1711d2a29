//! Where a browser goes next: the `next` parameter that must never leave the origin, and the
//! login page URLs that carry it (in the seed's form, `next=/o/authorize/%3F…`).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Where to go after signing in: `next` if it is a path on this origin, else `/`.
///
/// Only a single leading `/` followed by something other than `/` or `\` is accepted, and no
/// backslash or control character anywhere, so `//evil`, `/\evil`, `https:evil` and their
/// variants (browsers treat `\` as `/`) cannot send the user to another site.
pub fn safe_next(next: &str) -> &str {
    let bytes = next.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !next.chars().any(|c| c == '\\' || c.is_control());
    if ok {
        next
    } else {
        "/"
    }
}

/// Characters escaped in `next`: everything but unreserved characters and `/`, which gives the
/// seed's `next=/o/authorize/%3Fresponse_type%3Dcode%26client_id%3D1`.
const NEXT_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The login page URL that returns to `path_and_query` afterwards.
pub fn login_url(path_and_query: &str) -> String {
    format!("/o/login/?next={}", utf8_percent_encode(path_and_query, NEXT_ESCAPE))
}

/// The login page for `next`, or the bare login page when `next` is `/`.
pub fn login_page(next: &str) -> String {
    if next == "/" {
        "/o/login/".to_owned()
    } else {
        login_url(next)
    }
}

/// The second step of a sign-in (`/o/login/mfa/`), which continues to `next` afterwards.
pub fn second_step_url(next: &str) -> String {
    format!("/o/login/mfa/?next={}", utf8_percent_encode(safe_next(next), NEXT_ESCAPE))
}

/// The login page that returns to `path_and_query`, with the sign-in form pre-filled with
/// `login_hint` (OIDC Core §3.1.2.1) when the client sent one.
pub fn login_url_hinted(path_and_query: &str, login_hint: Option<&str>) -> String {
    let url = login_url(path_and_query);
    match login_hint {
        Some(hint) => format!("{url}&login_hint={}", utf8_percent_encode(hint, NEXT_ESCAPE)),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_origin() {
        for good in ["/o/authorize/?response_type=code&client_id=1", "/", "/account", "/%2F%2Fevil"] {
            assert_eq!(safe_next(good), good);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "https:evil",
            "evil",
            "",
            "/\t/evil",
            "/a\\b",
            "\\\\evil",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
    #[test]
    fn login_hints_ride_on_the_login_url() {
        assert_eq!(login_url_hinted("/o/authorize/?a=1", None), "/o/login/?next=/o/authorize/%3Fa%3D1");
        assert_eq!(
            login_url_hinted("/o/authorize/?a=1", Some("alice@example.com & co")),
            "/o/login/?next=/o/authorize/%3Fa%3D1&login_hint=alice%40example.com%20%26%20co"
        );
    }
}
