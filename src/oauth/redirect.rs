//! Redirection URIs: registration rules (RFC 6749 §3.1.2, RFC 8252 §7),
//! request matching (RFC 6749 §3.1.2.3, RFC 9700 §2.1) and building the
//! response URI (RFC 6749 §4.1.2, §4.2.2).

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{form_urlencoded, Host, Url};

/// Schemes that run or embed content instead of navigating to a client.
const FORBIDDEN_SCHEMES: [&str; 6] = ["javascript", "data", "file", "vbscript", "blob", "about"];

/// Why a requested redirection URI cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// No `redirect_uri` was sent and the client does not have exactly one.
    #[error("redirect_uri is required: the client does not have exactly one registered redirect URI")]
    Ambiguous,
    /// The `redirect_uri` matches none of the registered ones.
    #[error("redirect_uri does not match any registered redirect URI")]
    Mismatch,
}

/// True for an `http` URL on a loopback host: `127.0.0.1`, `[::1]` or
/// `localhost` (RFC 8252 §7.3; §8.3 discourages `localhost` but it still works).
pub fn is_loopback(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
            Some(Host::Domain(name)) => name == "localhost",
            None => false,
        }
}

/// Checks a redirection URI a client wants to register; `Err` says why not.
///
/// RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI" and
/// "MUST NOT include a fragment component". Userinfo is refused (RFC 3986 §3.2.1
/// deprecates it and it disguises the real host). The scheme must be `https`,
/// `http` on a loopback host (RFC 8252 §7.3), or a private-use scheme which
/// "apps MUST use ... based on a domain name under their control, expressed in
/// reverse order" (RFC 8252 §7.1), so it must contain a dot; script and local
/// content schemes such as `javascript:`, `data:` and `file:` never are allowed.
pub fn validate_registration(uri: &str) -> Result<(), String> {
    // Stored lists are space-separated, and no well-formed URI contains white space.
    if uri.chars().any(char::is_whitespace) {
        return Err("must not contain white space".into());
    }
    let url = Url::parse(uri).map_err(|e| format!("not an absolute URI: {e}"))?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err("a redirect URI must not include a fragment".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a redirect URI must not include user information".to_owned());
    }
    match url.scheme() {
        s if FORBIDDEN_SCHEMES.contains(&s) => Err(format!("the `{s}:` scheme is not allowed")),
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "https" => Err("an https redirect URI needs a host".to_owned()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err("http is only allowed on a loopback host (127.0.0.1, [::1], localhost)".to_owned()),
        s if s.contains('.') => Ok(()),
        s => Err(format!("the `{s}:` scheme is not allowed; private-use schemes must be a reversed domain name")),
    }
}

/// Picks the redirection URI for an authorization request; returns it and
/// whether the request named it explicitly.
///
/// RFC 6749 §3.1.2.3: "If multiple redirection URIs have been registered, ...
/// the client MUST include a redirection URI with the authorization request",
/// so an absent `redirect_uri` needs exactly one registered URI
/// ([`RedirectError::Ambiguous`] otherwise). A present one must match: RFC 9700
/// §2.1 "authorization servers MUST utilize exact string matching except for
/// port numbers in localhost redirection URIs of native apps", and RFC 8252
/// §7.3 "The authorization server MUST allow any port to be specified at the
/// time of the request for loopback IP redirect URIs".
pub fn resolve(registered: &[String], requested: Option<&str>) -> Result<(String, bool), RedirectError> {
    let Some(requested) = requested else {
        return match registered {
            [only] => Ok((only.clone(), false)),
            _ => Err(RedirectError::Ambiguous),
        };
    };
    let matches = registered.iter().any(|r| r == requested || loopback_port_variant(r, requested));
    if matches {
        Ok((requested.to_owned(), true))
    } else {
        Err(RedirectError::Mismatch)
    }
}

/// True when both URIs are loopback `http` URIs that are byte-for-byte equal
/// once their port is removed. Nothing is normalised: host, path and query
/// compare as the raw text.
fn loopback_port_variant(registered: &str, requested: &str) -> bool {
    let loopback = |s: &str| Url::parse(s).is_ok_and(|u| is_loopback(&u));
    match (without_port(registered), without_port(requested)) {
        (Some(r), Some(q)) => r == q && loopback(registered) && loopback(requested),
        _ => false,
    }
}

/// Splits `http://host[:port]rest` into `(host, rest)`; `None` if the text is not
/// of that shape (including any userinfo or a non-numeric port).
fn without_port(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_end = if authority.starts_with('[') {
        authority.find(']')? + 1
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, port) = authority.split_at(host_end);
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    };
    (port_ok && !host.contains('@')).then_some((host, tail))
}

