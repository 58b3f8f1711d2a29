//! Runtime settings: defaults, then an optional TOML file, then environment and flags.
//!
//! Everything an operator may set lives in [`Settings`]; `cli` fills it from the command line
//! (clap reads the `YAOSHI_*` and `DATABASE_URL` variables) and [`FileSettings`].

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path};

use serde::Deserialize;

use crate::oauth::{
    jose::Alg,
    upstream::{
        check_endpoint, presets::Preset, valid_id, FieldMapping, Protocol, ProviderConfig, Secret, TokenAuth,
        UserinfoAuth,
    },
};

/// The scopes offered when the operator names none, with the text the consent page shows
/// (translated by [`crate::i18n::scope_text`]).
pub const DEFAULT_SCOPES: &[(&str, &str)] = crate::i18n::BUILTIN_SCOPES;

/// Upper bound on the authorization-code lifetime (RFC 6749 §4.1.2: "A maximum authorization
/// code lifetime of 10 minutes is RECOMMENDED").
pub const MAX_CODE_TTL: i64 = 600;
/// Upper bound on the refresh-token reuse grace window.
pub const MAX_REFRESH_GRACE: i64 = 60;
/// Upper bound on the ID Token lifetime, and so on how long a retired key stays published.
pub const MAX_ID_TOKEN_TTL: i64 = 86_400;
/// Upper bound on the delay between a key rotation and the new key's first signature.
pub const MAX_KEY_PUBLISH_DELAY: i64 = 86_400;

/// Parameters of argon2id for human passwords (OWASP's m=19 MiB, t=2, p=1 by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The settings every command runs with.
#[derive(Clone)]
pub struct Settings {
    /// Where the HTTP server listens.
    pub bind: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The issuer identifier (RFC 8414 §2), e.g. `http://localhost:9000`; no trailing slash.
    pub issuer: String,
    /// Access-token lifetime in seconds (the seed's `expires_in`: 3600).
    pub access_token_ttl: i64,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_ttl: i64,
    /// Authorization-code lifetime in seconds (at most [`MAX_CODE_TTL`]).
    pub auth_code_ttl: i64,
    /// Seconds during which the token a refresh just replaced may be retried (0 = off).
    pub refresh_grace: i64,
    /// Scope name -> description shown on the consent page.
    pub scopes: BTreeMap<String, String>,
    /// argon2id parameters for new password hashes.
    pub argon2: Argon2Params,
    /// Log format.
    pub log_format: LogFormat,
    /// Whether people may open accounts at `/o/register/`.
    pub registration: bool,
    /// ID Token lifetime in seconds.
    pub id_token_ttl: i64,
    /// The algorithm ID Tokens are signed with (RS256 or ES256).
    pub signing_alg: Alg,
    /// Days after which the signing key is rotated automatically (0: only by `yaoshi keys rotate`).
    pub key_rotation_days: i64,
    /// Seconds between a rotation and the new key's first signature, during which it is already
    /// published (so that relying parties' JWKS caches pick it up first).
    pub key_publish_delay: i64,
    /// Upstream identity providers people may sign in with (`[[providers]]`), in button order.
    pub providers: Vec<ProviderConfig>,
}

/// The issuer to advertise when none is configured: the address the server listens on, so a
/// server started on another port still publishes metadata that points at itself. Loopback
/// `127.0.0.1` is named `localhost` (the README's `http://localhost:9000`); an unspecified
/// address (`0.0.0.0`, `::`) is no URL anyone can reach, so it becomes `hostname` (or
/// `localhost`) and the second value says the operator should set the issuer.
pub fn issuer_for_bind(bind: SocketAddr, hostname: Option<&str>) -> (String, bool) {
    let port = bind.port();
    let ip = bind.ip();
    if ip.is_unspecified() {
        let host = hostname.map(str::trim).filter(|h| !h.is_empty() && url::Host::parse(h).is_ok());
        return (format!("http://{}:{port}", host.unwrap_or("localhost")), true);
    }
    let host = match ip {
        std::net::IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST => "localhost".to_owned(),
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    };
    (format!("http://{host}:{port}"), false)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 9000)),
            database_url: "sqlite://yaoshi.db".into(),
            issuer: "http://localhost:9000".into(),
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            auth_code_ttl: 60,
            refresh_grace: 0,
            scopes: DEFAULT_SCOPES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            argon2: Argon2Params::default(),
            log_format: LogFormat::Text,
            registration: true,
            id_token_ttl: 3600,
            signing_alg: Alg::RS256,
            key_rotation_days: 90,
            key_publish_delay: 300,
            providers: Vec::new(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("issuer", &self.issuer)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("auth_code_ttl", &self.auth_code_ttl)
            .field("refresh_grace", &self.refresh_grace)
            .field("scopes", &self.scopes.keys().collect::<Vec<_>>())
            .field("argon2", &self.argon2)
            .field("log_format", &self.log_format)
            .field("registration", &self.registration)
            .field("id_token_ttl", &self.id_token_ttl)
            .field("signing_alg", &self.signing_alg)
            .field("key_rotation_days", &self.key_rotation_days)
            .field("key_publish_delay", &self.key_publish_delay)
            .field("providers", &self.providers)
            .finish()
    }
}

