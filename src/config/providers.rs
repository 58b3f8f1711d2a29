//! The `[[providers]]` tables of the TOML file: each upstream identity provider people may
//! sign in with, from a preset or from its own keys, resolved into a [`ProviderConfig`] with
//! its client secret (from the file or the environment) and checked.

use serde::Deserialize;

use super::ConfigError;
use crate::oauth::upstream::{
    check_endpoint,
    dialect::{alipay, Dialect},
    presets::Preset,
    valid_id, FieldMapping, Protocol, ProviderConfig, Secret, TokenAuth, UserinfoAuth,
};

/// Whether a provider speaks OpenID Connect or plain OAuth 2.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Endpoints from the issuer's discovery document; an ID Token.
    Oidc,
    /// Fixed endpoints and a user-info mapping.
    Oauth2,
}

/// One `[[providers]]` table of the TOML file. A `preset` fills everything but the
/// credentials; any key given here overrides it. `Debug` leaves the secret out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// URL-safe slug (`a-z0-9-_`, at most 32): `/o/login/start/<id>`, `/o/login/callback/<id>`.
    pub id: String,
    /// `github`, `google`, `gitlab`, `wechat` or `wechat-official`.
    pub preset: Option<String>,
    /// Button text: "Sign in with <name>" (default: the preset's name, else the id).
    pub name: Option<String>,
    /// `oidc` or `oauth2` (required without a preset).
    pub kind: Option<ProviderKind>,
    /// OIDC: the issuer, whose discovery document gives the endpoints.
    pub issuer: Option<String>,
    /// OAuth 2.0: the authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// OAuth 2.0: the token endpoint.
    pub token_endpoint: Option<String>,
    /// OAuth 2.0: the user-info endpoint.
    pub userinfo_endpoint: Option<String>,
    /// OAuth 2.0: where the user-info document keeps subject, username, email, ….
    pub mapping: Option<FieldMapping>,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret (or use `client_secret_env`, or `YAOSHI_PROVIDER_<ID>_CLIENT_SECRET`).
    pub client_secret: Option<Secret>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Scopes to request (default: the preset's; `openid profile email` for OIDC).
    pub scopes: Option<Vec<String>>,
    /// Offer to link a first sign-in to the account with the email this provider verified.
    #[serde(default)]
    pub link_by_verified_email: bool,
    /// Set to false to keep the entry but hide the provider.
    pub enabled: Option<bool>,
    /// `client_secret_basic` or `client_secret_post` (default: discovery, else Basic for OIDC
    /// and Post for OAuth 2.0).
    pub token_auth: Option<TokenAuth>,
    /// Name of the client id parameter (default `client_id`).
    pub client_id_param: Option<String>,
    /// Name of the client secret parameter (default `client_secret`).
    pub client_secret_param: Option<String>,
    /// Send the token request as a GET (default false).
    pub token_via_get: Option<bool>,
    /// `header` (default) or `query`: how the access token reaches the user-info endpoint.
    pub userinfo_auth: Option<UserinfoAuth>,
    /// Send PKCE (default true).
    pub pkce: Option<bool>,
    /// Providers given the same `union_group` share identities by union id: set it on the
    /// `wechat` and `wechat-official` providers of one WeChat Open Platform account, so that a
    /// person is one account whichever application they sign in with (default: the provider's
    /// own id).
    pub union_group: Option<String>,
    /// QQ, DingTalk, Feishu/Lark, WeCom, Alipay, WeChat mini programs: where the provider's
    /// API is (default: the preset's, such as `https://graph.qq.com`).
    pub api_base: Option<String>,
    /// WeCom: the application's `agentid` (required).
    pub agent_id: Option<String>,
    /// Alipay: Alipay's public key (base64 DER as the open platform shows it, or PEM;
    /// required). The client secret is then our application's RSA private key.
    pub alipay_public_key: Option<String>,
}

