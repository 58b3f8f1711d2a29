//! The messages Yaoshi sends, and their text in English and Simplified Chinese. A message is
//! queued as JSON (this enum) and rendered when it is sent, in its recipient's language.

use serde::{Deserialize, Serialize};

use super::{Email, Sms};
use crate::i18n::Locale;

/// One outgoing message, before rendering.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Confirm an email address: a link and the same code to type.
    VerifyEmail {
        /// The confirmation page's URL, with its single-use token.
        link: String,
        /// The 6-digit code.
        code: String,
    },
    /// Reset a password by mail: a link and the same code to type.
    ResetByEmail {
        /// The reset page's URL, with its single-use token.
        link: String,
        /// The 6-digit code.
        code: String,
    },
    /// An operator created an account for the reader: a link to choose its password.
    Invitation {
        /// The page's URL, with its single-use token.
        link: String,
    },
    /// The password was changed (after a reset): so the owner hears of it if it was not them.
    PasswordChanged,
    /// A code by SMS (verifying the number, signing in, or resetting the password).
    SmsCode {
        /// The 6-digit code.
        code: String,
    },
    /// Someone asked for a reset for this address: resolved when it is sent (into
    /// [`Message::ResetByEmail`] or an SMS code if an account verified it, else nothing), so
    /// that asking costs the same whether or not an account exists.
    ResetRequest,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

/// How long the codes of each message stay valid, as the text tells the reader.
pub struct Lifetimes {
    /// Minutes an email verification stays valid.
    pub verify_minutes: i64,
    /// Minutes a reset stays valid.
    pub reset_minutes: i64,
    /// Days an invitation stays valid.
    pub invite_days: i64,
}

