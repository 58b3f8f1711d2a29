//! The device cookie (OWASP's "device cookies" against lockout): a browser that has signed in
//! to an account before carries a signed token naming it, and keeps the right to try that
//! account's password while strangers are locked out of it.

use super::Services;
use crate::crypto::{ct_eq, mac, random_id};

/// The MAC's purpose string.
const PURPOSE: &str = "device-cookie";
/// How long a browser stays known without signing in again.
pub const DEVICE_LIFETIME: i64 = 180 * 86_400;

impl Services {
    async fn device_key(&self) -> Option<&[u8]> {
        match self.shared_key(super::shared_keys::SharedKey::DeviceCookie).await {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::warn!(error = %e, "cannot load the device-cookie key");
                None
            }
        }
    }

    /// A new device cookie value for a browser that just signed in to `user_id`:
    /// `<user id>.<nonce>.<MAC>`.
    pub async fn device_token(&self, user_id: i64) -> Option<String> {
        let key = self.device_key().await?;
        let body = format!("{user_id}.{}", random_id());
        Some(format!("{body}.{}", mac(key, PURPOSE, &body)))
    }

    /// The account a device cookie was given for, if its MAC is right.
    pub async fn device_account(&self, token: &str) -> Option<i64> {
        let (body, tag) = token.rsplit_once('.')?;
        let (user, _nonce) = body.split_once('.')?;
        let key = self.device_key().await?;
        ct_eq(&mac(key, PURPOSE, body), tag).then(|| user.parse().ok()).flatten()
    }
}
