//! Signing in with another provider: this server as an OAuth 2.0 client and OpenID Connect
//! relying party of an upstream identity provider.
//!
//! Pure like the rest of [`crate::oauth`]: the service layer does the HTTP calls and storage,
//! and hands in what it read and the current time.
//!
//! | what                                              | file          |
//! |---------------------------------------------------|---------------|
//! | provider configuration, upstream metadata          | `mod.rs`      |
//! | presets (GitHub, Google, GitLab, WeChat, QQ, DingTalk, Feishu/Lark, WeCom, Alipay) | `presets.rs`  |
//! | providers with their own flows (QQ, DingTalk, Feishu, WeCom, Alipay, WeChat mini programs) | `dialect/` |
//! | authorization request, callback, token response, ID Token (RFC 6749 §4.1, RFC 7636, RFC 9207, OIDC Core §3.1.3.7) | `flow.rs` |
//! | the upstream user as a profile, username proposal  | `profile.rs`  |

pub mod dialect;
mod flow;
pub mod presets;
mod profile;

use std::fmt;

use serde::Deserialize;
use url::{Host, Url};

pub use flow::{
    authorization_url, parse_token_response, validate_callback, validate_id_token, CallbackExpect, TokenResponse,
};
pub use profile::{lookup, profile_from_claims, profile_from_mapping, propose_username, ExternalProfile};

/// A secret from the configuration (a client secret): `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the upstream is spoken to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect: endpoints from discovery (`{issuer}/.well-known/openid-configuration`),
    /// an ID Token on the code exchange.
    Oidc {
        /// The issuer identifier, compared exactly with discovery and the ID Token's `iss`.
        issuer: String,
    },
    /// Plain OAuth 2.0: fixed endpoints and a user-info document read through a mapping.
    OAuth2 {
        /// Authorization endpoint.
        authorization_endpoint: String,
        /// Token endpoint.
        token_endpoint: String,
        /// User-info endpoint (required: it is the only source of the user's identity).
        userinfo_endpoint: String,
        /// Where the user-info document keeps each field.
        mapping: FieldMapping,
    },
    /// A provider with its own flow after the callback ([`dialect`]).
    Platform {
        /// Which flow.
        dialect: dialect::Dialect,
        /// Where the browser is sent.
        authorization_endpoint: String,
        /// Where the provider's API is (`https://graph.qq.com`, `https://api.dingtalk.com`, …).
        api_base: String,
    },
}

/// Where an OAuth 2.0 provider's user-info document keeps each field: dotted paths such as
/// `id` or `data.user.login` (see [`lookup`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The stable, unique user id (a number is taken as its decimal text).
    pub subject: String,
    /// The user's id across the applications of one platform account (WeChat's `unionid`):
    /// when present it is the identity's key, shared by the providers of one union group.
    #[serde(default)]
    pub union_id: Option<String>,
    /// The name to propose as username.
    #[serde(default)]
    pub username: Option<String>,
    /// The name shown to people.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The email address.
    #[serde(default)]
    pub email: Option<String>,
    /// A boolean saying the provider verified the email (absent: never verified).
    #[serde(default)]
    pub email_verified: Option<String>,
}

/// How the client authenticates at the upstream token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic with the form-urlencoded id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// How the access token is presented to the user-info endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserinfoAuth {
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Header,
    /// `?access_token=` in the query (RFC 6750 §2.3; WeChat).
    Query,
}

