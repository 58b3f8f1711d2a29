//! `/api/v1/events`: the security event trail, newest first, filtered and paged.

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Admin, EventsRead},
    page_size,
    problem::ApiQuery,
    Problem,
};
use crate::{
    service::{ServiceError, Services},
    store::{EventFilter, EventRow},
};

/// A recorded security event (never holds a secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Increasing id.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened, e.g. `sign_in.failure`.
    pub kind: String,
    /// The account it concerns.
    pub user_id: Option<i64>,
    /// Who acted, when not the account itself.
    pub actor_id: Option<i64>,
    /// The client it concerns.
    pub client_id: Option<String>,
    /// The client address.
    pub ip: String,
    /// The browser, if any.
    pub user_agent: String,
    /// A short reason or name.
    pub detail: String,
}

impl From<EventRow> for EventOut {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id,
            at: e.at,
            kind: e.kind,
            user_id: e.user_id,
            actor_id: e.actor_id,
            client_id: e.client_id,
            ip: e.ip,
            user_agent: e.user_agent,
            detail: e.detail,
        }
    }
}

/// One page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The events of this page.
    pub events: Vec<EventOut>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_before: Option<i64>,
}

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Kinds starting with this (`sign_in` finds both outcomes).
    pub kind: Option<String>,
    /// The account.
    pub user_id: Option<i64>,
    /// The client address.
    pub ip: Option<String>,
    /// Only events with a smaller id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

/// Security events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    security(("bearer" = ["admin:events:read"])),
    responses(
        (status = 200, description = "One page of events", body = EventPage),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<Services>,
    _: Admin<EventsRead>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<EventPage>, Problem> {
    let limit = page_size(q.limit)?;
    let some = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = EventFilter { kind: some(q.kind), user_id: q.user_id, ip: some(q.ip), before_id: q.before, limit };
    let rows = s.events(&filter).await.map_err(ServiceError::from)?;
    let next_before = (rows.len() as i64 == limit).then(|| rows.last().map(|e| e.id)).flatten();
    Ok(Json(EventPage { events: rows.into_iter().map(EventOut::from).collect(), next_before }))
}
