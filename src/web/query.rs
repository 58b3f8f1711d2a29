//! Query strings as the pages and routes read them: values decoded exactly once, and the one
//! encoder for values put into a URL.

/// Percent-encodes a value for a query string (`/` kept, so paths stay readable).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of `name` in a raw query string (with or without the leading `?`), decoded once
/// as `application/x-www-form-urlencoded`. Pages read `next` through this: the router's query
/// map decodes values a second time on the server, which would turn a client's `%26` inside
/// `next` into a real `&` and corrupt the authorization request it carries.
pub fn query_value(search: &str, name: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| form_decode(k) == name)
        .map(|(_, v)| form_decode(v))
}

/// Decodes `+` and `%XX` once; a malformed escape is kept as written.
pub fn form_decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_exactly_once() {
        let search = "?next=/o/authorize/%3Fclient_id%3Ddemo%26state%3Da%2526b&x=1+2&empty&bad=%zz%4";
        assert_eq!(query_value(search, "next").as_deref(), Some("/o/authorize/?client_id=demo&state=a%26b"));
        assert_eq!(query_value(search, "x").as_deref(), Some("1 2"));
        assert_eq!(query_value(search, "empty").as_deref(), Some(""));
        assert_eq!(query_value(search, "bad").as_deref(), Some("%zz%4"));
        assert_eq!(query_value(search, "missing"), None);
        assert_eq!(form_decode("%E9%92%A5%E5%8C%99"), "钥匙");
    }
}