/// What differs between providers that call themselves OAuth 2.0. The defaults are the
/// standard; the WeChat preset shows what a provider of that style needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// The name of the client id parameter (`client_id`; WeChat: `appid`).
    pub client_id_param: String,
    /// The name of the client secret parameter with [`TokenAuth::ClientSecretPost`]
    /// (`client_secret`; WeChat: `secret`).
    pub client_secret_param: String,
    /// Client authentication; `None`: from discovery, else Basic (OIDC) or Post (OAuth 2.0).
    pub token_auth: Option<TokenAuth>,
    /// The token request as a GET with a query string instead of a POST (WeChat).
    pub token_via_get: bool,
    /// How the user-info endpoint takes the access token.
    pub userinfo_auth: UserinfoAuth,
    /// Token response members also sent to the user-info endpoint as query parameters
    /// (WeChat's `openid`).
    pub userinfo_params_from_token: Vec<String>,
    /// A fragment appended to the authorization URL (WeChat: `wechat_redirect`).
    pub authorize_fragment: Option<String>,
    /// Send PKCE (RFC 7636): providers that do not know it ignore the parameters.
    pub pkce: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            client_id_param: "client_id".into(),
            client_secret_param: "client_secret".into(),
            token_auth: None,
            token_via_get: false,
            userinfo_auth: UserinfoAuth::Header,
            userinfo_params_from_token: Vec::new(),
            authorize_fragment: None,
            pkce: true,
        }
    }
}

/// One upstream provider as the operator configured it. `Debug` leaves the secret out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// URL-safe slug: the provider's part of `/o/login/start/<id>` and the callback path.
    pub id: String,
    /// Shown on the button: "Sign in with <name>".
    pub name: String,
    /// OIDC or plain OAuth 2.0.
    pub protocol: Protocol,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret at the provider.
    pub client_secret: Secret,
    /// The scopes requested.
    pub scopes: Vec<String>,
    /// Whether a first sign-in may be linked to the existing account that has the email the
    /// provider says it verified (after that account's password is given).
    pub link_by_verified_email: bool,
    /// Deviations from the standard.
    pub quirks: Quirks,
    /// The providers whose union ids name the same people (two WeChat applications of one
    /// Open Platform account); `None`: this provider alone.
    pub union_group: Option<String>,
    /// The preset it was made from, if any.
    pub preset: Option<presets::Preset>,
}

impl ProviderConfig {
    /// The configured issuer (OIDC providers only).
    pub fn issuer(&self) -> Option<&str> {
        match &self.protocol {
            Protocol::Oidc { issuer } => Some(issuer),
            Protocol::OAuth2 { .. } | Protocol::Platform { .. } => None,
        }
    }

    /// The group within which this provider's union ids are looked up.
    pub fn union_group(&self) -> &str {
        self.union_group.as_deref().unwrap_or(&self.id)
    }

    /// Whether people sign in with it in a browser: every provider but a WeChat mini
    /// program, which has no login button, no callback and nothing to link from the account
    /// page.
    pub fn browser_flow(&self) -> bool {
        match &self.protocol {
            Protocol::Platform { dialect, .. } => dialect.browser_flow(),
            Protocol::Oidc { .. } | Protocol::OAuth2 { .. } => true,
        }
    }
}

/// WeChat's in-app browser says so in its user agent (`MicroMessenger/8.0.…`).
pub fn is_wechat_browser(user_agent: &str) -> bool {
    user_agent.contains("MicroMessenger")
}

/// The providers offered on the login page to this browser, in the configured order. WeChat
/// has one way in per place: inside WeChat's own browser a QR code cannot be scanned, and the
/// official-account authorization (`connect/oauth2/authorize`) works only there. So inside
/// WeChat the official-account provider takes the QR provider's place (if one is configured),
/// and outside it the official-account provider is not shown.
pub fn offered<'a>(providers: &'a [ProviderConfig], user_agent: &str) -> Vec<&'a ProviderConfig> {
    use presets::Preset;
    let in_wechat = is_wechat_browser(user_agent);
    let official = providers.iter().find(|p| p.preset == Some(Preset::WechatOfficial));
    let mut out: Vec<&ProviderConfig> = Vec::new();
    for p in providers.iter().filter(|p| p.browser_flow()) {
        let chosen = match (p.preset, in_wechat, official) {
            (Some(Preset::WechatOfficial), _, _) => None,
            (Some(Preset::Wechat), true, Some(o)) => Some(o),
            _ => Some(p),
        };
        if let Some(c) = chosen.filter(|c| !out.iter().any(|o| o.id == c.id)) {
            out.push(c);
        }
    }
    if let (true, Some(o)) = (in_wechat, official) {
        if !out.iter().any(|x| x.id == o.id) {
            out.push(o);
        }
    }
    out
}

