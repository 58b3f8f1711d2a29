//! Ready-made provider settings, so that a common provider is only a client id and secret
//! away. Each can still be adjusted in the configuration (name, scopes, issuer, endpoints).
//!
//! | preset   | protocol | what it uses |
//! |----------|----------|--------------|
//! | `github` | OAuth 2.0 | `github.com/login/oauth/*`, user from `api.github.com/user` (`id`, `login`, `name`, `email`; GitHub's profile email is never taken as verified) |
//! | `google` | OIDC     | issuer `https://accounts.google.com` |
//! | `gitlab` | OIDC     | issuer `https://gitlab.com` (set `issuer` for a self-hosted GitLab) |
//! | `wechat` | OAuth 2.0, WeChat style | website QR login (`connect/qrconnect`, `snsapi_login`): `appid`/`secret` parameters, a GET token request, `openid` per application and `unionid` across an Open Platform account |
//! | `wechat-official` | OAuth 2.0, WeChat style | login inside WeChat's browser for an official account (`connect/oauth2/authorize`, `snsapi_userinfo`); otherwise as `wechat` |
//! | `qq` | QQ Connect | `graph.qq.com`: `openid` (JSONP `/oauth2.0/me`), `unionid` (`unionid=1`), nickname |
//! | `dingtalk` | DingTalk | `login.dingtalk.com/oauth2/auth`, `api.dingtalk.com`: `openId`, `unionId`, nick, email |
//! | `feishu`, `lark` | Feishu / Lark | `open.feishu.cn` or `open.larksuite.com`: `open_id`, `union_id`, name, email |
//! | `wecom` | WeCom | `login.work.weixin.qq.com` (needs `agent_id`), `qyapi.weixin.qq.com`: `corpid:userid` |
//! | `wechat-miniprogram` | WeChat mini program | no browser: the app's `wx.login()` code at `POST /o/login/wechat-mp/`, `api.weixin.qq.com/sns/jscode2session`: `openid`, `unionid` |
//! | `alipay` | Alipay | `openauth.alipay.com`, `openapi.alipay.com/gateway.do`, RSA2 (needs `alipay_public_key`; the client secret is the application private key): `open_id` (or `user_id`), `user_id`, nickname |

use std::str::FromStr;

use super::{dialect::Dialect, FieldMapping, Protocol, ProviderConfig, Quirks, Secret, TokenAuth, UserinfoAuth};

/// A known provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// GitHub (OAuth apps).
    Github,
    /// Google (OpenID Connect).
    Google,
    /// GitLab.com (OpenID Connect).
    Gitlab,
    /// WeChat website login (微信开放平台 网站应用).
    Wechat,
    /// WeChat official-account login inside WeChat (微信公众号 网页授权).
    WechatOfficial,
    /// A WeChat mini program (微信小程序), signing in without a browser.
    WechatMiniProgram,
    /// QQ Connect (QQ 互联).
    Qq,
    /// DingTalk (钉钉).
    DingTalk,
    /// Feishu (飞书).
    Feishu,
    /// Lark, Feishu outside China.
    Lark,
    /// WeCom (企业微信).
    WeCom,
    /// Alipay (支付宝).
    Alipay,
}

