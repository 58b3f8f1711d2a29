//! The sign-in throttle's budgets (`[throttle]` in the TOML file). Every password check counts
//! against them; `service::throttle` applies them.

use serde::Deserialize;

/// How many failed password checks are tolerated, per what, and how the delays grow after.
///
/// Three budgets are counted in one window (OWASP's authentication cheat sheet, "account
/// lockout" and "device cookies"):
/// - per account and client address: `account_address` free failures, then delays that start
///   at `base_delay` seconds and double up to `max_delay`;
/// - per client address across accounts (password spraying): `address` free failures, then
///   the same delays;
/// - per account across every address: `account` failures, after which only the account's
///   known devices (a device cookie from an earlier sign-in) and addresses that signed in to
///   it before may still try, so a locked-out attacker never locks out the owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    /// Seconds a window lasts; failures older than this are forgotten.
    pub window: i64,
    /// Free failures per account and address in a window.
    pub account_address: i64,
    /// Free failures per address across accounts in a window.
    pub address: i64,
    /// Failures per account from unknown devices and addresses in a window.
    pub account: i64,
    /// The first delay, in seconds, once a budget with delays is spent.
    pub base_delay: i64,
    /// The longest delay, in seconds.
    pub max_delay: i64,
    /// Sign-ups per address in a window.
    pub signups: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self { window: 900, account_address: 5, address: 50, account: 50, base_delay: 1, max_delay: 900, signups: 20 }
    }
}

impl ThrottleSettings {
    /// Why these budgets cannot be used, if they cannot.
    pub fn problem(&self) -> Option<&'static str> {
        let budgets = [self.account_address, self.address, self.account, self.signups];
        if !(60..=86_400).contains(&self.window) {
            Some("window must be between 60 and 86400 seconds")
        } else if budgets.iter().any(|b| !(1..=1_000_000).contains(b)) {
            Some("budgets must be between 1 and 1000000")
        } else if self.base_delay < 1 || self.max_delay < self.base_delay || self.max_delay > 86_400 {
            Some("delays must satisfy 1 <= base_delay <= max_delay <= 86400")
        } else {
            None
        }
    }

    /// The delay after the `nth` failure past a budget (1-based): doubling from `base_delay`,
    /// capped at `max_delay`.
    pub fn delay(&self, nth: i64) -> i64 {
        let doublings = (nth - 1).clamp(0, 40) as u32;
        self.base_delay.saturating_mul(1_i64 << doublings).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let t = ThrottleSettings::default();
        let seen: Vec<i64> = (1..=12).map(|n| t.delay(n)).collect();
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(t.delay(10_000), 900);
        assert!(t.problem().is_none());
        assert!(ThrottleSettings { account: 0, ..t }.problem().is_some());
        assert!(ThrottleSettings { max_delay: 0, ..t }.problem().is_some());
    }
}
