//! The outgoing-message transports against real and fake next hops: the SMTP transport
//! delivers to aiosmtpd (`.ci/mailbox.sh`; skipped with a note when the test command has not
//! started it) and each SMS transport to an in-process fake of its provider that checks the
//! signature (`common::fake_sms`).

use yaoshi::{
    config::{MailSettings, MailTransportKind, NotifySettings, SmsSettings, SmtpSecurity},
    i18n::Locale,
    service::notify::{Email, SendError, Sms, Transports},
};

use crate::common::{
    fake_sms::{FakeSms, Provider, SentSms},
    mailbox,
};

fn smtp_settings(host: &str, port: u16) -> MailSettings {
    MailSettings {
        transport: MailTransportKind::Smtp,
        from: Some("钥匙 Yaoshi <no-reply@yaoshi.test>".into()),
        smtp_host: Some(host.into()),
        smtp_port: Some(port),
        smtp_security: SmtpSecurity::None,
        timeout_secs: 2,
        ..MailSettings::default()
    }
}

fn transports(mail: MailSettings, sms: SmsSettings) -> Transports {
    Transports::from_settings(&NotifySettings { mail, sms }).expect("transports")
}

fn unique_address() -> String {
    format!("u-{}@example.com", &yaoshi::crypto::random_id()[..12])
}

#[tokio::test]
async fn smtp_delivers_a_chinese_mail_that_reads_back_intact() {
    let Some((host, port)) = mailbox::smtp_or_skip("smtp_delivers_a_chinese_mail_that_reads_back_intact") else {
        return;
    };
    let t = transports(smtp_settings(&host, port), SmsSettings::default());
    let to = unique_address();
    let subject = "验证您的邮箱地址 · Verify your address";
    // Long enough that quoted-printable has to wrap it; a line starting with a dot (RFC 5321
    // §4.5.2 transparency) and one with trailing spaces.
    let text = format!(
        "您好！\r\n\r\n您的验证码是 654321，十分钟内有效。{}\r\n.这一行以句点开头\r\nEnd with spaces   \r\n",
        "请勿将验证码告诉任何人。".repeat(8)
    );
    t.mail.send(&Email { to: to.clone(), subject: subject.into(), text: text.clone() }).await.expect("sent");
    let mail = mailbox::wait_for(&to).await;
    assert_eq!(mail.subject, subject);
    assert_eq!(mail.text, text);
    assert_eq!(mail.content_type, "text/plain; charset=utf-8");
    assert!(mail.from.contains("钥匙 Yaoshi") && mail.from.contains("<no-reply@yaoshi.test>"), "{}", mail.from);
    assert_eq!(mail.to, to);
    assert!(mail.raw.is_ascii(), "the stored message is 7-bit: headers encoded, body transfer-encoded");
}

