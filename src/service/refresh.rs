//! The refresh grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2), and
//! the optional grace window in which the token just replaced may be retried.
//!
//! A successor pair is derived from the presented token with HMAC under a key shared through
//! the database: the same old token always yields the same successors, so a client whose
//! response was lost can retry within the window and receive the pair it missed, while
//! nobody without the server's key can compute them.

use super::{
    access_token::{AccessForm, Issued},
    events::{kind, Event, Origin},
    shared_keys::SharedKey,
    token::Minted,
    unavailable, Services,
};
use crate::{
    crypto::{prefix, sha256_hex},
    oauth::{
        error::OAuthError,
        grant,
        model::{Client, RefreshGrant},
        scope::Scope,
        token::TokenResponse,
    },
    store::{RefreshRecord, Rotation},
};

impl Services {
    /// The successor pair of refresh token `old`, bound as `form` says.
    async fn successors(&self, old: &str, form: &AccessForm) -> Result<Minted, OAuthError> {
        let key = self.shared_key(SharedKey::RefreshRotation).await.map_err(unavailable)?;
        let make = |purpose: &str, p: &str| format!("{p}{}", crate::crypto::mac(key, purpose, old));
        Ok(Minted {
            access: make("access", prefix::ACCESS),
            refresh: Some(make("refresh", prefix::REFRESH)),
            ttl: self.settings.access_token_ttl,
            binding: form.binding.clone(),
        })
    }

    /// `grant_type=refresh_token`: the presented token is superseded by a new one; presenting a
    /// superseded token again revokes its whole family, unless it is retried within the grace
    /// window while its successor is still unused.
    pub(super) async fn refresh(
        &self,
        client: &Client,
        token: &str,
        requested: Option<&Scope>,
        form: &AccessForm,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.now();
        let hash = sha256_hex(token);
        let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let reused = || OAuthError::invalid_grant("the refresh token was already used; its grant is revoked");
        let Some(stored) = self.store.refresh_token(&hash).await.map_err(unavailable)? else {
            return Err(invalid());
        };
        if stored.client_id != client.client_id || stored.revoked_at.is_some() {
            return Err(invalid());
        }
        // RFC 9449 §5: a bound refresh token is only good with a proof made with its key.
        // Checked before reuse detection, so that whoever holds the token without the key
        // cannot even revoke its grant.
        if let Some(bound) = stored.jkt.as_deref() {
            if form.jkt() != Some(bound) {
                return Err(OAuthError::invalid_dpop_proof(
                    "the refresh token is bound to a DPoP key: send a proof made with that key",
                ));
            }
        }
        if let Some(rotated_at) = stored.rotated_at {
            if let Some(again) = self.grace_retry(token, &stored, rotated_at, now, form).await? {
                return self.with_refresh_id_token(again, &stored, client).await;
            }
            self.store.revoke_family(&stored.family_id, now).await.map_err(unavailable)?;
            self.reuse_event(kind::REFRESH_REUSE, &stored.client_id, stored.user_id).await;
            return Err(reused());
        }
        let held = RefreshGrant {
            client_id: stored.client_id.clone(),
            user_id: stored.user_id,
            scope: stored.scope.clone(),
            expires_at: Some(stored.expires_at),
        };
        let scope = grant::validate_refresh(&held, client, requested, now)?;
        self.ensure_user_active(stored.user_id).await?;
        let minted = self.successors(token, form).await?;
        let rows = minted.rows(
            self,
            client,
            stored.user_id,
            &scope,
            Some(stored.family_id.clone()),
            Some(stored.scope.clone()),
        );
        // Signed before the rotation, so that a failure here leaves the presented token usable.
        let issued = Issued {
            client_id: &client.client_id,
            user_id: stored.user_id,
            scope: &scope,
            issued_at: rows.now,
            expires_at: rows.access_expires_at,
        };
        let access_token = self.present_access(form, minted.access.clone(), &issued).await?;
        let id_token = self.refresh_id_token(&stored, client, &scope, &access_token).await?;
        match self.store.rotate_refresh(&hash, &rows, now).await.map_err(unavailable)? {
            Rotation::Rotated => Ok(TokenResponse { access_token, id_token, ..minted.response(&scope) }),
            Rotation::Lost => {
                // Another request rotated it first: within the grace window this one gets the
                // same pair; the record is read again to learn its successor.
                let fresh = self.store.refresh_token(&hash).await.map_err(unavailable)?;
                if let Some(fresh) = fresh.filter(|f| f.revoked_at.is_none()) {
                    if let Some(again) =
                        self.grace_retry(token, &fresh, fresh.rotated_at.unwrap_or(now), now, form).await?
                    {
                        return self.with_refresh_id_token(again, &stored, client).await;
                    }
                }
                self.store.revoke_family(&stored.family_id, now).await.map_err(unavailable)?;
                self.reuse_event(kind::REFRESH_REUSE, &stored.client_id, stored.user_id).await;
                Err(reused())
            }
        }
    }

    /// A grace retry's answer with a new ID Token, as the lost answer had one.
    async fn with_refresh_id_token(
        &self,
        again: TokenResponse,
        stored: &RefreshRecord,
        client: &Client,
    ) -> Result<TokenResponse, OAuthError> {
        let scope = Scope::parse(again.scope.as_deref().unwrap_or_default()).unwrap_or_default();
        let id_token = self.refresh_id_token(stored, client, &scope, &again.access_token).await?;
        Ok(TokenResponse { id_token, ..again })
    }

    /// Within the grace window, the pair that replaced `old` if it is still unused and live.
    async fn grace_retry(
        &self,
        old: &str,
        stored: &RefreshRecord,
        rotated_at: i64,
        now: i64,
        form: &AccessForm,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        if self.settings.refresh_grace == 0 || now - rotated_at > self.settings.refresh_grace {
            return Ok(None);
        }
        let minted = self.successors(old, form).await?;
        let Some(refresh) = minted.refresh.as_deref() else { return Ok(None) };
        if stored.successor.as_deref() != Some(sha256_hex(refresh).as_str()) {
            return Ok(None);
        }
        let next = self.store.refresh_token(&sha256_hex(refresh)).await.map_err(unavailable)?;
        let access = self.store.access_token(&sha256_hex(&minted.access)).await.map_err(unavailable)?;
        match (next, access) {
            (Some(n), Some(a))
                if n.rotated_at.is_none()
                    && n.revoked_at.is_none()
                    && a.revoked_at.is_none()
                    && a.expires_at > now
                    && a.jkt.as_deref() == form.jkt() =>
            {
                let scope = a.scope.clone();
                let issued = Issued {
                    client_id: &a.client_id,
                    user_id: a.user_id,
                    scope: &scope,
                    issued_at: a.created_at,
                    expires_at: a.expires_at,
                };
                Ok(Some(TokenResponse {
                    access_token: self.present_access(form, minted.access, &issued).await?,
                    token_type: if a.jkt.is_some() { TokenResponse::DPOP } else { TokenResponse::BEARER },
                    expires_in: a.expires_at - now,
                    scope: Some(a.scope.to_string()),
                    refresh_token: minted.refresh,
                    id_token: None,
                }))
            }
            _ => Ok(None),
        }
    }
}

impl Services {
    /// Records that a used-up credential (a rotated refresh token, a redeemed code) came back
    /// and its family was revoked.
    pub(super) async fn reuse_event(&self, what: &'static str, client_id: &str, user_id: Option<i64>) {
        let event = Event::new(what).client(client_id);
        let event = match user_id {
            Some(id) => event.user(id),
            None => event,
        };
        self.record(event, &Origin::default()).await;
    }
}
