//! When a signing key signs and when it is published (OIDC Core §10.1.1, "Rotation of
//! Asymmetric Signing Keys": "The JWK Set document at the jwks_uri SHOULD retain recently
//! decommissioned signing keys for a reasonable period of time to facilitate a smooth
//! transition").
//!
//! A rotation never breaks a verifier: the successor is published `publish_delay` seconds before
//! it signs anything (so that every JWKS cache has seen it by then), and the key it replaces
//! stays published until the last token it may have signed has expired. Pure: callers pass
//! `now` and read the windows from storage.

/// A key's life, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyWindow {
    /// From when it signs (it is published from the moment it exists).
    pub active_from: i64,
    /// From when it no longer signs; `None` while it is its algorithm's current key.
    pub retired_at: Option<i64>,
    /// From when it is no longer published; `None` while it is current.
    pub published_until: Option<i64>,
}

impl KeyWindow {
    /// Whether the key may sign at `now`.
    pub fn signs_at(&self, now: i64) -> bool {
        self.active_from <= now && self.retired_at.is_none_or(|r| now < r)
    }

    /// Whether the key belongs in the JWKS at `now` (also before it signs: publish first).
    pub fn published_at(&self, now: i64) -> bool {
        self.published_until.is_none_or(|p| now < p)
    }

    /// Whether this is its algorithm's current key: the one a rotation replaces. Between a
    /// rotation and the switch, that is the successor, not yet signing.
    pub fn is_current(&self) -> bool {
        self.retired_at.is_none()
    }

    /// Where the key is in its life at `now`, for operators.
    pub fn state_at(&self, now: i64) -> KeyState {
        if self.signs_at(now) {
            KeyState::Active
        } else if now < self.active_from {
            KeyState::Pending
        } else if self.published_at(now) {
            KeyState::Retired
        } else {
            KeyState::Expired
        }
    }
}

/// A key's place in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Pending,
    /// Signing and published.
    Active,
    /// Published so that the tokens it signed still verify; no longer signing.
    Retired,
    /// Neither: it can be deleted.
    Expired,
}

impl KeyState {
    /// Lowercase name, for `yaoshi keys list`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Pending => "pending",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Expired => "expired",
        }
    }
}

/// The key that signs at `now` among `windows`: of those that may sign, the one that became
/// active last (after a rotation, both the old and the new key may be in their window for as
/// long as the old one's retirement and the new one's activation differ).
pub fn signing_index(windows: &[KeyWindow], now: i64) -> Option<usize> {
    windows.iter().enumerate().filter(|(_, w)| w.signs_at(now)).max_by_key(|(i, w)| (w.active_from, *i)).map(|(i, _)| i)
}

/// How long tokens signed by a key live and how long instances may take to notice a rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationTimes {
    /// Seconds between a rotation and the successor's first signature.
    pub publish_delay: i64,
    /// The longest lifetime of anything a key signs (the ID Token lifetime).
    pub token_lifetime: i64,
    /// Seconds an instance may go on using what it loaded before the rotation, plus the clock
    /// skew verifiers tolerate.
    pub propagation: i64,
}

/// What a rotation at `now` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationPlan {
    /// The successor signs from here.
    pub new_active_from: i64,
    /// The current key stops signing here (the same moment: there is no gap).
    pub old_retired_at: i64,
    /// The current key leaves the JWKS here: after the last token it may have signed expired.
    pub old_published_until: i64,
}

/// Plans a rotation at `now`. An instance that has not yet reloaded its keys may sign with the
/// old key up to `propagation` seconds after its retirement, so the old key stays published
/// for that long plus a token lifetime.
pub fn plan_rotation(now: i64, t: RotationTimes) -> RotationPlan {
    let switch = now + t.publish_delay.max(0);
    RotationPlan {
        new_active_from: switch,
        old_retired_at: switch,
        old_published_until: switch + t.propagation.max(0) + t.token_lifetime.max(0),
    }
}

