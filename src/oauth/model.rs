//! Plain data the protocol checks work on: grant types, clients, authorization
//! codes and refresh grants. Storage and issuing live in the service layer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::oauth::error::OAuthError;
use crate::oauth::scope::Scope;

/// RFC 8628 §3.4: the `grant_type` of a device access token request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A client's permission to trade a WeChat mini program's `wx.login()` code for tokens at
/// `POST /o/login/wechat-mp/`. An extension grant's name is an absolute URI (RFC 6749 §4.5).
pub const WECHAT_MINI_PROGRAM_GRANT: &str = "urn:yaoshi:grant-type:wechat-mini-program";

/// An authorization grant type (RFC 6749 §1.3), named as in the `grant_type`
/// parameter and in client registration (RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1, the authorization code grant.
    AuthorizationCode,
    /// RFC 6749 §4.3, the resource owner password credentials grant.
    Password,
    /// RFC 6749 §4.4, the client credentials grant.
    ClientCredentials,
    /// RFC 6749 §6, refreshing an access token.
    RefreshToken,
    /// RFC 6749 §4.2, the implicit grant (authorization endpoint only).
    Implicit,
    /// RFC 8628 §3.4, the device authorization grant.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// A WeChat mini program's login code (`js_code`), redeemed at `/o/login/wechat-mp/`
    /// rather than the token endpoint; each client opts in.
    #[serde(rename = "urn:yaoshi:grant-type:wechat-mini-program")]
    WechatMiniProgram,
}

impl GrantType {
    /// Every grant type a client may be given, in declaration order: those of the token
    /// endpoint ([`Self::ALL`]), then the mini program login.
    pub const KNOWN: [GrantType; 7] = [
        GrantType::AuthorizationCode,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::RefreshToken,
        GrantType::Implicit,
        GrantType::DeviceCode,
        GrantType::WechatMiniProgram,
    ];

    /// Every grant type of the token endpoint: what discovery advertises
    /// (`grant_types_supported`). All of [`Self::KNOWN`] but the last.
    pub const ALL: &'static [GrantType] = Self::KNOWN.split_at(Self::KNOWN.len() - 1).0;

    /// The registered name of the grant type.
    pub fn as_str(&self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Implicit => "implicit",
            GrantType::DeviceCode => DEVICE_CODE_GRANT,
            GrantType::WechatMiniProgram => WECHAT_MINI_PROGRAM_GRANT,
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = OAuthError;

    /// Exact, case-sensitive match on the registered name; anything else is
    /// `unsupported_grant_type` (RFC 6749 §5.2: "The authorization grant type is
    /// not supported by the authorization server.").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::KNOWN
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| OAuthError::unsupported_grant_type("grant_type is not supported"))
    }
}

/// A registered client as the protocol checks need it. The secret hash stays in
/// the service, which verifies secrets itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// RFC 6749 §2.2 client identifier.
    pub client_id: String,
    /// Name shown to the resource owner on the consent page.
    pub name: String,
    /// RFC 6749 §2.1: confidential clients are "capable of maintaining the
    /// confidentiality of their credentials"; public ones are not.
    pub confidential: bool,
    /// Registered redirection URIs (RFC 6749 §3.1.2.2).
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<GrantType>,
    /// Scope tokens the client may request.
    pub scopes: Scope,
    /// A first-party client whose requests skip the consent screen.
    pub trusted: bool,
}

impl Client {
    /// True when `grant` is among the client's registered grant types.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// A stored authorization code (RFC 6749 §4.1.2) with what it was issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    /// The client the code was issued to.
    pub client_id: String,
    /// The resource owner who approved the request.
    pub user_id: i64,
    /// The redirection URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` explicitly.
    pub redirect_uri_explicit: bool,
    /// The scope the resource owner granted.
    pub scope: Scope,
    /// RFC 7636 S256 `code_challenge` from the authorization request, if any.
    pub code_challenge: Option<String>,
    /// OpenID Connect `nonce` from the authorization request, if any.
    pub nonce: Option<String>,
    /// When the user authenticated (unix seconds), for the ID token `auth_time`.
    pub auth_time: i64,
    /// The stored hash of the login session the code was issued in, from which the ID Token's
    /// `sid` is derived; `None` for codes made outside a browser session.
    pub session_hash: Option<String>,
    /// Unix second from which the code is no longer valid.
    pub expires_at: i64,
}

/// What a stored, still-present refresh token carries (RFC 6749 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshGrant {
    /// The client the refresh token was issued to.
    pub client_id: String,
    /// The resource owner, or `None` for a client acting on its own behalf.
    pub user_id: Option<i64>,
    /// The scope originally granted.
    pub scope: Scope,
    /// Unix second from which the token is no longer valid; `None` never expires.
    pub expires_at: Option<i64>,
}

/// What the token endpoint issues tokens for once a grant has been validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The resource owner, or `None` for the client credentials grant.
    pub user_id: Option<i64>,
    /// The scope of the tokens to issue.
    pub scope: Scope,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn grant_type_names_round_trip() {
        let names = [
            (GrantType::AuthorizationCode, "authorization_code"),
            (GrantType::Password, "password"),
            (GrantType::ClientCredentials, "client_credentials"),
            (GrantType::RefreshToken, "refresh_token"),
            (GrantType::Implicit, "implicit"),
            (GrantType::DeviceCode, "urn:ietf:params:oauth:grant-type:device_code"),
            (GrantType::WechatMiniProgram, "urn:yaoshi:grant-type:wechat-mini-program"),
        ];
        assert_eq!(names.map(|(g, _)| g), GrantType::KNOWN);
        assert!(!GrantType::ALL.contains(&GrantType::WechatMiniProgram), "not at the token endpoint");
        assert_eq!(GrantType::ALL.len(), 6);
        for (grant, name) in names {
            assert_eq!(grant.as_str(), name);
            assert_eq!(grant.to_string(), name);
            assert_eq!(name.parse::<GrantType>(), Ok(grant));
            let json = serde_json::to_string(&grant).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<GrantType>(&json).unwrap(), grant);
        }
    }

    #[test]
    fn unknown_grant_type_is_unsupported() {
        let unknown =
            ["", "Password", "authorization-code", "urn:ietf:params:oauth:grant-type:jwt-bearer", "device_code"];
        for name in unknown {
            let err = name.parse::<GrantType>().unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedGrantType, "{name:?}");
        }
    }

    #[test]
    fn client_allows_only_registered_grants() {
        let client = Client {
            client_id: "c".into(),
            name: "C".into(),
            confidential: true,
            redirect_uris: vec![],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: Scope::default(),
            trusted: false,
        };
        assert!(client.allows_grant(GrantType::AuthorizationCode));
        assert!(client.allows_grant(GrantType::RefreshToken));
        assert!(!client.allows_grant(GrantType::Password));
        assert!(!client.allows_grant(GrantType::ClientCredentials));
    }
}
