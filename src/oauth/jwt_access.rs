//! JWT access tokens (RFC 9068) and the resource servers they are for (RFC 8707 resource
//! indicators), per client. Opaque tokens stay the default: a JWT lets a resource server
//! verify a token against the JWK Set without calling introspection, at the price of a longer
//! token whose claims anyone holding it can read.
//!
//! A JWT access token is not stored. Its `jti` is the key of the stored record that an opaque
//! token of the same grant would have had (the SHA-256 of a random value never sent), so
//! revocation, introspection and user info treat both forms alike: a revoked `jti` is an
//! inactive token. Pure: the caller passes the time and signs.

use std::{fmt, str::FromStr};

use serde_json::{json, Value};

use crate::oauth::{error::OAuthError, scope::Scope};

/// The JWS `typ` of a JWT access token (RFC 9068 §2.1: "MUST include "at+jwt"").
pub const TYP: &str = "at+jwt";

/// The most resource indicators one client may register.
pub const MAX_RESOURCES: usize = 10;

/// How a client's access tokens are issued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessTokenFormat {
    /// A random value, looked up by its hash (introspection tells resource servers about it).
    #[default]
    Opaque,
    /// A JWT signed with the server's keys (RFC 9068).
    Jwt,
}

impl AccessTokenFormat {
    /// The name stored and accepted in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
        }
    }
}

impl fmt::Display for AccessTokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessTokenFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "opaque" => Ok(Self::Opaque),
            "jwt" => Ok(Self::Jwt),
            other => Err(format!("unknown access token format {other:?} (opaque or jwt)")),
        }
    }
}

/// A resource indicator a client registers: RFC 8707 §2, "an absolute URI ... MUST NOT include
/// a fragment component". Returns it unchanged (audiences are compared exactly).
pub fn validate_resource(uri: &str) -> Result<&str, &'static str> {
    let parsed = url::Url::parse(uri).map_err(|_| "not an absolute URI")?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err("a resource indicator must not have a fragment");
    }
    if uri.chars().any(char::is_whitespace) {
        return Err("a resource indicator must not contain spaces");
    }
    Ok(uri)
}

/// The `aud` of a client's access tokens (RFC 9068 §3, RFC 8707 §2.2): the resources the
/// request named, each of which the client must have registered (`invalid_target`
/// otherwise); without any, every registered one; with none registered, the client itself.
pub fn audience(requested: &[&str], registered: &[String], client_id: &str) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Ok(if registered.is_empty() { vec![client_id.to_owned()] } else { registered.to_vec() });
    }
    let mut aud = Vec::with_capacity(requested.len());
    for r in requested {
        if !registered.iter().any(|known| known == r) {
            // RFC 8707 §2: "invalid_target: The requested resource is invalid, missing,
            // unknown, or malformed."
            return Err(OAuthError::invalid_target("the requested resource is not registered for this client"));
        }
        if !aud.iter().any(|a| a == r) {
            aud.push((*r).to_owned());
        }
    }
    Ok(aud)
}

/// What a JWT access token says.
#[derive(Clone, Copy, Debug)]
pub struct AccessClaims<'a> {
    /// This server (`iss`).
    pub issuer: &'a str,
    /// The client it was issued to (`client_id`).
    pub client_id: &'a str,
    /// The resource owner; `None` when the client acts for itself (client credentials).
    pub user_id: Option<i64>,
    /// `aud`, from [`audience`].
    pub audience: &'a [String],
    /// The granted scope.
    pub scope: &'a Scope,
    /// The stored record's key.
    pub jti: &'a str,
    /// When it was issued (`iat`), unix seconds.
    pub issued_at: i64,
    /// When it expires (`exp`), unix seconds.
    pub expires_at: i64,
    /// The DPoP key it is bound to, as `cnf.jkt` (RFC 9449 §6.1).
    pub jkt: Option<&'a str>,
}

/// The claim set (RFC 9068 §2.2). `sub` is the user id, or for a client acting on its own
/// behalf "an identifier the authorization server uses to indicate the client application":
/// its client_id. A single audience is a string, several an array (RFC 7519 §4.1.3).
pub fn claims(c: &AccessClaims) -> Value {
    let sub = c.user_id.map_or_else(|| c.client_id.to_owned(), |id| id.to_string());
    let aud = match c.audience {
        [one] => json!(one),
        many => json!(many),
    };
    let mut claims = json!({
        "iss": c.issuer,
        "sub": sub,
        "aud": aud,
        "client_id": c.client_id,
        "scope": c.scope.to_string(),
        "jti": c.jti,
        "iat": c.issued_at,
        "exp": c.expires_at,
    });
    if let Some(jkt) = c.jkt {
        claims["cnf"] = crate::oauth::dpop::confirmation(jkt);
    }
    claims
}

