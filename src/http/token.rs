//! `POST /o/token/`, `/o/revoke_token/`, `/o/introspect/` and `/o/userinfo/`: each extracts,
//! makes one service call and answers.

use axum::{
    extract::{FromRequest, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};

use super::{
    cors::RequestingClient,
    error::{no_store, OAuthResponse},
    extract::{BearerToken, OAuthForm},
};
use crate::{
    metrics::{metrics, GrantLabels},
    oauth::{client_auth::ClientCredentials, error::OAuthError, params::Params, request::TokenRequest},
    service::{token::BearerError, Services},
    web::client_addr::ClientAddr,
};

fn json_no_store<T: serde::Serialize>(body: T) -> Response {
    let mut resp = Json(body).into_response();
    no_store(&mut resp);
    resp
}

fn answer<T: serde::Serialize>(result: Result<T, OAuthError>, basic: bool) -> Response {
    match result {
        Ok(body) => json_no_store(body),
        Err(error) => OAuthResponse { error, basic }.into_response(),
    }
}

/// The client a form request names (HTTP Basic first, else `client_id`), for the CORS check.
fn requesting_client(basic: Option<&(String, String)>, params: &Params) -> Option<RequestingClient> {
    basic.map(|(id, _)| id.as_str()).or_else(|| params.get("client_id")).map(|id| RequestingClient(id.to_owned()))
}

/// `resp` with the requesting client noted on it (see [`RequestingClient`]).
fn for_client(mut resp: Response, client: Option<RequestingClient>) -> Response {
    if let Some(c) = client {
        resp.extensions_mut().insert(c);
    }
    resp
}

/// `POST /o/token/` (RFC 6749 §3.2).
pub(super) async fn token(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    OAuthForm { basic, params }: OAuthForm,
) -> Response {
    let used_basic = basic.is_some();
    let requester = requesting_client(basic.as_ref(), &params);
    let result = async {
        let creds = ClientCredentials::from_parts(basic, &params)?;
        let req = TokenRequest::from_params(&params)?;
        let grant = req.grant_type();
        let issued = s.exchange(&creds, req, &params.get_all("resource"), client.map(|c| c.ip)).await?;
        metrics().tokens.get_or_create(&GrantLabels { grant: grant.as_str().to_owned() }).inc();
        Ok(issued)
    };
    for_client(answer(result.await, used_basic), requester)
}

/// `POST /o/revoke_token/` (RFC 7009 §2).
pub(super) async fn revoke(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    OAuthForm { basic, params }: OAuthForm,
) -> Response {
    let used_basic = basic.is_some();
    let requester = requesting_client(basic.as_ref(), &params);
    let result = async {
        let creds = ClientCredentials::from_parts(basic, &params)?;
        s.revoke(&creds, params.require("token")?, client.map(|c| c.ip)).await
    };
    let resp = match result.await {
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the
        // token has been revoked successfully or if the client submitted an invalid token."
        Ok(()) => {
            let mut resp = StatusCode::OK.into_response();
            no_store(&mut resp);
            resp
        }
        Err(error) => OAuthResponse { error, basic: used_basic }.into_response(),
    };
    for_client(resp, requester)
}

/// `POST /o/introspect/` (RFC 7662 §2).
pub(super) async fn introspect(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    OAuthForm { basic, params }: OAuthForm,
) -> Response {
    let used_basic = basic.is_some();
    let requester = requesting_client(basic.as_ref(), &params);
    let result = async {
        let creds = ClientCredentials::from_parts(basic, &params)?;
        s.introspect(&creds, params.require("token")?, client.map(|c| c.ip)).await
    };
    for_client(answer(result.await, used_basic), requester)
}

/// `POST /o/device/authorize/` (RFC 8628 §3.1): the same client authentication as the token
/// endpoint.
pub(super) async fn device_authorize(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    OAuthForm { basic, params }: OAuthForm,
) -> Response {
    let used_basic = basic.is_some();
    let result = async {
        let creds = ClientCredentials::from_parts(basic, &params)?;
        s.device_authorize(&creds, &params, client.map(|c| c.ip)).await
    };
    answer(result.await, used_basic)
}

/// `POST /o/par/` (RFC 9126 §2): the same client authentication as the token endpoint;
/// "201 Created" with the `request_uri` (§2.2).
pub(super) async fn pushed_authorization_request(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    OAuthForm { basic, params }: OAuthForm,
) -> Response {
    let used_basic = basic.is_some();
    let requester = requesting_client(basic.as_ref(), &params);
    let result = async {
        let creds = ClientCredentials::from_parts(basic, &params)?;
        s.push_authorization_request(&creds, &params, client.map(|c| c.ip)).await
    };
    let resp = match result.await {
        Ok(pushed) => {
            let mut resp = json_no_store(pushed);
            *resp.status_mut() = StatusCode::CREATED;
            resp
        }
        Err(error) => OAuthResponse { error, basic: used_basic }.into_response(),
    };
    for_client(resp, requester)
}

/// Any method but POST on a form endpoint.
pub(super) async fn method_not_allowed() -> Response {
    let mut resp = OAuthResponse::from(OAuthError::invalid_request("use POST")).into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    resp
}

/// `GET /o/userinfo/` with the token in the `Authorization` header (RFC 6750 §2.1).
pub(super) async fn userinfo(State(s): State<Services>, BearerToken(token): BearerToken) -> Response {
    userinfo_for(&s, token).await
}

/// `POST /o/userinfo/`: the token in the header or in a form body (RFC 6750 §2.2), not both.
pub(super) async fn userinfo_post(
    State(s): State<Services>,
    BearerToken(header): BearerToken,
    req: axum::extract::Request,
) -> Response {
    let body_token = match OAuthForm::from_request(req, &()).await {
        Ok(form) => form.params.get("access_token").map(str::to_owned),
        Err(_) => None,
    };
    match (header, body_token) {
        (Some(_), Some(_)) => {
            bearer_error(StatusCode::BAD_REQUEST, "invalid_request", "send the token in one place only")
        }
        (h, b) => userinfo_for(&s, h.or(b)).await,
    }
}

async fn userinfo_for(s: &Services, token: Option<String>) -> Response {
    let Some(token) = token else {
        // RFC 6750 §3.1: a request without any authentication gets no error code.
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"yaoshi\""));
        return resp;
    };
    match s.userinfo(&token).await {
        Ok(info) => json_no_store(info),
        Err(BearerError::InvalidToken) => {
            bearer_error(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is invalid, expired or revoked")
        }
        Err(BearerError::Unavailable) => {
            OAuthResponse::from(OAuthError::temporarily_unavailable("the service is temporarily unavailable"))
                .into_response()
        }
    }
}

fn bearer_error(status: StatusCode, code: &'static str, description: &'static str) -> Response {
    let mut resp = (status, Json(serde_json::json!({"error": code, "error_description": description}))).into_response();
    let challenge = format!("Bearer realm=\"yaoshi\", error=\"{code}\", error_description=\"{description}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store(&mut resp);
    resp
}
