//! The device authorization grant (RFC 8628): the device authorization endpoint, the user's
//! side on `/o/device/` (look the user code up, approve or deny), and the token endpoint's
//! `urn:ietf:params:oauth:grant-type:device_code`.
//!
//! The device code is 256 random bits stored as SHA-256; the user code, short enough to type,
//! is stored as a keyed hash (the key of the one-time codes), and every lookup of one by a
//! user goes through the throttle, per account and per address, so guessing is slow.

use std::net::IpAddr;

use rand::RngCore as _;

use super::{
    session::Session,
    throttle::{self, Refusal, Verdict},
    unavailable, Services,
};
use crate::{
    crypto::{mac, random_token, sha256_hex},
    oauth::{
        client_auth::ClientCredentials,
        device::{self, DeviceAuthorization},
        error::OAuthError,
        grant,
        model::{Client, GrantType},
        params::Params,
        scope::Scope,
        token::TokenResponse,
    },
    store::{DevicePoll, NewDeviceCode, PendingDevice, StoreError},
    view::ScopeItem,
};

/// Seconds a device code and its user code stay valid (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_TTL: i64 = 600;
/// The prefix of device codes, for secret scanners.
const DEVICE_CODE_PREFIX: &str = "ydc_";
/// The purpose string of the user-code hash.
const USER_CODE_PURPOSE: &str = "device-user-code";

/// Why the user side refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No pending request has this code (mistyped, expired, already decided).
    #[error("that code is wrong or has expired")]
    UnknownCode,
    /// Too many wrong codes: try again after this many seconds.
    #[error("too many wrong codes; try again in {retry_after} seconds")]
    Throttled {
        /// Seconds until the next try.
        retry_after: i64,
    },
    /// The store failed.
    #[error("storage unavailable")]
    Unavailable,
}

impl From<StoreError> for DeviceError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure in the device flow");
        DeviceError::Unavailable
    }
}

/// A pending request as the user confirms it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRequest {
    /// The code, as shown (`XXXX-XXXX`).
    pub user_code: String,
    /// The client's name.
    pub client_name: String,
    /// What it asks for, with the operator's descriptions.
    pub scopes: Vec<ScopeItem>,
}

/// Eight letters from the OS generator (rejection sampling over 32 random bytes, which hold
/// eight usable ones with overwhelming probability; drawn again otherwise).
fn new_user_code() -> String {
    loop {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        if let Some(code) = device::user_code_from(bytes) {
            return code;
        }
    }
}

impl Services {
    /// The stored form of a (normalised) user code.
    async fn user_code_hash(&self, code: &str) -> Result<String, StoreError> {
        let key = self.code_key().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(mac(key, USER_CODE_PURPOSE, code))
    }

