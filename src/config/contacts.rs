//! How accounts prove and use their email addresses and phone numbers: the `[contacts]`
//! table of the settings file; every key may be left out.

use serde::Deserialize;

use super::ConfigError;

/// The contact settings (`[contacts]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactSettings {
    /// Whether an account opened with an email address must verify it before its first
    /// sign-in (default false: it signs in at once and verifies later).
    pub require_verified_email: bool,
    /// The country a phone number typed without `+` belongs to (ISO 3166 alpha-2, default
    /// `CN`).
    pub default_region: String,
    /// Whether the login page offers signing in (and up, when sign-up is open) with a code
    /// sent by SMS (default true).
    pub phone_sign_in: bool,
    /// Seconds before another code may be sent to the same address (default 60).
    pub resend_after_secs: i64,
    /// Codes one address may be sent in a day (default 10).
    pub daily_sends: i64,
}

impl Default for ContactSettings {
    fn default() -> Self {
        Self {
            require_verified_email: false,
            default_region: "CN".into(),
            phone_sign_in: true,
            resend_after_secs: 60,
            daily_sends: 10,
        }
    }
}

impl ContactSettings {
    /// Checks the ranges and the region.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| Err(ConfigError::Invalid { key, reason: reason.into() });
        if self.default_region.parse::<phonenumber::country::Id>().is_err() {
            return invalid("contacts.default_region", "must be a country code such as CN or US");
        }
        if !(1..=3600).contains(&self.resend_after_secs) {
            return invalid("contacts.resend_after_secs", "must be between 1 and 3600 seconds");
        }
        if !(1..=1000).contains(&self.daily_sends) {
            return invalid("contacts.daily_sends", "must be between 1 and 1000");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_values_are_checked() {
        assert!(ContactSettings::default().validate().is_ok());
        let file: ContactSettings = toml::from_str("require_verified_email = true\ndefault_region = \"US\"").unwrap();
        assert!(file.require_verified_email && file.validate().is_ok());
        assert!(ContactSettings { default_region: "XX".into(), ..Default::default() }.validate().is_err());
        assert!(ContactSettings { resend_after_secs: 0, ..Default::default() }.validate().is_err());
        assert!(toml::from_str::<ContactSettings>("unknown = 1").is_err());
    }
}