/// True for a provider id: 1–32 of `a-z`, `0-9`, `-`, `_`.
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks an endpoint or issuer URL: `https`, or `http` on a loopback address (development
/// and tests); no fragment, no user information.
pub fn check_endpoint(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw:?} must not have a fragment or user information"));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!("{raw:?} must be https (http only on a loopback address)")),
    }
}

/// OIDC Discovery §4: the configuration document's URL for an issuer ("the Issuer ... with
/// any terminating / removed, followed by /.well-known/openid-configuration").
pub fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// The members of an upstream's provider metadata (OIDC Discovery §3, RFC 8414 §2) that this
/// relying party uses; the others are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UpstreamMetadata {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `userinfo_endpoint`.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// RFC 9207 §3: whether authorization responses carry `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// `token_endpoint_auth_methods_supported` (absent: `client_secret_basic`).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl UpstreamMetadata {
    /// OIDC Discovery §4.3: "The issuer value returned MUST be identical to the Issuer URL
    /// that was used as the prefix to /.well-known/openid-configuration to retrieve the
    /// configuration information." Every endpoint must be usable ([`check_endpoint`]).
    pub fn check(&self, expected_issuer: &str) -> Result<(), String> {
        if self.issuer != expected_issuer {
            return Err(format!("discovery names issuer {:?}, expected {expected_issuer:?}", self.issuer));
        }
        let endpoints = [
            Some(&self.authorization_endpoint),
            Some(&self.token_endpoint),
            Some(&self.jwks_uri),
            self.userinfo_endpoint.as_ref(),
        ];
        for e in endpoints.into_iter().flatten() {
            check_endpoint(e)?;
        }
        Ok(())
    }

    /// The client authentication to use: Basic unless the provider lists only Post.
    pub fn token_auth(&self) -> TokenAuth {
        match &self.token_endpoint_auth_methods_supported {
            Some(m) if !m.iter().any(|x| x == "client_secret_basic") && m.iter().any(|x| x == "client_secret_post") => {
                TokenAuth::ClientSecretPost
            }
            _ => TokenAuth::ClientSecretBasic,
        }
    }
}

/// Why signing in with a provider failed. The text of each variant is for logs; the user is
/// told only which kind of failure it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached, was too slow, or answered with something that is
    /// not a usable document.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider (or the user there) refused: `error` on the callback (RFC 6749 §4.1.2.1).
    #[error("provider refused: {error}")]
    Denied {
        /// The error code, as sent (shortened, printable characters only).
        error: String,
    },
    /// The callback does not belong to a flow this browser started: no flow, expired, used,
    /// or a different `state`.
    #[error("no matching sign-in flow (state)")]
    BadState,
    /// The answer failed verification: issuer, signature, audience, expiry, nonce, subject.
    #[error("provider answer rejected: {0}")]
    Rejected(String),
    /// The provider answered in its own error format (WeChat's `errcode`/`errmsg` with HTTP
    /// 200, QQ's `ret`/`msg`, DingTalk's `code`/`message`, Alipay's `sub_code`).
    #[error("provider error {code}: {message}")]
    Provider {
        /// The provider's error code, as sent (shortened, printable characters only).
        code: String,
        /// The provider's message, shortened.
        message: String,
    },
}

