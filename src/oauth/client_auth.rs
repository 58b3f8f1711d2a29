//! Client authentication at the token endpoint (RFC 6749 §2.3).
//!
//! This module only works out *which* credentials were presented and whether
//! the combination is allowed; comparing a secret with its stored hash is the
//! service's job. Every `invalid_client` says [`AUTH_FAILED`] unless the request
//! itself is malformed, so a caller learns nothing about which clients exist.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::oauth::error::OAuthError;
use crate::oauth::model::Client;
use crate::oauth::params::Params;

/// The one description every failed client authentication carries.
pub const AUTH_FAILED: &str = "client authentication failed";

const MALFORMED: &str = "malformed Basic credentials";

/// Decodes an `Authorization: Basic ...` header value into `(client_id, secret)`.
///
/// RFC 6749 §2.3.1: "The client identifier is encoded using the
/// "application/x-www-form-urlencoded" encoding algorithm per Appendix B, and the
/// encoded value is used as the username; the client password is encoded using
/// the same algorithm and used as the password." The scheme name is
/// case-insensitive (RFC 7235 §2.1). Anything malformed -> `invalid_client`.
pub fn parse_basic(header_value: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_client(MALFORMED);
    let (scheme, token) = header_value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(token.trim_start()).map_err(|_| malformed())?;
    let mut halves = decoded.splitn(2, |b| *b == b':');
    let (Some(id), Some(secret)) = (halves.next(), halves.next()) else {
        return Err(malformed());
    };
    let client_id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if client_id.is_empty() {
        return Err(malformed());
    }
    Ok((client_id, secret))
}

/// Strict `application/x-www-form-urlencoded` decoding of one value: `+` is a
/// space, `%XX` a byte; a stray `%` or invalid UTF-8 gives `None`.
fn form_decode(input: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_value(*bytes.next()?)?;
                let lo = hex_value(*bytes.next()?)?;
                out.push((hi << 4) | lo);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// The value of one ASCII hex digit.
fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The credentials a token request presented.
///
/// `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    /// RFC 6749 §2.3.1 HTTP Basic (`client_secret_basic`).
    Basic {
        /// The decoded user-id half.
        client_id: String,
        /// The decoded password half; empty counts as no secret.
        secret: String,
    },
    /// RFC 6749 §2.3.1 `client_id` and `client_secret` in the body
    /// (`client_secret_post`).
    Post {
        /// The body `client_id`.
        client_id: String,
        /// The body `client_secret`.
        secret: String,
    },
    /// A public client naming itself with `client_id` only (§4.1.3, §3.2.1).
    None {
        /// The body `client_id`.
        client_id: String,
    },
}

impl ClientCredentials {
    /// The client the request claims to come from.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. } | Self::Post { client_id, .. } | Self::None { client_id } => client_id,
        }
    }

    /// The presented secret. An empty Basic password counts as none (§3.1:
    /// "Parameters sent without a value MUST be treated as if they were omitted").
    pub fn secret(&self) -> Option<&str> {
        match self {
            Self::Basic { secret, .. } | Self::Post { secret, .. } if !secret.is_empty() => Some(secret),
            _ => None,
        }
    }

    /// True when the client used the Authorization header, so a failure must be a
    /// 401 with `WWW-Authenticate` (RFC 6749 §5.2).
    pub fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    /// Combines the decoded Basic header (if any) with the body parameters.
    ///
    /// RFC 6749 §2.3: "The client MUST NOT use more than one authentication
    /// method in each request." Basic plus a body `client_secret` ->
    /// `invalid_request`; Basic plus a different body `client_id` ->
    /// `invalid_request`. No `client_id` anywhere, or a `client_secret` without
    /// one -> `invalid_client`.
    pub fn from_parts(basic: Option<(String, String)>, params: &Params) -> Result<ClientCredentials, OAuthError> {
        let body_id = params.get("client_id");
        let body_secret = params.get("client_secret");
        match (basic, body_id, body_secret) {
            (Some(_), _, Some(_)) => {
                Err(OAuthError::invalid_request("the client MUST NOT use more than one authentication method"))
            }
            (Some((id, _)), Some(body), _) if body != id => {
                Err(OAuthError::invalid_request("client_id in the body differs from the Basic credentials"))
            }
            (Some((id, _)), _, _) if id.is_empty() => Err(OAuthError::invalid_client(AUTH_FAILED)),
            (Some((client_id, secret)), _, _) => Ok(Self::Basic { client_id, secret }),
            (None, Some(id), Some(secret)) => Ok(Self::Post { client_id: id.to_owned(), secret: secret.to_owned() }),
            (None, Some(id), None) => Ok(Self::None { client_id: id.to_owned() }),
            (None, None, _) => Err(OAuthError::invalid_client(AUTH_FAILED)),
        }
    }
}

