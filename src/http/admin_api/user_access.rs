//! `/api/v1/users/{id}/…`: where and how a user has access. Their browser sessions (list,
//! end one, end all), the clients they consented to (list, revoke), the providers linked to
//! them, and their second factors (list, reset). Ending and revoking are idempotent `DELETE`s.

use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::{Admin, UsersRead, UsersWrite},
    problem::ApiPath,
    Problem,
};
use crate::{
    service::{factors::FactorInfo, passkeys::PasskeyInfo, Services},
    store::{ExternalIdentity, GrantRecord, SessionRow},
};

/// A browser session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    /// The session's id (a digest of its cookie, never the cookie itself).
    pub id: String,
    /// Unix seconds of the sign-in.
    pub created_at: i64,
    /// Unix seconds of its last request.
    pub last_seen_at: i64,
    /// The browser's `User-Agent`.
    pub user_agent: String,
    /// The address it signed in from.
    pub ip: String,
}

impl From<SessionRow> for SessionOut {
    fn from(s: SessionRow) -> Self {
        Self {
            id: s.session_hash,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            user_agent: s.user_agent,
            ip: s.ip,
        }
    }
}

/// A user's live sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Newest first.
    pub sessions: Vec<SessionOut>,
}

/// A consent: a client the user let act for them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    /// The client.
    pub client_id: String,
    /// Its name.
    pub client_name: String,
    /// The consented scope, space-separated.
    pub scope: String,
    /// Unix seconds.
    pub granted_at: i64,
    /// Unix seconds of the client's last token for the user.
    pub last_used_at: Option<i64>,
}

impl From<GrantRecord> for ConsentOut {
    fn from(g: GrantRecord) -> Self {
        Self {
            client_id: g.client_id,
            client_name: g.client_name,
            scope: g.scope.to_string(),
            granted_at: g.granted_at,
            last_used_at: g.last_used_at,
        }
    }
}

/// A user's consents.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    /// By client.
    pub consents: Vec<ConsentOut>,
}

/// An identity at an upstream provider linked to the user.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityOut {
    /// The provider's id in the configuration.
    pub provider: String,
    /// The provider's id for the user.
    pub subject: String,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    /// Unix seconds.
    pub linked_at: i64,
}

impl From<ExternalIdentity> for IdentityOut {
    fn from(i: ExternalIdentity) -> Self {
        Self { provider: i.provider, subject: i.subject, email: i.email, linked_at: i.created_at }
    }
}

/// A user's linked identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityList {
    /// By provider.
    pub identities: Vec<IdentityOut>,
}

/// A second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorOut {
    /// Its id.
    pub id: i64,
    /// `totp` or `passkey`.
    pub kind: String,
    /// The passkey's name (absent for TOTP).
    pub name: Option<String>,
    /// Unix seconds.
    pub added_at: i64,
    /// Unix seconds of its last use.
    pub last_used_at: Option<i64>,
}

impl From<FactorInfo> for FactorOut {
    fn from(f: FactorInfo) -> Self {
        Self { id: f.id, kind: f.kind, name: None, added_at: f.added_at, last_used_at: f.last_used_at }
    }
}

impl From<PasskeyInfo> for FactorOut {
    fn from(p: PasskeyInfo) -> Self {
        Self {
            id: p.id,
            kind: "passkey".into(),
            name: Some(p.name),
            added_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// A user's second factors.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorList {
    /// TOTP factors, then passkeys.
    pub factors: Vec<FactorOut>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// The user's live browser sessions.
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The sessions", body = SessionList),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sessions(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionList>, Problem> {
    let sessions = s.user_sessions(id).await?.into_iter().map(SessionOut::from).collect();
    Ok(Json(SessionList { sessions }))
}

/// Ends every session of the user (their clients are told, OIDC back-channel logout).
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "No session left"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_sessions(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, Problem> {
    s.end_sessions_of(id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends one session of the user (idempotent: an ended or unknown one answers the same).
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions/{session_id}", tag = "users",
    params(("id" = i64, Path, description = "User id"), ("session_id" = String, Path, description = "Session id as listed")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "The session is over"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_session(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath((id, session_id)): ApiPath<(i64, String)>,
) -> Result<StatusCode, Problem> {
    s.end_session_of(id, &session_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The clients the user consented to.
#[utoipa::path(get, path = "/api/v1/users/{id}/consents", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The consents", body = ConsentList),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn consents(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ConsentList>, Problem> {
    let consents = s.user_grants(id).await?.into_iter().map(ConsentOut::from).collect();
    Ok(Json(ConsentList { consents }))
}

/// Withdraws the user's consent for a client and revokes every token it holds for them
/// (idempotent).
#[utoipa::path(delete, path = "/api/v1/users/{id}/consents/{client_id}", tag = "users",
    params(("id" = i64, Path, description = "User id"), ("client_id" = String, Path, description = "Client id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "No consent (any more)"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_consent(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath((id, client_id)): ApiPath<(i64, String)>,
) -> Result<StatusCode, Problem> {
    s.revoke_grant_of(id, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The upstream identities linked to the user.
#[utoipa::path(get, path = "/api/v1/users/{id}/identities", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The linked identities", body = IdentityList),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn identities(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IdentityList>, Problem> {
    let identities = s.user_identities(id).await?.into_iter().map(IdentityOut::from).collect();
    Ok(Json(IdentityList { identities }))
}

/// The user's second factors and how many recovery codes are left.
#[utoipa::path(get, path = "/api/v1/users/{id}/factors", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The factors", body = FactorList),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn factors(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FactorList>, Problem> {
    let f = s.user_factors(id).await?;
    let factors = f.totp.into_iter().map(FactorOut::from).chain(f.passkeys.into_iter().map(FactorOut::from));
    Ok(Json(FactorList { factors: factors.collect(), recovery_codes_left: f.recovery_codes_left }))
}

/// Removes every second factor and recovery code of the user, who signs in with the password
/// alone again and may enrol anew (idempotent).
#[utoipa::path(delete, path = "/api/v1/users/{id}/factors", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "No factor left"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_factors(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, Problem> {
    s.reset_factors_of(id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
