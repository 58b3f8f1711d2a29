//! Web origins for cross-origin requests (CORS, the Fetch standard's §3.2): what a client may
//! register as an `allowed_origin`, and how the `Origin` request header is matched against
//! the registered ones.
//!
//! Matching is exact on the origin's ASCII serialisation (RFC 6454 §6.2): scheme, host and
//! port, nothing else. Both sides go through [`normalize`], so `HTTPS://App.Example:443` and
//! `https://app.example` are one origin, and `https://app.example:8443` is another.

use url::Url;

use super::redirect::is_loopback;

/// Why an origin cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not a URL at all.
    #[error("not an origin (scheme://host[:port])")]
    Malformed,
    /// A scheme other than `https`, or `http` off loopback.
    #[error("an origin must be https, or http on a loopback host (127.0.0.1, [::1], localhost)")]
    Scheme,
    /// RFC 6454 §4: an origin is scheme, host and port only; a path, query, fragment or
    /// user name makes it a URL, which browsers never send as `Origin`.
    #[error("an origin has no path, query, fragment or user name")]
    NotBare,
}

/// The ASCII serialisation (RFC 6454 §6.2) of `input`: lowercase scheme and host, IDN hosts
/// in punycode, the default port dropped, and no trailing slash. Only `http` and `https`
/// origins exist for our purposes (an `Origin` of any other scheme never matches).
pub fn normalize(input: &str) -> Result<String, OriginError> {
    let trimmed = input.trim();
    let url = Url::parse(trimmed).map_err(|_| OriginError::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(OriginError::Scheme);
    }
    // `Url` turns an empty path into "/": accept that single slash, and nothing after it.
    let after_authority = trimmed.split_once("://").map_or("", |(_, rest)| rest);
    let has_path = after_authority.find(['/', '?', '#']).is_some_and(|i| &after_authority[i..] != "/");
    if has_path || !url.username().is_empty() || url.password().is_some() {
        return Err(OriginError::NotBare);
    }
    Ok(url.origin().ascii_serialization())
}

/// An origin a client may register: [`normalize`]d, and `https` unless on a loopback host, by
/// the same rule as redirect URIs (RFC 8252 §7.3).
pub fn validate_registration(input: &str) -> Result<String, OriginError> {
    let origin = normalize(input)?;
    let url = Url::parse(&origin).map_err(|_| OriginError::Malformed)?;
    match url.scheme() {
        "https" => Ok(origin),
        "http" if is_loopback(&url) => Ok(origin),
        _ => Err(OriginError::Scheme),
    }
}

/// The origin an `Origin` request header names, normalised for matching; `None` for the
/// opaque origin `null` (sandboxed frames, `file:` pages), which no registration can match,
/// and for anything unparsable.
pub fn request_origin(header: &str) -> Option<String> {
    if header.trim() == "null" {
        return None;
    }
    normalize(header).ok()
}

/// True when `origin` (already normalised) is among `registered` (normalised at
/// registration). Origins are public, so a plain comparison is fine.
pub fn is_allowed(registered: &[String], origin: &str) -> bool {
    registered.iter().any(|r| r == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_default_ports_and_trailing_slash() {
        let same = [
            ("https://app.example", "https://app.example"),
            ("HTTPS://App.Example", "https://app.example"),
            ("https://app.example:443", "https://app.example"),
            ("https://app.example/", "https://app.example"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:80", "http://localhost"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("  https://app.example:8443  ", "https://app.example:8443"),
        ];
        for (input, expected) in same {
            assert_eq!(normalize(input).as_deref(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn a_port_is_part_of_the_origin() {
        assert_ne!(normalize("https://app.example:8443"), normalize("https://app.example"));
        let registered = vec![normalize("http://127.0.0.1:5000").unwrap()];
        assert!(is_allowed(&registered, &request_origin("http://127.0.0.1:5000").unwrap()));
        assert!(!is_allowed(&registered, &request_origin("http://127.0.0.1:5001").unwrap()));
        assert!(!is_allowed(&registered, &request_origin("http://localhost:5000").unwrap()));
    }

    #[test]
    fn refuses_anything_but_a_bare_origin() {
        let refused = [
            ("app.example", OriginError::Malformed),
            ("", OriginError::Malformed),
            ("https://app.example/callback", OriginError::NotBare),
            ("https://app.example/?x=1", OriginError::NotBare),
            ("https://app.example?x=1", OriginError::NotBare),
            ("https://app.example#top", OriginError::NotBare),
            ("https://app.example//", OriginError::NotBare),
            ("https://user@app.example", OriginError::NotBare),
            ("ftp://app.example", OriginError::Scheme),
            ("javascript:alert(1)", OriginError::Scheme),
            ("data:text/html,x", OriginError::Scheme),
        ];
        for (input, expected) in refused {
            assert_eq!(normalize(input), Err(expected), "{input}");
        }
    }

    #[test]
    fn registration_needs_https_off_loopback() {
        assert_eq!(validate_registration("https://spa.example").as_deref(), Ok("https://spa.example"));
        assert_eq!(validate_registration("http://127.0.0.1:4000").as_deref(), Ok("http://127.0.0.1:4000"));
        assert_eq!(validate_registration("http://localhost:4000").as_deref(), Ok("http://localhost:4000"));
        assert_eq!(validate_registration("http://spa.example"), Err(OriginError::Scheme));
        assert_eq!(validate_registration("https://spa.example/app"), Err(OriginError::NotBare));
    }

    #[test]
    fn opaque_and_garbage_origins_match_nothing() {
        assert_eq!(request_origin("null"), None);
        assert_eq!(request_origin("not an origin"), None);
        assert_eq!(request_origin("file://"), None);
        assert_eq!(request_origin("https://spa.example").as_deref(), Some("https://spa.example"));
        assert!(!is_allowed(&[], "https://spa.example"));
    }
}
