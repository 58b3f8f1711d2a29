//! `/api/v1/users`: list (paging, search), read, create (with or without a password),
//! replace or patch the profile (`If-Match`), set the password, disable, enable, delete.

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Admin, UsersRead, UsersWrite},
    check_if_match, etag_header, etag_of, page_size,
    problem::{ApiJson, ApiPath, ApiQuery},
    Problem,
};
use crate::{
    service::{user_admin::ProfileChanges, users::Registration, Services},
    store::User,
};

/// A user as the API shows it (never a password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Stable id; the `sub` of this user's tokens.
    pub id: i64,
    /// As typed at creation (unique case-insensitively).
    pub username: String,
    /// The email address, verified or not.
    pub email: Option<String>,
    /// Whether the owner proved they receive mail there.
    pub email_verified: bool,
    /// The phone number in E.164, verified or not.
    pub phone_number: Option<String>,
    /// Whether the owner proved they receive SMS there.
    pub phone_number_verified: bool,
    /// Name shown to people.
    pub display_name: String,
    /// Disabled users cannot sign in or obtain tokens.
    pub active: bool,
    /// May use the admin pages.
    pub admin: bool,
    /// Whether the account has a local password.
    pub has_password: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            phone_number: u.phone_number.clone(),
            phone_number_verified: u.phone_verified,
            display_name: u.display_name.clone(),
            active: u.active,
            admin: u.admin,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
        }
    }
}

/// One page of users, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    /// The users of this page.
    pub users: Vec<UserOut>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<i64>,
}

/// Which users to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only users whose username, email, phone or display name contain this
    /// (case-insensitive).
    pub search: Option<String>,
    /// Only users with a larger id (the previous page's `next_after`).
    pub after: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

/// A user to create. Without a password the account signs in through a provider or after a
/// password is set. `Debug` is not derived: it would print the password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    /// 1-64 letters, digits, `.`, `_`, `-`; unique case-insensitively.
    pub username: String,
    /// Email address.
    pub email: Option<String>,
    /// The address is known to be the user's (else a claim until verified).
    #[serde(default)]
    pub email_verified: bool,
    /// Display name (default: the username).
    pub display_name: Option<String>,
    /// A password (8+ characters, not a common one).
    pub password: Option<String>,
    /// May use the admin pages.
    #[serde(default)]
    pub admin: bool,
    /// Mail the user a link to choose their password (needs `email`; see
    /// `POST /api/v1/users/{id}/invitation`).
    #[serde(default)]
    pub invite: bool,
}

/// The whole profile, for `PUT` (an absent email removes the address).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    /// 1-100 characters.
    pub display_name: String,
    /// The email address; a new one is unverified until its owner confirms it.
    pub email: Option<String>,
    /// The phone number (E.164); a new one is unverified until its owner confirms it.
    pub phone_number: Option<String>,
}

/// Profile fields to change, for `PATCH`: absent ones stay (an empty email removes it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// 1-100 characters.
    pub display_name: Option<String>,
    /// The email address (`""` removes it).
    pub email: Option<String>,
    /// The phone number (`""` removes it).
    pub phone_number: Option<String>,
}

/// A new password. `Debug` is not derived.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    /// 8+ characters, not a common one.
    pub password: String,
}

/// A user with its `ETag`.
fn with_etag(status: StatusCode, user: &User) -> Response {
    let out = UserOut::from(user);
    let tag = etag_of(&out);
    (status, etag_header(&tag), Json(out)).into_response()
}

