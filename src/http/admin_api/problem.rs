//! Errors of the admin API as RFC 9457 problem details (`application/problem+json`), and the
//! extractors whose rejections become problems too, so that no bad input answers anything else.

use axum::{
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts,
    },
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::{admin_token::AdminAuthError, ServiceError};

/// The media type of problem details (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem detail (RFC 9457 §3.1). `type` is always `about:blank`, so `title` is the
/// status's phrase (§4.2.1); `detail` says what went wrong for this request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The HTTP status phrase.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The input field at fault, when one is (an extension member, §3.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// `WWW-Authenticate` of a 401 or 403 (RFC 6750 §3).
    #[serde(skip)]
    challenge: Option<Box<str>>,
}

impl Problem {
    /// A problem with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: Some(detail.into()),
            field: None,
            challenge: None,
        }
    }

    /// 412: the `If-Match` precondition failed (RFC 9110 §13.1.1).
    pub fn precondition_failed() -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "the resource changed since it was read (If-Match does not match)")
    }

    /// 404 for a path under `/api/v1/` that names no route.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such route")
    }

    /// 400 for input the route cannot use.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))], body).into_response();
        if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl From<AdminAuthError> for Problem {
    /// RFC 6750 §3: a request without a token gets the bare challenge; an unusable token
    /// `invalid_token` (401); a token without the route's scope `insufficient_scope` (403)
    /// naming the scope it needs.
    fn from(e: AdminAuthError) -> Self {
        let (status, challenge) = match &e {
            AdminAuthError::Missing => (StatusCode::UNAUTHORIZED, Some("Bearer realm=\"yaoshi\"".into())),
            AdminAuthError::InvalidToken => {
                (StatusCode::UNAUTHORIZED, Some("Bearer realm=\"yaoshi\", error=\"invalid_token\"".into()))
            }
            AdminAuthError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                Some(format!("Bearer realm=\"yaoshi\", error=\"insufficient_scope\", scope=\"{scope}\"").into()),
            ),
            AdminAuthError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
        };
        Self { challenge, ..Self::new(status, e.to_string()) }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(why) => Self::bad_request(why),
            ServiceError::InvalidField(field, why) => Self { field: Some(field), ..Self::bad_request(why) },
            ServiceError::Conflict(why) => Self::new(StatusCode::CONFLICT, why),
            ServiceError::NotFound(why) => Self::new(StatusCode::NOT_FOUND, why),
            ServiceError::Forbidden => Self::new(StatusCode::FORBIDDEN, ServiceError::Forbidden.to_string()),
            e @ (ServiceError::Store(_) | ServiceError::Hash(_)) => {
                tracing::error!(error = ?e, "admin API request failed");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "the service is temporarily unavailable; try again")
            }
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(e: JsonRejection) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => {
                Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")
            }
            other => Self::bad_request(other.body_text()),
        }
    }
}

impl From<PathRejection> for Problem {
    fn from(e: PathRejection) -> Self {
        Self::bad_request(e.body_text())
    }
}

impl From<QueryRejection> for Problem {
    fn from(e: QueryRejection) -> Self {
        Self::bad_request(e.body_text())
    }
}

/// A JSON body; bad JSON is a 400 problem, another media type a 415 problem.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct ApiJson<T>(pub T);

/// Path parameters; ones that do not parse are a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct ApiPath<T>(pub T);

/// Query parameters; ones that do not parse are a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// What every route answers for a path under `/api/v1/` that names none.
pub async fn not_found() -> Problem {
    Problem::no_route()
}
