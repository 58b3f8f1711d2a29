//! Runtime settings: defaults, then an optional TOML file, then environment and flags.
//!
//! Everything an operator may set lives in [`Settings`]; `cli` fills it from the command line
//! (clap reads the `YAOSHI_*` and `DATABASE_URL` variables) and [`FileSettings`]. The
//! `[[providers]]` tables (upstream identity providers) are read in `providers.rs`.

mod captcha;
mod contacts;
mod database;
mod factors;
mod limits;
mod notify;
mod providers;
pub mod proxies;
mod throttle;

pub use captcha::{provider_url, CaptchaKind, CaptchaSettings, CAPTCHA_SECRET_ENV};
pub use contacts::ContactSettings;
pub use database::{DatabaseSettings, SqliteSync};
pub use factors::{FactorSettings, FACTOR_KEY_ENV};
pub use limits::RequestLimits;
pub use notify::{
    MailSettings, MailTransportKind, NotifySettings, SmsSettings, SmsTransportKind, SmtpSecurity, SMS_SECRET_ENV,
    SMTP_PASSWORD_ENV,
};
pub use providers::{resolve_providers, ProviderFile, ProviderKind};
pub use proxies::{Cidr, ForwardedHeader};
pub use throttle::ThrottleSettings;

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path};

use serde::Deserialize;

use crate::oauth::{
    jose::Alg,
    upstream::{valid_id, ProviderConfig},
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
    /// Lifetime in seconds of access tokens issued through the front channel (the implicit
    /// flow), which a browser's history or a Referer can leak (RFC 6819 §4.4.2).
    pub implicit_token_ttl: i64,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client (empty:
    /// the TCP peer is the client).
    pub trusted_proxies: Vec<Cidr>,
    /// The header those proxies write (only that one is read: a proxy passes the others on
    /// from the client unchanged).
    pub forwarded_header: ForwardedHeader,
    /// The sign-in throttle's budgets.
    pub throttle: ThrottleSettings,
    /// Days security events are kept.
    pub event_retention_days: i64,
    /// Where `GET /metrics` is served (off when unset; never on the public address).
    pub metrics_bind: Option<SocketAddr>,
    /// What a request may ask of the HTTP edge (`[limits]`).
    pub limits: RequestLimits,
    /// Seconds before the first retry of a back-channel logout notice; each further retry
    /// waits twice as long, up to an hour.
    pub logout_retry_base: i64,
    /// How long requests and startup wait for the database (`[database]`).
    pub database: DatabaseSettings,
    /// Email and phone verification, and phone sign-in (`[contacts]`).
    pub contacts: ContactSettings,
    /// How mail and SMS leave (`[mail]`, `[sms]`).
    pub notify: NotifySettings,
    /// The CAPTCHA on the forms that send codes (`[captcha]`).
    pub captcha: CaptchaSettings,
    /// Second factors: the key their secrets are sealed with, and when the second step may
    /// be skipped (`[second_factors]`).
    pub second_factors: FactorSettings,
    /// Whether every DPoP proof must carry a nonce this server provided (RFC 9449 §8), which
    /// bounds how long a proof made ahead of time can be used. Off by default: a client then
    /// pays no extra round trip, and replays are still refused by `jti`.
    pub dpop_nonce: bool,
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
            implicit_token_ttl: 600,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            throttle: ThrottleSettings::default(),
            event_retention_days: 90,
            metrics_bind: None,
            limits: RequestLimits::default(),
            logout_retry_base: 5,
            database: DatabaseSettings::default(),
            contacts: ContactSettings::default(),
            notify: NotifySettings::default(),
            captcha: CaptchaSettings::default(),
            second_factors: FactorSettings::default(),
            dpop_nonce: false,
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
            .field("implicit_token_ttl", &self.implicit_token_ttl)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("forwarded_header", &self.forwarded_header)
            .field("throttle", &self.throttle)
            .field("event_retention_days", &self.event_retention_days)
            .field("metrics_bind", &self.metrics_bind)
            .field("limits", &self.limits)
            .field("logout_retry_base", &self.logout_retry_base)
            .field("database", &self.database)
            .field("contacts", &self.contacts)
            .field("notify", &self.notify)
            .field("captcha", &self.captcha)
            .field("second_factors", &self.second_factors)
            .field("dpop_nonce", &self.dpop_nonce)
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
    /// See [`Settings::implicit_token_ttl`].
    pub implicit_token_ttl: Option<i64>,
    /// See [`Settings::trusted_proxies`].
    pub trusted_proxies: Option<Vec<Cidr>>,
    /// See [`Settings::forwarded_header`].
    pub forwarded_header: Option<ForwardedHeader>,
    /// See [`Settings::throttle`].
    pub throttle: Option<ThrottleSettings>,
    /// See [`Settings::event_retention_days`].
    pub event_retention_days: Option<i64>,
    /// See [`Settings::metrics_bind`].
    pub metrics_bind: Option<SocketAddr>,
    /// See [`Settings::limits`].
    pub limits: Option<RequestLimits>,
    /// See [`Settings::logout_retry_base`].
    pub logout_retry_base: Option<i64>,
    /// See [`Settings::database`].
    pub database: Option<DatabaseSettings>,
    /// See [`Settings::contacts`].
    pub contacts: Option<ContactSettings>,
    /// See [`Settings::notify`].
    pub mail: Option<MailSettings>,
    /// See [`Settings::notify`].
    pub sms: Option<SmsSettings>,
    /// See [`Settings::captcha`].
    pub captcha: Option<CaptchaSettings>,
    /// See [`Settings::second_factors`].
    pub second_factors: Option<FactorSettings>,
    /// See [`Settings::dpop_nonce`].
    pub dpop_nonce: Option<bool>,
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
        if !(60..=self.access_token_ttl.max(60)).contains(&self.implicit_token_ttl) {
            return invalid("implicit_token_ttl", "must be between 60 seconds and access_token_ttl");
        }
        if let Some(why) = self.throttle.problem() {
            return invalid("throttle", why);
        }
        if !(1..=3650).contains(&self.event_retention_days) {
            return invalid("event_retention_days", "must be between 1 and 3650 days");
        }
        if self.metrics_bind.is_some_and(|m| m == self.bind) {
            return invalid("metrics_bind", "must differ from bind (metrics are never public)");
        }
        if !(1..=3600).contains(&self.logout_retry_base) {
            return invalid("logout_retry_base", "must be between 1 and 3600 seconds");
        }
        self.limits.validate()?;
        self.database.validate()?;
        self.contacts.validate()?;
        self.notify.validate()?;
        self.captcha.validate()?;
        self.second_factors.validate()?;
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
            ("implicit_token_ttl", Box::new(|s| s.implicit_token_ttl = 7200)),
            ("throttle", Box::new(|s| s.throttle.window = 0)),
            ("event_retention_days", Box::new(|s| s.event_retention_days = 0)),
            ("metrics_bind", Box::new(|s| s.metrics_bind = Some(s.bind))),
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