impl ProviderFile {
    /// The provider this entry describes (`None` when disabled). `env` reads environment
    /// variables (for the secret).
    pub fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<ProviderConfig>, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { key: "providers", reason };
        let id = self.id.clone();
        if !valid_id(&id) {
            return Err(invalid(format!("provider id {id:?} must be 1-32 of a-z, 0-9, - and _")));
        }
        if self.enabled == Some(false) {
            return Ok(None);
        }
        if self.client_id.trim().is_empty() {
            return Err(invalid(format!("provider {id:?} needs a client_id")));
        }
        let conventional = format!("YAOSHI_PROVIDER_{}_CLIENT_SECRET", id.to_ascii_uppercase().replace('-', "_"));
        let secret = self
            .client_secret
            .clone()
            .or_else(|| self.client_secret_env.as_deref().and_then(env).map(Secret::new))
            .or_else(|| env(&conventional).map(Secret::new))
            .filter(|s| !s.expose().is_empty())
            .ok_or_else(|| {
                invalid(format!("provider {id:?} needs client_secret, client_secret_env or ${conventional}"))
            })?;
        let mut p = match (&self.preset, self.kind) {
            (Some(name), _) => name.parse::<Preset>().map_err(invalid)?.config(&id, &self.client_id, secret),
            (None, Some(kind)) => {
                let protocol = match kind {
                    ProviderKind::Oidc => Protocol::Oidc { issuer: String::new() },
                    ProviderKind::Oauth2 => Protocol::OAuth2 {
                        authorization_endpoint: String::new(),
                        token_endpoint: String::new(),
                        userinfo_endpoint: String::new(),
                        mapping: self
                            .mapping
                            .clone()
                            .ok_or_else(|| invalid(format!("oauth2 provider {id:?} needs a [providers.mapping]")))?,
                    },
                };
                let scopes = match kind {
                    ProviderKind::Oidc => vec!["openid".into(), "profile".into(), "email".into()],
                    ProviderKind::Oauth2 => Vec::new(),
                };
                let mut quirks = crate::oauth::upstream::Quirks::default();
                if kind == ProviderKind::Oauth2 {
                    quirks.token_auth = Some(TokenAuth::ClientSecretPost);
                }
                ProviderConfig {
                    id: id.clone(),
                    name: id.clone(),
                    protocol,
                    client_id: self.client_id.clone(),
                    client_secret: secret,
                    scopes,
                    link_by_verified_email: false,
                    quirks,
                    union_group: None,
                    preset: None,
                }
            }
            (None, None) => return Err(invalid(format!("provider {id:?} needs a preset or a kind (oidc or oauth2)"))),
        };
        self.apply(&mut p).map_err(|reason| invalid(format!("provider {id:?}: {reason}")))?;
        Ok(Some(p))
    }

    /// Lays this entry's keys over `p` and checks the result.
    fn apply(self, p: &mut ProviderConfig) -> Result<(), String> {
        if let Some(name) = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            p.name = name;
        }
        if let Some(scopes) = self.scopes {
            p.scopes = scopes;
        }
        p.link_by_verified_email = self.link_by_verified_email;
        if let Some(group) = self.union_group {
            if !valid_id(&group) {
                return Err(format!("union_group {group:?} must be 1-32 of a-z, 0-9, - and _"));
            }
            p.union_group = Some(group);
        }
        let q = &mut p.quirks;
        q.token_auth = self.token_auth.or(q.token_auth);
        q.client_id_param = self.client_id_param.unwrap_or(std::mem::take(&mut q.client_id_param));
        q.client_secret_param = self.client_secret_param.unwrap_or(std::mem::take(&mut q.client_secret_param));
        q.token_via_get = self.token_via_get.unwrap_or(q.token_via_get);
        q.userinfo_auth = self.userinfo_auth.unwrap_or(q.userinfo_auth);
        q.pkce = self.pkce.unwrap_or(q.pkce);
        let platform_keys = self.api_base.is_some() || self.agent_id.is_some() || self.alipay_public_key.is_some();
        if platform_keys && !matches!(p.protocol, Protocol::Platform { .. }) {
            return Err("api_base, agent_id and alipay_public_key belong to the qq, dingtalk, feishu, lark, wecom, alipay and wechat-miniprogram presets".into());
        }
        match &mut p.protocol {
            Protocol::Oidc { issuer } => {
                if let Some(i) = self.issuer {
                    *issuer = i;
                }
                if self.authorization_endpoint.is_some() || self.token_endpoint.is_some() || self.mapping.is_some() {
                    return Err("an oidc provider takes its endpoints from discovery: set issuer only".into());
                }
                check_endpoint(issuer).map_err(|e| format!("issuer: {e}"))?;
            }
            Protocol::Platform { dialect, authorization_endpoint, api_base } => {
                if self.issuer.is_some() || self.token_endpoint.is_some() || self.userinfo_endpoint.is_some() {
                    return Err("this provider's endpoints are its authorization_endpoint and api_base".into());
                }
                if let Some(a) = self.authorization_endpoint {
                    if !dialect.browser_flow() {
                        return Err(
                            "a mini program signs in without a browser: it has no authorization_endpoint".into()
                        );
                    }
                    *authorization_endpoint = a;
                }
                if let Some(b) = self.api_base {
                    *api_base = b;
                }
                if dialect.browser_flow() {
                    check_endpoint(authorization_endpoint).map_err(|e| format!("authorization_endpoint: {e}"))?;
                }
                check_endpoint(api_base).map_err(|e| format!("api_base: {e}"))?;
                match dialect {
                    Dialect::WeCom { agent_id } => {
                        *agent_id = self.agent_id.map(|a| a.trim().to_owned()).unwrap_or_default();
                        if agent_id.is_empty() {
                            return Err("a WeCom provider needs agent_id".into());
                        }
                    }
                    Dialect::Alipay { alipay_public_key } => {
                        *alipay_public_key = self.alipay_public_key.unwrap_or_default();
                        alipay::public_key(alipay_public_key)?;
                        alipay::private_key(p.client_secret.expose())
                            .map_err(|e| format!("{e} (the client secret is the application private key)"))?;
                    }
                    Dialect::Qq | Dialect::DingTalk | Dialect::Feishu | Dialect::WechatMiniProgram => {}
                }
            }
            Protocol::OAuth2 { authorization_endpoint, token_endpoint, userinfo_endpoint, mapping } => {
                if self.issuer.is_some() {
                    return Err("an oauth2 provider has no issuer: set its endpoints".into());
                }
                for (slot, given) in [
                    (&mut *authorization_endpoint, self.authorization_endpoint),
                    (&mut *token_endpoint, self.token_endpoint),
                    (&mut *userinfo_endpoint, self.userinfo_endpoint),
                ] {
                    if let Some(g) = given {
                        *slot = g;
                    }
                    check_endpoint(slot).map_err(|e| format!("endpoints: {e}"))?;
                }
                if let Some(m) = self.mapping {
                    *mapping = m;
                }
                if mapping.subject.trim().is_empty() {
                    return Err("mapping.subject must name the user id's field".into());
                }
            }
        }
        if p.scopes.iter().any(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return Err("scopes must not be empty or contain spaces".into());
        }
        Ok(())
    }
}

