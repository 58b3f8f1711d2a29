//! Role assignments: a client's role given to a user or a group is a resource at
//! `/api/v1/clients/{client_id}/roles/{role}/users/{user_id}` (or `/groups/{group_id}`) that
//! `PUT` creates and `DELETE` removes, both idempotent; `/api/v1/roles` lists them. They are
//! managed with the groups scopes: they say what users and groups may do.

use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Admin, GroupsRead, GroupsWrite},
    problem::{ApiPath, ApiQuery},
    Problem,
};
use crate::{
    service::Services,
    store::{RoleAssignment, RoleHolder},
};

/// One role of one client given to one user or group.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleAssignmentOut {
    /// The client whose role it is.
    pub client_id: String,
    /// The role, as released in the `roles` claim to that client.
    pub role: String,
    /// The user holding it, if given to a user.
    pub user_id: Option<i64>,
    /// The group holding it, if given to a group.
    pub group_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<RoleAssignment> for RoleAssignmentOut {
    fn from(r: RoleAssignment) -> Self {
        Self {
            client_id: r.client_id,
            role: r.role,
            user_id: r.user_id,
            group_id: r.group_id,
            created_at: r.created_at,
        }
    }
}

/// Role assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    /// By client, role and holder.
    pub roles: Vec<RoleAssignmentOut>,
}

/// Which assignments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RoleQuery {
    /// Only this client's.
    pub client_id: Option<String>,
}

/// Every role assignment, or one client's.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", params(RoleQuery),
    security(("bearer" = ["admin:groups:read"])),
    responses(
        (status = 200, description = "Assignments", body = RoleList),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<Services>,
    _: Admin<GroupsRead>,
    ApiQuery(q): ApiQuery<RoleQuery>,
) -> Result<Json<RoleList>, Problem> {
    let roles = s.role_assignments(q.client_id.as_deref()).await?;
    Ok(Json(RoleList { roles: roles.into_iter().map(RoleAssignmentOut::from).collect() }))
}

async fn assign(s: &Services, client_id: &str, role: &str, holder: RoleHolder) -> Result<StatusCode, Problem> {
    let added = s.assign_role(client_id, role, holder, None).await?;
    Ok(if added { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

async fn unassign(s: &Services, client_id: &str, role: &str, holder: RoleHolder) -> Result<StatusCode, Problem> {
    s.unassign_role(client_id, role, holder, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a client's role to a user (201 when new, 204 when held already).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/roles/{role}/users/{user_id}", tag = "roles",
    params(("client_id" = String, Path), ("role" = String, Path), ("user_id" = i64, Path)),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 201, description = "Given"),
        (status = 204, description = "Held already"),
        (status = 400, description = "Bad role name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client or user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn assign_user(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((client_id, role, user_id)): ApiPath<(String, String, i64)>,
) -> Result<StatusCode, Problem> {
    assign(&s, &client_id, &role, RoleHolder::User(user_id)).await
}

/// Takes a client's role from a user (idempotent).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/roles/{role}/users/{user_id}", tag = "roles",
    params(("client_id" = String, Path), ("role" = String, Path), ("user_id" = i64, Path)),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 204, description = "Not held (any more)"),
        (status = 400, description = "Bad role name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unassign_user(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((client_id, role, user_id)): ApiPath<(String, String, i64)>,
) -> Result<StatusCode, Problem> {
    unassign(&s, &client_id, &role, RoleHolder::User(user_id)).await
}

/// Gives a client's role to every member of a group (201 when new, 204 when held already).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/roles/{role}/groups/{group_id}", tag = "roles",
    params(("client_id" = String, Path), ("role" = String, Path), ("group_id" = i64, Path)),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 201, description = "Given"),
        (status = 204, description = "Held already"),
        (status = 400, description = "Bad role name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client or group", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn assign_group(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((client_id, role, group_id)): ApiPath<(String, String, i64)>,
) -> Result<StatusCode, Problem> {
    assign(&s, &client_id, &role, RoleHolder::Group(group_id)).await
}

/// Takes a client's role from a group (idempotent).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/roles/{role}/groups/{group_id}", tag = "roles",
    params(("client_id" = String, Path), ("role" = String, Path), ("group_id" = i64, Path)),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 204, description = "Not held (any more)"),
        (status = 400, description = "Bad role name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unassign_group(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((client_id, role, group_id)): ApiPath<(String, String, i64)>,
) -> Result<StatusCode, Problem> {
    unassign(&s, &client_id, &role, RoleHolder::Group(group_id)).await
}
