//! `/api/v1/clients`: list, read, register (the secret shown once), change (`If-Match`),
//! rotate the secret, delete. Admin scopes are shown but never given here: only an operator
//! makes a client an admin client (`yaoshi client set-admin`), so an admin client cannot mint
//! another.

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::{Admin, ClientsRead, ClientsWrite},
    check_if_match, etag_header, etag_of,
    problem::{ApiJson, ApiPath},
    Problem,
};
use crate::{
    service::{
        client_admin::{parse_grant, ClientChanges},
        clients::ClientSpec,
        ServiceError, Services,
    },
    store::{ClientRecord, LogoutSettings},
};

/// A registered client (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    /// The client_id.
    pub client_id: String,
    /// Shown on the consent page.
    pub name: String,
    /// `confidential` or `public`.
    pub client_type: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered grants.
    pub grant_types: Vec<String>,
    /// The scopes it may ask for, space-separated.
    pub scope: String,
    /// Skips the consent page.
    pub trusted: bool,
    /// The user who registered it (developer apps).
    pub owner_id: Option<i64>,
    /// Where the browser may go after RP-initiated logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens go.
    pub backchannel_logout_uri: Option<String>,
    /// Web origins allowed to call the token endpoints (CORS).
    pub allowed_origins: Vec<String>,
    /// The admin API scopes an operator gave it.
    pub admin_scopes: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A client just registered, with its secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct ClientCreated {
    /// The client.
    #[serde(flatten)]
    pub client: ClientOut,
    /// The generated secret (confidential clients); never shown again.
    pub client_secret: Option<String>,
}

/// A client to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientIn {
    /// Shown on the consent page (1-100 characters).
    pub name: String,
    /// A public client (no secret).
    #[serde(default)]
    pub public: bool,
    /// Exact redirect URIs (https, or http on loopback).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grants (default `authorization_code`, `refresh_token`).
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Scopes it may ask for (default: every scope offered).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Skips the consent page.
    #[serde(default)]
    pub trusted: bool,
    /// A chosen client_id (default: random).
    pub client_id: Option<String>,
    /// Where the browser may go after RP-initiated logout.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens go.
    pub backchannel_logout_uri: Option<String>,
    /// Web origins (CORS).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// Client fields to change: absent ones stay (the type, client_id and secret never change).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    /// Shown on the consent page.
    pub name: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Grants.
    pub grant_types: Option<Vec<String>>,
    /// Scopes.
    pub scopes: Option<Vec<String>>,
    /// Skips the consent page.
    pub trusted: Option<bool>,
    /// Where the browser may go after RP-initiated logout.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Where logout tokens go (`""` removes it).
    pub backchannel_logout_uri: Option<String>,
    /// Web origins (CORS).
    pub allowed_origins: Option<Vec<String>>,
}

/// A new secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct ClientSecret {
    /// The client_id.
    pub client_id: String,
    /// The new secret; the old one stops working now.
    pub client_secret: String,
}

/// Every client.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    /// By creation.
    pub clients: Vec<ClientOut>,
}

/// The API's view of a stored client.
async fn client_out(s: &Services, r: &ClientRecord) -> Result<ClientOut, ServiceError> {
    let c = &r.client;
    let logout = s.store.client_logout(&c.client_id).await?.unwrap_or_default();
    Ok(ClientOut {
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        client_type: if c.confidential { "confidential" } else { "public" }.into(),
        redirect_uris: c.redirect_uris.clone(),
        grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
        scope: c.scopes.to_string(),
        trusted: c.trusted,
        owner_id: r.owner_id,
        post_logout_redirect_uris: logout.post_logout_redirect_uris,
        backchannel_logout_uri: logout.backchannel_logout_uri,
        allowed_origins: s.client_origins(&c.client_id).await?,
        admin_scopes: s.client_admin_scopes(&c.client_id).await?,
        created_at: r.created_at,
    })
}

fn grants(names: &[String]) -> Result<Vec<crate::oauth::model::GrantType>, ServiceError> {
    names.iter().map(|g| parse_grant(g)).collect()
}

