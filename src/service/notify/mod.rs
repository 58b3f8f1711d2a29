//! Outgoing messages: mail and SMS, each behind one transport trait so that the use cases
//! (verification, recovery, notices) never know which provider carries them. The transports
//! are chosen by the operator's settings; [`log`] prints messages instead of sending them (the
//! default for `--demo` and development). Messages leave through the durable message outbox
//! (`service::outbox`), never directly from a request.

pub mod log;
pub mod templates;

use std::sync::Arc;

use async_trait::async_trait;

use crate::i18n::Locale;

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

/// Sends mail.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Sends one mail; `Ok` once the next hop accepted it.
    async fn send(&self, mail: &Email) -> Result<(), SendError>;
}

/// Sends SMS.
#[async_trait]
pub trait SmsTransport: Send + Sync {
    /// Sends one SMS; `Ok` once the provider accepted it.
    async fn send(&self, sms: &Sms) -> Result<(), SendError>;
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
