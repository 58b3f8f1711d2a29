//! The values the store takes and returns, and their mapping from SQL rows.

use crate::oauth::{
    model::{AuthCode, Client, GrantType},
    scope::Scope,
};

use super::StoreError;

/// A platform account.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Stable numeric id; the `sub` of tokens.
    pub id: i64,
    /// The username as the user typed it.
    pub username: String,
    /// Email address, if any, as typed (verified or not).
    pub email: Option<String>,
    /// Whether the owner proved they receive mail at `email`: only then is it a sign-in name
    /// and a recovery address.
    pub email_verified: bool,
    /// Name shown to people.
    pub display_name: String,
    /// argon2id PHC string; `None` for accounts that sign in only through a provider.
    #[sqlx(default)]
    pub password_hash: Option<String>,
    /// Disabled accounts cannot sign in or obtain tokens.
    pub active: bool,
    /// May use the admin pages.
    pub admin: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Phone number in E.164, if any (verified or not).
    pub phone_number: Option<String>,
    /// Whether the owner proved they receive SMS at `phone_number`.
    pub phone_verified: bool,
    /// The language messages to the account are written in (a BCP 47 tag), if known.
    pub locale: Option<String>,
    /// When another account's verification last dropped an address this one had claimed.
    pub claim_dropped_at: Option<i64>,
}

/// A user to create. The normalised forms are computed by the service.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// As typed.
    pub username: String,
    /// Lowercased, trimmed: unique.
    pub username_normalized: String,
    /// As typed.
    pub email: Option<String>,
    /// Lowercased, trimmed: unique among verified addresses.
    pub email_normalized: Option<String>,
    /// Whether the address is known to be its owner's (an operator said so, or a provider
    /// that verified it); otherwise it is a claim until verified.
    pub email_verified: bool,
    /// A verified phone number in E.164 (an account opened by SMS code).
    pub phone_number: Option<String>,
    /// The language messages are written in.
    pub locale: Option<String>,
    /// Name shown to people.
    pub display_name: String,
    /// argon2id PHC string, if the account has a local password.
    pub password_hash: Option<String>,
    /// Admin flag.
    pub admin: bool,
    /// Unix seconds.
    pub now: i64,
}

/// A registered client with its secret record (which never leaves the service layer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    /// The protocol view of the client.
    pub client: Client,
    /// `sha256:<hex>` or an argon2id PHC string; `None` for public clients.
    pub secret_hash: Option<String>,
    /// The user who registered it (developer apps), if any.
    pub owner_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Tokens to store together (one grant's issuance).
#[derive(Clone, Debug)]
pub struct NewTokens {
    /// Ties the tokens of one grant together for revocation.
    pub family_id: Option<String>,
    /// The client they are issued to.
    pub client_id: String,
    /// The user they act for (`None` for client_credentials).
    pub user_id: Option<i64>,
    /// Granted scope.
    pub scope: Scope,
    /// SHA-256 of the access token.
    pub access_hash: String,
    /// When the access token expires.
    pub access_expires_at: i64,
    /// The refresh token issued with it, if any.
    pub refresh: Option<NewRefresh>,
    /// The DPoP key thumbprint the access token is bound to (RFC 9449 §6).
    pub access_jkt: Option<String>,
    /// Unix seconds.
    pub now: i64,
}

/// A login session to store.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// SHA-256 of the cookie value.
    pub session_hash: String,
    /// Who signed in.
    pub user_id: i64,
    /// When they proved it (OIDC `auth_time`).
    pub auth_time: i64,
    /// Absolute end of the session.
    pub expires_at: i64,
    /// Browser, for the account page.
    pub user_agent: String,
    /// Address, for the account page.
    pub ip: String,
    /// How the user authenticated (RFC 8176 `amr` values, space-separated).
    pub amr: String,
}

/// A stored login session.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    /// SHA-256 of the cookie value.
    pub session_hash: String,
    /// Who signed in.
    pub user_id: i64,
    /// When they proved it.
    pub auth_time: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
    /// Absolute end.
    pub expires_at: i64,
    /// How the user authenticated (RFC 8176 `amr` values, space-separated; empty for sessions
    /// opened before second factors existed).
    pub amr: String,
}

