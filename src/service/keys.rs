//! The keys that sign ID Tokens. They live in the database, so every instance signs with the
//! same key and publishes the same JWK Set; the first one is made on first need (or at start),
//! later ones by `yaoshi keys rotate` and by the automatic schedule. When a key signs and how
//! long it stays published is decided by [`crate::oauth::key_schedule`].
//!
//! Each instance keeps what it read for [`CACHE_TTL`], so a rotation made elsewhere reaches it
//! within that time; the publish delay and the retired key's extra publication cover it.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use rand::rngs::OsRng;

use super::{unavailable, ServiceError, Services};
use crate::{
    crypto::random_id,
    oauth::{
        error::OAuthError,
        jose::{Alg, Jwk, JwkSet, SigningKey},
        key_schedule::{plan_rotation, rotation_due, signing_index, KeyState, KeyWindow, RotationTimes},
    },
    store::{SigningKeyRecord, StoreError},
};

/// How long an instance uses the keys it read before reading them again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// The clock skew relying parties commonly tolerate on `exp`, added to a retired key's
/// publication.
const VERIFIER_LEEWAY: i64 = 60;

/// One stored key, decoded.
struct LoadedKey {
    kid: String,
    alg: Alg,
    window: KeyWindow,
    public: Jwk,
    /// Only for keys that may still sign.
    private: Option<Arc<SigningKey>>,
}

/// The keys as one instance last read them.
pub(crate) struct KeyRing {
    loaded_at: Instant,
    keys: Vec<LoadedKey>,
}

impl KeyRing {
    /// Decodes `records`; private keys already decoded in `previous` are reused. A row that does
    /// not decode is logged (by kid) and skipped: the others still serve.
    fn load(records: Vec<SigningKeyRecord>, previous: Option<&KeyRing>, now: i64) -> Self {
        let known: HashMap<&str, &Arc<SigningKey>> = previous
            .into_iter()
            .flat_map(|p| p.keys.iter())
            .filter_map(|k| k.private.as_ref().map(|p| (k.kid.as_str(), p)))
            .collect();
        let mut keys = Vec::with_capacity(records.len());
        for r in records {
            let window =
                KeyWindow { active_from: r.active_from, retired_at: r.retired_at, published_until: r.published_until };
            let Ok(alg) = r.alg.parse::<Alg>() else {
                tracing::error!(kid = %r.kid, alg = %r.alg, "signing key with an unknown algorithm, skipped");
                continue;
            };
            let Ok(public) = serde_json::from_str::<Jwk>(&r.public_jwk) else {
                tracing::error!(kid = %r.kid, "signing key whose public JWK does not parse, skipped");
                continue;
            };
            let may_sign = window.retired_at.is_none_or(|t| now < t);
            let private = if !may_sign {
                None
            } else if let Some(k) = known.get(r.kid.as_str()) {
                Some(Arc::clone(k))
            } else {
                match SigningKey::from_pkcs8_der_b64(alg, r.kid.clone(), &r.private_der) {
                    Ok(k) => Some(Arc::new(k)),
                    Err(e) => {
                        tracing::error!(kid = %r.kid, error = %e, "signing key that does not decode, skipped");
                        continue;
                    }
                }
            };
            keys.push(LoadedKey { kid: r.kid, alg, window, public, private });
        }
        KeyRing { loaded_at: Instant::now(), keys }
    }

    /// The key that signs `alg` tokens at `now`.
    fn signer(&self, alg: Alg, now: i64) -> Option<Arc<SigningKey>> {
        let usable: Vec<&LoadedKey> = self.keys.iter().filter(|k| k.alg == alg && k.private.is_some()).collect();
        let windows: Vec<KeyWindow> = usable.iter().map(|k| k.window).collect();
        signing_index(&windows, now).and_then(|i| usable[i].private.clone())
    }

    /// The current key of `alg`: the one a rotation replaces.
    fn current(&self, alg: Alg) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.alg == alg && k.window.is_current())
    }

    /// The public keys published at `now`.
    fn published(&self, now: i64) -> JwkSet {
        JwkSet { keys: self.keys.iter().filter(|k| k.window.published_at(now)).map(|k| k.public.clone()).collect() }
    }
}

/// Each instance's copy of the keys.
#[derive(Default)]
pub(crate) struct KeyCache {
    ring: RwLock<Option<Arc<KeyRing>>>,
}

