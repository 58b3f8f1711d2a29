//! The CAPTCHA that guards the forms sending codes to any address (phone sign-in, forgot
//! password): the `[captcha]` table of the settings file. Off by default. `pow` asks the
//! browser for a proof of work (a hash with leading zero bits, found by a script of this
//! site: nothing leaves the site); `provider` embeds a third-party widget (Cloudflare
//! Turnstile, hCaptcha, reCAPTCHA: they share one verification API) and checks its token
//! with the provider. The provider's secret comes from the file or `YAOSHI_CAPTCHA_SECRET`.

use std::fmt;

use serde::Deserialize;

use super::ConfigError;

/// The environment variable that overrides [`CaptchaSettings::secret`].
pub const CAPTCHA_SECRET_ENV: &str = "YAOSHI_CAPTCHA_SECRET";

/// Which check the forms carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptchaKind {
    /// No check (the default): the send limits and the throttle alone.
    #[default]
    Off,
    /// A proof of work computed by the browser.
    Pow,
    /// A third-party widget, verified with its provider.
    Provider,
}

/// The CAPTCHA settings (`[captcha]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptchaSettings {
    /// `off` (default), `pow` or `provider`.
    pub kind: CaptchaKind,
    /// For `pow`: the leading zero bits the hash must have (default 18: 2^18 hashes on
    /// average, about half a second in a desktop browser, for every code asked).
    pub pow_bits: u8,
    /// For `provider`: the widget's site key (public).
    pub site_key: Option<String>,
    /// For `provider`: the secret the token is verified with (or `YAOSHI_CAPTCHA_SECRET`).
    pub secret: Option<String>,
    /// For `provider`: the verification endpoint (`…/siteverify`, which takes `secret`,
    /// `response` and `remoteip` and answers `{"success": …}`).
    pub verify_url: Option<String>,
    /// For `provider`: the widget's script.
    pub script_url: Option<String>,
    /// For `provider`: the class of the element the script turns into a widget
    /// (`cf-turnstile`, `h-captcha`, `g-recaptcha`).
    pub widget_class: Option<String>,
}

impl Default for CaptchaSettings {
    fn default() -> Self {
        Self {
            kind: CaptchaKind::Off,
            pow_bits: 18,
            site_key: None,
            secret: None,
            verify_url: None,
            script_url: None,
            widget_class: None,
        }
    }
}

impl fmt::Debug for CaptchaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptchaSettings")
            .field("kind", &self.kind)
            .field("pow_bits", &self.pow_bits)
            .field("site_key", &self.site_key)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("verify_url", &self.verify_url)
            .field("script_url", &self.script_url)
            .field("widget_class", &self.widget_class)
            .finish()
    }
}

impl CaptchaSettings {
    /// The file's table (defaults when absent), with the secret `env` holds overriding the
    /// file's.
    pub fn resolve(file: Option<CaptchaSettings>, env: &dyn Fn(&str) -> Option<String>) -> CaptchaSettings {
        let mut s = file.unwrap_or_default();
        if let Some(secret) = env(CAPTCHA_SECRET_ENV).filter(|v| !v.is_empty()) {
            s.secret = Some(secret);
        }
        s
    }

    /// Checks that the chosen kind has what it needs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| Err(ConfigError::Invalid { key, reason: reason.into() });
        match self.kind {
            CaptchaKind::Off => Ok(()),
            CaptchaKind::Pow if !(8..=28).contains(&self.pow_bits) => {
                invalid("captcha.pow_bits", "must be between 8 and 28")
            }
            CaptchaKind::Pow => Ok(()),
            CaptchaKind::Provider => {
                for (key, value) in [
                    ("captcha.site_key", &self.site_key),
                    ("captcha.secret", &self.secret),
                    ("captcha.widget_class", &self.widget_class),
                ] {
                    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                        return invalid(key, "is required for the provider CAPTCHA");
                    }
                }
                if !self
                    .widget_class
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return invalid("captcha.widget_class", "must be a CSS class name");
                }
                for (key, value) in [("captcha.verify_url", &self.verify_url), ("captcha.script_url", &self.script_url)]
                {
                    if provider_url(value.as_deref()).is_none() {
                        return invalid(key, "must be an https URL (http only on a loopback address)");
                    }
                }
                Ok(())
            }
        }
    }

    /// The origin (`https://host[:port]`) of the widget's script, which the pages'
    /// Content-Security-Policy must allow (its script, its frame, its calls).
    pub fn provider_origin(&self) -> Option<String> {
        let url = provider_url(self.script_url.as_deref())?;
        Some(url.origin().ascii_serialization())
    }
}

/// `raw` as an https URL, or an http one on a loopback host (tests, a local relay): the rule
/// of every outbound endpoint.
pub fn provider_url(raw: Option<&str>) -> Option<url::Url> {
    crate::oauth::upstream::check_endpoint(raw?.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> CaptchaSettings {
        CaptchaSettings {
            kind: CaptchaKind::Provider,
            site_key: Some("site".into()),
            secret: Some("secret".into()),
            verify_url: Some("https://challenges.example.com/siteverify".into()),
            script_url: Some("https://challenges.example.com/api.js".into()),
            widget_class: Some("cf-turnstile".into()),
            ..CaptchaSettings::default()
        }
    }

    #[test]
    fn off_is_the_default_and_pow_bits_are_bounded() {
        let s = CaptchaSettings::default();
        assert_eq!(s.kind, CaptchaKind::Off);
        assert!(s.validate().is_ok());
        let pow = |pow_bits| CaptchaSettings { kind: CaptchaKind::Pow, pow_bits, ..s.clone() };
        assert!(pow(18).validate().is_ok());
        assert!(pow(7).validate().is_err());
        assert!(pow(29).validate().is_err());
    }

    #[test]
    fn a_provider_needs_its_keys_and_https() {
        assert!(provider().validate().is_ok());
        assert_eq!(provider().provider_origin().as_deref(), Some("https://challenges.example.com"));
        assert!(CaptchaSettings { secret: None, ..provider() }.validate().is_err());
        assert!(CaptchaSettings { widget_class: Some("a b".into()), ..provider() }.validate().is_err());
        let plain = CaptchaSettings { verify_url: Some("http://captcha.example.com/v".into()), ..provider() };
        assert!(plain.validate().is_err());
        let local = CaptchaSettings { verify_url: Some("http://127.0.0.1:9/v".into()), ..provider() };
        assert!(local.validate().is_ok());
    }

    #[test]
    fn the_secret_comes_from_the_environment_and_is_never_shown() {
        let s = CaptchaSettings::resolve(Some(provider()), &|k| (k == CAPTCHA_SECRET_ENV).then(|| "env".into()));
        assert_eq!(s.secret.as_deref(), Some("env"));
        assert!(!format!("{s:?}").contains("env\""));
        assert!(format!("{s:?}").contains("***"));
    }
}