/// Users by id, optionally searched.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "One page of users", body = UserPage),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<UserPage>, Problem> {
    let limit = page_size(q.limit)?;
    let users = s.users_page(q.search.as_deref(), q.after.unwrap_or(0), limit).await?;
    let next_after = (users.len() as i64 == limit).then(|| users.last().map(|u| u.id)).flatten();
    Ok(Json(UserPage { users: users.iter().map(UserOut::from).collect(), next_after }))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The user", body = UserOut, headers(("ETag" = String, description = "For If-Match"))),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, Problem> {
    Ok(with_etag(StatusCode::OK, &s.user(id).await?))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserIn,
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 201, description = "Created", body = UserOut, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username or email taken", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(s): State<Services>,
    Admin(who, _): Admin<UsersWrite>,
    ApiJson(new): ApiJson<NewUserIn>,
) -> Result<Response, Problem> {
    let registration = Registration {
        username: new.username,
        email: new.email,
        display_name: new.display_name,
        password: new.password,
        admin: new.admin,
        email_verified: new.email_verified,
        locale: None,
    };
    let user = s.create_account(registration, new.invite, None, Some(&who.client_id)).await?;
    let mut resp = with_etag(StatusCode::CREATED, &user);
    if let Ok(v) = HeaderValue::from_str(&format!("{}/users/{}", super::PREFIX, user.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Applies `changes` if `If-Match` allows it.
async fn change(s: &Services, headers: &HeaderMap, id: i64, changes: ProfileChanges) -> Result<Response, Problem> {
    let current = s.user(id).await?;
    check_if_match(headers, &etag_of(&UserOut::from(&current)))?;
    Ok(with_etag(StatusCode::OK, &s.change_profile(id, &changes).await?))
}

/// Replaces the profile (display name and email).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", request_body = ProfileIn,
    params(("id" = i64, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "ETag of the read")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 200, description = "Updated", body = UserOut, headers(("ETag" = String))),
        (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<ProfileIn>,
) -> Result<Response, Problem> {
    let changes = ProfileChanges {
        display_name: Some(p.display_name),
        email: Some(p.email.unwrap_or_default()),
        phone_number: Some(p.phone_number.unwrap_or_default()),
    };
    change(&s, &headers, id, changes).await
}

/// Changes the profile fields given.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = ProfilePatch,
    params(("id" = i64, Path, description = "User id"), ("If-Match" = Option<String>, Header, description = "ETag of the read")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 200, description = "Updated", body = UserOut, headers(("ETag" = String))),
        (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<ProfilePatch>,
) -> Result<Response, Problem> {
    let changes = ProfileChanges { display_name: p.display_name, email: p.email, phone_number: p.phone_number };
    change(&s, &headers, id, changes).await
}

/// Sets the password: every session of the user ends and every token is revoked.
#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "users", request_body = PasswordIn,
    params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Refused password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_password(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PasswordIn>,
) -> Result<StatusCode, Problem> {
    s.set_password_of(id, &p.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(s: &Services, id: i64, active: bool) -> Result<Response, Problem> {
    Ok(with_etag(StatusCode::OK, &s.set_enabled(id, active).await?))
}

/// Disables the user: their sessions end and their tokens are revoked at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 200, description = "Disabled", body = UserOut),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, Problem> {
    set_enabled(&s, id, false).await
}

/// Enables a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 200, description = "Enabled", body = UserOut),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, Problem> {
    set_enabled(&s, id, true).await
}

/// Deletes the user (idempotent: an absent user answers the same). Their sessions, tokens,
/// consents and memberships go with them; the username stays reserved for 30 days.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 204, description = "Gone"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, Problem> {
    s.delete_user(id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails the user a link to choose their password, good for 7 days; using it also verifies
/// the address. For accounts created without a password; the usual send limits apply.
#[utoipa::path(post, path = "/api/v1/users/{id}/invitation", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:write"])),
    responses(
        (status = 202, description = "The invitation is queued"),
        (status = 400, description = "No email address, a disabled account, or sent too recently", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn invite(
    State(s): State<Services>,
    _: Admin<UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, Problem> {
    s.invite_user(id, None).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The names of the groups a user belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserGroups {
    /// Group ids and names, by name.
    pub groups: Vec<super::groups::GroupOut>,
}

/// The groups a user belongs to.
#[utoipa::path(get, path = "/api/v1/users/{id}/groups", tag = "users", params(("id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:users:read"])),
    responses(
        (status = 200, description = "The user's groups", body = UserGroups),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn groups(
    State(s): State<Services>,
    _: Admin<UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserGroups>, Problem> {
    s.user(id).await?;
    let groups = s.groups_of(id).await?;
    Ok(Json(UserGroups { groups: groups.iter().map(super::groups::GroupOut::from).collect() }))
}
