//! Outgoing mail and SMS: the `[mail]` and `[sms]` tables of the settings file. Both default to
//! the `log` transport, which prints messages instead of sending them. The two secrets, the
//! SMTP password and the SMS provider's access key secret, come from the file or from the
//! environment (`YAOSHI_SMTP_PASSWORD`, `YAOSHI_SMS_ACCESS_KEY_SECRET`), never from a flag, and
//! `Debug` shows them as `***`.

use std::{fmt, net::IpAddr, time::Duration};

use serde::Deserialize;

use super::ConfigError;
use crate::i18n::Locale;

/// The environment variable that overrides [`MailSettings::smtp_password`].
pub const SMTP_PASSWORD_ENV: &str = "YAOSHI_SMTP_PASSWORD";
/// The environment variable that overrides [`SmsSettings::access_key_secret`].
pub const SMS_SECRET_ENV: &str = "YAOSHI_SMS_ACCESS_KEY_SECRET";

/// How mail leaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// Printed to the log, not sent.
    #[default]
    Log,
    /// Handed to an SMTP server (a submission server or a relay).
    Smtp,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (RFC 3207), which must succeed; port 587.
    #[default]
    Starttls,
    /// TLS from the first byte (RFC 8314 §3.3, "implicit TLS"); port 465.
    Tls,
    /// No TLS at all: only for a server on a loopback address (tests, a local relay).
    None,
}

impl SmtpSecurity {
    /// The port used when `smtp_port` is not set.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// The mail settings (`[mail]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `log` (default) or `smtp`.
    pub transport: MailTransportKind,
    /// The `From` mailbox, e.g. `Yaoshi <no-reply@example.com>` (required for `smtp`).
    pub from: Option<String>,
    /// The SMTP server's host name (required for `smtp`); TLS certificates are checked
    /// against it.
    pub smtp_host: Option<String>,
    /// The SMTP port (default: 587 for `starttls`, 465 for `tls`, 25 for `none`).
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub smtp_security: SmtpSecurity,
    /// The AUTH user name, if the server wants one.
    pub smtp_username: Option<String>,
    /// The AUTH password (or `YAOSHI_SMTP_PASSWORD`).
    pub smtp_password: Option<String>,
    /// Seconds allowed to connect, and to hand over one mail (default 10).
    pub timeout_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: MailTransportKind::Log,
            from: None,
            smtp_host: None,
            smtp_port: None,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            timeout_secs: 10,
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &redact(&self.smtp_password))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl MailSettings {
    /// [`MailSettings::timeout_secs`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The port connected to.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(self.smtp_security.default_port())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=120).contains(&self.timeout_secs) {
            return invalid("mail.timeout_secs", "must be between 1 and 120 seconds");
        }
        if self.transport == MailTransportKind::Log {
            return Ok(());
        }
        let Some(host) = present(&self.smtp_host) else {
            return invalid("mail.smtp_host", "is required with transport = \"smtp\"");
        };
        let Some(from) = present(&self.from) else {
            return invalid("mail.from", "is required with transport = \"smtp\"");
        };
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid("mail.from", "must be an address, or a name and <address>");
        }
        if self.smtp_security == SmtpSecurity::None && !is_loopback(host) {
            return invalid("mail.smtp_security", "\"none\" is only allowed for a server on a loopback address");
        }
        if self.smtp_port == Some(0) {
            return invalid("mail.smtp_port", "must not be 0");
        }
        if present(&self.smtp_username).is_some() != present(&self.smtp_password).is_some() {
            return invalid("mail.smtp_username", "smtp_username and smtp_password go together");
        }
        Ok(())
    }
}

/// How SMS leave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// Printed to the log, not sent.
    #[default]
    Log,
    /// Aliyun (Alibaba Cloud) Short Message Service, `dysmsapi` `SendSms`.
    Aliyun,
    /// Tencent Cloud SMS, `SendSms` of API 2021-01-11.
    Tencent,
}

/// The SMS settings (`[sms]`).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// `log` (default), `aliyun` or `tencent`.
    pub transport: SmsTransportKind,
    /// The provider's AccessKey ID (Aliyun) or SecretId (Tencent).
    pub access_key_id: Option<String>,
    /// The matching AccessKey secret or SecretKey (or `YAOSHI_SMS_ACCESS_KEY_SECRET`).
    pub access_key_secret: Option<String>,
    /// The approved signature name (签名) the provider prefixes messages with.
    pub sign_name: Option<String>,
    /// The approved template (Aliyun `TemplateCode`, Tencent `TemplateId`) carrying the code.
    pub template: Option<String>,
    /// The template for English-speaking recipients (default: `template`).
    pub template_en: Option<String>,
    /// The region: Tencent `X-TC-Region` (required, e.g. `ap-guangzhou`); Aliyun's is
    /// not needed by `SendSms`.
    pub region: Option<String>,
    /// Tencent's `SmsSdkAppId` (required for `tencent`).
    pub sdk_app_id: Option<String>,
    /// The provider's URL, instead of the real one (tests); `https`, or `http` on loopback.
    pub endpoint: Option<String>,
}

