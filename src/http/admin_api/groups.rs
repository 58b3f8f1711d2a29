//! `/api/v1/groups`: list, create, read (with members), rename (`If-Match`), delete, and
//! membership as a sub-resource that `PUT` adds and `DELETE` removes (both idempotent).

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Admin, GroupsRead, GroupsWrite},
    check_if_match, etag_header, etag_of, page_size,
    problem::{ApiJson, ApiPath, ApiQuery},
    Problem,
};
use crate::{
    service::Services,
    store::{GroupRow, User},
};

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    /// Stable id.
    pub id: i64,
    /// The name (unique case-insensitively), as released in the `groups` claim.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last rename.
    pub updated_at: i64,
}

impl From<&GroupRow> for GroupOut {
    fn from(g: &GroupRow) -> Self {
        Self { id: g.id, name: g.name.clone(), created_at: g.created_at, updated_at: g.updated_at }
    }
}

/// A member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// The user id.
    pub id: i64,
    /// The username.
    pub username: String,
}

impl From<&User> for MemberOut {
    fn from(u: &User) -> Self {
        Self { id: u.id, username: u.username.clone() }
    }
}

/// A group with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDetail {
    /// The group.
    #[serde(flatten)]
    pub group: GroupOut,
    /// Its members, by id.
    pub members: Vec<MemberOut>,
}

/// One page of groups, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    /// The groups of this page.
    pub groups: Vec<GroupOut>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<i64>,
}

/// Which groups to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupQuery {
    /// Only groups with a larger id (the previous page's `next_after`).
    pub after: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

/// A group's name, to create or rename it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupIn {
    /// 1-64 letters, digits, `.`, `_`, `-`.
    pub name: String,
}

/// Groups by id.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(GroupQuery),
    security(("bearer" = ["admin:groups:read"])),
    responses(
        (status = 200, description = "One page of groups", body = GroupPage),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<Services>,
    _: Admin<GroupsRead>,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> Result<Json<GroupPage>, Problem> {
    let limit = page_size(q.limit)?;
    let groups = s.list_groups(q.after.unwrap_or(0), limit).await?;
    let next_after = (groups.len() as i64 == limit).then(|| groups.last().map(|g| g.id)).flatten();
    Ok(Json(GroupPage { groups: groups.iter().map(GroupOut::from).collect(), next_after }))
}

/// Creates a group.
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupIn,
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 201, description = "Created", body = GroupOut, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Bad name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiJson(new): ApiJson<GroupIn>,
) -> Result<Response, Problem> {
    let g = GroupOut::from(&s.create_group(&new.name, None).await?);
    let tag = etag_of(&g);
    let mut resp = (StatusCode::CREATED, etag_header(&tag), Json(&g)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/groups/{}", super::PREFIX, g.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// One group with its members.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = i64, Path, description = "Group id")),
    security(("bearer" = ["admin:groups:read"])),
    responses(
        (status = 200, description = "The group", body = GroupDetail, headers(("ETag" = String, description = "Of the group, for If-Match"))),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(s): State<Services>,
    _: Admin<GroupsRead>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, Problem> {
    let group = GroupOut::from(&s.find_group(id).await?);
    let members = s.group_members(id).await?.iter().map(MemberOut::from).collect();
    let tag = etag_of(&group);
    Ok((etag_header(&tag), Json(GroupDetail { group, members })).into_response())
}

/// Renames a group.
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", request_body = GroupIn,
    params(("id" = i64, Path, description = "Group id"), ("If-Match" = Option<String>, Header, description = "ETag of the read")),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 200, description = "Renamed", body = GroupOut, headers(("ETag" = String))),
        (status = 400, description = "Bad name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rename(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<GroupIn>,
) -> Result<Response, Problem> {
    check_if_match(&headers, &etag_of(&GroupOut::from(&s.find_group(id).await?)))?;
    let g = GroupOut::from(&s.rename_group(id, &new.name, None).await?);
    let tag = etag_of(&g);
    Ok((etag_header(&tag), Json(g)).into_response())
}

/// Deletes a group with its memberships and role assignments (idempotent).
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = i64, Path, description = "Group id")),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 204, description = "Gone"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, Problem> {
    s.delete_group(id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a user a member (idempotent: 201 when added, 204 when they already were).
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups",
    params(("id" = i64, Path, description = "Group id"), ("user_id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 201, description = "Added"),
        (status = 204, description = "Was a member already"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_member(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, Problem> {
    let added = s.add_group_member(id, user_id, None).await?;
    Ok(if added { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

/// Ends a membership (idempotent).
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups",
    params(("id" = i64, Path, description = "Group id"), ("user_id" = i64, Path, description = "User id")),
    security(("bearer" = ["admin:groups:write"])),
    responses(
        (status = 204, description = "Not a member (any more)"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(s): State<Services>,
    _: Admin<GroupsWrite>,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, Problem> {
    s.remove_group_member(id, user_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