/// Every preset, for listings and tests.
pub const ALL: [Preset; 12] = [
    Preset::Github,
    Preset::Google,
    Preset::Gitlab,
    Preset::Wechat,
    Preset::WechatOfficial,
    Preset::WechatMiniProgram,
    Preset::Qq,
    Preset::DingTalk,
    Preset::Feishu,
    Preset::Lark,
    Preset::WeCom,
    Preset::Alipay,
];

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.into_iter().find(|p| p.id() == s).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|p| p.id()).collect();
            format!("unknown preset {s:?} ({})", names.join(", "))
        })
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Preset {
    /// The preset's name in the configuration.
    pub fn id(self) -> &'static str {
        match self {
            Preset::Github => "github",
            Preset::Google => "google",
            Preset::Gitlab => "gitlab",
            Preset::Wechat => "wechat",
            Preset::WechatOfficial => "wechat-official",
            Preset::WechatMiniProgram => "wechat-miniprogram",
            Preset::Qq => "qq",
            Preset::DingTalk => "dingtalk",
            Preset::Feishu => "feishu",
            Preset::Lark => "lark",
            Preset::WeCom => "wecom",
            Preset::Alipay => "alipay",
        }
    }

    /// The provider's usual display name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Github => "GitHub",
            Preset::Google => "Google",
            Preset::Gitlab => "GitLab",
            Preset::Wechat | Preset::WechatOfficial => "WeChat",
            Preset::WechatMiniProgram => "WeChat Mini Program",
            Preset::Qq => "QQ",
            Preset::DingTalk => "DingTalk",
            Preset::Feishu => "Feishu",
            Preset::Lark => "Lark",
            Preset::WeCom => "WeCom",
            Preset::Alipay => "Alipay",
        }
    }

    /// The name people in China know it by, for the Chinese login page.
    pub fn name_zh(self) -> &'static str {
        match self {
            Preset::Wechat | Preset::WechatOfficial => "微信",
            Preset::WechatMiniProgram => "微信小程序",
            Preset::Qq => "QQ",
            Preset::DingTalk => "钉钉",
            Preset::Feishu => "飞书",
            Preset::Lark => "Lark",
            Preset::WeCom => "企业微信",
            Preset::Alipay => "支付宝",
            other => other.name(),
        }
    }

    /// The button's icon under `public/providers/`, where one is shipped.
    pub fn icon(self) -> Option<&'static str> {
        Some(match self {
            Preset::Wechat | Preset::WechatOfficial | Preset::WechatMiniProgram => "wechat",
            Preset::Qq => "qq",
            Preset::DingTalk => "dingtalk",
            Preset::Feishu | Preset::Lark => "feishu",
            Preset::WeCom => "wecom",
            Preset::Alipay => "alipay",
            Preset::Github | Preset::Google | Preset::Gitlab => return None,
        })
    }

    /// The complete configuration of this provider under `id` with our credentials.
    pub fn config(self, id: &str, client_id: &str, client_secret: Secret) -> ProviderConfig {
        let (protocol, scopes, quirks) = match self {
            Preset::Github => (
                Protocol::OAuth2 {
                    authorization_endpoint: "https://github.com/login/oauth/authorize".into(),
                    token_endpoint: "https://github.com/login/oauth/access_token".into(),
                    userinfo_endpoint: "https://api.github.com/user".into(),
                    mapping: FieldMapping {
                        subject: "id".into(),
                        union_id: None,
                        username: Some("login".into()),
                        display_name: Some("name".into()),
                        email: Some("email".into()),
                        email_verified: None,
                    },
                },
                strings(&["read:user", "user:email"]),
                Quirks { token_auth: Some(TokenAuth::ClientSecretPost), ..Quirks::default() },
            ),
            Preset::Google => (
                Protocol::Oidc { issuer: "https://accounts.google.com".into() },
                strings(&["openid", "email", "profile"]),
                Quirks::default(),
            ),
            Preset::Gitlab => (
                Protocol::Oidc { issuer: "https://gitlab.com".into() },
                strings(&["openid", "profile", "email"]),
                Quirks::default(),
            ),
            Preset::Wechat => wechat("https://open.weixin.qq.com/connect/qrconnect", "snsapi_login"),
            Preset::WechatOfficial => wechat("https://open.weixin.qq.com/connect/oauth2/authorize", "snsapi_userinfo"),
            // No authorization endpoint: the code comes from the app's `wx.login()`.
            Preset::WechatMiniProgram => platform(Dialect::WechatMiniProgram, "", "https://api.weixin.qq.com", &[]),
            Preset::Qq => platform(
                Dialect::Qq,
                "https://graph.qq.com/oauth2.0/authorize",
                "https://graph.qq.com",
                &["get_user_info"],
            ),
            Preset::DingTalk => platform(
                Dialect::DingTalk,
                "https://login.dingtalk.com/oauth2/auth",
                "https://api.dingtalk.com",
                &["openid"],
            ),
            Preset::Feishu => platform(
                Dialect::Feishu,
                "https://open.feishu.cn/open-apis/authen/v1/authorize",
                "https://open.feishu.cn",
                &[],
            ),
            Preset::Lark => platform(
                Dialect::Feishu,
                "https://open.larksuite.com/open-apis/authen/v1/authorize",
                "https://open.larksuite.com",
                &[],
            ),
            Preset::WeCom => platform(
                Dialect::WeCom { agent_id: String::new() },
                "https://login.work.weixin.qq.com/wwlogin/sso/login",
                "https://qyapi.weixin.qq.com",
                &[],
            ),
            Preset::Alipay => platform(
                Dialect::Alipay { alipay_public_key: String::new() },
                "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
                "https://openapi.alipay.com",
                &["auth_user"],
            ),
        };
        ProviderConfig {
            id: id.to_owned(),
            name: self.name().to_owned(),
            protocol,
            client_id: client_id.to_owned(),
            client_secret,
            scopes,
            link_by_verified_email: false,
            quirks,
            union_group: None,
            preset: Some(self),
        }
    }
}