impl KeyCache {
    fn get(&self) -> Option<Arc<KeyRing>> {
        self.ring.read().ok().and_then(|r| r.clone())
    }

    fn fresh(&self) -> Option<Arc<KeyRing>> {
        self.get().filter(|r| r.loaded_at.elapsed() < CACHE_TTL)
    }

    fn put(&self, ring: Arc<KeyRing>) {
        if let Ok(mut slot) = self.ring.write() {
            *slot = Some(ring);
        }
    }
}

/// A signing key as operators see it: public data only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// Where it is in its life now.
    pub state: KeyState,
    /// Unix seconds.
    pub created_at: i64,
    /// From when it signs.
    pub active_from: i64,
    /// From when it no longer signs.
    pub retired_at: Option<i64>,
    /// From when it is no longer published.
    pub published_until: Option<i64>,
}

impl KeyInfo {
    fn of(r: &SigningKeyRecord, now: i64) -> Self {
        let window =
            KeyWindow { active_from: r.active_from, retired_at: r.retired_at, published_until: r.published_until };
        KeyInfo {
            kid: r.kid.clone(),
            alg: r.alg.clone(),
            state: window.state_at(now),
            created_at: r.created_at,
            active_from: r.active_from,
            retired_at: r.retired_at,
            published_until: r.published_until,
        }
    }
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotated {
    /// The new current key.
    pub new: KeyInfo,
    /// The key it replaces, with its retirement; `None` if there was no key yet.
    pub retired: Option<KeyInfo>,
}

/// A fresh key for `alg`, made from the OS generator off the async workers (RSA key generation
/// takes a while).
async fn generate(alg: Alg) -> Result<SigningKey, ServiceError> {
    tokio::task::spawn_blocking(move || SigningKey::generate(alg, random_id(), &mut OsRng))
        .await
        .map_err(|e| ServiceError::Invalid(format!("key generation failed: {e}")))
}

fn record(key: &SigningKey, now: i64, active_from: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: key.kid().to_owned(),
        alg: key.alg().as_str().to_owned(),
        private_der: key.to_pkcs8_der_b64(),
        public_jwk: serde_json::to_string(&key.public_jwk()).expect("a JWK serializes"),
        created_at: now,
        active_from,
        retired_at: None,
        published_until: None,
    }
}

impl Services {
    /// The keys, from this instance's copy unless it is older than [`CACHE_TTL`] or `fresh`.
    async fn key_ring(&self, fresh: bool) -> Result<Arc<KeyRing>, StoreError> {
        if !fresh {
            if let Some(ring) = self.oidc.keys.fresh() {
                return Ok(ring);
            }
        }
        let records = self.store.signing_keys().await?;
        let ring = Arc::new(KeyRing::load(records, self.oidc.keys.get().as_deref(), self.now()));
        self.oidc.keys.put(Arc::clone(&ring));
        Ok(ring)
    }

    /// Makes sure the configured algorithm has a current key; true if this call created it.
    /// Instances racing here agree on one key (see [`crate::store::OidcStore::insert_first_signing_key`]).
    pub async fn ensure_signing_key(&self) -> Result<bool, ServiceError> {
        let alg = self.settings.signing_alg;
        if self.key_ring(true).await?.current(alg).is_some() {
            return Ok(false);
        }
        let key = generate(alg).await?;
        let now = self.now();
        let created = self.store.insert_first_signing_key(&record(&key, now, now)).await?;
        self.key_ring(true).await?;
        if created {
            tracing::info!(kid = key.kid(), %alg, "created the first signing key");
        }
        Ok(created)
    }

    /// `yaoshi keys rotate`: publishes a new key that signs after the publish delay, and retires
    /// the current one at that moment, published until every token it signed has expired.
    pub async fn rotate_signing_key(&self) -> Result<Rotated, ServiceError> {
        let alg = self.settings.signing_alg;
        let ring = self.key_ring(true).await?;
        match ring.current(alg) {
            Some(current) => self.rotate_from(&current.kid).await,
            None => {
                self.ensure_signing_key().await?;
                let now = self.now();
                let records = self.store.signing_keys().await?;
                let new = records
                    .iter()
                    .find(|r| r.alg == alg.as_str() && r.retired_at.is_none())
                    .ok_or_else(|| ServiceError::Invalid("no signing key could be created".into()))?;
                Ok(Rotated { new: KeyInfo::of(new, now), retired: None })
            }
        }
    }

