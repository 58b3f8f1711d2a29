//! Outgoing messages: mail and SMS, each behind one transport trait so that the use cases
//! (verification, recovery, notices) never know which provider carries them. The transports
//! are chosen by the operator's settings; [`log`] prints messages instead of sending them (the
//! default for `--demo` and development). Messages leave through the durable message outbox
//! (`service::message_delivery`), never directly from a request.

pub mod aliyun;
pub mod log;
pub mod smtp;
pub mod templates;
pub mod tencent;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use serde_json::Value;

use crate::{
    config::{ConfigError, MailTransportKind, NotifySettings, SmsTransportKind},
    i18n::Locale,
};

/// One mail, already rendered in its recipient's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// One SMS: a one-time code, sent through the provider's approved template for the
/// recipient's language (providers in China only send pre-approved templates).
#[derive(Clone, PartialEq, Eq)]
pub struct Sms {
    /// The recipient's number in E.164 (`+8613800138000`).
    pub to: String,
    /// The code the template carries.
    pub code: String,
    /// The recipient's language, which picks the template.
    pub locale: Locale,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms").field("to", &self.to).field("code", &"***").field("locale", &self.locale).finish()
    }
}

/// Why a message was not sent. The text is short and free of secrets: it is stored as the
/// outbox row's last error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt later (connection refused, timeout, 4xx SMTP reply, throttled).
    #[error("{0}")]
    Transient(String),
    /// Will never succeed as it is (a rejected recipient, a bad template, bad credentials).
    #[error("{0}")]
    Rejected(String),
}

/// The longest a transport is assumed to take over one message when it does not say: the SMS
/// providers' client gives up after [`SMS_TIMEOUT`].
const DEFAULT_HANDOVER: Duration = SMS_TIMEOUT;

/// Sends mail.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Sends one mail; `Ok` once the next hop accepted it.
    async fn send(&self, mail: &Email) -> Result<(), SendError>;

    /// The longest [`MailTransport::send`] takes before it gives up.
    fn handover_limit(&self) -> Duration {
        DEFAULT_HANDOVER
    }
}

/// Sends SMS.
#[async_trait]
pub trait SmsTransport: Send + Sync {
    /// Sends one SMS; `Ok` once the provider accepted it.
    async fn send(&self, sms: &Sms) -> Result<(), SendError>;

    /// The longest [`SmsTransport::send`] takes before it gives up.
    fn handover_limit(&self) -> Duration {
        DEFAULT_HANDOVER
    }
}

/// The transports this instance sends through.
#[derive(Clone)]
pub struct Transports {
    /// Mail.
    pub mail: Arc<dyn MailTransport>,
    /// SMS.
    pub sms: Arc<dyn SmsTransport>,
}

impl Default for Transports {
    /// Both print to the log.
    fn default() -> Self {
        Self { mail: Arc::new(log::LogTransport), sms: Arc::new(log::LogTransport) }
    }
}

impl Transports {
    /// The longest one message takes to hand over, whichever transport carries it.
    pub fn handover_limit(&self) -> Duration {
        self.mail.handover_limit().max(self.sms.handover_limit())
    }

    /// The transports the settings choose, built once (the SMTP connection pool, the SMS
    /// providers' HTTP client). Needs a tokio runtime when mail goes through SMTP.
    pub fn from_settings(s: &NotifySettings) -> Result<Transports, ConfigError> {
        s.validate()?;
        let mail: Arc<dyn MailTransport> = match s.mail.transport {
            MailTransportKind::Log => Arc::new(log::LogTransport),
            MailTransportKind::Smtp => Arc::new(smtp::SmtpTransport::new(&s.mail)?),
        };
        let sms: Arc<dyn SmsTransport> = match s.sms.transport {
            SmsTransportKind::Log => Arc::new(log::LogTransport),
            SmsTransportKind::Aliyun => Arc::new(aliyun::AliyunSms::new(&s.sms)?),
            SmsTransportKind::Tencent => Arc::new(tencent::TencentSms::new(&s.sms)?),
        };
        Ok(Transports { mail, sms })
    }
}

/// What every SMS provider's transport holds: its HTTP client, the API's address and the
/// `[sms]` settings (whose `Debug` hides the secret).
#[derive(Debug)]
pub struct SmsProvider {
    http: reqwest::Client,
    endpoint: url::Url,
    settings: crate::config::SmsSettings,
}

impl SmsProvider {
    /// The provider for validated `[sms]` settings, at `sms.endpoint` or `default_endpoint`.
    fn new(s: &crate::config::SmsSettings, default_endpoint: &str) -> Result<Self, ConfigError> {
        let endpoint = url::Url::parse(s.endpoint.as_deref().unwrap_or(default_endpoint))
            .map_err(|e| ConfigError::Invalid { key: "sms.endpoint", reason: e.to_string() })?;
        Ok(Self { http: sms_http()?, endpoint, settings: s.clone() })
    }

    /// A setting as sent: trimmed, empty when unset.
    fn field(v: &Option<String>) -> &str {
        v.as_deref().map(str::trim).unwrap_or_default()
    }
}

/// Time allowed to reach an SMS provider.
const SMS_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for one whole call to an SMS provider.
const SMS_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from an SMS provider.
const SMS_MAX_BODY: usize = 64 * 1024;

/// The HTTP client of an SMS transport: rustls, short timeouts, no redirects.
fn sms_http() -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .connect_timeout(SMS_CONNECT_TIMEOUT)
        .timeout(SMS_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("yaoshi/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Invalid { key: "sms", reason: format!("HTTP client: {e}") })
}

/// Sends a provider call and reads its JSON answer. Failing to get one (no connection, a
/// timeout, a body that is not JSON) is transient: the next attempt may get through.
async fn call_provider(req: reqwest::RequestBuilder) -> Result<(u16, Value), SendError> {
    let failed = |e: reqwest::Error| {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        SendError::Transient(format!("SMS provider: {what}"))
    };
    let mut resp = req.send().await.map_err(failed)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > SMS_MAX_BODY {
            return Err(SendError::Transient(format!("SMS provider: HTTP {status}, answer too large")));
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice(&body) {
        Ok(json) => Ok((status, json)),
        Err(_) => Err(SendError::Transient(format!("SMS provider: HTTP {status}, not a JSON answer"))),
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 of `msg` under `key`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Lower-case hex of SHA-256.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(data))
}

/// `host` or `host:port` of a URL, as an HTTP client sends it in `Host` (the port only when it
/// is not the scheme's default).
fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}