impl UpstreamError {
    /// A [`UpstreamError::Provider`] from what the provider sent, kept short and printable
    /// (it is logged).
    pub fn provider(code: impl fmt::Display, message: impl fmt::Display) -> Self {
        let clean = |s: String, n: usize| s.chars().filter(|c| !c.is_control()).take(n).collect::<String>();
        UpstreamError::Provider { code: clean(code.to_string(), 64), message: clean(message.to_string(), 200) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_endpoints_are_checked() {
        for good in ["github", "corp-sso", "a_1"] {
            assert!(valid_id(good), "{good}");
        }
        for bad in ["", "GitHub", "a/b", "a b", &"x".repeat(33)] {
            assert!(!valid_id(bad), "{bad}");
        }
        assert!(check_endpoint("https://accounts.google.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/o").is_ok());
        assert!(check_endpoint("http://127.0.0.2:9000").is_ok());
        assert!(check_endpoint("http://localhost:1").is_ok());
        for bad in ["http://example.com", "ftp://x", "https://u:p@x.example", "https://x.example/#f", "nope"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(discovery_url("https://a.example/"), "https://a.example/.well-known/openid-configuration");
    }

    #[test]
    fn inside_wechat_the_official_account_takes_the_qr_logins_place() {
        let make = |id: &str, p: presets::Preset| p.config(id, "c", Secret::new("s"));
        let all = [
            make("github", presets::Preset::Github),
            make("wechat", presets::Preset::Wechat),
            make("wechat-mp", presets::Preset::WechatOfficial),
            make("mini", presets::Preset::WechatMiniProgram),
        ];
        assert!(!all[3].browser_flow() && all[..3].iter().all(ProviderConfig::browser_flow));
        let ids = |ua: &str| offered(&all, ua).iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        let desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";
        let wechat =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.44(0x18002c2b) NetType/WIFI";
        assert_eq!(ids(desktop), ["github", "wechat"], "outside WeChat the official-account login cannot work");
        assert_eq!(
            ids(wechat),
            ["github", "wechat-mp"],
            "in the same place as the QR login; a mini program has no button"
        );
        let qr_only = [make("wechat", presets::Preset::Wechat)];
        assert_eq!(offered(&qr_only, wechat).len(), 1, "without an official account, the QR login stays");
        let official_only =
            [make("github", presets::Preset::Github), make("wechat-mp", presets::Preset::WechatOfficial)];
        assert_eq!(
            offered(&official_only, wechat).iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["github", "wechat-mp"]
        );
        assert_eq!(offered(&official_only, desktop).len(), 1);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let p = presets::Preset::Github.config("github", "id-1", Secret::new("hunter2-secret"));
        let shown = format!("{p:?}");
        assert!(shown.contains("id-1") && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn metadata_issuer_must_be_identical_and_endpoints_usable() {
        let doc = |issuer: &str, token: &str| UpstreamMetadata {
            issuer: issuer.into(),
            authorization_endpoint: "https://op.example/authorize".into(),
            token_endpoint: token.into(),
            userinfo_endpoint: None,
            jwks_uri: "https://op.example/jwks".into(),
            authorization_response_iss_parameter_supported: true,
            token_endpoint_auth_methods_supported: None,
        };
        assert!(doc("https://op.example", "https://op.example/token").check("https://op.example").is_ok());
        assert!(doc("https://op.example/", "https://op.example/token").check("https://op.example").is_err());
        assert!(doc("https://evil.example", "https://op.example/token").check("https://op.example").is_err());
        assert!(doc("https://op.example", "http://op.example/token").check("https://op.example").is_err());
        let mut d = doc("https://op.example", "https://op.example/token");
        assert_eq!(d.token_auth(), TokenAuth::ClientSecretBasic);
        d.token_endpoint_auth_methods_supported = Some(vec!["client_secret_post".into()]);
        assert_eq!(d.token_auth(), TokenAuth::ClientSecretPost);
        d.token_endpoint_auth_methods_supported = Some(vec!["client_secret_post".into(), "client_secret_basic".into()]);
        assert_eq!(d.token_auth(), TokenAuth::ClientSecretBasic);
    }
}