    /// The housekeeping loop's check: rotates when the current key has been active for
    /// `key_rotation_days`, and creates the first key if there is none. Several instances may
    /// check at once; one rotates and the others find it done.
    pub async fn rotate_signing_key_if_due(&self) -> Result<Option<Rotated>, ServiceError> {
        let alg = self.settings.signing_alg;
        let ring = self.key_ring(true).await?;
        let Some(current) = ring.current(alg) else {
            self.ensure_signing_key().await?;
            return Ok(None);
        };
        if !rotation_due(current.window.active_from, self.now(), self.settings.key_rotation_days) {
            return Ok(None);
        }
        match self.rotate_from(&current.kid).await {
            Ok(r) => Ok(Some(r)),
            Err(ServiceError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces `current_kid`, if it is still current.
    async fn rotate_from(&self, current_kid: &str) -> Result<Rotated, ServiceError> {
        let alg = self.settings.signing_alg;
        let now = self.now();
        let plan = plan_rotation(
            now,
            RotationTimes {
                publish_delay: self.settings.key_publish_delay,
                // The key also signs JWT access tokens, which may live longer.
                token_lifetime: self.settings.id_token_ttl.max(self.settings.access_token_ttl),
                propagation: CACHE_TTL.as_secs() as i64 + VERIFIER_LEEWAY,
            },
        );
        let key = generate(alg).await?;
        let next = record(&key, now, plan.new_active_from);
        let rotated =
            self.store.rotate_signing_key(current_kid, plan.old_retired_at, plan.old_published_until, &next).await?;
        self.key_ring(true).await?;
        if !rotated {
            return Err(ServiceError::Conflict("the signing key was rotated by someone else at the same time".into()));
        }
        tracing::info!(old = current_kid, new = key.kid(), %alg, active_from = plan.new_active_from,
            old_published_until = plan.old_published_until, "rotated the signing key");
        let event = super::events::Event::new(super::events::kind::KEY_ROTATED)
            .detail(format!("{current_kid} -> {}", key.kid()));
        self.record(event, &super::events::Origin::default()).await;
        let records = self.store.signing_keys().await?;
        let info = |kid: &str| records.iter().find(|r| r.kid == kid).map(|r| KeyInfo::of(r, now));
        Ok(Rotated {
            new: info(key.kid()).ok_or_else(|| ServiceError::NotFound("the new key vanished".into()))?,
            retired: info(current_kid),
        })
    }

    /// Every stored key (public data only), oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<KeyInfo>, ServiceError> {
        let now = self.now();
        Ok(self.store.signing_keys().await?.iter().map(|r| KeyInfo::of(r, now)).collect())
    }

    /// The JWK Set to publish: every key not past its publication, upcoming ones included.
    /// Makes the first key if there is none yet, so that no relying party caches an empty set.
    pub async fn jwks(&self) -> Result<JwkSet, ServiceError> {
        let mut ring = self.key_ring(false).await?;
        if ring.current(self.settings.signing_alg).is_none() {
            self.ensure_signing_key().await?;
            ring = self.key_ring(true).await?;
        }
        Ok(ring.published(self.now()))
    }

    /// The key that signs now. Read again from the store when this instance's copy has none
    /// (another instance may have made or rotated one); made if there is none at all.
    pub(super) async fn signer(&self) -> Result<Arc<SigningKey>, OAuthError> {
        let alg = self.settings.signing_alg;
        if let Some(k) = self.key_ring(false).await.map_err(unavailable)?.signer(alg, self.now()) {
            return Ok(k);
        }
        if let Some(k) = self.key_ring(true).await.map_err(unavailable)?.signer(alg, self.now()) {
            return Ok(k);
        }
        self.ensure_signing_key().await.map_err(|e| {
            tracing::error!(error = %e, "cannot create a signing key");
            OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again")
        })?;
        self.key_ring(true).await.map_err(unavailable)?.signer(alg, self.now()).ok_or_else(|| {
            tracing::error!(%alg, "no signing key may sign now");
            OAuthError::server_error("no signing key is available")
        })
    }
}