/// A database URL with any password replaced by `***`, for logs and `Debug`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Why the settings could not be used: one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read or parsed.
    #[error("config file {path}: {reason}")]
    File {
        /// The file named by `--config`.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The setting's name.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The optional TOML file: every key may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// See [`Settings::bind`].
    pub bind: Option<SocketAddr>,
    /// See [`Settings::database_url`].
    pub database_url: Option<String>,
    /// See [`Settings::issuer`].
    pub issuer: Option<String>,
    /// See [`Settings::access_token_ttl`].
    pub access_token_ttl: Option<i64>,
    /// See [`Settings::refresh_token_ttl`].
    pub refresh_token_ttl: Option<i64>,
    /// See [`Settings::auth_code_ttl`].
    pub auth_code_ttl: Option<i64>,
    /// See [`Settings::refresh_grace`].
    pub refresh_grace: Option<i64>,
    /// See [`Settings::scopes`].
    pub scopes: Option<BTreeMap<String, String>>,
    /// See [`Settings::argon2`].
    pub argon2: Option<Argon2Params>,
    /// See [`Settings::log_format`].
    pub log_format: Option<LogFormat>,
    /// See [`Settings::registration`].
    pub registration: Option<bool>,
    /// See [`Settings::id_token_ttl`].
    pub id_token_ttl: Option<i64>,
    /// See [`Settings::signing_alg`].
    pub signing_alg: Option<Alg>,
    /// See [`Settings::key_rotation_days`].
    pub key_rotation_days: Option<i64>,
    /// See [`Settings::key_publish_delay`].
    pub key_publish_delay: Option<i64>,
    /// See [`Settings::providers`].
    pub providers: Option<Vec<ProviderFile>>,
}

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
    /// `github`, `google`, `gitlab` or `wechat`.
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
        let q = &mut p.quirks;
        q.token_auth = self.token_auth.or(q.token_auth);
        q.client_id_param = self.client_id_param.unwrap_or(std::mem::take(&mut q.client_id_param));
        q.client_secret_param = self.client_secret_param.unwrap_or(std::mem::take(&mut q.client_secret_param));
        q.token_via_get = self.token_via_get.unwrap_or(q.token_via_get);
        q.userinfo_auth = self.userinfo_auth.unwrap_or(q.userinfo_auth);
        q.pkce = self.pkce.unwrap_or(q.pkce);
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

impl FileSettings {
    /// Reads and parses the TOML file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |reason: String| ConfigError::File { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.message().to_string()))
    }
}