/// [`ClientCredentials::from_parts`] as a free function.
pub fn from_parts(basic: Option<(String, String)>, params: &Params) -> Result<ClientCredentials, OAuthError> {
    ClientCredentials::from_parts(basic, params)
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = match self {
            Self::Basic { .. } => "Basic",
            Self::Post { .. } => "Post",
            Self::None { .. } => "None",
        };
        let mut s = f.debug_struct(method);
        s.field("client_id", &self.client_id());
        if !matches!(self, Self::None { .. }) {
            s.field("secret", &"[redacted]");
        }
        s.finish()
    }
}

/// Checks the presented credentials against the client type and returns the
/// secret the service must verify (`Some` exactly for confidential clients).
///
/// RFC 6749 §3.2.1: "Confidential clients or other clients issued client
/// credentials MUST authenticate with the authorization server", so a
/// confidential client without a secret is `invalid_client`. Public clients have
/// no secret (§2.1: "incapable of maintaining the confidentiality of their
/// credentials"), so one presenting a secret is `invalid_client` too.
pub fn presented_secret<'a>(creds: &'a ClientCredentials, client: &Client) -> Result<Option<&'a str>, OAuthError> {
    debug_assert_eq!(creds.client_id(), client.client_id, "credentials for another client");
    match (client.confidential, creds.secret()) {
        (true, Some(secret)) => Ok(Some(secret)),
        (false, None) => Ok(None),
        (true, None) | (false, Some(_)) => Err(OAuthError::invalid_client(AUTH_FAILED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;
    use crate::oauth::scope::Scope;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    /// Parameters from a query string such as `a=1&b=2`.
    fn params(query: &str) -> Params {
        Params::from_pairs(url::form_urlencoded::parse(query.as_bytes()).into_owned()).unwrap()
    }

    fn client(confidential: bool) -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            confidential,
            redirect_uris: vec![],
            grant_types: vec![],
            scopes: Scope::default(),
            trusted: false,
        }
    }

    #[test]
    fn parse_basic_accepts() {
        let cases = [
            (basic("app:s3cret"), ("app", "s3cret")),
            (format!("basic {}", STANDARD.encode("app:s")), ("app", "s")),
            (format!("BASIC   {}", STANDARD.encode("app:s")), ("app", "s")),
            (basic("my+app%3Aid:p%40ss+word"), ("my app:id", "p@ss word")),
            (basic("app:a:b"), ("app", "a:b")),
            (basic("app:"), ("app", "")),
            (basic("caf%C3%A9:x"), ("caf\u{e9}", "x")),
        ];
        for (header, (id, secret)) in cases {
            let parsed = parse_basic(&header).unwrap();
            assert_eq!((parsed.0.as_str(), parsed.1.as_str()), (id, secret), "{header}");
        }
    }

    #[test]
    fn parse_basic_rejects_malformed() {
        let cases = [
            "Basic".to_owned(),
            "Basic ".to_owned(),
            "Bearer abc".to_owned(),
            format!("Digest {}", STANDARD.encode("app:s")),
            "Basic !!!notbase64".to_owned(),
            "Basic YXBwOnM".to_owned(),
            basic("no-colon"),
            basic(":secret"),
            basic("app%:s"),
            basic("app:%4"),
            basic("app:%zz"),
            basic("%FF:s"),
            format!("Basic {}", STANDARD.encode([0xFFu8, b':', b'a'])),
        ];
        for header in cases {
            let err = parse_basic(&header).unwrap_err();
            assert_eq!(err, OAuthError::invalid_client(MALFORMED), "{header}");
        }
    }

    /// Runs `from_parts` with Basic given as `id:secret` and the body as a query.
    fn combine(basic: Option<&str>, body: &str) -> Result<ClientCredentials, OAuthError> {
        let basic = basic.and_then(|b| b.split_once(':'));
        let basic = basic.map(|(id, secret)| (id.to_owned(), secret.to_owned()));
        let creds = ClientCredentials::from_parts(basic.clone(), &params(body));
        assert_eq!(creds, from_parts(basic, &params(body)));
        creds
    }

    #[test]
    fn from_parts_accepts() {
        let (id, secret) = ("app".to_owned(), "s".to_owned());
        let basic = ClientCredentials::Basic { client_id: id.clone(), secret: secret.clone() };
        let post = ClientCredentials::Post { client_id: id.clone(), secret };
        let none = ClientCredentials::None { client_id: id };
        let cases = [
            (Some("app:s"), "", &basic),
            (Some("app:s"), "client_id=app", &basic),
            (Some("app:s"), "client_secret=", &basic),
            (None, "client_id=app&client_secret=s", &post),
            (None, "client_id=app", &none),
            (None, "client_id=app&client_secret=", &none),
        ];
        for (basic, body, expected) in cases {
            assert_eq!(combine(basic, body).as_ref(), Ok(expected), "{basic:?} {body}");
        }
    }

    #[test]
    fn from_parts_rejects() {
        let cases = [
            (Some("app:s"), "client_secret=s", ErrorCode::InvalidRequest),
            (Some("app:s"), "client_id=app&client_secret=t", ErrorCode::InvalidRequest),
            (Some("app:s"), "client_id=other", ErrorCode::InvalidRequest),
            (Some("app:s"), "client_id=APP", ErrorCode::InvalidRequest),
            (Some(":s"), "", ErrorCode::InvalidClient),
            (None, "", ErrorCode::InvalidClient),
            (None, "client_secret=s", ErrorCode::InvalidClient),
            (None, "client_id=&client_secret=s", ErrorCode::InvalidClient),
        ];
        for (basic, body, code) in cases {
            let err = combine(basic, body).unwrap_err();
            assert_eq!(err.code, code, "{basic:?} {body}");
            if code == ErrorCode::InvalidClient {
                assert_eq!(err.description, AUTH_FAILED);
            }
        }
    }

    /// Basic, Basic with an empty password, Post and None credentials for `app`.
    fn kinds(secret: &str) -> [ClientCredentials; 4] {
        [
            combine(Some(&format!("app:{secret}")), ""),
            combine(Some("app:"), ""),
            combine(None, &format!("client_id=app&client_secret={secret}")),
            combine(None, "client_id=app"),
        ]
        .map(Result::unwrap)
    }

    #[test]
    fn accessors_and_debug() {
        let [basic, empty, post, none] = kinds("TOPSECRET");
        let secrets = [basic.secret(), empty.secret(), post.secret(), none.secret()];
        assert_eq!(secrets, [Some("TOPSECRET"), None, Some("TOPSECRET"), None]);
        let basics = [basic.used_basic(), empty.used_basic(), post.used_basic(), none.used_basic()];
        assert_eq!(basics, [true, true, false, false]);
        for creds in [basic, empty, post, none] {
            assert_eq!(creds.client_id(), "app");
            let shown = format!("{creds:?}");
            assert!(shown.contains("app") && !shown.contains("TOPSECRET"), "{shown}");
        }
    }

    #[test]
    fn presented_secret_rules() {
        let [basic, empty, post, none] = kinds("s");
        let cases = [
            (&basic, true, Some(Some("s"))),
            (&post, true, Some(Some("s"))),
            (&none, true, None),
            (&empty, true, None),
            (&none, false, Some(None)),
            (&empty, false, Some(None)),
            (&basic, false, None),
            (&post, false, None),
        ];
        for (creds, confidential, expected) in cases {
            let got = presented_secret(creds, &client(confidential));
            let expected = expected.ok_or(OAuthError::invalid_client(AUTH_FAILED));
            assert_eq!(got, expected, "{creds:?} confidential={confidential}");
        }
    }
}