impl fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsSettings")
            .field("transport", &self.transport)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &redact(&self.access_key_secret))
            .field("sign_name", &self.sign_name)
            .field("template", &self.template)
            .field("template_en", &self.template_en)
            .field("region", &self.region)
            .field("sdk_app_id", &self.sdk_app_id)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl SmsSettings {
    /// The template for a recipient speaking `locale`.
    pub fn template_for(&self, locale: Locale) -> &str {
        let en = match locale {
            Locale::En => present(&self.template_en),
            Locale::ZhCn => None,
        };
        en.or(present(&self.template)).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let required: &[(&'static str, &Option<String>)] = match self.transport {
            SmsTransportKind::Log => return Ok(()),
            SmsTransportKind::Aliyun => &[
                ("sms.access_key_id", &self.access_key_id),
                ("sms.access_key_secret", &self.access_key_secret),
                ("sms.sign_name", &self.sign_name),
                ("sms.template", &self.template),
            ],
            SmsTransportKind::Tencent => &[
                ("sms.access_key_id", &self.access_key_id),
                ("sms.access_key_secret", &self.access_key_secret),
                ("sms.sign_name", &self.sign_name),
                ("sms.template", &self.template),
                ("sms.sdk_app_id", &self.sdk_app_id),
                ("sms.region", &self.region),
            ],
        };
        if let Some((key, _)) = required.iter().find(|(_, v)| present(v).is_none()) {
            return invalid(key, "is required by this SMS transport");
        }
        if let Some(endpoint) = &self.endpoint {
            let ok = match url::Url::parse(endpoint) {
                Ok(u) if u.scheme() == "https" => u.host_str().is_some(),
                Ok(u) if u.scheme() == "http" => u.host_str().is_some_and(is_loopback),
                _ => false,
            };
            if !ok {
                return invalid("sms.endpoint", "must be an https URL (http only on a loopback address)");
            }
        }
        Ok(())
    }
}

/// Mail and SMS together, as the transports are built from them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifySettings {
    /// `[mail]`.
    pub mail: MailSettings,
    /// `[sms]`.
    pub sms: SmsSettings,
}

impl NotifySettings {
    /// The file's tables (defaults where absent), with the secrets that `env` holds
    /// ([`SMTP_PASSWORD_ENV`], [`SMS_SECRET_ENV`]) overriding the file's.
    pub fn resolve(
        mail: Option<MailSettings>,
        sms: Option<SmsSettings>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> NotifySettings {
        let mut s = NotifySettings { mail: mail.unwrap_or_default(), sms: sms.unwrap_or_default() };
        if let Some(p) = env(SMTP_PASSWORD_ENV).filter(|p| !p.is_empty()) {
            s.mail.smtp_password = Some(p);
        }
        if let Some(k) = env(SMS_SECRET_ENV).filter(|k| !k.is_empty()) {
            s.sms.access_key_secret = Some(k);
        }
        s
    }

    /// Checks that the chosen transports have what they need.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.mail.validate()?;
        self.sms.validate()
    }
}

fn invalid(key: &'static str, reason: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid { key, reason: reason.into() })
}

/// A setting that is set and not blank.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn redact(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "***")
}