/// Whether the current key, active since `active_from`, is due for the automatic rotation
/// every `every_days` days (0: never).
pub fn rotation_due(active_from: i64, now: i64, every_days: i64) -> bool {
    every_days > 0 && now >= active_from.saturating_add(every_days.saturating_mul(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(active_from: i64) -> KeyWindow {
        KeyWindow { active_from, retired_at: None, published_until: None }
    }

    #[test]
    fn windows_sign_and_publish_in_order() {
        let k = KeyWindow { active_from: 100, retired_at: Some(200), published_until: Some(300) };
        let states: Vec<_> = [50, 99, 100, 199, 200, 299, 300].iter().map(|&t| k.state_at(t)).collect();
        use KeyState::*;
        assert_eq!(states, [Pending, Pending, Active, Active, Retired, Retired, Expired]);
        assert!(k.published_at(50), "published before it signs");
        assert!(!k.signs_at(50) && !k.signs_at(200) && k.signs_at(100));
        assert!(!k.is_current() && current(0).is_current());
        assert!(current(0).published_at(i64::MAX - 1));
        assert_eq!(Expired.as_str(), "expired");
    }

    #[test]
    fn the_newest_active_key_signs() {
        // Old key retired at 1000, successor active from 1000; a key of the distant past.
        let keys = [
            KeyWindow { active_from: 0, retired_at: Some(500), published_until: Some(2000) },
            KeyWindow { active_from: 400, retired_at: Some(1000), published_until: Some(5000) },
            current(1000),
        ];
        assert_eq!(signing_index(&keys, 300), Some(0));
        assert_eq!(signing_index(&keys, 450), Some(1), "both may sign; the newer wins");
        assert_eq!(signing_index(&keys, 999), Some(1), "the successor does not sign before its time");
        assert_eq!(signing_index(&keys, 1000), Some(2));
        assert_eq!(signing_index(&keys[..2], 1000), None, "nothing signs once the only keys retired");
        assert_eq!(signing_index(&[], 0), None);
    }

    #[test]
    fn a_rotation_publishes_first_and_keeps_the_old_key_for_its_tokens() {
        let t = RotationTimes { publish_delay: 300, token_lifetime: 3600, propagation: 90 };
        let p = plan_rotation(10_000, t);
        assert_eq!(
            p,
            RotationPlan { new_active_from: 10_300, old_retired_at: 10_300, old_published_until: 10_300 + 90 + 3600 }
        );
        // Replayed over the windows: no instant without a signer, the new key is published
        // before it signs, and the old key outlives every token it signed.
        let old = KeyWindow {
            active_from: 0,
            retired_at: Some(p.old_retired_at),
            published_until: Some(p.old_published_until),
        };
        let new = current(p.new_active_from);
        for now in (10_000..20_000).step_by(7) {
            let keys = [old, new];
            let signer = signing_index(&keys, now).expect("always a signer");
            if signer == 0 {
                assert!(now < p.new_active_from);
                let expires = now + t.token_lifetime;
                assert!(old.published_at(expires - 1), "a token signed at {now} verifies until it expires");
            }
            assert!(new.published_at(now));
        }
        let immediate = plan_rotation(5, RotationTimes { publish_delay: 0, token_lifetime: 60, propagation: 0 });
        assert_eq!((immediate.new_active_from, immediate.old_published_until), (5, 65));
        let clamped = plan_rotation(5, RotationTimes { publish_delay: -9, token_lifetime: -9, propagation: -9 });
        assert_eq!((clamped.new_active_from, clamped.old_published_until), (5, 5));
    }

    #[test]
    fn the_schedule_rotates_after_the_period_only() {
        let day = 86_400;
        assert!(!rotation_due(0, 90 * day - 1, 90));
        assert!(rotation_due(0, 90 * day, 90));
        assert!(!rotation_due(0, 10_000 * day, 0), "0 turns the schedule off");
        assert!(!rotation_due(0, i64::MAX, -1));
        assert!(!rotation_due(i64::MAX - 5, i64::MAX - 1, 1), "no overflow");
    }
}
