//! The `smtp` mail transport: hands each mail to the configured SMTP server (RFC 5321) through
//! `lettre`, over STARTTLS (RFC 3207, required: no credentials or mail go out unencrypted if
//! the upgrade fails), implicit TLS (RFC 8314 §3.3) or, on loopback only, plain TCP. The
//! connections are pooled and reused across mails.
//!
//! Mails are plain UTF-8 text: lettre encodes a non-ASCII subject as an RFC 2047 encoded word
//! and picks quoted-printable or base64 for the body, so any server takes them (no SMTPUTF8 or
//! 8BITMIME needed).

use async_trait::async_trait;
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{authentication::Credentials, client::Tls, PoolConfig},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use super::{Email, MailTransport, SendError};
use crate::config::{ConfigError, MailSettings, SmtpSecurity};

/// Longest error text kept (it is stored as the outbox row's last error).
const MAX_ERROR: usize = 200;

/// Sends mail through one SMTP server.
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The mailer holds the credentials: only the sender is shown.
        f.debug_struct("SmtpTransport").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// The transport for validated `[mail]` settings, with its connection pool. Needs a tokio
    /// runtime (the pool starts its idle-connection reaper).
    pub fn new(s: &MailSettings) -> Result<Self, ConfigError> {
        let invalid = |key, reason: String| ConfigError::Invalid { key, reason };
        let host = s.smtp_host.as_deref().map(str::trim).unwrap_or_default();
        let from: Mailbox = s
            .from
            .as_deref()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|e| invalid("mail.from", format!("not a mailbox: {e}")))?;
        let tls = |host: &str| {
            lettre::transport::smtp::client::TlsParameters::new(host.to_owned())
                .map_err(|e| invalid("mail.smtp_host", format!("TLS: {e}")))
        };
        let security = match s.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(tls(host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls(host)?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(s.port())
            .tls(security)
            .timeout(Some(s.timeout()))
            .pool_config(PoolConfig::new().max_size(4));
        if let (Some(user), Some(password)) = (&s.smtp_username, &s.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { mailer: builder.build(), from, timeout: s.timeout() })
    }

    /// The message as it goes on the wire: `From`, `To`, `Subject`, `Date`, `Message-ID`, and
    /// a `text/plain; charset=utf-8` body.
    pub fn message(&self, mail: &Email) -> Result<Message, SendError> {
        let to: Mailbox =
            mail.to.trim().parse().map_err(|_| SendError::Rejected("not a valid recipient address".into()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .message_id(None)
            .body(mail.text.clone())
            .map_err(|e| SendError::Rejected(short(format!("cannot build the message: {e}"))))
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, mail: &Email) -> Result<(), SendError> {
        let message = self.message(mail)?;
        // lettre bounds the connection by the timeout but not every later command: the whole
        // hand-over gets twice the timeout (a connection, then the dialogue).
        match tokio::time::timeout(self.handover_limit(), self.mailer.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_) => Err(SendError::Transient("SMTP: timed out".into())),
        }
    }

    fn handover_limit(&self) -> std::time::Duration {
        self.timeout * 2
    }
}

/// RFC 5321 §4.2.1: a 4yz reply is a transient negative completion ("the command was not
/// accepted … but the error condition is temporary"), a 5yz reply a permanent one. Failures
/// before any reply (refused connection, timeout, TLS, a dropped connection) are transient
/// too: the next attempt may find the server back.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let text = short(format!("SMTP: {e}"));
    if e.is_permanent() || e.is_client() {
        SendError::Rejected(text)
    } else {
        SendError::Transient(text)
    }
}

fn short(mut s: String) -> String {
    if s.len() > MAX_ERROR {
        let mut cut = MAX_ERROR;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MailTransportKind;

    fn settings() -> MailSettings {
        MailSettings {
            transport: MailTransportKind::Smtp,
            from: Some("钥匙 Yaoshi <no-reply@example.com>".into()),
            smtp_host: Some("127.0.0.1".into()),
            smtp_security: SmtpSecurity::None,
            ..MailSettings::default()
        }
    }

    #[tokio::test]
    async fn the_message_carries_the_sender_and_encodes_chinese_text() {
        let t = SmtpTransport::new(&settings()).unwrap();
        let mail =
            Email {
                to: "alice@example.com".into(), subject: "验证码".into(), text: "您的验证码是 123456".into()
            };
        let raw = String::from_utf8(t.message(&mail).unwrap().formatted()).unwrap();
        assert!(raw.is_ascii(), "7-bit on the wire: {raw}");
        assert!(raw.contains("From: =?utf-8?"), "{raw}");
        assert!(raw.contains("<no-reply@example.com>"), "{raw}");
        assert!(raw.contains("To: alice@example.com"), "{raw}");
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
        assert!(raw.contains("Message-ID: <"), "{raw}");
        let with_auth =
            MailSettings { smtp_username: Some("u".into()), smtp_password: Some("hunter2".into()), ..settings() };
        assert!(!format!("{:?}", SmtpTransport::new(&with_auth).unwrap()).contains("hunter2"));
    }

    #[tokio::test]
    async fn a_malformed_recipient_is_rejected_without_a_connection() {
        let t = SmtpTransport::new(&settings()).unwrap();
        let mail = Email { to: "not an address".into(), subject: "s".into(), text: "t".into() };
        assert!(matches!(t.send(&mail).await, Err(SendError::Rejected(_))));
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let s = short("错".repeat(100));
        assert!(s.len() <= MAX_ERROR + '…'.len_utf8() && s.ends_with('…'));
    }
}