/// Every client.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients",
    security(("bearer" = ["admin:clients:read"])),
    responses(
        (status = 200, description = "Clients", body = ClientList),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(State(s): State<Services>, _: Admin<ClientsRead>) -> Result<Json<ClientList>, Problem> {
    let mut clients = Vec::new();
    for r in s.store.list_clients().await.map_err(ServiceError::from)? {
        clients.push(client_out(&s, &r).await?);
    }
    Ok(Json(ClientList { clients }))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}", tag = "clients", params(("client_id" = String, Path)),
    security(("bearer" = ["admin:clients:read"])),
    responses(
        (status = 200, description = "The client", body = ClientOut, headers(("ETag" = String))),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(s): State<Services>,
    _: Admin<ClientsRead>,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Response, Problem> {
    let out = client_out(&s, &s.find_client(&client_id).await?).await?;
    let tag = etag_of(&out);
    Ok((etag_header(&tag), Json(out)).into_response())
}

/// Registers a client; a confidential one's generated secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = ClientIn,
    security(("bearer" = ["admin:clients:write"])),
    responses(
        (status = 201, description = "Registered", body = ClientCreated, headers(("Location" = String))),
        (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "client_id taken", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(s): State<Services>,
    _: Admin<ClientsWrite>,
    ApiJson(new): ApiJson<ClientIn>,
) -> Result<Response, Problem> {
    let created = s
        .create_client(ClientSpec {
            name: new.name,
            public: new.public,
            redirect_uris: new.redirect_uris,
            grants: grants(&new.grant_types)?,
            scopes: new.scopes,
            trusted: new.trusted,
            client_id: new.client_id,
            secret: None,
            owner_id: None,
            logout: LogoutSettings {
                post_logout_redirect_uris: new.post_logout_redirect_uris,
                backchannel_logout_uri: new.backchannel_logout_uri,
            },
            allowed_origins: new.allowed_origins,
        })
        .await?;
    let client = client_out(&s, &created.record).await?;
    let location = format!("{}/clients/{}", super::PREFIX, client.client_id);
    let mut resp = (StatusCode::CREATED, Json(ClientCreated { client, client_secret: created.secret })).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Changes the fields given.
#[utoipa::path(patch, path = "/api/v1/clients/{client_id}", tag = "clients", request_body = ClientPatch,
    params(("client_id" = String, Path), ("If-Match" = Option<String>, Header, description = "ETag of the read")),
    security(("bearer" = ["admin:clients:write"])),
    responses(
        (status = 200, description = "Changed", body = ClientOut, headers(("ETag" = String))),
        (status = 400, description = "Bad input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(s): State<Services>,
    _: Admin<ClientsWrite>,
    headers: HeaderMap,
    ApiPath(client_id): ApiPath<String>,
    ApiJson(p): ApiJson<ClientPatch>,
) -> Result<Response, Problem> {
    let current = client_out(&s, &s.find_client(&client_id).await?).await?;
    check_if_match(&headers, &etag_of(&current))?;
    let changes = ClientChanges {
        name: p.name,
        redirect_uris: p.redirect_uris,
        grants: p.grant_types.as_deref().map(grants).transpose()?,
        scopes: p.scopes,
        trusted: p.trusted,
        post_logout_redirect_uris: p.post_logout_redirect_uris,
        backchannel_logout_uri: p.backchannel_logout_uri.map(|u| Some(u).filter(|u| !u.is_empty())),
        allowed_origins: p.allowed_origins,
    };
    let out = client_out(&s, &s.update_client(&client_id, &changes, None).await?).await?;
    let tag = etag_of(&out);
    Ok((etag_header(&tag), Json(out)).into_response())
}

/// Replaces a confidential client's secret; the new one is in this answer only.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/secret", tag = "clients", params(("client_id" = String, Path)),
    security(("bearer" = ["admin:clients:write"])),
    responses(
        (status = 200, description = "The new secret", body = ClientSecret),
        (status = 400, description = "A public client", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_secret(
    State(s): State<Services>,
    _: Admin<ClientsWrite>,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<ClientSecret>, Problem> {
    let client_secret = s.rotate_client_secret(&client_id).await?;
    Ok(Json(ClientSecret { client_id, client_secret }))
}

/// Deletes a client with its codes, tokens, consents and role assignments (idempotent).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}", tag = "clients", params(("client_id" = String, Path)),
    security(("bearer" = ["admin:clients:write"])),
    responses(
        (status = 204, description = "Gone"),
        (status = 401, description = "No usable token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(s): State<Services>,
    Admin(who, _): Admin<ClientsWrite>,
    ApiPath(client_id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    if who.client_id == client_id {
        // Deleting itself would revoke the very token in use: almost surely a mistake.
        return Err(Problem::from(ServiceError::Conflict("an admin client cannot delete itself".into())));
    }
    match s.delete_client(&client_id).await {
        Ok(()) | Err(ServiceError::NotFound(_)) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(e.into()),
    }
}
