//! Second factors: the `[second_factors]` table of the settings file; every key may be left
//! out.

use serde::Deserialize;

use super::ConfigError;

/// The environment variable that overrides [`FactorSettings::key`].
pub const FACTOR_KEY_ENV: &str = "YAOSHI_FACTOR_KEY";

/// The second-factor settings (`[second_factors]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FactorSettings {
    /// The key TOTP secrets are sealed with: 64 hex digits (32 bytes), from the file or, better,
    /// from [`FACTOR_KEY_ENV`]. Kept apart from the database, a stolen copy of it does not
    /// hold the secrets in usable form. Unset, a key made once and kept in the database's
    /// `server_secrets` is used (the secrets are then only as safe as the database).
    pub key: Option<String>,
    /// Whether a provider sign-in (`[[providers]]`) is asked for the second factor too (default
    /// true).
    pub after_provider: bool,
    /// Seconds during which a browser that passed the second step for an account (its device
    /// cookie) may skip it for that account (default 0: never skipped).
    pub remember_device_secs: i64,
}

impl Default for FactorSettings {
    fn default() -> Self {
        Self { key: None, after_provider: true, remember_device_secs: 0 }
    }
}

impl std::fmt::Debug for FactorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorSettings")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("after_provider", &self.after_provider)
            .field("remember_device_secs", &self.remember_device_secs)
            .finish()
    }
}

impl FactorSettings {
    /// The file's table (defaults where absent), with the key [`FACTOR_KEY_ENV`] holds
    /// overriding the file's.
    pub fn resolve(file: Option<FactorSettings>, env: &dyn Fn(&str) -> Option<String>) -> FactorSettings {
        let mut s = file.unwrap_or_default();
        if let Some(k) = env(FACTOR_KEY_ENV).filter(|k| !k.is_empty()) {
            s.key = Some(k);
        }
        s
    }

    /// The operator's key as bytes, if one is set (checked by [`FactorSettings::validate`]).
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        let hex = self.key.as_deref()?.trim();
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(key)
    }

    /// Checks the key's form and the ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| Err(ConfigError::Invalid { key, reason: reason.into() });
        if self.key.is_some() && self.key_bytes().is_none() {
            return invalid("second_factors.key", "must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`");
        }
        if !(0..=90 * 86_400).contains(&self.remember_device_secs) {
            return invalid("second_factors.remember_device_secs", "must be between 0 (off) and 90 days");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_environment_first_and_must_be_32_bytes() {
        let file = FactorSettings { key: Some("00".repeat(32)), ..Default::default() };
        let env = |k: &str| (k == FACTOR_KEY_ENV).then(|| "ab".repeat(32));
        let s = FactorSettings::resolve(Some(file.clone()), &env);
        assert_eq!(s.key_bytes(), Some([0xab; 32]));
        assert_eq!(FactorSettings::resolve(Some(file), &|_| None).key_bytes(), Some([0; 32]));
        assert!(FactorSettings { key: Some("abc".into()), ..Default::default() }.validate().is_err());
        assert!(FactorSettings { key: Some("zz".repeat(32)), ..Default::default() }.validate().is_err());
        assert!(FactorSettings::default().validate().is_ok());
        assert!(!format!("{s:?}").contains("abab"), "the key is never printed");
    }
}
