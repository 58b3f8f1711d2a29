//! DPoP at this server's endpoints (RFC 9449): accepting a proof (the checks of the protocol
//! core, then the nonce and the replay check), and the nonces this server provides.
//!
//! A nonce is `WINDOW.MAC`: the number of the current five-minute window and an HMAC of it
//! under a key every instance shares, so any instance can check what another handed out
//! without storing anything. One stays good for the rest of its window and the whole next one.

use super::{shared_keys::SharedKey, unavailable, Services};
use crate::{
    crypto::{ct_eq, mac, sha256_hex},
    oauth::{
        dpop::{self, Expect, Proof, FUTURE_SKEW, MAX_AGE},
        error::OAuthError,
    },
};

/// How long a nonce's window lasts, in seconds.
const NONCE_WINDOW: i64 = 300;

/// A DPoP proof as a request carried it, to be checked against that request.
#[derive(Clone, Copy, Debug)]
pub struct Presented<'a> {
    /// The `DPoP` header's value.
    pub proof: &'a str,
    /// The request's method.
    pub method: &'a str,
}

impl Services {
    /// The nonce a response hands out now (the `DPoP-Nonce` header, RFC 9449 §8.1).
    pub async fn dpop_nonce(&self) -> Result<String, OAuthError> {
        let window = self.now().div_euclid(NONCE_WINDOW);
        self.nonce_for(window).await
    }

    async fn nonce_for(&self, window: i64) -> Result<String, OAuthError> {
        let key = self.shared_key(SharedKey::DpopNonce).await.map_err(unavailable)?;
        Ok(format!("{window}.{}", mac(key, "dpop-nonce", &window.to_string())))
    }

    /// Whether `nonce` is one this server handed out in this window or the one before.
    async fn nonce_is_current(&self, nonce: &str, now: i64) -> Result<bool, OAuthError> {
        let current = now.div_euclid(NONCE_WINDOW);
        let Some(window) = nonce.split_once('.').and_then(|(w, _)| w.parse::<i64>().ok()) else {
            return Ok(false);
        };
        if window != current && window != current - 1 {
            return Ok(false);
        }
        Ok(ct_eq(nonce, &self.nonce_for(window).await?))
    }

    /// Accepts the proof of a request to `path` (one of this server's endpoints, its URL the
    /// issuer's), presented with `access_token` at a resource: every check of RFC 9449 §4.3,
    /// the nonce when one is required or sent (§8), and last the `jti`, spent once across
    /// instances for as long as the proof's `iat` is accepted (§11.1), so a refused proof
    /// costs no write.
    pub(super) async fn accept_proof(
        &self,
        presented: Presented<'_>,
        path: &str,
        access_token: Option<&str>,
    ) -> Result<Proof, OAuthError> {
        let now = self.now();
        let uri = format!("{}{path}", self.settings.issuer);
        let proof =
            dpop::check_proof(presented.proof, &Expect { method: presented.method, uri: &uri, access_token, now })?;
        match proof.nonce.as_deref() {
            Some(n) if self.nonce_is_current(n, now).await? => {}
            // A stale or foreign nonce: the client retries with the one this answer carries.
            Some(_) => return Err(OAuthError::use_dpop_nonce()),
            None if self.settings.dpop_nonce => return Err(OAuthError::use_dpop_nonce()),
            None => {}
        }
        let digest = sha256_hex(&format!("dpop:{}:{}", proof.jkt, proof.jti));
        let fresh = self.store.spend_once(&digest, proof.iat + MAX_AGE + FUTURE_SKEW).await.map_err(unavailable)?;
        if !fresh {
            return Err(OAuthError::invalid_dpop_proof("the DPoP proof was used before"));
        }
        Ok(proof)
    }
}