/// `localhost`, or an address in 127.0.0.0/8 or `::1`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp() -> MailSettings {
        MailSettings {
            transport: MailTransportKind::Smtp,
            from: Some("Yaoshi <no-reply@example.com>".into()),
            smtp_host: Some("smtp.example.com".into()),
            ..MailSettings::default()
        }
    }

    fn tencent() -> SmsSettings {
        SmsSettings {
            transport: SmsTransportKind::Tencent,
            access_key_id: Some("AKIDexample".into()),
            access_key_secret: Some("secret".into()),
            sign_name: Some("钥匙".into()),
            template: Some("1000001".into()),
            region: Some("ap-guangzhou".into()),
            sdk_app_id: Some("1400000000".into()),
            ..SmsSettings::default()
        }
    }

    fn key_of(r: Result<(), ConfigError>) -> &'static str {
        match r {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn the_defaults_log_and_are_valid() {
        let d = NotifySettings::default();
        assert_eq!((d.mail.transport, d.sms.transport), (MailTransportKind::Log, SmsTransportKind::Log));
        d.validate().unwrap();
        NotifySettings { mail: smtp(), sms: tencent() }.validate().unwrap();
        assert_eq!(smtp().port(), 587);
        assert_eq!(MailSettings { smtp_security: SmtpSecurity::Tls, ..smtp() }.port(), 465);
    }

    #[test]
    fn each_transport_names_what_it_lacks() {
        let mail = |m: MailSettings| key_of(NotifySettings { mail: m, ..Default::default() }.validate());
        assert_eq!(mail(MailSettings { smtp_host: None, ..smtp() }), "mail.smtp_host");
        assert_eq!(mail(MailSettings { from: Some(" ".into()), ..smtp() }), "mail.from");
        assert_eq!(mail(MailSettings { from: Some("not an address".into()), ..smtp() }), "mail.from");
        assert_eq!(mail(MailSettings { smtp_security: SmtpSecurity::None, ..smtp() }), "mail.smtp_security");
        assert_eq!(mail(MailSettings { smtp_username: Some("u".into()), ..smtp() }), "mail.smtp_username");
        assert_eq!(mail(MailSettings { timeout_secs: 0, ..smtp() }), "mail.timeout_secs");
        let local = MailSettings { smtp_host: Some("127.0.0.1".into()), smtp_security: SmtpSecurity::None, ..smtp() };
        assert!(NotifySettings { mail: local, ..Default::default() }.validate().is_ok());

        let sms = |s: SmsSettings| key_of(NotifySettings { sms: s, ..Default::default() }.validate());
        assert_eq!(sms(SmsSettings { sdk_app_id: None, ..tencent() }), "sms.sdk_app_id");
        assert_eq!(sms(SmsSettings { region: None, ..tencent() }), "sms.region");
        assert_eq!(sms(SmsSettings { access_key_secret: None, ..tencent() }), "sms.access_key_secret");
        let aliyun = SmsSettings { transport: SmsTransportKind::Aliyun, sdk_app_id: None, region: None, ..tencent() };
        assert!(NotifySettings { sms: aliyun.clone(), ..Default::default() }.validate().is_ok());
        assert_eq!(sms(SmsSettings { template: None, ..aliyun.clone() }), "sms.template");
        assert_eq!(sms(SmsSettings { sign_name: None, ..aliyun }), "sms.sign_name");
        assert_eq!(sms(SmsSettings { endpoint: Some("http://sms.example.com/".into()), ..tencent() }), "sms.endpoint");
        let local = SmsSettings { endpoint: Some("http://127.0.0.1:4000/".into()), ..tencent() };
        assert!(NotifySettings { sms: local, ..Default::default() }.validate().is_ok());
    }

    #[test]
    fn the_tables_parse_and_the_environment_supplies_the_secrets() {
        let mail: MailSettings = toml::from_str(
            "transport = \"smtp\"\nfrom = \"Yaoshi <a@example.com>\"\nsmtp_host = \"mx\"\nsmtp_security = \"tls\"\n\
             smtp_username = \"u\"\nsmtp_password = \"from-file\"",
        )
        .unwrap();
        assert_eq!((mail.smtp_security, mail.timeout_secs), (SmtpSecurity::Tls, 10));
        assert!(toml::from_str::<MailSettings>("smtp_hots = \"x\"").is_err());
        assert!(toml::from_str::<SmsSettings>("transport = \"twilio\"").is_err());
        let sms: SmsSettings = toml::from_str("transport = \"aliyun\"\naccess_key_id = \"id\"").unwrap();
        assert_eq!(sms.transport, SmsTransportKind::Aliyun);

        let env = |k: &str| match k {
            SMTP_PASSWORD_ENV => Some("from-env".to_owned()),
            SMS_SECRET_ENV => Some("sms-env".to_owned()),
            _ => None,
        };
        let s = NotifySettings::resolve(Some(mail.clone()), Some(sms.clone()), &env);
        assert_eq!(s.mail.smtp_password.as_deref(), Some("from-env"));
        assert_eq!(s.sms.access_key_secret.as_deref(), Some("sms-env"));
        let s = NotifySettings::resolve(Some(mail), None, &|_| None);
        assert_eq!(s.mail.smtp_password.as_deref(), Some("from-file"));
        assert_eq!(s.sms, SmsSettings::default());
    }

    #[test]
    fn debug_hides_both_secrets() {
        let s = NotifySettings {
            mail: MailSettings { smtp_username: Some("u".into()), smtp_password: Some("hunter2".into()), ..smtp() },
            sms: SmsSettings { access_key_secret: Some("s3cr3t-key".into()), ..tencent() },
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cr3t-key"), "{shown}");
        assert!(shown.contains("***") && shown.contains("AKIDexample"), "{shown}");
    }

    #[test]
    fn english_recipients_get_their_template_when_there_is_one() {
        let s = SmsSettings { template_en: Some("2000002".into()), ..tencent() };
        assert_eq!(s.template_for(Locale::En), "2000002");
        assert_eq!(s.template_for(Locale::ZhCn), "1000001");
        assert_eq!(tencent().template_for(Locale::En), "1000001");
    }
}