/// A refresh token to store.
#[derive(Clone, Debug)]
pub struct NewRefresh {
    /// SHA-256 of the token.
    pub hash: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Its scope: on a refresh that narrows, the access token's scope is narrower (RFC 6749 §6).
    pub scope: Scope,
    /// The DPoP key thumbprint it is bound to (RFC 9449 §5: a public client's).
    pub jkt: Option<String>,
}

/// A stored access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRecord {
    /// Family, if issued with a refresh token or from a code.
    pub family_id: Option<String>,
    /// Issued to.
    pub client_id: String,
    /// Acting for.
    pub user_id: Option<i64>,
    /// Granted scope.
    pub scope: Scope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once revoked.
    pub revoked_at: Option<i64>,
    /// The DPoP key thumbprint it is bound to (RFC 9449 §6), if any.
    pub jkt: Option<String>,
}

/// A stored refresh token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    /// The family it belongs to.
    pub family_id: String,
    /// Issued to.
    pub client_id: String,
    /// Acting for.
    pub user_id: Option<i64>,
    /// Granted scope.
    pub scope: Scope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once a refresh replaced it.
    pub rotated_at: Option<i64>,
    /// Hash of the token that replaced it.
    pub successor: Option<String>,
    /// Set once revoked.
    pub revoked_at: Option<i64>,
    /// The DPoP key thumbprint it is bound to (RFC 9449 §5), if any.
    pub jkt: Option<String>,
}

fn scope(raw: &str) -> Result<Scope, StoreError> {
    if raw.trim().is_empty() {
        return Ok(Scope::default());
    }
    Scope::parse(raw).map_err(|e| StoreError::Corrupt(format!("scope {raw:?}: {e}")))
}

fn words(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(' ').filter(|w| !w.is_empty())
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    secret_hash: Option<String>,
    name: String,
    confidential: bool,
    redirect_uris: String,
    grant_types: String,
    scopes: String,
    trusted: bool,
    owner_id: Option<i64>,
    created_at: i64,
}

