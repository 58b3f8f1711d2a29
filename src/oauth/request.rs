//! Typed token requests, parsed from [`Params`], and the authorization request's
//! `response_type`.
//!
//! Parsing checks presence and syntax only; whether the client may do what it
//! asks is decided in `grant.rs` and by the authorization endpoint (`authorize.rs`,
//! which reads the rest of an authorization request itself).

use std::fmt;
use std::str::FromStr;

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::model::GrantType;
use crate::oauth::params::Params;
use crate::oauth::scope::Scope;

/// A token endpoint request (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6).
///
/// `Debug` redacts the code, password, refresh token and code verifier.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 `grant_type=authorization_code`.
    AuthorizationCode {
        /// The authorization code received from the authorization server.
        code: String,
        /// REQUIRED "if the "redirect_uri" parameter was included in the
        /// authorization request".
        redirect_uri: Option<String>,
        /// RFC 7636 §4.5 PKCE code verifier.
        code_verifier: Option<String>,
    },
    /// RFC 6749 §4.3.2 `grant_type=password`.
    Password {
        /// The resource owner username.
        username: String,
        /// The resource owner password.
        password: String,
        /// The requested scope, if any.
        scope: Option<Scope>,
    },
    /// RFC 6749 §4.4.2 `grant_type=client_credentials`.
    ClientCredentials {
        /// The requested scope, if any.
        scope: Option<Scope>,
    },
    /// RFC 6749 §6 `grant_type=refresh_token`.
    RefreshToken {
        /// The refresh token issued to the client.
        refresh_token: String,
        /// The requested (narrower or equal) scope, if any.
        scope: Option<Scope>,
    },
    /// RFC 8628 §3.4 `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
    DeviceCode {
        /// "REQUIRED. The device verification code, "device_code" from the device
        /// authorization response".
        device_code: String,
    },
}

impl TokenRequest {
    /// Parses a token request body.
    ///
    /// `grant_type` is REQUIRED in every flow (missing -> `invalid_request`);
    /// an unknown value, and `implicit`, which never reaches the token endpoint
    /// (RFC 6749 §4.2), are `unsupported_grant_type`. Each flow's REQUIRED
    /// parameters missing -> `invalid_request`; `scope` goes through
    /// [`Scope::parse`].
    pub fn from_params(p: &Params) -> Result<TokenRequest, OAuthError> {
        let grant = p.require("grant_type")?.parse::<GrantType>()?;
        let owned = |name: &str| p.require(name).map(str::to_owned);
        let optional = |name: &str| p.get(name).map(str::to_owned);
        Ok(match grant {
            GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
                code: owned("code")?,
                redirect_uri: optional("redirect_uri"),
                code_verifier: optional("code_verifier"),
            },
            GrantType::Password => TokenRequest::Password {
                username: owned("username")?,
                password: owned("password")?,
                scope: scope_param(p)?,
            },
            GrantType::ClientCredentials => TokenRequest::ClientCredentials { scope: scope_param(p)? },
            GrantType::RefreshToken => {
                TokenRequest::RefreshToken { refresh_token: owned("refresh_token")?, scope: scope_param(p)? }
            }
            GrantType::Implicit => {
                return Err(OAuthError::unsupported_grant_type("the implicit grant is not used at the token endpoint"))
            }
            GrantType::DeviceCode => TokenRequest::DeviceCode { device_code: owned("device_code")? },
            GrantType::WechatMiniProgram => {
                return Err(OAuthError::unsupported_grant_type(
                    "a mini program's login code is redeemed at /o/login/wechat-mp/",
                ))
            }
        })
    }

    /// The grant type this request uses.
    pub fn grant_type(&self) -> GrantType {
        match self {
            TokenRequest::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            TokenRequest::Password { .. } => GrantType::Password,
            TokenRequest::ClientCredentials { .. } => GrantType::ClientCredentials,
            TokenRequest::RefreshToken { .. } => GrantType::RefreshToken,
            TokenRequest::DeviceCode { .. } => GrantType::DeviceCode,
        }
    }
}

