//! A mail and SMS transport that keeps what it is given, for tests to read: the messages as
//! the outbox handed them over, after rendering. It can be told to fail, to test retries.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};

use async_trait::async_trait;
use yaoshi::service::notify::{Email, MailTransport, SendError, Sms, SmsTransport, Transports};

/// What was sent.
#[derive(Default)]
pub struct Captured {
    mail: Mutex<Vec<Email>>,
    sms: Mutex<Vec<Sms>>,
    failing: AtomicBool,
}

impl Captured {
    /// Transports that send into this capture.
    pub fn transports(self: &Arc<Self>) -> Transports {
        Transports { mail: self.clone(), sms: self.clone() }
    }

    /// Every attempt fails (transiently) while `on`.
    pub fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    /// The mails sent to `to` so far.
    pub fn mails_to(&self, to: &str) -> Vec<Email> {
        self.mail.lock().unwrap().iter().filter(|m| m.to == to).cloned().collect()
    }

    /// The SMS codes sent to `to` so far.
    pub fn codes_to(&self, to: &str) -> Vec<String> {
        self.sms.lock().unwrap().iter().filter(|m| m.to == to).map(|m| m.code.clone()).collect()
    }

    /// Every message sent, as (recipient, text).
    pub fn count(&self) -> usize {
        self.mail.lock().unwrap().len() + self.sms.lock().unwrap().len()
    }

    /// Waits (up to 10 s) for the `n`th mail to `to` (1-based) and returns it.
    pub async fn mail(&self, to: &str, n: usize) -> Email {
        for _ in 0..200 {
            if let Some(m) = self.mails_to(to).get(n - 1) {
                return m.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail #{n} to {to}; sent: {:?}", self.mail.lock().unwrap());
    }

    /// Waits (up to 10 s) for the `n`th SMS code to `to` (1-based) and returns it.
    pub async fn code(&self, to: &str, n: usize) -> String {
        for _ in 0..200 {
            if let Some(c) = self.codes_to(to).get(n - 1) {
                return c.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no SMS #{n} to {to}");
    }
}

/// The link in a mail (`http…` up to the end of its line).
pub fn link_in(mail: &Email) -> String {
    mail.text.lines().map(str::trim).find(|l| l.starts_with("http")).expect("a link in the mail").to_owned()
}

/// The 6-digit code in a mail.
pub fn code_in(mail: &Email) -> String {
    mail.text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code in the mail").to_owned()
}

#[async_trait]
impl MailTransport for Captured {
    async fn send(&self, mail: &Email) -> Result<(), SendError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SendError::Transient("test transport is failing".into()));
        }
        self.mail.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

#[async_trait]
impl SmsTransport for Captured {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SendError::Transient("test transport is failing".into()));
        }
        self.sms.lock().unwrap().push(sms.clone());
        Ok(())
    }
}
