//! The `log` transport: prints each message to the server's log instead of sending it, so that
//! a developer or a `--demo` run can follow verification and recovery without a mail server.
//! It prints the codes and links it carries: never use it where real people sign in.

use std::time::Duration;

use async_trait::async_trait;

use super::{Email, MailTransport, SendError, Sms, SmsTransport};

/// Prints messages to the log.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogTransport;

#[async_trait]
impl MailTransport for LogTransport {
    async fn send(&self, mail: &Email) -> Result<(), SendError> {
        tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.text, "mail (log transport, not sent)");
        Ok(())
    }

    fn handover_limit(&self) -> Duration {
        Duration::ZERO
    }
}

#[async_trait]
impl SmsTransport for LogTransport {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        tracing::info!(to = %sms.to, code = %sms.code, locale = sms.locale.tag(), "SMS (log transport, not sent)");
        Ok(())
    }

    fn handover_limit(&self) -> Duration {
        Duration::ZERO
    }
}
