//! The OpenAPI 3.1 document of the admin API, derived at compile time from the handlers'
//! `#[utoipa::path]` attributes and the types they take and return, and served at
//! `/api/v1/openapi.json` without authentication (it describes the API, not its data).

use std::sync::OnceLock;

use axum::{
    http::{header, HeaderValue},
    response::IntoResponse,
};
use utoipa::{
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
    Modify, OpenApi,
};

use super::{clients, events, groups, roles, user_access, users};

/// The document: every route of [`super::router`] except this one.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yaoshi admin API",
        version = "1",
        description = "Users, groups, roles, clients and security events of the platform. Authenticate with an \
                       access token from the client_credentials grant of an admin client; each route names the \
                       admin scope it needs. Errors are RFC 9457 problem details."
    ),
    paths(
        users::list, users::create, users::get, users::replace, users::patch, users::delete,
        users::set_password, users::disable, users::enable, users::groups, users::invite,
        user_access::sessions, user_access::end_sessions, user_access::end_session,
        user_access::consents, user_access::revoke_consent, user_access::identities,
        user_access::factors, user_access::reset_factors,
        groups::list, groups::create, groups::get, groups::rename, groups::delete,
        groups::add_member, groups::remove_member,
        roles::list, roles::assign_user, roles::unassign_user, roles::assign_group, roles::unassign_group,
        clients::list, clients::create, clients::get, clients::patch, clients::rotate_secret, clients::delete,
        events::list,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "users", description = "Accounts"),
        (name = "groups", description = "Groups and their members"),
        (name = "roles", description = "Roles of clients given to users and groups"),
        (name = "clients", description = "Registered OAuth clients"),
        (name = "events", description = "The security event trail"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme the routes name (RFC 6750).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> impl IntoResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default()).clone();
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
}