    /// `POST /o/device/authorize/` (RFC 8628 §3.1, §3.2): authenticates the client as at the
    /// token endpoint, checks that it registered the device grant and the scope it asks for,
    /// and returns the codes.
    pub async fn device_authorize(
        &self,
        creds: &ClientCredentials,
        params: &Params,
        ip: Option<IpAddr>,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let client = self.authenticate_client(creds, ip).await?;
        grant::ensure_grant_allowed(&client, GrantType::DeviceCode)?;
        let scope = grant::resolve_scope(device::requested_scope(params)?.as_ref(), &client, &self.known_scopes)?;
        let now = self.now();
        let device_code = random_token(DEVICE_CODE_PREFIX);
        // A user code taken by a live request (one in 20^8) is drawn again.
        for _ in 0..3 {
            let user_code = new_user_code();
            let row = NewDeviceCode {
                device_hash: sha256_hex(&device_code),
                user_code_hash: self.user_code_hash(&user_code).await.map_err(unavailable)?,
                client_id: client.client_id.clone(),
                scope: scope.clone(),
                interval: device::DEFAULT_INTERVAL,
                now,
                expires_at: now + DEVICE_CODE_TTL,
            };
            match self.store.insert_device_code(&row).await {
                Ok(()) => {
                    let (verification_uri, verification_uri_complete) =
                        device::verification_uris(&self.settings.issuer, &user_code);
                    return Ok(DeviceAuthorization {
                        device_code,
                        user_code: device::display_user_code(&user_code),
                        verification_uri,
                        verification_uri_complete,
                        expires_in: DEVICE_CODE_TTL,
                        interval: device::DEFAULT_INTERVAL,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(OAuthError::temporarily_unavailable("no free user code; try again"))
    }

    /// The pending request a user typed the code of, through the throttle: a code that
    /// matches nothing counts as a failed guess for the account and the address.
    async fn pending_by_typed_code(
        &self,
        session: &Session,
        typed: &str,
        ip: Option<IpAddr>,
    ) -> Result<(String, PendingDevice), DeviceError> {
        let Some(code) = device::normalize_user_code(typed) else { return Err(DeviceError::UnknownCode) };
        let budgets = throttle::user_code_budgets(&self.settings.throttle, session.user.id, ip);
        let attempt = match self.begin_attempt(budgets).await {
            Ok(a) => a,
            Err(Refusal::Throttled { retry_after }) => return Err(DeviceError::Throttled { retry_after }),
            Err(Refusal::Unavailable) => return Err(DeviceError::Unavailable),
        };
        let found = async {
            let hash = self.user_code_hash(&code).await?;
            Ok::<_, StoreError>(self.store.pending_device_code(&hash, self.now()).await?.map(|p| (hash, p)))
        }
        .await;
        match found {
            Ok(Some(hit)) => {
                self.settle(attempt, Verdict::Success).await;
                Ok(hit)
            }
            Ok(None) => {
                self.settle(attempt, Verdict::Failure).await;
                Err(DeviceError::UnknownCode)
            }
            Err(e) => {
                self.settle(attempt, Verdict::Void).await;
                Err(e.into())
            }
        }
    }

    /// What the pending request with this user code asks for, to confirm on the page.
    pub async fn device_request(
        &self,
        session: &Session,
        typed: &str,
        ip: Option<IpAddr>,
    ) -> Result<DeviceRequest, DeviceError> {
        let (_, pending) = self.pending_by_typed_code(session, typed, ip).await?;
        let client = self.store.client(&pending.client_id).await?.ok_or(DeviceError::UnknownCode)?;
        let code = device::normalize_user_code(typed).ok_or(DeviceError::UnknownCode)?;
        Ok(DeviceRequest {
            user_code: device::display_user_code(&code),
            client_name: client.client.name,
            scopes: self.scope_items(&pending.scope),
        })
    }

    /// The signed-in user approves or denies the pending request with this user code.
    pub async fn decide_device(
        &self,
        session: &Session,
        typed: &str,
        approve: bool,
        ip: Option<IpAddr>,
    ) -> Result<(), DeviceError> {
        let (hash, pending) = self.pending_by_typed_code(session, typed, ip).await?;
        let now = self.now();
        if !self.store.decide_device_code(&hash, session.user.id, session.auth_time, approve, now).await? {
            return Err(DeviceError::UnknownCode);
        }
        if approve {
            // Remembered like a consent (widening, never narrowing, as on the consent page), so
            // the account page lists the app and can revoke it.
            let previous = self.store.consent(session.user.id, &pending.client_id).await?.unwrap_or_default();
            let scope: Scope = previous.iter().chain(pending.scope.iter()).map(str::to_owned).collect();
            self.store.save_consent(session.user.id, &pending.client_id, &scope, now).await?;
        }
        Ok(())
    }

    /// RFC 8628 §3.4, §3.5: one poll of the token endpoint with a device code.
    pub(super) async fn device_code_grant(
        &self,
        client: &Client,
        device_code: &str,
        form: &super::access_token::AccessForm,
    ) -> Result<TokenResponse, OAuthError> {
        let hash = sha256_hex(device_code);
        match self.store.poll_device_code(&hash, &client.client_id, self.now()).await.map_err(unavailable)? {
            DevicePoll::Unknown => Err(OAuthError::invalid_grant("unknown device code")),
            DevicePoll::Refused(outcome) => {
                Err(outcome.error().unwrap_or_else(|| OAuthError::server_error("inconsistent device poll")))
            }
            DevicePoll::Issue(granted) => {
                self.ensure_user_active(Some(granted.user_id)).await?;
                self.issue_tokens(client, GrantType::DeviceCode, Some(granted.user_id), granted.scope, form).await
            }
        }
    }
}