impl Message {
    /// The name stored in the outbox's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::VerifyEmail { .. } => "verify_email",
            Message::ResetByEmail { .. } => "reset_by_email",
            Message::Invitation { .. } => "invitation",
            Message::PasswordChanged => "password_changed",
            Message::SmsCode { .. } => "sms_code",
            Message::ResetRequest => "reset_request",
        }
    }

    /// The mail for `to`, in `locale`; `None` for a message that is not a mail.
    pub fn email(&self, to: &str, locale: Locale, site: &str, life: &Lifetimes) -> Option<Email> {
        let zh = locale == Locale::ZhCn;
        let (subject, text) = match self {
            Message::VerifyEmail { link, code } if zh => (
                format!("{site}：请验证您的邮箱"),
                format!(
                    "您好！\n\n请打开下面的链接，确认这个邮箱属于您的{site}账号：\n\n{link}\n\n\
                     或在账号页面输入验证码：{code}\n\n链接和验证码在 {} 分钟内有效，只能使用一次。\
                     如果这不是您本人的操作，请忽略这封邮件。\n",
                    life.verify_minutes
                ),
            ),
            Message::VerifyEmail { link, code } => (
                format!("{site}: confirm your email address"),
                format!(
                    "Hello,\n\nOpen this link to confirm that this address belongs to your {site} account:\n\n{link}\n\n\
                     Or type this code on your account page: {code}\n\nThe link and the code work once, for {} minutes. \
                     If you did not ask for this, ignore this mail.\n",
                    life.verify_minutes
                ),
            ),
            Message::ResetByEmail { link, code } if zh => (
                format!("{site}：重置密码"),
                format!(
                    "您好！\n\n有人请求重置您{site}账号的密码。打开下面的链接设置新密码：\n\n{link}\n\n\
                     或在重置页面输入验证码：{code}\n\n链接和验证码在 {} 分钟内有效，只能使用一次。\
                     如果这不是您本人的操作，请忽略这封邮件，您的密码不会改变。\n",
                    life.reset_minutes
                ),
            ),
            Message::ResetByEmail { link, code } => (
                format!("{site}: reset your password"),
                format!(
                    "Hello,\n\nSomeone asked to reset the password of your {site} account. Open this link to choose a new one:\n\n\
                     {link}\n\nOr type this code on the reset page: {code}\n\nThe link and the code work once, for {} minutes. \
                     If you did not ask for this, ignore this mail: your password stays as it is.\n",
                    life.reset_minutes
                ),
            ),
            Message::Invitation { link } if zh => (
                format!("{site}：您的账号已创建"),
                format!(
                    "您好！\n\n管理员为您创建了{site}账号。打开下面的链接设置密码：\n\n{link}\n\n\
                     链接在 {} 天内有效，只能使用一次。如果您不认识这个网站，请忽略这封邮件。\n",
                    life.invite_days
                ),
            ),
            Message::Invitation { link } => (
                format!("{site}: your account is ready"),
                format!(
                    "Hello,\n\nAn administrator created a {site} account for you. Open this link to choose its password:\n\n\
                     {link}\n\nThe link works once, for {} days. If you do not know this site, ignore this mail.\n",
                    life.invite_days
                ),
            ),
            Message::PasswordChanged if zh => (
                format!("{site}：您的密码已更改"),
                format!(
                    "您好！\n\n您{site}账号的密码刚刚被重置，所有已登录的设备都已退出。\
                     如果这不是您本人的操作，请立即通过“忘记密码”重置密码。\n"
                ),
            ),
            Message::PasswordChanged => (
                format!("{site}: your password was changed"),
                format!(
                    "Hello,\n\nThe password of your {site} account was just reset, and every device signed in to it was \
                     signed out. If this was not you, reset your password now with \"Forgot password\".\n"
                ),
            ),
            Message::SmsCode { .. } | Message::ResetRequest => return None,
        };
        Some(Email { to: to.to_owned(), subject, text })
    }

    /// The SMS for `to`; `None` for a message that is not an SMS.
    pub fn sms(&self, to: &str, locale: Locale) -> Option<Sms> {
        match self {
            Message::SmsCode { code } => Some(Sms { to: to.to_owned(), code: code.clone(), locale }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: Lifetimes = Lifetimes { verify_minutes: 1440, reset_minutes: 15, invite_days: 7 };

    #[test]
    fn mails_carry_the_link_and_code_in_the_readers_language() {
        let m = Message::VerifyEmail { link: "https://id.example/o/verify/?token=t".into(), code: "042917".into() };
        let en = m.email("a@example.com", Locale::En, "Yaoshi", &LIFE).unwrap();
        assert!(en.subject.contains("confirm your email"));
        assert!(en.text.contains("https://id.example/o/verify/?token=t") && en.text.contains("042917"));
        let zh = m.email("a@example.com", Locale::ZhCn, "Yaoshi", &LIFE).unwrap();
        assert!(zh.subject.contains("验证") && zh.text.contains("042917") && zh.text.contains("1440 分钟"));
        assert!(m.sms("+8613800138000", Locale::En).is_none());
        let reset = Message::ResetByEmail { link: "L".into(), code: "123456".into() };
        assert!(reset.email("a@example.com", Locale::En, "Yaoshi", &LIFE).unwrap().text.contains("15 minutes"));
        let invite = Message::Invitation { link: "https://id.example/o/password/reset/?token=i".into() };
        let en = invite.email("a@example.com", Locale::En, "Yaoshi", &LIFE).unwrap();
        assert!(en.text.contains("token=i") && en.text.contains("7 days"), "{}", en.text);
        assert!(invite.email("a@example.com", Locale::ZhCn, "Yaoshi", &LIFE).unwrap().text.contains("7 天"));
    }

    #[test]
    fn codes_by_sms_and_the_queue_form_round_trip() {
        let m = Message::SmsCode { code: "000123".into() };
        let sms = m.sms("+8613800138000", Locale::ZhCn).unwrap();
        assert_eq!((sms.to.as_str(), sms.code.as_str()), ("+8613800138000", "000123"));
        assert!(m.email("a@example.com", Locale::En, "Yaoshi", &LIFE).is_none());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"kind":"sms_code","code":"000123"}"#);
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), m);
        assert_eq!(format!("{m:?}"), "sms_code", "Debug never shows a code");
    }
}
