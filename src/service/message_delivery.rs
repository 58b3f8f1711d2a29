//! Sending mail and SMS from the message outbox. Every instance runs
//! [`Services::deliver_messages`], which claims due messages with a lease, renders each in its
//! recipient's language and hands it to its transport. An accepted message leaves the outbox
//! (and with it the code it carried); a transient failure is retried after a doubling delay,
//! a rejection or an old message is given up.
//!
//! A message and its code are written in one transaction, so a crash before sending loses
//! nothing: the message is still queued and the next round (here or on another instance, once
//! the lease ran out) sends it, once. Only a crash in the instant between the transport's
//! acceptance and the row's deletion can send one twice.

use super::{
    contacts::{kind_of, locale_of, purpose, ContactError},
    events::{kind, Event, Origin},
    logout_delivery::retry_delay,
    notify::{
        templates::{Lifetimes, Message},
        SendError,
    },
    Services,
};
use crate::{
    i18n::Locale,
    store::{ContactKind, QueuedMessage, StoreResult},
};

/// What a claim allows beyond twice the transports' hand-over limit: the database writes
/// before and after the attempt.
const LEASE_MARGIN: i64 = 10;
/// Messages claimed (and sent concurrently) at once.
const CLAIM: i64 = 16;
/// The first retry waits this long; each further one twice as long.
const RETRY_BASE: i64 = 5;
/// A message this old when an attempt fails is given up: its code has expired, or soon will.
pub const GIVE_UP_AFTER: i64 = 3600;
/// A message that failed this many times is given up.
pub const MAX_ATTEMPTS: i64 = 12;
/// The name messages are signed with.
const SITE: &str = "Yaoshi";

/// What the texts say of the codes' lifetimes.
const LIFETIMES: Lifetimes = Lifetimes {
    verify_minutes: super::contacts::VERIFY_EMAIL_TTL / 60,
    reset_minutes: super::contacts::RESET_TTL / 60,
    invite_days: super::contacts::INVITE_TTL / 86_400,
};

impl Services {
    /// The delivery worker, until `stop` completes (see [`super::worker::run_rounds`]).
    pub async fn deliver_messages(self, stop: impl std::future::Future<Output = ()>) {
        let wake = self.message_wake.clone();
        super::worker::run_rounds("message delivery", CLAIM as usize, &wake, stop, || self.deliver_due_messages())
            .await;
    }

    /// Claims the messages due now and attempts each once; returns how many it claimed.
    /// Recipients are served concurrently, each one's messages in order: a reset request
    /// checks the address's send limits against the codes before it, so two requests for one
    /// address must not be resolved side by side.
    pub async fn deliver_due_messages(&self) -> StoreResult<usize> {
        let now = self.now();
        let messages = self.store.claim_messages(now, now + self.message_lease(), CLAIM).await?;
        let claimed = messages.len();
        let mut by_recipient: std::collections::BTreeMap<String, Vec<QueuedMessage>> = Default::default();
        for message in messages {
            by_recipient.entry(message.recipient.clone()).or_default().push(message);
        }
        let mut attempts = tokio::task::JoinSet::new();
        for (_, queue) in by_recipient {
            let s = self.clone();
            attempts.spawn(async move {
                for message in queue {
                    s.attempt_message(message).await;
                }
            });
        }
        while attempts.join_next().await.is_some() {}
        Ok(claimed)
    }

    /// How long a claimed message stays with the instance that claimed it: twice the longest
    /// hand-over the transports allow, plus [`LEASE_MARGIN`]. Long enough that an instance
    /// still sending is never overtaken by another (which would send it twice), short enough
    /// that what a crashed instance had claimed goes out soon after (50 s with SMTP's default
    /// 10 s timeout).
    fn message_lease(&self) -> i64 {
        2 * self.notify.handover_limit().as_secs().try_into().unwrap_or(i64::MAX / 4) + LEASE_MARGIN
    }

    /// One attempt at one message, and its outcome recorded.
    async fn attempt_message(&self, queued: QueuedMessage) {
        let outcome = self.send_message(&queued).await;
        let stored = match outcome {
            Ok(()) => {
                tracing::info!(id = queued.id, kind = %queued.kind, channel = %queued.channel, "message sent");
                self.store.message_done(queued.id).await
            }
            Err(error) => self.message_attempt_failed(&queued, &error).await,
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, id = queued.id, "cannot record a message attempt");
        }
    }

    async fn send_message(&self, queued: &QueuedMessage) -> Result<(), SendError> {
        let message: Message =
            serde_json::from_str(&queued.params).map_err(|_| SendError::Rejected("unreadable message".into()))?;
        let locale = Locale::from_tag(&queued.locale).unwrap_or_default();
        if message == Message::ResetRequest {
            return self.resolve_reset_request(&queued.recipient).await;
        }
        if let Some(mail) = message.email(&queued.recipient, locale, SITE, &LIFETIMES) {
            self.notify.mail.send(&mail).await
        } else if let Some(sms) = message.sms(&queued.recipient, locale) {
            self.notify.sms.send(&sms).await
        } else {
            Err(SendError::Rejected("nothing to send".into()))
        }
    }

    /// A reset request, resolved now: a reset code to the account that verified the address,
    /// if there is one and it may be sent another; else nothing (and nobody learns which).
    async fn resolve_reset_request(&self, address: &str) -> Result<(), SendError> {
        let unavailable = |_| SendError::Transient("storage unavailable".into());
        let user = match kind_of(address) {
            ContactKind::Email => self.store.user_by_verified_email(address).await,
            ContactKind::Phone => self.store.user_by_verified_phone(address).await,
        }
        .map_err(unavailable)?;
        let Some(user) = user.filter(|u| u.active) else { return Ok(()) };
        match self.send_code(purpose::RESET, address, Some(user.id), locale_of(Some(&user))).await {
            Ok(()) => {}
            Err(ContactError::TooSoon { .. }) => return Ok(()),
            Err(_) => return Err(SendError::Transient("storage unavailable".into())),
        }
        let channel = if kind_of(address) == ContactKind::Phone { "sms" } else { "email" };
        self.record(Event::new(kind::PASSWORD_RESET_SENT).user(user.id).detail(channel), &Origin::default()).await;
        Ok(())
    }

    async fn message_attempt_failed(&self, m: &QueuedMessage, error: &SendError) -> StoreResult<()> {
        let (now, failures) = (self.now(), m.attempts + 1);
        let text = error.to_string();
        let given_up =
            matches!(error, SendError::Rejected(_)) || failures >= MAX_ATTEMPTS || now - m.created_at >= GIVE_UP_AFTER;
        if given_up {
            tracing::error!(id = m.id, kind = %m.kind, attempts = failures, error = %text, "message given up");
            let event =
                Event::new(kind::MESSAGE_ABANDONED).detail(format!("{}: {failures} attempts, last: {text}", m.kind));
            self.record(event, &Origin::default()).await;
            return self.store.message_failed(m.id, now, &text, Some(now)).await;
        }
        let next = now + retry_delay(RETRY_BASE, failures);
        tracing::warn!(id = m.id, kind = %m.kind, attempts = failures, error = %text, retry_at = next, "message not sent");
        self.store.message_failed(m.id, next, &text, None).await
    }
}
