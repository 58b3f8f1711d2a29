//! The one throttle every password check goes through: the login form, the password grant,
//! the account page's confirmations, linking a provider by email, operator-chosen client
//! secrets, sign-up. An attempt is reserved in the database *before* its hash is computed and
//! settled after, so parallel guesses and several instances can never exceed a budget, and a
//! concurrent correct attempt is never counted as a failure (it only waits its turn).
//!
//! The budgets are [`ThrottleSettings`]' (OWASP's authentication cheat sheet): per account
//! and address, per address, and per account from unknown devices. A refused attempt costs no
//! hash.

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use super::{attempt_queue::Turn, Services};
use crate::{
    config::ThrottleSettings,
    store::{Reservation, Store, StoreError},
};

/// How long an attempt waits for others under the same key to finish before the server
/// answers "temporarily unavailable". Long enough for a queue of correct sign-ins at the
/// argon2 ceiling; short against the 30 s request timeout.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// One budget an attempt counts against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    key: String,
    free: i64,
    after: AfterBudget,
    /// Whether a success forgives the failures (only per account and address: a success on
    /// one's own account must not refill a budget for guessing at others').
    forgiven: bool,
    /// Which budget this is, for the event that says it was spent.
    label: &'static str,
}

/// What happens once a budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterBudget {
    /// One attempt at a time, each after a growing delay.
    Delays,
    /// No attempt until the window ends.
    Closed,
}

/// What a password check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The secret matched: the per-account-and-address failures are forgiven.
    Success,
    /// It did not, or the account cannot sign in.
    Failure,
    /// No verdict (the check could not run): nothing is counted.
    Void,
}

/// Why an attempt was not let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A budget is spent: try again after this many seconds.
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds until the next attempt may start.
        retry_after: i64,
    },
    /// The store failed, or others' attempts kept the budget busy for too long.
    #[error("the sign-in check is temporarily unavailable")]
    Unavailable,
}

/// Reserved attempts, to be settled with the check's [`Verdict`]. One dropped unsettled (its
/// request went away mid-check) is settled as [`Verdict::Void`] in the background, so that it
/// does not stay pending until its window ends.
#[must_use = "an attempt must be settled"]
pub(crate) struct Attempt {
    budgets: Vec<Budget>,
    /// This instance's turns in the keys' queues, released once the store has settled.
    turns: Vec<Turn>,
    store: Arc<dyn Store>,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.budgets.is_empty() {
            return;
        }
        let (budgets, turns, store) =
            (std::mem::take(&mut self.budgets), std::mem::take(&mut self.turns), self.store.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for b in budgets {
                    if let Err(e) = store.settle_attempt(&b.key, false, false, b.free).await {
                        tracing::warn!(error = %e, "cannot settle an abandoned sign-in attempt");
                    }
                }
                drop(turns);
            });
        }
    }
}