impl Settings {
    /// Checks ranges and formats that the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| Err(ConfigError::Invalid { key, reason: reason.into() });
        let issuer = url::Url::parse(&self.issuer);
        match issuer {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none() => {}
            _ => return invalid("issuer", "must be an http(s) URL without query or fragment"),
        }
        if self.issuer.ends_with('/') {
            return invalid("issuer", "must not end with a slash");
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres:")
            || self.database_url.starts_with("postgresql:"))
        {
            return invalid("database_url", "must start with sqlite: or postgres:");
        }
        if !(1..=86_400).contains(&self.access_token_ttl) {
            return invalid("access_token_ttl", "must be between 1 and 86400 seconds");
        }
        if self.refresh_token_ttl < 60 {
            return invalid("refresh_token_ttl", "must be at least 60 seconds");
        }
        if !(1..=MAX_CODE_TTL).contains(&self.auth_code_ttl) {
            return invalid("auth_code_ttl", "must be between 1 and 600 seconds");
        }
        if !(0..=MAX_REFRESH_GRACE).contains(&self.refresh_grace) {
            return invalid("refresh_grace", "must be between 0 and 60 seconds");
        }
        if self.scopes.is_empty() || self.scopes.keys().any(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return invalid("scopes", "must name at least one scope, each without spaces");
        }
        if !(60..=MAX_ID_TOKEN_TTL).contains(&self.id_token_ttl) {
            return invalid("id_token_ttl", "must be between 60 and 86400 seconds");
        }
        if !(0..=3650).contains(&self.key_rotation_days) {
            return invalid("key_rotation_days", "must be between 0 (off) and 3650 days");
        }
        if !(0..=MAX_KEY_PUBLISH_DELAY).contains(&self.key_publish_delay) {
            return invalid("key_publish_delay", "must be between 0 and 86400 seconds");
        }
        if self.key_rotation_days > 0 && self.key_rotation_days * 86_400 <= self.key_publish_delay {
            return invalid("key_publish_delay", "must be shorter than the rotation period");
        }
        let mut ids = std::collections::HashSet::new();
        if self.providers.iter().any(|p| !valid_id(&p.id) || !ids.insert(p.id.as_str())) {
            return invalid("providers", "provider ids must be valid slugs and unique");
        }
        let a = self.argon2;
        if a.memory_kib < 8 * a.parallelism.max(1) || a.iterations == 0 || a.parallelism == 0 {
            return invalid(
                "argon2",
                "memory_kib, iterations and parallelism must be positive (memory >= 8 x parallelism)",
            );
        }
        Ok(())
    }

    /// The scope names the server knows, space-separated.
    pub fn known_scopes(&self) -> String {
        self.scopes.keys().cloned().collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_are_refused() {
        type Breaks = Box<dyn Fn(&mut Settings)>;
        let cases: Vec<(&str, Breaks)> = vec![
            ("issuer", Box::new(|s| s.issuer = "ftp://x".into())),
            ("issuer", Box::new(|s| s.issuer = "http://x/".into())),
            ("database_url", Box::new(|s| s.database_url = "mysql://x".into())),
            ("auth_code_ttl", Box::new(|s| s.auth_code_ttl = 601)),
            ("refresh_grace", Box::new(|s| s.refresh_grace = 61)),
            ("access_token_ttl", Box::new(|s| s.access_token_ttl = 0)),
            ("scopes", Box::new(|s| s.scopes.clear())),
            ("id_token_ttl", Box::new(|s| s.id_token_ttl = 59)),
            ("id_token_ttl", Box::new(|s| s.id_token_ttl = 86_401)),
            ("key_rotation_days", Box::new(|s| s.key_rotation_days = -1)),
            ("key_publish_delay", Box::new(|s| s.key_publish_delay = -1)),
            (
                "key_publish_delay",
                Box::new(|s| {
                    s.key_rotation_days = 1;
                    s.key_publish_delay = 86_400
                }),
            ),
        ];
        for (key, change) in cases {
            let mut s = Settings::default();
            change(&mut s);
            match s.validate() {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn debug_redacts_the_database_password() {
        let s = Settings { database_url: "postgres://app:hunter2@127.0.0.1/db".into(), ..Settings::default() };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn file_settings_reject_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.toml");
        std::fs::write(&path, "acess_token_ttl = 5\n").unwrap();
        assert!(matches!(FileSettings::load(&path), Err(ConfigError::File { .. })));
        std::fs::write(&path, "access_token_ttl = 5\n[scopes]\nread = \"Read\"\n").unwrap();
        let f = FileSettings::load(&path).unwrap();
        assert_eq!(f.access_token_ttl, Some(5));
        std::fs::write(&path, "signing_alg = \"ES256\"\nkey_rotation_days = 0\n").unwrap();
        let f = FileSettings::load(&path).unwrap();
        assert_eq!((f.signing_alg, f.key_rotation_days), (Some(Alg::ES256), Some(0)));
        std::fs::write(&path, "signing_alg = \"HS256\"\n").unwrap();
        assert!(FileSettings::load(&path).is_err(), "only RS256 and ES256 sign");
    }

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

    #[test]
    fn the_issuer_follows_the_bind_address() {
        let at = |a: &str| issuer_for_bind(a.parse().unwrap(), Some("auth-1"));
        assert_eq!(at("127.0.0.1:9000"), ("http://localhost:9000".into(), false));
        assert_eq!(at("127.0.0.1:9400"), ("http://localhost:9400".into(), false));
        assert_eq!(at("127.0.0.2:9400"), ("http://127.0.0.2:9400".into(), false));
        assert_eq!(at("[::1]:9400"), ("http://[::1]:9400".into(), false));
        assert_eq!(at("0.0.0.0:80"), ("http://auth-1:80".into(), true));
        assert_eq!(issuer_for_bind("[::]:9000".parse().unwrap(), None), ("http://localhost:9000".into(), true));
        assert_eq!(issuer_for_bind("0.0.0.0:9000".parse().unwrap(), Some("bad host/")).0, "http://localhost:9000");
        // The default settings agree with the default bind.
        let d = Settings::default();
        assert_eq!(issuer_for_bind(d.bind, None).0, d.issuer);
    }
}