/// The providers of the file's `[[providers]]` tables, enabled ones only, in order.
pub fn resolve_providers(
    files: Vec<ProviderFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ProviderConfig>, ConfigError> {
    let mut out: Vec<ProviderConfig> = Vec::new();
    for f in files {
        if let Some(p) = f.resolve(env)? {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileSettings, Settings};

    const PROVIDERS: &str = r#"
[[providers]]
id = "github"
preset = "github"
client_id = "gh-client"
link_by_verified_email = true

[[providers]]
id = "corp"
name = "Corp SSO"
kind = "oidc"
issuer = "https://sso.corp.example"
client_id = "yaoshi"
client_secret = "corp-secret-value"

[[providers]]
id = "forge"
kind = "oauth2"
authorization_endpoint = "https://forge.example/oauth/authorize"
token_endpoint = "https://forge.example/oauth/token"
userinfo_endpoint = "https://forge.example/api/me"
client_id = "f"
client_secret_env = "FORGE_SECRET"
scopes = ["user"]
[providers.mapping]
subject = "data.id"
username = "data.login"
email = "data.email"
email_verified = "data.email_confirmed"

[[providers]]
id = "old"
preset = "google"
client_id = "x"
client_secret = "y"
enabled = false
"#;

    fn load_providers(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.toml");
        std::fs::write(&path, text).unwrap();
        let f = FileSettings::load(&path)?;
        resolve_providers(f.providers.unwrap_or_default(), env)
    }

    #[test]
    fn providers_come_from_presets_and_tables() {
        let env = |k: &str| match k {
            "YAOSHI_PROVIDER_GITHUB_CLIENT_SECRET" => Some("gh-secret".to_owned()),
            "FORGE_SECRET" => Some("forge-secret".to_owned()),
            _ => None,
        };
        let ps = load_providers(PROVIDERS, &env).unwrap();
        assert_eq!(
            ps.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["github", "corp", "forge"],
            "disabled ones are left out"
        );
        let (gh, corp, forge) = (&ps[0], &ps[1], &ps[2]);
        assert_eq!(
            (gh.name.as_str(), gh.client_secret.expose(), gh.link_by_verified_email),
            ("GitHub", "gh-secret", true)
        );
        assert_eq!(gh.protocol, Preset::Github.config("github", "gh-client", Secret::new("s")).protocol);
        assert_eq!(
            (corp.name.as_str(), corp.issuer(), corp.client_secret.expose()),
            ("Corp SSO", Some("https://sso.corp.example"), "corp-secret-value")
        );
        assert_eq!(corp.scopes, ["openid", "profile", "email"]);
        let Protocol::OAuth2 { userinfo_endpoint, mapping, .. } = &forge.protocol else { panic!("oauth2") };
        assert_eq!((userinfo_endpoint.as_str(), mapping.subject.as_str()), ("https://forge.example/api/me", "data.id"));
        assert_eq!(
            (forge.name.as_str(), forge.client_secret.expose(), forge.quirks.token_auth),
            ("forge", "forge-secret", Some(TokenAuth::ClientSecretPost))
        );
        let s = Settings { providers: ps, ..Settings::default() };
        s.validate().unwrap();
        let shown = format!("{s:?}");
        assert!(
            shown.contains("Corp SSO") && !shown.contains("corp-secret-value") && !shown.contains("gh-secret"),
            "{shown}"
        );
    }

    #[test]
    fn chinese_presets_take_their_own_keys() {
        let none = |_: &str| None;
        let text = r#"
[[providers]]
id = "wechat"
preset = "wechat"
client_id = "wx1"
client_secret = "s"
union_group = "wx-open"

[[providers]]
id = "qq"
preset = "qq"
client_id = "101"
client_secret = "s"
api_base = "http://127.0.0.1:9/qq"
authorization_endpoint = "http://127.0.0.1:9/qq/oauth2.0/authorize"

[[providers]]
id = "wecom"
preset = "wecom"
client_id = "ww1"
client_secret = "s"
agent_id = "1000002"

[[providers]]
id = "mini"
preset = "wechat-miniprogram"
client_id = "wxmini"
client_secret = "s"
union_group = "wx-open"
"#;
        let ps = load_providers(text, &none).unwrap();
        assert_eq!((ps[0].union_group(), ps[1].union_group()), ("wx-open", "qq"));
        let Protocol::Platform { api_base, authorization_endpoint, .. } = &ps[1].protocol else { panic!("qq") };
        assert_eq!(
            (api_base.as_str(), authorization_endpoint.as_str()),
            ("http://127.0.0.1:9/qq", "http://127.0.0.1:9/qq/oauth2.0/authorize")
        );
        assert!(
            matches!(&ps[2].protocol, Protocol::Platform { dialect: Dialect::WeCom { agent_id }, .. } if agent_id == "1000002")
        );
        assert_eq!(ps[3].union_group(), "wx-open", "a mini program shares the QR login's union ids");
        assert!(!ps[3].browser_flow());

        let base = "[[providers]]\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        for (extra, why) in [
            ("id = \"w\"\npreset = \"wecom\"\n", "WeCom without agent_id"),
            ("id = \"a\"\npreset = \"alipay\"\nalipay_public_key = \"AAAA\"\n", "Alipay keys that are not keys"),
            ("id = \"q\"\npreset = \"qq\"\napi_base = \"http://qq.example\"\n", "plain http"),
            (
                "id = \"q\"\npreset = \"qq\"\ntoken_endpoint = \"https://qq.example/t\"\n",
                "QQ has no token_endpoint key",
            ),
            ("id = \"x\"\npreset = \"wechat\"\nunion_group = \"Not Valid\"\n", "bad union group"),
            (
                "id = \"m\"\npreset = \"wechat-miniprogram\"\nauthorization_endpoint = \"https://wx.example/a\"\n",
                "a mini program has no authorization endpoint",
            ),
            (
                "id = \"g\"\npreset = \"github\"\napi_base = \"https://api.github.com\"\n",
                "api_base on a plain OAuth 2.0 preset",
            ),
        ] {
            assert!(
                matches!(load_providers(&format!("{base}{extra}"), &none), Err(ConfigError::Invalid { .. })),
                "{why}"
            );
        }
    }

    #[test]
    fn bad_provider_tables_are_refused() {
        let none = |_: &str| None;
        let base = "[[providers]]\nclient_id = \"c\"\nclient_secret = \"s\"\n";
        for (extra, why) in [
            ("id = \"Git Hub\"\npreset = \"github\"\n", "bad id"),
            ("id = \"x\"\n", "no preset or kind"),
            ("id = \"x\"\npreset = \"myspace\"\n", "unknown preset"),
            ("id = \"x\"\nkind = \"oidc\"\n", "oidc without issuer"),
            ("id = \"x\"\nkind = \"oidc\"\nissuer = \"http://sso.example\"\n", "plain http"),
            ("id = \"x\"\nkind = \"oauth2\"\ntoken_endpoint = \"https://a.example/t\"\n", "oauth2 without mapping"),
            ("id = \"x\"\npreset = \"google\"\ntoken_endpoint = \"https://a.example/t\"\n", "endpoints on oidc"),
        ] {
            assert!(
                matches!(load_providers(&format!("{base}{extra}"), &none), Err(ConfigError::Invalid { .. })),
                "{why}"
            );
        }
        let no_secret = "[[providers]]\nid = \"g\"\npreset = \"google\"\nclient_id = \"c\"\n";
        let err = load_providers(no_secret, &none).unwrap_err().to_string();
        assert!(err.contains("YAOSHI_PROVIDER_G_CLIENT_SECRET"), "{err}");
        let typo = format!("{base}id = \"g\"\npreset = \"google\"\nclient_secrte = \"s\"\n");
        assert!(matches!(load_providers(&typo, &none), Err(ConfigError::File { .. })));
        let twice = Preset::Google.config("g", "c", Secret::new("s"));
        let s = Settings { providers: vec![twice.clone(), twice], ..Settings::default() };
        assert!(s.validate().is_err(), "ids are unique");
    }
}