/// Keys for addresses: IPv6 clients are counted by their /64, which one subscriber holds
/// whole (RFC 6177), so rotating through it gains nothing.
pub(crate) fn address_key(ip: IpAddr) -> String {
    match crate::config::proxies::canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The budgets of a password attempt on `account` (an account id, or for a name that matches
/// no account the name itself, so unknown names are throttled alike) from `ip`. A `known`
/// origin (this account's device cookie, or an address it signed in from) skips the
/// per-account budget, which is what keeps an attacker from locking the owner out, and the
/// spraying budget, which is about guesses across accounts.
pub(crate) fn password_budgets(t: &ThrottleSettings, account: &str, ip: Option<IpAddr>, known: bool) -> Vec<Budget> {
    let mut budgets = Vec::with_capacity(3);
    let ip = ip.map(address_key);
    let key = format!("pw:{account}|{}", ip.as_deref().unwrap_or("-"));
    let budget = |key, free, after, forgiven, label| Budget { key, free, after, forgiven, label };
    budgets.push(budget(key, t.account_address, AfterBudget::Delays, true, "account_address"));
    if !known {
        budgets.push(budget(format!("pw:{account}"), t.account, AfterBudget::Closed, false, "account"));
        if let Some(ip) = &ip {
            budgets.push(budget(format!("pw-ip:{ip}"), t.address, AfterBudget::Delays, false, "address"));
        }
    }
    budgets
}

/// The budget of a client secret checked with argon2 (an operator-chosen one), per client
/// and address.
pub(crate) fn client_secret_budgets(t: &ThrottleSettings, client_id: &str, ip: Option<IpAddr>) -> Vec<Budget> {
    let ip = ip.map(address_key).unwrap_or_else(|| "-".into());
    vec![Budget {
        key: format!("cs:{client_id}|{ip}"),
        free: t.account_address,
        after: AfterBudget::Delays,
        forgiven: true,
        label: "client_secret",
    }]
}

/// The budget of sign-ups from one address.
pub(crate) fn signup_budgets(t: &ThrottleSettings, ip: Option<IpAddr>) -> Vec<Budget> {
    match ip {
        Some(ip) => vec![Budget {
            key: format!("signup:{}", address_key(ip)),
            free: t.signups,
            after: AfterBudget::Closed,
            forgiven: false,
            label: "signup",
        }],
        None => Vec::new(),
    }
}

/// The budgets of a one-time code typed for `address` (an email address or phone number) from
/// `ip`: per recipient address, whichever client tries (6 digits are guessed in a million
/// tries, so a few wrong ones then growing delays), and per client address across recipients.
pub(crate) fn code_budgets(t: &ThrottleSettings, address: &str, ip: Option<IpAddr>) -> Vec<Budget> {
    let mut budgets = vec![Budget {
        key: format!("code:{address}"),
        free: t.account_address,
        after: AfterBudget::Delays,
        forgiven: true,
        label: "code_address",
    }];
    if let Some(ip) = ip {
        budgets.push(Budget {
            key: format!("code-ip:{}", address_key(ip)),
            free: t.address,
            after: AfterBudget::Delays,
            forgiven: false,
            label: "code_client",
        });
    }
    budgets
}

/// The budgets of device user codes (RFC 8628 §5.1, "brute forcing") typed by the signed-in
/// `user_id` from `ip`: a few wrong ones per account, then growing delays, and per address
/// across accounts.
pub(crate) fn user_code_budgets(t: &ThrottleSettings, user_id: i64, ip: Option<IpAddr>) -> Vec<Budget> {
    let mut budgets = vec![Budget {
        key: format!("ucode:{user_id}"),
        free: t.account_address,
        after: AfterBudget::Delays,
        forgiven: true,
        label: "user_code_account",
    }];
    if let Some(ip) = ip {
        budgets.push(Budget {
            key: format!("ucode-ip:{}", address_key(ip)),
            free: t.address,
            after: AfterBudget::Delays,
            forgiven: false,
            label: "user_code_client",
        });
    }
    budgets
}

/// The budgets of a second-factor code (TOTP or recovery) typed for the account `user_id`
/// from `ip`. Whoever types it already knew the password, so the budget is per account,
/// whatever the address (a million TOTP codes, three valid at a time: a few wrong ones, then
/// growing delays), plus the per-address budget across accounts.
pub(crate) fn factor_budgets(t: &ThrottleSettings, user_id: i64, ip: Option<IpAddr>) -> Vec<Budget> {
    let mut budgets = vec![Budget {
        key: format!("2fa:{user_id}"),
        free: t.account_address,
        after: AfterBudget::Delays,
        forgiven: true,
        label: "second_factor",
    }];
    if let Some(ip) = ip {
        budgets.push(Budget {
            key: format!("2fa-ip:{}", address_key(ip)),
            free: t.address,
            after: AfterBudget::Delays,
            forgiven: false,
            label: "second_factor_client",
        });
    }
    budgets
}

/// The budget of messages (codes, resets) one client address may have sent: as many as its
/// sign-ups, and every request counts, so a script cannot run up an SMS bill.
pub(crate) fn send_budgets(t: &ThrottleSettings, ip: Option<IpAddr>) -> Vec<Budget> {
    match ip {
        Some(ip) => vec![Budget {
            key: format!("send:{}", address_key(ip)),
            free: t.signups,
            after: AfterBudget::Closed,
            forgiven: false,
            label: "send",
        }],
        None => Vec::new(),
    }
}

impl Services {
    /// Reserves one attempt under every budget, or says why not. Budgets busy with others'
    /// attempts are waited for (with backoff, at most [`BUSY_WAIT`]).
    pub(crate) async fn begin_attempt(&self, budgets: Vec<Budget>) -> Result<Attempt, Refusal> {
        let t = self.settings.throttle;
        let started = Instant::now();
        // First this instance's own queue for each key, in the budgets' order (the same kind
        // of key first for every attempt, so two attempts never wait for each other's turns).
        let mut turns = Vec::with_capacity(budgets.len());
        for b in &budgets {
            let width = usize::try_from(b.free).unwrap_or(1);
            match tokio::time::timeout(BUSY_WAIT, self.attempt_queues.wait(&b.key, width)).await {
                Ok(turn) => turns.push(turn),
                Err(_) => {
                    tracing::warn!("sign-in attempts waited too long for their turn");
                    return Err(Refusal::Unavailable);
                }
            }
        }
        let mut pause = Duration::from_millis(5);
        loop {
            let now = self.now();
            let mut granted = Vec::new();
            let mut outcome = Ok(());
            for b in &budgets {
                match self.store.reserve_attempt(&b.key, now - t.window, now, b.free).await {
                    Ok(Reservation::Granted) => granted.push(b.clone()),
                    Ok(Reservation::Busy) => {
                        outcome = Err(None);
                        break;
                    }
                    Ok(Reservation::Blocked { until }) => {
                        let budget = crate::metrics::BudgetLabels { budget: b.label.to_owned() };
                        crate::metrics::metrics().throttled.get_or_create(&budget).inc();
                        outcome = Err(Some(Refusal::Throttled { retry_after: (until - now).max(1) }));
                        break;
                    }
                    Err(e) => {
                        outcome = Err(Some(store_failure(e)));
                        break;
                    }
                }
            }
            let refusal = match outcome {
                Ok(()) => return Ok(Attempt { budgets, turns, store: self.store.clone() }),
                Err(refusal) => refusal,
            };
            let undone = Attempt { budgets: granted, turns: Vec::new(), store: self.store.clone() };
            let _ = self.settle(undone, Verdict::Void).await;
            if let Some(refusal) = refusal {
                return Err(refusal);
            }
            if started.elapsed() >= BUSY_WAIT {
                tracing::warn!("sign-in attempts waited too long for their turn");
                return Err(Refusal::Unavailable);
            }
            tokio::time::sleep(pause + jitter(pause)).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Ends the reserved attempts with the check's verdict. A failure past a budget sets the
    /// time before which the next attempt may start; the budget this failure spent, if one,
    /// is returned (for the lockout event).
    pub(crate) async fn settle(&self, mut attempt: Attempt, verdict: Verdict) -> Option<&'static str> {
        let t = self.settings.throttle;
        let mut spent = None;
        for b in std::mem::take(&mut attempt.budgets) {
            let failed = verdict == Verdict::Failure;
            let reset = verdict == Verdict::Success && b.forgiven;
            match self.store.settle_attempt(&b.key, failed, reset, b.free).await {
                Ok(Some(row)) if failed && row.failures >= b.free => {
                    if row.failures == b.free {
                        spent = spent.or(Some(b.label));
                    }
                    let until = match b.after {
                        // +1: times are whole seconds, so a delay of n lasts at least n.
                        AfterBudget::Delays => self.now() + t.delay(row.failures - b.free + 1) + 1,
                        AfterBudget::Closed => row.window_start + t.window,
                    };
                    if let Err(e) = self.store.block_attempts(&b.key, until).await {
                        tracing::warn!(error = %e, "cannot record a throttle delay");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot settle a sign-in attempt"),
            }
        }
        spent
    }
}

fn store_failure(e: StoreError) -> Refusal {
    tracing::error!(error = %e, "the sign-in throttle cannot reach the store");
    Refusal::Unavailable
}

/// Up to `pause` more, so that waiting attempts do not all ask again at the same instant.
fn jitter(pause: Duration) -> Duration {
    use rand::Rng as _;
    let max = pause.as_millis().max(1) as u64;
    Duration::from_millis(rand::thread_rng().gen_range(0..max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_follow_the_origin() {
        let t = ThrottleSettings::default();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let unknown = password_budgets(&t, "7", Some(ip), false);
        let keys: Vec<&str> = unknown.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["pw:7|203.0.113.9", "pw:7", "pw-ip:203.0.113.9"]);
        assert_eq!(unknown[1].after, AfterBudget::Closed);
        let known = password_budgets(&t, "7", Some(ip), true);
        assert_eq!(known.len(), 1, "a known device only has the account-and-address budget");
        assert!(signup_budgets(&t, None).is_empty());
        assert_eq!(client_secret_budgets(&t, "app", Some(ip))[0].key, "cs:app|203.0.113.9");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