/// Adds `pairs`, form-urlencoded, to the query of `base`, keeping the query it
/// already has (RFC 6749 §3.1.2: the endpoint URI "MAY include an
/// "application/x-www-form-urlencoded" formatted ... query component, which MUST
/// be retained when adding additional query parameters").
pub fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let (head, fragment) = match base.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (base, None),
    };
    let mut out = join(head, '?', pairs);
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Adds `pairs`, form-urlencoded, as the fragment of `base` (RFC 6749 §4.2.2:
/// the implicit grant returns its parameters "to the fragment component of the
/// redirection URI using the "application/x-www-form-urlencoded" format").
pub fn append_fragment(base: &str, pairs: &[(&str, &str)]) -> String {
    join(base, '#', pairs)
}

/// Appends the encoded pairs after `delimiter`, or after `&` when that
/// component already has content.
fn join(base: &str, delimiter: char, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return base.to_owned();
    }
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let separator = match base.rfind(delimiter) {
        None => delimiter.to_string(),
        Some(i) if i + 1 == base.len() || base.ends_with('&') => String::new(),
        Some(_) => "&".to_owned(),
    };
    format!("{base}{separator}{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        let cases = [
            ("http://127.0.0.1/cb", true),
            ("http://127.0.0.1:8080/cb", true),
            ("http://[::1]:9/cb", true),
            ("http://localhost/cb", true),
            ("http://LOCALHOST/cb", true),
            ("https://127.0.0.1/cb", false),
            ("http://127.0.0.2/cb", false),
            ("http://localhost.example.com/cb", false),
            ("http://example.com/cb", false),
        ];
        for (uri, expected) in cases {
            assert_eq!(is_loopback(&Url::parse(uri).unwrap()), expected, "{uri}");
        }
    }

    #[test]
    fn registration_rules() {
        let cases = [
            ("https://app.example.com/cb", true),
            ("https://app.example.com/cb?x=1", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]:8080/cb", true),
            ("http://localhost:3000/cb", true),
            ("com.example.app:/oauth2redirect", true),
            ("/relative/cb", false),
            ("app.example.com/cb", false),
            ("https://app.example.com/cb#frag", false),
            ("https://app.example.com/cb#", false),
            ("https://user:pw@app.example.com/cb", false),
            ("https://user@app.example.com/cb", false),
            ("http://app.example.com/cb", false),
            ("javascript:alert(1)", false),
            ("JavaScript:alert(1)", false),
            ("data:text/html,hi", false),
            ("file:///etc/passwd", false),
            ("myapp:/cb", false),
            ("", false),
        ];
        for (uri, ok) in cases {
            assert_eq!(validate_registration(uri).is_ok(), ok, "{uri}: {:?}", validate_registration(uri));
        }
    }

    fn reg(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolve_without_requested_uri() {
        let one = reg(&["https://a.example/cb"]);
        assert_eq!(resolve(&one, None), Ok(("https://a.example/cb".to_owned(), false)));
        let two = reg(&["https://a.example/cb", "https://a.example/cb2"]);
        assert_eq!(resolve(&two, None), Err(RedirectError::Ambiguous));
        assert_eq!(resolve(&[], None), Err(RedirectError::Ambiguous));
        assert_eq!(resolve(&[], Some("https://a.example/cb")), Err(RedirectError::Mismatch));
    }

    #[test]
    fn resolve_matching_matrix() {
        let registered = reg(&[
            "https://app.example.com/cb",
            "https://app.example.com/other?mode=x",
            "http://127.0.0.1/native",
            "http://[::1]:1234/v6",
            "http://localhost:3000/dev?x=1",
        ]);
        let cases = [
            ("https://app.example.com/cb", true),
            ("https://app.example.com/other?mode=x", true),
            ("https://APP.example.com/cb", false),
            ("HTTPS://app.example.com/cb", false),
            ("https://app.example.com/CB", false),
            ("https://app.example.com/cb/", false),
            ("https://app.example.com/cb?x=1", false),
            ("https://app.example.com/other?mode=x&y=1", false),
            ("https://app.example.com/cb#f", false),
            ("https://evil@app.example.com/cb", false),
            ("https://app.example.com:443/cb", false),
            ("https://app.example.com:8443/cb", false),
            ("https://app.example.com/cb/..;/admin", false),
            ("https://app.example.com/x/../cb", false),
            ("https://app.example.com/cb%2F", false),
            ("http://app.example.com/cb", false),
            ("not a uri", false),
            ("http://127.0.0.1/native", true),
            ("http://127.0.0.1:51004/native", true),
            ("http://[::1]/v6", true),
            ("http://[::1]:61023/v6", true),
            ("http://localhost:9999/dev?x=1", true),
            ("http://localhost/dev?x=1", true),
            ("http://127.0.0.1:51004/native/", false),
            ("http://127.0.0.1:51004/Native", false),
            ("http://127.0.0.1:51004/native?x=1", false),
            ("http://127.0.0.1:51004/native#f", false),
            ("http://127.0.0.1:51004/x/../native", false),
            ("http://127.0.0.1:51004/native/..;/", false),
            ("http://user@127.0.0.1:51004/native", false),
            ("http://127.0.0.1:abc/native", false),
            ("http://127.0.0.1:/native", false),
            ("http://127.0.0.1:99999/native", false),
            ("http://localhost:1/native", false),
            ("http://LOCALHOST:3000/dev?x=1", false),
            ("https://127.0.0.1:51004/native", false),
            ("http://[::1]:1234/dev?x=1", false),
        ];
        for (requested, ok) in cases {
            let expected = if ok { Ok((requested.to_owned(), true)) } else { Err(RedirectError::Mismatch) };
            assert_eq!(resolve(&registered, Some(requested)), expected, "{requested}");
        }
    }

    #[test]
    fn port_is_not_ignored_for_non_loopback() {
        let registered = reg(&["http://192.168.1.1/cb", "https://localhost/cb"]);
        for requested in ["http://192.168.1.1:81/cb", "https://localhost:8443/cb"] {
            assert_eq!(resolve(&registered, Some(requested)), Err(RedirectError::Mismatch), "{requested}");
        }
    }

    #[test]
    fn appending_parameters() {
        let pairs = [("code", "a b&c"), ("state", "x/y")];
        let cases = [
            ("https://a/cb", "https://a/cb?code=a+b%26c&state=x%2Fy"),
            ("https://a/cb?keep=1", "https://a/cb?keep=1&code=a+b%26c&state=x%2Fy"),
            ("https://a/cb?", "https://a/cb?code=a+b%26c&state=x%2Fy"),
            ("https://a/cb?keep=1&", "https://a/cb?keep=1&code=a+b%26c&state=x%2Fy"),
            ("https://a/cb#f", "https://a/cb?code=a+b%26c&state=x%2Fy#f"),
        ];
        for (base, expected) in cases {
            assert_eq!(append_query(base, &pairs), expected, "{base}");
        }
        assert_eq!(append_query("https://a/cb?k=1", &[]), "https://a/cb?k=1");
        assert_eq!(append_fragment("https://a/cb?k=1", &pairs), "https://a/cb?k=1#code=a+b%26c&state=x%2Fy");
        assert_eq!(append_fragment("https://a/cb#", &[("a", "1")]), "https://a/cb#a=1");
        assert_eq!(append_fragment("https://a/cb#x=1", &[("a", "1")]), "https://a/cb#x=1&a=1");
    }

    #[test]
    fn error_messages_are_readable() {
        assert!(RedirectError::Ambiguous.to_string().contains("redirect_uri is required"));
        assert!(RedirectError::Mismatch.to_string().contains("does not match"));
    }
}
