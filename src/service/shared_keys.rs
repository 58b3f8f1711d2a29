//! The keys every instance shares through the database (`server_secrets`): the first instance
//! that needs one makes it, every other reads that one, and each instance loads it once.

use super::Services;
use crate::{crypto::random_token, store::StoreResult};

/// One shared key, each for one purpose. Its stored name never changes: a new name is a new
/// key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SharedKey {
    /// Derives a rotated refresh token's successors (see `refresh`).
    RefreshRotation,
    /// Signs the cookies that recognise a browser (see `device`).
    DeviceCookie,
    /// Hashes one-time codes and signs CAPTCHA challenges and device user codes.
    ContactCode,
    /// Derives OpenID Connect `sid` values from session hashes.
    OidcSid,
    /// Signs pending second-factor sign-ins and remembered devices.
    PendingSignIn,
    /// Makes the DPoP nonces this server provides (RFC 9449 §8).
    DpopNonce,
}

impl SharedKey {
    const COUNT: usize = 6;

    fn name(self) -> &'static str {
        match self {
            SharedKey::RefreshRotation => "refresh-rotation-v1",
            SharedKey::DeviceCookie => "device-cookie-v1",
            SharedKey::ContactCode => "contact-code-v1",
            SharedKey::OidcSid => "oidc-sid-v1",
            SharedKey::PendingSignIn => "second-factor-pending-v1",
            SharedKey::DpopNonce => "dpop-nonce-v1",
        }
    }
}

/// This instance's copies of the shared keys, each loaded on first use.
#[derive(Debug, Default)]
pub(super) struct SharedKeys([tokio::sync::OnceCell<Vec<u8>>; SharedKey::COUNT]);

impl Services {
    /// The shared key for `which`, made in the store if no instance has made it yet.
    pub(super) async fn shared_key(&self, which: SharedKey) -> StoreResult<&[u8]> {
        self.shared_keys.0[which as usize]
            .get_or_try_init(|| async {
                self.store.shared_secret(which.name(), &random_token(""), self.now()).await.map(String::into_bytes)
            })
            .await
            .map(Vec::as_slice)
    }
}
