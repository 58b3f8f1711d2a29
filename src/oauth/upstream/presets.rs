//! Ready-made provider settings, so that a common provider is only a client id and secret
//! away. Each can still be adjusted in the configuration (name, scopes, issuer, endpoints).
//!
//! | preset   | protocol | what it uses |
//! |----------|----------|--------------|
//! | `github` | OAuth 2.0 | `github.com/login/oauth/*`, user from `api.github.com/user` (`id`, `login`, `name`, `email`; GitHub's profile email is never taken as verified) |
//! | `google` | OIDC     | issuer `https://accounts.google.com` |
//! | `gitlab` | OIDC     | issuer `https://gitlab.com` (set `issuer` for a self-hosted GitLab) |
//! | `wechat` | OAuth 2.0, WeChat style | website QR login: `appid`/`secret` parameters, a GET token request, `openid` as subject |

use std::str::FromStr;

use super::{FieldMapping, Protocol, ProviderConfig, Quirks, Secret, TokenAuth, UserinfoAuth};

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
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "github" => Ok(Preset::Github),
            "google" => Ok(Preset::Google),
            "gitlab" => Ok(Preset::Gitlab),
            "wechat" => Ok(Preset::Wechat),
            other => Err(format!("unknown preset {other:?} (github, google, gitlab or wechat)")),
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Preset {
    /// The provider's usual display name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Github => "GitHub",
            Preset::Google => "Google",
            Preset::Gitlab => "GitLab",
            Preset::Wechat => "WeChat",
        }
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
            Preset::Wechat => (
                Protocol::OAuth2 {
                    authorization_endpoint: "https://open.weixin.qq.com/connect/qrconnect".into(),
                    token_endpoint: "https://api.weixin.qq.com/sns/oauth2/access_token".into(),
                    userinfo_endpoint: "https://api.weixin.qq.com/sns/userinfo".into(),
                    mapping: FieldMapping {
                        subject: "openid".into(),
                        username: Some("nickname".into()),
                        display_name: Some("nickname".into()),
                        email: None,
                        email_verified: None,
                    },
                },
                strings(&["snsapi_login"]),
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
        }
    }
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
        for p in [Preset::Github, Preset::Google, Preset::Gitlab, Preset::Wechat] {
            let name = format!("{p:?}").to_lowercase();
            assert_eq!(name.parse::<Preset>(), Ok(p));
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
    }
}