/// Whether `token` has the shape of a compact JWS (three base64url parts), so that it is worth
/// verifying as one rather than looking it up as an opaque value.
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let well_formed = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    well_formed(parts.next()) && well_formed(parts.next()) && well_formed(parts.next()) && parts.next().is_none()
}

/// The stored record's key of a verified JWT access token issued by `issuer`: its `jti`, if
/// the token is one of ours (`typ` checked by the caller with the signature) and the `jti` has
/// the shape of a record key (64 hex digits). Anything else is no token of ours.
pub fn record_key<'a>(claims: &'a Value, issuer: &str) -> Option<&'a str> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return None;
    }
    claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| j.len() == 64 && j.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn formats_round_trip() {
        for f in [AccessTokenFormat::Opaque, AccessTokenFormat::Jwt] {
            assert_eq!(f.as_str().parse::<AccessTokenFormat>(), Ok(f));
        }
        assert!("JWT".parse::<AccessTokenFormat>().is_err());
        assert_eq!(AccessTokenFormat::default(), AccessTokenFormat::Opaque);
    }

    #[test]
    fn resources_are_absolute_without_fragment() {
        assert_eq!(validate_resource("https://api.example/"), Ok("https://api.example/"));
        assert!(validate_resource("urn:example:billing").is_ok());
        for bad in ["/relative", "api.example", "https://api.example/#x", "https://api.example/a b", ""] {
            assert!(validate_resource(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn audience_is_what_was_asked_and_registered() {
        let registered = vec!["https://a.example/".to_owned(), "https://b.example/".to_owned()];
        assert_eq!(audience(&[], &registered, "app").unwrap(), registered);
        assert_eq!(audience(&[], &[], "app").unwrap(), vec!["app".to_owned()]);
        assert_eq!(audience(&["https://b.example/"], &registered, "app").unwrap(), vec!["https://b.example/"]);
        let twice = audience(&["https://a.example/", "https://a.example/"], &registered, "app").unwrap();
        assert_eq!(twice, vec!["https://a.example/"]);
        for unknown in [&["https://c.example/"][..], &["https://a.example/", "https://a.example"][..]] {
            assert_eq!(audience(unknown, &registered, "app").unwrap_err().code, ErrorCode::InvalidTarget);
        }
        assert_eq!(audience(&["app"], &[], "app").unwrap_err().code, ErrorCode::InvalidTarget);
    }

    #[test]
    fn claims_follow_rfc_9068() {
        let scope = Scope::parse("openid profile").unwrap();
        let aud = vec!["https://api.example/".to_owned()];
        let jti = "ab".repeat(32);
        let base = AccessClaims {
            issuer: "https://id.example",
            client_id: "app",
            user_id: Some(7),
            audience: &aud,
            scope: &scope,
            jti: &jti,
            issued_at: 100,
            expires_at: 3700,
            jkt: None,
        };
        let c = claims(&base);
        assert_eq!(
            c,
            json!({"iss": "https://id.example", "sub": "7", "aud": "https://api.example/", "client_id": "app",
                   "scope": "openid profile", "jti": jti, "iat": 100, "exp": 3700})
        );
        let two = vec!["https://a.example/".to_owned(), "https://b.example/".to_owned()];
        let machine = claims(&AccessClaims { user_id: None, audience: &two, ..base });
        assert_eq!(machine["sub"], "app", "client credentials: the client is the subject");
        assert_eq!(machine["aud"], json!(["https://a.example/", "https://b.example/"]));
        let bound = claims(&AccessClaims { jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"), ..base });
        assert_eq!(bound["cnf"], json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}));
        assert_eq!(record_key(&c, "https://id.example"), Some(jti.as_str()));
        assert_eq!(record_key(&c, "https://other.example"), None, "another issuer's token");
        assert_eq!(record_key(&json!({"iss": "https://id.example", "jti": "short"}), "https://id.example"), None);
    }

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("eyJh.eyJz.c2ln"));
        for not in ["yaoshi_at_abc", "a.b", "a.b.c.d", "a..c", "a.b.c=", "a.b.c d"] {
            assert!(!looks_like_jwt(not), "{not:?}");
        }
    }
}