/// A WeChat mini program's login at `POST /o/login/wechat-mp/`: the code of `wx.login()`
/// instead of a grant at the token endpoint, otherwise the same parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct MiniProgramLogin {
    /// The code of `wx.login()` (REQUIRED).
    pub js_code: String,
    /// The requested scope (RFC 6749 §3.3).
    pub scope: Option<Scope>,
    /// Which `wechat-miniprogram` provider, when several are configured.
    pub provider: Option<String>,
}

impl MiniProgramLogin {
    /// Parses the form: `js_code` missing -> `invalid_request`, `scope` through
    /// [`Scope::parse`].
    pub fn from_params(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            js_code: p.require("js_code")?.to_owned(),
            scope: scope_param(p)?,
            provider: p.get("provider").map(str::to_owned),
        })
    }
}

impl fmt::Debug for MiniProgramLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiniProgramLogin")
            .field("js_code", &REDACTED)
            .field("scope", &self.scope)
            .field("provider", &self.provider)
            .finish()
    }
}

/// The optional `scope` parameter, parsed.
fn scope_param(p: &Params) -> Result<Option<Scope>, OAuthError> {
    p.get("scope").map(Scope::parse).transpose()
}

const REDACTED: &str = "[redacted]";

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenRequest::AuthorizationCode { redirect_uri, code_verifier, .. } => f
                .debug_struct("AuthorizationCode")
                .field("code", &REDACTED)
                .field("redirect_uri", redirect_uri)
                .field("code_verifier", &code_verifier.as_ref().map(|_| REDACTED))
                .finish(),
            TokenRequest::Password { username, scope, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &REDACTED)
                .field("scope", scope)
                .finish(),
            TokenRequest::ClientCredentials { scope } => {
                f.debug_struct("ClientCredentials").field("scope", scope).finish()
            }
            TokenRequest::RefreshToken { scope, .. } => {
                f.debug_struct("RefreshToken").field("refresh_token", &REDACTED).field("scope", scope).finish()
            }
            TokenRequest::DeviceCode { .. } => f.debug_struct("DeviceCode").field("device_code", &REDACTED).finish(),
        }
    }
}

/// The `response_type` of an authorization request (RFC 6749 §3.1.1, OAuth 2.0 Multiple
/// Response Type Encoding Practices §3-5, OIDC Core §3.2.2.1, §3.3.2.1): which of a code, an
/// access token and an ID Token the authorization endpoint returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseType {
    /// `code`: an authorization code (§4.1.1).
    pub code: bool,
    /// `token`: an access token in the front channel (§4.2.1).
    pub token: bool,
    /// `id_token`: an ID Token in the front channel (OIDC Core §3.2.2.1).
    pub id_token: bool,
}

impl ResponseType {
    /// `code`: the authorization code grant.
    pub const CODE: ResponseType = ResponseType { code: true, token: false, id_token: false };
    /// `token`: the OAuth implicit grant.
    pub const TOKEN: ResponseType = ResponseType { code: false, token: true, id_token: false };
    /// `id_token`: OIDC implicit, ID Token only.
    pub const ID_TOKEN: ResponseType = ResponseType { code: false, token: false, id_token: true };
    /// `id_token token`: OIDC implicit.
    pub const ID_TOKEN_TOKEN: ResponseType = ResponseType { code: false, token: true, id_token: true };
    /// `code id_token`: hybrid.
    pub const CODE_ID_TOKEN: ResponseType = ResponseType { code: true, token: false, id_token: true };
    /// `code token`: hybrid.
    pub const CODE_TOKEN: ResponseType = ResponseType { code: true, token: true, id_token: false };
    /// `code id_token token`: hybrid.
    pub const CODE_ID_TOKEN_TOKEN: ResponseType = ResponseType { code: true, token: true, id_token: true };
    /// Every value this server understands, in the order discovery lists them.
    pub const ALL: [ResponseType; 7] = [
        Self::CODE,
        Self::TOKEN,
        Self::ID_TOKEN,
        Self::ID_TOKEN_TOKEN,
        Self::CODE_ID_TOKEN,
        Self::CODE_TOKEN,
        Self::CODE_ID_TOKEN_TOKEN,
    ];