impl ClientRow {
    pub(super) fn into_record(self) -> Result<ClientRecord, StoreError> {
        let grant_types = words(&self.grant_types)
            .map(|g| g.parse::<GrantType>().map_err(|_| StoreError::Corrupt(format!("grant type {g:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClientRecord {
            client: Client {
                client_id: self.client_id,
                name: self.name,
                confidential: self.confidential,
                redirect_uris: words(&self.redirect_uris).map(str::to_owned).collect(),
                grant_types,
                scopes: scope(&self.scopes)?,
                trusted: self.trusted,
            },
            secret_hash: self.secret_hash,
            owner_id: self.owner_id,
            created_at: self.created_at,
        })
    }
}

/// The space-separated column forms of a client's lists.
pub(super) fn client_columns(c: &Client) -> (String, String, String) {
    (
        c.redirect_uris.join(" "),
        c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
        c.scopes.to_string(),
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct AuthCodeRow {
    client_id: String,
    user_id: i64,
    redirect_uri: String,
    redirect_uri_explicit: bool,
    scope: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    auth_time: i64,
    session_hash: Option<String>,
    expires_at: i64,
}

impl AuthCodeRow {
    pub(super) fn into_code(self) -> Result<AuthCode, StoreError> {
        Ok(AuthCode {
            client_id: self.client_id,
            user_id: self.user_id,
            redirect_uri: self.redirect_uri,
            redirect_uri_explicit: self.redirect_uri_explicit,
            scope: scope(&self.scope)?,
            code_challenge: self.code_challenge,
            nonce: self.nonce,
            auth_time: self.auth_time,
            session_hash: self.session_hash,
            expires_at: self.expires_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AccessRow {
    family_id: Option<String>,
    client_id: String,
    user_id: Option<i64>,
    scope: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    jkt: Option<String>,
}

impl AccessRow {
    pub(super) fn into_record(self) -> Result<AccessRecord, StoreError> {
        Ok(AccessRecord {
            family_id: self.family_id,
            client_id: self.client_id,
            user_id: self.user_id,
            scope: scope(&self.scope)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            jkt: self.jkt,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RefreshRow {
    family_id: String,
    client_id: String,
    user_id: Option<i64>,
    scope: String,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    successor: Option<String>,
    revoked_at: Option<i64>,
    jkt: Option<String>,
}

impl RefreshRow {
    pub(super) fn into_record(self) -> Result<RefreshRecord, StoreError> {
        Ok(RefreshRecord {
            family_id: self.family_id,
            client_id: self.client_id,
            user_id: self.user_id,
            scope: scope(&self.scope)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            rotated_at: self.rotated_at,
            successor: self.successor,
            revoked_at: self.revoked_at,
            jkt: self.jkt,
        })
    }
}

/// An app a user has authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// The client.
    pub client_id: String,
    /// Its name.
    pub client_name: String,
    /// The consented scope.
    pub scope: Scope,
    /// When the consent was given.
    pub granted_at: i64,
    /// When the client last obtained an access token for the user.
    pub last_used_at: Option<i64>,
}

/// A session as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the cookie value.
    pub session_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
    /// The browser.
    pub user_agent: String,
    /// The address.
    pub ip: String,
}

/// A key that signs ID Tokens, as stored. `Debug` leaves the private key out.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRecord {
    /// Key id, in every token's header and in the JWKS.
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// The private key: standard base64 of its PKCS#8 DER. A secret.
    pub private_der: String,
    /// The public JWK, as JSON.
    pub public_jwk: String,
    /// Unix seconds.
    pub created_at: i64,
    /// From when it signs.
    pub active_from: i64,
    /// From when it no longer signs; `None` while it is its algorithm's current key.
    pub retired_at: Option<i64>,
    /// From when it is no longer published; `None` while it is current.
    pub published_until: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("active_from", &self.active_from)
            .field("retired_at", &self.retired_at)
            .field("published_until", &self.published_until)
            .finish_non_exhaustive()
    }
}

/// The authentication behind a token family that was issued an ID Token, which the ID Tokens
/// of its refreshes repeat (OIDC Core §12.2).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OidcGrant {
    /// The token family (for a code, the code's hash).
    pub family_id: String,
    /// Who signed in.
    pub user_id: i64,
    /// The stored hash of the login session, if the grant came from one.
    pub session_hash: Option<String>,
    /// When the user authenticated.
    pub auth_time: i64,
}

/// Where a client's users go after RP-initiated logout, and where it is told about ended
/// sessions (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogoutSettings {
    /// Exact `post_logout_redirect_uri` values the client may ask for.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
}

/// A client to tell that a session ended.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionClient {
    /// The client.
    pub client_id: String,
    /// The session's user.
    pub user_id: i64,
    /// Its back-channel logout URI.
    pub backchannel_logout_uri: String,
}

/// What the outbox rows of an ending session carry besides the clients the store finds (see
/// [`super::SessionStore::end_session`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeSeed {
    /// The session's `sid`, as its ID Tokens named it.
    pub sid: String,
    /// A random value unique to this end of the session; the store appends `.N` per client to
    /// make each notice's `jti`.
    pub jti_prefix: String,
    /// When the session ended: the logout tokens' `iat` and their first attempt.
    pub now: i64,
}

/// A back-channel logout notice claimed for delivery from the outbox.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LogoutNotice {
    /// The row.
    pub id: i64,
    /// The logout token's `jti`, the same on every attempt.
    pub jti: String,
    /// The client to tell (the token's `aud`).
    pub client_id: String,
    /// The session's user (the token's `sub`).
    pub user_id: i64,
    /// The ended session's `sid`.
    pub sid: String,
    /// Where to POST.
    pub backchannel_uri: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the session ended (the token's `iat`).
    pub created_at: i64,
}

/// A sign-in with an upstream provider between its start and its callback. `Debug` leaves
/// the state, verifier and nonce out.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UpstreamLogin {
    /// SHA-256 of the flow cookie's value.
    pub flow_hash: String,
    /// The provider's id.
    pub provider: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The PKCE code verifier to send with the code.
    pub pkce_verifier: String,
    /// The `nonce` the ID Token must carry (OIDC providers).
    pub nonce: Option<String>,
    /// Where to go afterwards (a path on this origin).
    pub next: String,
    /// For a "link" flow: the signed-in account the identity is for.
    pub link_user_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for UpstreamLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamLogin")
            .field("provider", &self.provider)
            .field("next", &self.next)
            .field("link_user_id", &self.link_user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A verified provider identity that no account has yet, waiting for the person to create an
/// account or link one.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingIdentity {
    /// SHA-256 of the pending cookie's value.
    pub pending_hash: String,
    /// The provider's id.
    pub provider: String,
    /// The identity's key at the provider: the union id if it gave one, else `app_subject`.
    pub subject: String,
    /// The provider's id for the user in our application (WeChat's `openid`).
    pub app_subject: String,
    /// The provider's id for the user across the applications of one platform account
    /// (WeChat's `unionid`), if it gave one.
    pub union_id: Option<String>,
    /// The providers sharing `union_id` (set with it).
    pub union_group: Option<String>,
    /// The username proposed for a new account.
    pub username: String,
    /// The name the provider gave.
    pub display_name: Option<String>,
    /// The email the provider gave.
    pub email: Option<String>,
    /// Whether the provider says it verified that email.
    pub email_verified: bool,
    /// Where to go afterwards.
    pub next: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A provider identity linked to an account.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExternalIdentity {
    /// The provider's id.
    pub provider: String,
    /// The identity's key at the provider: the union id if it gave one when the identity was
    /// linked (or since), else `app_subject`.
    pub subject: String,
    /// The provider's id for the user in our application (WeChat's `openid`; for providers
    /// with one id per user, the same as `subject`).
    pub app_subject: String,
    /// The provider's id for the user across the applications of one platform account
    /// (WeChat's `unionid`), once known.
    pub union_id: Option<String>,
    /// The providers sharing `union_id`: an identity is found by it from any of them.
    pub union_group: Option<String>,
    /// The account.
    pub user_id: i64,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// What unlinking an identity did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlink {
    /// The identity is gone.
    Unlinked,
    /// Nothing changed: it is the account's last way to sign in (no password, no other
    /// identity).
    LastMethod,
    /// The account has no identity at that provider.
    NotLinked,
}

/// A one-time code sent to an address, as stored (its code only as a keyed hash).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactCode {
    /// Row id.
    pub id: i64,
    /// What it is for (`verify`, `reset`, `sign_in`).
    pub purpose: String,
    /// The normalised email address or E.164 number it was sent to.
    pub address: String,
    /// The account it belongs to; `None` for a sign-in code to a number no account has.
    pub user_id: Option<i64>,
    /// The keyed hash of the 6-digit code.
    pub code_hash: String,
    /// Wrong codes tried against it.
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A one-time code to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCode {
    /// What it is for.
    pub purpose: &'static str,
    /// Normalised address or E.164 number.
    pub address: String,
    /// The account, if any.
    pub user_id: Option<i64>,
    /// SHA-256 of the link token, for mail.
    pub link_hash: Option<String>,
    /// The keyed hash of the code.
    pub code_hash: String,
    /// Unix seconds.
    pub now: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A message to queue in the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// `email` or `sms`.
    pub channel: &'static str,
    /// The address or number.
    pub recipient: String,
    /// Which message (its template).
    pub kind: &'static str,
    /// The recipient's language tag.
    pub locale: &'static str,
    /// The template's values as JSON (may hold a code until the message is sent).
    pub params: String,
    /// Unix seconds.
    pub now: i64,
}

impl std::fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage").field("channel", &self.channel).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A queued message claimed for sending.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedMessage {
    /// Row id.
    pub id: i64,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or number.
    pub recipient: String,
    /// Which message.
    pub kind: String,
    /// The recipient's language tag.
    pub locale: String,
    /// The template's values as JSON.
    pub params: String,
    /// Attempts that failed so far.
    pub attempts: i64,
    /// Unix seconds.
    pub created_at: i64,
}

impl std::fmt::Debug for QueuedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedMessage")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Which contact of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactKind {
    /// The email address.
    Email,
    /// The phone number.
    Phone,
}

/// What verifying a contact did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// The contact is verified; these other accounts' unverified claims on it were dropped.
    Done {
        /// The accounts that lost their claim.
        dropped: Vec<i64>,
    },
    /// The code was used already, or the account no longer claims that address.
    Stale,
}