/// A provider with its own flow: PKCE and the other quirks do not apply.
fn platform(
    dialect: Dialect,
    authorization_endpoint: &str,
    api_base: &str,
    scopes: &[&str],
) -> (Protocol, Vec<String>, Quirks) {
    let protocol = Protocol::Platform {
        dialect,
        authorization_endpoint: authorization_endpoint.into(),
        api_base: api_base.into(),
    };
    (protocol, strings(scopes), Quirks { pkce: false, ..Quirks::default() })
}

/// WeChat's OAuth 2.0 (微信网页授权): both entry points share the token and user-info
/// endpoints and differ in the authorization endpoint and scope. The token response names the
/// `openid` the user-info request must carry; the user info has `openid` and, when the
/// application is bound to an Open Platform account, `unionid`.
fn wechat(authorization_endpoint: &str, scope: &str) -> (Protocol, Vec<String>, Quirks) {
    (
        Protocol::OAuth2 {
            authorization_endpoint: authorization_endpoint.into(),
            token_endpoint: "https://api.weixin.qq.com/sns/oauth2/access_token".into(),
            userinfo_endpoint: "https://api.weixin.qq.com/sns/userinfo".into(),
            mapping: FieldMapping {
                subject: "openid".into(),
                union_id: Some("unionid".into()),
                username: Some("nickname".into()),
                display_name: Some("nickname".into()),
                email: None,
                email_verified: None,
            },
        },
        strings(&[scope]),
        Quirks {
            client_id_param: "appid".into(),
            client_secret_param: "secret".into(),
            token_auth: Some(TokenAuth::ClientSecretPost),
            token_via_get: true,
            userinfo_auth: UserinfoAuth::Query,
            userinfo_params_from_token: strings(&["openid"]),
            authorize_fragment: Some("wechat_redirect".into()),
            pkce: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::upstream::{authorization_url, check_endpoint};

    fn preset(p: Preset) -> ProviderConfig {
        p.config("x", "our-client", Secret::new("s"))
    }

    #[test]
    fn names_parse() {
        for (p, name) in [
            (Preset::Github, "github"),
            (Preset::Google, "google"),
            (Preset::Gitlab, "gitlab"),
            (Preset::Wechat, "wechat"),
            (Preset::WechatOfficial, "wechat-official"),
            (Preset::WechatMiniProgram, "wechat-miniprogram"),
        ] {
            assert_eq!(name.parse::<Preset>(), Ok(p));
            assert_eq!(p.id(), name);
        }
        assert!("facebook".parse::<Preset>().is_err());
    }

    #[test]
    fn github_is_oauth2_with_a_mapping_and_post_authentication() {
        let p = preset(Preset::Github);
        let Protocol::OAuth2 { authorization_endpoint, token_endpoint, userinfo_endpoint, mapping } = &p.protocol
        else {
            panic!("github is plain OAuth 2.0")
        };
        assert_eq!(authorization_endpoint, "https://github.com/login/oauth/authorize");
        assert_eq!(token_endpoint, "https://github.com/login/oauth/access_token");
        assert_eq!(userinfo_endpoint, "https://api.github.com/user");
        assert_eq!((mapping.subject.as_str(), mapping.username.as_deref()), ("id", Some("login")));
        assert_eq!(mapping.email_verified, None, "GitHub's profile email is not a verified claim");
        assert_eq!(p.quirks.token_auth, Some(TokenAuth::ClientSecretPost));
        assert_eq!(p.scopes, ["read:user", "user:email"]);
        assert_eq!(p.name, "GitHub");
        assert!(!p.link_by_verified_email, "linking by email is the operator's decision");
    }

    #[test]
    fn google_and_gitlab_are_oidc_issuers() {
        for (p, issuer) in [(Preset::Google, "https://accounts.google.com"), (Preset::Gitlab, "https://gitlab.com")] {
            let c = preset(p);
            assert_eq!(c.issuer(), Some(issuer));
            assert!(c.scopes.iter().any(|s| s == "openid"));
            assert!(check_endpoint(issuer).is_ok());
            assert_eq!(c.quirks, Quirks::default());
        }
    }

    #[test]
    fn wechat_uses_its_own_parameter_names() {
        let p = preset(Preset::Wechat);
        let Protocol::OAuth2 { authorization_endpoint, mapping, .. } = &p.protocol else { panic!("oauth2") };
        assert_eq!(mapping.subject, "openid");
        assert!(p.quirks.token_via_get && !p.quirks.pkce);
        assert_eq!(p.quirks.userinfo_auth, UserinfoAuth::Query);
        let url =
            authorization_url(&p, authorization_endpoint, "https://id.example/o/login/callback/x", "st", None, None)
                .unwrap();
        assert!(url.starts_with("https://open.weixin.qq.com/connect/qrconnect?"), "{url}");
        assert!(url.contains("appid=our-client") && !url.contains("client_id="), "{url}");
        assert!(url.contains("scope=snsapi_login") && url.ends_with("#wechat_redirect"), "{url}");
        assert_eq!(mapping.union_id.as_deref(), Some("unionid"));
    }

    #[test]
    fn platform_presets_use_their_own_parameters() {
        let url = |p: Preset| {
            let c = preset(p);
            let Protocol::Platform { dialect, authorization_endpoint, api_base } = &c.protocol else { panic!("{p:?}") };
            assert!(check_endpoint(api_base).is_ok() && !c.quirks.pkce, "{p:?}");
            dialect
                .authorization_url(authorization_endpoint, &c.client_id, &c.scopes, "https://id.example/cb", "st")
                .unwrap()
        };
        let qq = url(Preset::Qq);
        assert!(
            qq.starts_with("https://graph.qq.com/oauth2.0/authorize?response_type=code&client_id=our-client&"),
            "{qq}"
        );
        assert!(qq.contains("scope=get_user_info"), "{qq}");
        let ding = url(Preset::DingTalk);
        assert!(
            ding.starts_with("https://login.dingtalk.com/oauth2/auth?") && ding.contains("prompt=consent"),
            "{ding}"
        );
        assert!(url(Preset::Feishu).contains("open.feishu.cn/open-apis/authen/v1/authorize?app_id=our-client&"));
        assert!(url(Preset::Lark).starts_with("https://open.larksuite.com/"));
        assert!(url(Preset::WeCom).contains("login_type=CorpApp&appid=our-client&agentid="));
        let alipay = url(Preset::Alipay);
        assert!(
            alipay.starts_with(
                "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=our-client&scope=auth_user&"
            ),
            "{alipay}"
        );
        let mini = preset(Preset::WechatMiniProgram);
        let Protocol::Platform { api_base, .. } = &mini.protocol else { panic!("mini program") };
        assert_eq!(api_base, "https://api.weixin.qq.com");
        assert!(!mini.browser_flow());
        for p in ALL {
            assert_eq!(preset(p).preset, Some(p));
            assert!(!p.name_zh().is_empty());
        }
    }

    #[test]
    fn wechat_official_accounts_authorize_inside_wechat() {
        let p = preset(Preset::WechatOfficial);
        let Protocol::OAuth2 { authorization_endpoint, token_endpoint, .. } = &p.protocol else { panic!("oauth2") };
        assert_eq!(token_endpoint, "https://api.weixin.qq.com/sns/oauth2/access_token");
        let url =
            authorization_url(&p, authorization_endpoint, "https://id.example/o/login/callback/x", "st", None, None)
                .unwrap();
        assert!(url.starts_with("https://open.weixin.qq.com/connect/oauth2/authorize?appid=our-client&"), "{url}");
        assert!(url.contains("scope=snsapi_userinfo") && url.ends_with("#wechat_redirect"), "{url}");
    }
}