#[tokio::test]
async fn smtp_auth_takes_the_right_password_and_a_wrong_one_is_rejected() {
    let Some((host, port)) = mailbox::smtp_or_skip("smtp_auth_takes_the_right_password_and_a_wrong_one_is_rejected")
    else {
        return;
    };
    let (user, password) = mailbox::smtp_user();
    let with = |password: &str| MailSettings {
        smtp_username: Some(user.clone()),
        smtp_password: Some(password.into()),
        ..smtp_settings(&host, port)
    };
    let to = unique_address();
    let mail = Email { to: to.clone(), subject: "AUTH".into(), text: "signed in".into() };
    transports(with(&password), SmsSettings::default()).mail.send(&mail).await.expect("sent with AUTH");
    // A body without a final line end gets one on the wire (RFC 5321 §4.1.1.4: the data ends
    // with CRLF . CRLF).
    assert_eq!(mailbox::wait_for(&to).await.text.trim_end(), "signed in");

    let other = unique_address();
    let wrong = Email { to: other.clone(), ..mail };
    match transports(with("not-the-password"), SmsSettings::default()).mail.send(&wrong).await {
        // 535: RFC 4954 §6, "Authentication credentials invalid", a permanent reply.
        Err(SendError::Rejected(e)) => assert!(e.contains("535"), "{e}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(!mailbox::has_mail_for(&other));
}

#[tokio::test]
async fn a_refused_or_silent_smtp_server_is_transient() {
    let port = crate::common::process::free_port();
    let t = transports(smtp_settings("127.0.0.1", port), SmsSettings::default());
    let mail = Email { to: "a@example.com".into(), subject: "s".into(), text: "t".into() };
    assert!(matches!(t.mail.send(&mail).await, Err(SendError::Transient(_))), "connection refused");

    // A server that accepts the connection and never greets (RFC 5321 §4.5.3.2: the client
    // gives up waiting): the send ends within its timeout, as transient.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            open.push(conn);
        }
    });
    let t = transports(smtp_settings("127.0.0.1", port), SmsSettings::default());
    let started = std::time::Instant::now();
    match t.mail.send(&mail).await {
        Err(SendError::Transient(e)) => assert!(e.contains("timed out"), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    held.abort();
}

fn sms(to: &str, code: &str, locale: Locale) -> Sms {
    Sms { to: to.into(), code: code.into(), locale }
}

async fn delivers_with_a_valid_signature(provider: Provider) {
    let fake = FakeSms::start(provider, "fake-key-id", "fake-key-secret").await;
    let t = transports(MailSettings::default(), fake.settings("fake-key-secret"));
    t.sms.send(&sms("+8613800138000", "123456", Locale::ZhCn)).await.expect("sent");
    t.sms.send(&sms("+447700900123", "654321", Locale::En)).await.expect("sent");
    assert_eq!(
        fake.wait_for("+8613800138000").await,
        SentSms { to: "+8613800138000".into(), template: "TPL_ZH".into(), code: "123456".into() }
    );
    assert_eq!(
        fake.wait_for("+447700900123").await,
        SentSms { to: "+447700900123".into(), template: "TPL_EN".into(), code: "654321".into() }
    );
    assert_eq!(fake.refused(), 0);
}

async fn a_wrong_secret_is_rejected(provider: Provider) {
    let fake = FakeSms::start(provider, "fake-key-id", "fake-key-secret").await;
    let t = transports(MailSettings::default(), fake.settings("another-secret"));
    match t.sms.send(&sms("+8613800138000", "123456", Locale::ZhCn)).await {
        Err(SendError::Rejected(e)) => assert!(e.contains("Signature"), "{e}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!((fake.refused(), fake.sent().len()), (1, 0));
    // Nor does a known secret under another key id pass.
    let mut other_id = fake.settings("fake-key-secret");
    other_id.access_key_id = Some("someone-else".into());
    let t = transports(MailSettings::default(), other_id);
    assert!(matches!(t.sms.send(&sms("+8613800138000", "1", Locale::ZhCn)).await, Err(SendError::Rejected(_))));
    assert_eq!(fake.refused(), 2);
}

async fn a_throttled_answer_is_transient_and_a_retry_goes_through(provider: Provider) {
    let fake = FakeSms::start(provider, "fake-key-id", "fake-key-secret").await;
    let t = transports(MailSettings::default(), fake.settings("fake-key-secret"));
    fake.throttle(1);
    let message = sms("+8613900139000", "246810", Locale::ZhCn);
    assert!(matches!(t.sms.send(&message).await, Err(SendError::Transient(_))));
    assert!(fake.sent().is_empty());
    t.sms.send(&message).await.expect("the retry is sent");
    assert_eq!(fake.wait_for("+8613900139000").await.code, "246810");
}

async fn an_unreachable_provider_is_transient(provider: Provider) {
    let fake = FakeSms::start(provider, "fake-key-id", "fake-key-secret").await;
    let mut s = fake.settings("fake-key-secret");
    s.endpoint = Some(format!("http://127.0.0.1:{}/", crate::common::process::free_port()));
    let t = transports(MailSettings::default(), s);
    assert!(matches!(t.sms.send(&sms("+8613800138000", "1", Locale::ZhCn)).await, Err(SendError::Transient(_))));
}

macro_rules! per_provider {
    ($($name:ident),* $(,)?) => {
        mod aliyun {
            $( #[tokio::test] async fn $name() { super::$name(super::Provider::Aliyun).await } )*
        }
        mod tencent {
            $( #[tokio::test] async fn $name() { super::$name(super::Provider::Tencent).await } )*
        }
    };
}

per_provider!(
    delivers_with_a_valid_signature,
    a_wrong_secret_is_rejected,
    a_throttled_answer_is_transient_and_a_retry_goes_through,
    an_unreachable_provider_is_transient,
);

/// The services send through what the settings name: `Services::new` builds the transports.
#[tokio::test]
async fn the_services_send_through_the_configured_transport() {
    let fake = FakeSms::start(Provider::Tencent, "fake-key-id", "fake-key-secret").await;
    let db = crate::common::fresh_database(crate::common::Backend::Sqlite).await;
    let mut settings = crate::common::test_settings(&db.url);
    settings.notify.sms = fake.settings("fake-key-secret");
    let store = yaoshi::store::connect(&settings.database_url, &settings.database).await.expect("store");
    let services = yaoshi::service::Services::new(store.clone(), settings.clone()).expect("services");
    services.notify.sms.send(&sms("+8613700137000", "135790", Locale::ZhCn)).await.expect("sent");
    assert_eq!(fake.wait_for("+8613700137000").await.code, "135790");

    // Settings a transport cannot work with stop the services from starting.
    settings.notify.sms.sdk_app_id = None;
    assert!(yaoshi::service::Services::new(store, settings).is_err());
}