    /// The registered spelling (words in the order `code id_token token`).
    pub fn as_str(self) -> &'static str {
        match (self.code, self.id_token, self.token) {
            (true, false, false) => "code",
            (false, false, true) => "token",
            (false, true, false) => "id_token",
            (false, true, true) => "id_token token",
            (true, true, false) => "code id_token",
            (true, false, true) => "code token",
            (true, true, true) => "code id_token token",
            (false, false, false) => "none",
        }
    }

    /// Whether the authorization endpoint itself returns a token (access or ID): such answers
    /// never travel in the query (Multiple Response Type Encoding Practices §3, §5).
    pub fn returns_tokens(self) -> bool {
        self.token || self.id_token
    }

    /// The grants a client must have for this response type: the authorization code grant for
    /// `code`, the implicit grant for any token from the authorization endpoint.
    pub fn grants(self) -> Vec<GrantType> {
        let mut grants = Vec::new();
        if self.code {
            grants.push(GrantType::AuthorizationCode);
        }
        if self.returns_tokens() {
            grants.push(GrantType::Implicit);
        }
        grants
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseType {
    type Err = OAuthError;

    /// RFC 6749 §3.1.1: "If an authorization request is missing the
    /// "response_type" parameter, or if the response type is not understood, the
    /// authorization server MUST return an error response". The value is a
    /// space-delimited set whose order does not matter (§3.1.1: "The meaning of such
    /// composite response types is defined by their respective specifications ... the
    /// order of values does not matter"); a repeated or unknown word, and `none` (which
    /// this server does not offer), are `unsupported_response_type`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unsupported = || {
            OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "response_type must be `code`, `token`, `id_token` or a combination of them",
            )
        };
        let mut t = ResponseType { code: false, token: false, id_token: false };
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            let flag = match word {
                "code" => &mut t.code,
                "token" => &mut t.token,
                "id_token" => &mut t.id_token,
                _ => return Err(unsupported()),
            };
            if *flag {
                return Err(unsupported());
            }
            *flag = true;
        }
        if !(t.code || t.token || t.id_token) {
            return Err(unsupported());
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameters from a query string such as `a=1&b=2`.
    fn params(query: &str) -> Params {
        Params::from_pairs(url::form_urlencoded::parse(query.as_bytes()).into_owned()).unwrap()
    }

    fn scope(s: &str) -> Option<Scope> {
        Some(Scope::parse(s).unwrap())
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn mini_program_logins_parse_and_hide_the_code() {
        let login = MiniProgramLogin::from_params(&params("js_code=081abc&scope=openid+profile")).unwrap();
        assert_eq!(login.js_code, "081abc");
        assert_eq!((login.scope, login.provider), (scope("openid profile"), None));
        let named = MiniProgramLogin::from_params(&params("js_code=x&provider=shop")).unwrap();
        assert_eq!(named.provider.as_deref(), Some("shop"));
        assert!(!format!("{named:?}").contains("js_code: \"x\""));
        let missing = MiniProgramLogin::from_params(&params("scope=openid")).unwrap_err();
        assert_eq!(missing.code, crate::oauth::error::ErrorCode::InvalidRequest);
        let at_token =
            TokenRequest::from_params(&params("grant_type=urn:yaoshi:grant-type:wechat-mini-program&js_code=x"));
        assert_eq!(at_token.unwrap_err().code, crate::oauth::error::ErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn token_requests_parse() {
        use TokenRequest::*;
        let cases = [
            (
                "grant_type=authorization_code&code=c1",
                AuthorizationCode { code: s("c1"), redirect_uri: None, code_verifier: None },
            ),
            (
                "grant_type=authorization_code&code=c1&redirect_uri=https://a/cb&code_verifier=v",
                AuthorizationCode { code: s("c1"), redirect_uri: Some(s("https://a/cb")), code_verifier: Some(s("v")) },
            ),
            (
                "grant_type=password&username=u&password=p&scope=b+a",
                Password { username: s("u"), password: s("p"), scope: scope("a b") },
            ),
            ("grant_type=client_credentials", ClientCredentials { scope: None }),
            ("grant_type=client_credentials&scope=", ClientCredentials { scope: None }),
            (
                "grant_type=refresh_token&refresh_token=r&scope=a",
                RefreshToken { refresh_token: s("r"), scope: scope("a") },
            ),
        ];
        for (query, expected) in cases {
            let parsed = TokenRequest::from_params(&params(query)).unwrap();
            assert_eq!(parsed.grant_type(), expected.grant_type());
            assert_eq!(parsed, expected, "{query}");
        }
    }

    #[test]
    fn token_request_missing_parameters() {
        let cases = [
            ("", "grant_type"),
            ("code=c&grant_type=", "grant_type"),
            ("grant_type=authorization_code", "code"),
            ("grant_type=password&password=p", "username"),
            ("grant_type=password&username=u", "password"),
            ("grant_type=refresh_token&scope=a", "refresh_token"),
        ];
        for (query, name) in cases {
            let err = TokenRequest::from_params(&params(query)).unwrap_err();
            let expected = OAuthError::invalid_request(format!("missing parameter `{name}`"));
            assert_eq!(err, expected, "{query}");
        }
    }

    #[test]
    fn token_request_bad_values() {
        use ErrorCode::{InvalidScope, UnsupportedGrantType};
        let cases = [
            ("grant_type=implicit", UnsupportedGrantType),
            ("grant_type=magic", UnsupportedGrantType),
            ("grant_type=Password", UnsupportedGrantType),
            ("grant_type=client_credentials&scope=a%5Cb", InvalidScope),
            ("grant_type=password&username=u&password=p&scope=%22", InvalidScope),
            ("grant_type=refresh_token&refresh_token=r&scope=%7F", InvalidScope),
        ];
        for (query, code) in cases {
            let err = TokenRequest::from_params(&params(query)).unwrap_err();
            assert_eq!(err.code, code, "{query}");
        }
    }

    #[test]
    fn token_request_debug_redacts_secrets() {
        let queries = [
            "grant_type=authorization_code&code=SECRET1&code_verifier=SECRET2&redirect_uri=https://a",
            "grant_type=password&username=alice&password=SECRET3&scope=openid",
            "grant_type=refresh_token&refresh_token=SECRET4",
            "grant_type=client_credentials&scope=openid",
        ];
        for query in queries {
            let shown = format!("{:?}", TokenRequest::from_params(&params(query)).unwrap());
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    #[test]
    fn response_types() {
        assert_eq!("code".parse::<ResponseType>(), Ok(ResponseType::CODE));
        assert_eq!("token".parse::<ResponseType>(), Ok(ResponseType::TOKEN));
        assert_eq!("id_token".parse::<ResponseType>(), Ok(ResponseType::ID_TOKEN));
        // Any order (RFC 6749 §3.1.1).
        for (raw, want) in [
            ("id_token token", ResponseType::ID_TOKEN_TOKEN),
            ("token id_token", ResponseType::ID_TOKEN_TOKEN),
            ("id_token code", ResponseType::CODE_ID_TOKEN),
            ("token code", ResponseType::CODE_TOKEN),
            ("token id_token code", ResponseType::CODE_ID_TOKEN_TOKEN),
        ] {
            assert_eq!(raw.parse::<ResponseType>(), Ok(want), "{raw}");
        }
        for t in ResponseType::ALL {
            assert_eq!(t.as_str().parse::<ResponseType>(), Ok(t), "round trip");
            assert_eq!(t.returns_tokens(), t != ResponseType::CODE);
        }
        assert_eq!(ResponseType::CODE_ID_TOKEN.grants(), vec![GrantType::AuthorizationCode, GrantType::Implicit]);
        assert_eq!(ResponseType::ID_TOKEN.grants(), vec![GrantType::Implicit]);
        for bad in ["Code", "none", "code none", "code code", "id_token id_token", "code,token", "idtoken", ""] {
            let err = bad.parse::<ResponseType>().unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedResponseType, "{bad:?}");
        }
    }
}
