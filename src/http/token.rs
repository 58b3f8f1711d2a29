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
    extract::{DpopHeader, HeaderToken, OAuthForm},
};
use crate::{
    metrics::{metrics, GrantLabels},
    oauth::{
        client_auth::ClientCredentials,
        error::OAuthError,
        model::GrantType,
        params::Params,
        request::{MiniProgramLogin, TokenRequest},
    },
    service::{
        token::{BearerError, TokenScheme},
        Services,
    },
    web::client_addr::ClientAddr,
};

fn json_no_store<T: serde::Serialize>(body: T) -> Response {
    let mut resp = Json(body).into_response();
    no_store(&mut resp);
    resp
}

/// A form request to an endpoint that authenticates the client (RFC 6749 §2.3): its
/// credentials (or why they are malformed), its parameters, and what the answer needs to know
/// (whether Basic was used, for `WWW-Authenticate`; which client asked, for CORS).
struct ClientForm {
    creds: Result<ClientCredentials, OAuthError>,
    params: Params,
    basic: bool,
    requester: Option<RequestingClient>,
}

impl From<OAuthForm> for ClientForm {
    fn from(OAuthForm { basic, params }: OAuthForm) -> Self {
        // The client a form request names (HTTP Basic first, else `client_id`).
        let requester = basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or_else(|| params.get("client_id"))
            .map(|id| RequestingClient(id.to_owned()));
        let used_basic = basic.is_some();
        ClientForm { creds: ClientCredentials::from_parts(basic, &params), params, basic: used_basic, requester }
    }
}

impl ClientForm {
    fn creds(&self) -> Result<&ClientCredentials, OAuthError> {
        self.creds.as_ref().map_err(Clone::clone)
    }

    /// A success as `ok` makes it, an error as RFC 6749 §5.2 says, noted with the requesting
    /// client (see [`RequestingClient`]).
    fn answer_with<T>(self, result: Result<T, OAuthError>, ok: impl FnOnce(T) -> Response) -> Response {
        let mut resp = match result {
            Ok(body) => ok(body),
            Err(error) => OAuthResponse { error, basic: self.basic }.into_response(),
        };
        if let Some(c) = self.requester {
            resp.extensions_mut().insert(c);
        }
        resp
    }

    /// A JSON success, not to be cached.
    fn answer<T: serde::Serialize>(self, result: Result<T, OAuthError>) -> Response {
        self.answer_with(result, json_no_store)
    }
}

/// `POST /o/token/` (RFC 6749 §3.2); with a DPoP proof, the tokens are bound to its key
/// (RFC 9449 §5) and the answer carries a fresh nonce (§8).
pub(super) async fn token(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    dpop: DpopHeader,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async {
        let creds = f.creds()?;
        let req = TokenRequest::from_params(&f.params)?;
        let grant = req.grant_type();
        let proof = dpop.presented("POST")?;
        let issued = s.exchange(creds, req, &f.params.get_all("resource"), proof, client.map(|c| c.ip)).await?;
        metrics().tokens.get_or_create(&GrantLabels { grant: grant.as_str().to_owned() }).inc();
        Ok(issued)
    }
    .await;
    let mut resp = f.answer(result);
    if dpop.sent() {
        add_dpop_nonce(&s, &mut resp).await;
    }
    resp
}

/// A fresh `DPoP-Nonce` (RFC 9449 §8.1) on an answer to a request that carried a proof.
async fn add_dpop_nonce(s: &Services, resp: &mut Response) {
    match s.dpop_nonce().await.map(|n| HeaderValue::from_str(&n)) {
        Ok(Ok(nonce)) => {
            resp.headers_mut().insert("dpop-nonce", nonce);
        }
        _ => tracing::warn!("no DPoP nonce for this answer: the key could not be read"),
    }
}

/// `POST /o/revoke_token/` (RFC 7009 §2).
pub(super) async fn revoke(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async { s.revoke(f.creds()?, f.params.require("token")?, client.map(|c| c.ip)).await }.await;
    // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the
    // token has been revoked successfully or if the client submitted an invalid token."
    f.answer_with(result, |()| {
        let mut resp = StatusCode::OK.into_response();
        no_store(&mut resp);
        resp
    })
}

/// `POST /o/introspect/` (RFC 7662 §2).
pub(super) async fn introspect(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async { s.introspect(f.creds()?, f.params.require("token")?, client.map(|c| c.ip)).await }.await;
    f.answer(result)
}

/// `POST /o/device/authorize/` (RFC 8628 §3.1): the same client authentication as the token
/// endpoint.
pub(super) async fn device_authorize(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async { s.device_authorize(f.creds()?, &f.params, client.map(|c| c.ip)).await }.await;
    // Only devices call it, never pages: no CORS.
    ClientForm { requester: None, ..f }.answer(result)
}

/// `POST /o/par/` (RFC 9126 §2): the same client authentication as the token endpoint;
/// "201 Created" with the `request_uri` (§2.2).
pub(super) async fn pushed_authorization_request(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async { s.push_authorization_request(f.creds()?, &f.params, client.map(|c| c.ip)).await }.await;
    f.answer_with(result, |pushed| {
        let mut resp = json_no_store(pushed);
        *resp.status_mut() = StatusCode::CREATED;
        resp
    })
}

/// `POST /o/login/wechat-mp/`: a WeChat mini program's `wx.login()` code for our tokens,
/// with the token endpoint's client authentication and answers (RFC 6749 §5).
pub(super) async fn wechat_mini_program(
    State(s): State<Services>,
    client: Option<Extension<ClientAddr>>,
    form: OAuthForm,
) -> Response {
    let f = ClientForm::from(form);
    let result = async {
        let login = MiniProgramLogin::from_params(&f.params)?;
        let issued = s.wechat_mini_program_login(f.creds()?, login, client.map(|c| c.ip)).await?;
        let grant = GrantType::WechatMiniProgram.as_str().to_owned();
        metrics().tokens.get_or_create(&GrantLabels { grant }).inc();
        Ok(issued)
    }
    .await;
    // A mini program is not a web page: no CORS.
    ClientForm { requester: None, ..f }.answer(result)
}

/// Any method but POST on a form endpoint.
pub(super) async fn method_not_allowed() -> Response {
    let mut resp = OAuthResponse::from(OAuthError::invalid_request("use POST")).into_response();
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    resp
}

/// `GET /o/userinfo/` with the token in the `Authorization` header: `Bearer` (RFC 6750 §2.1)
/// or `DPoP` with a proof (RFC 9449 §7.1).
pub(super) async fn userinfo(State(s): State<Services>, HeaderToken(token): HeaderToken, dpop: DpopHeader) -> Response {
    userinfo_for(&s, token, &dpop, "GET").await
}

/// `POST /o/userinfo/`: the token in the header or in a form body (RFC 6750 §2.2), not both.
pub(super) async fn userinfo_post(
    State(s): State<Services>,
    HeaderToken(header): HeaderToken,
    dpop: DpopHeader,
    req: axum::extract::Request,
) -> Response {
    let body_token = match OAuthForm::from_request(req, &()).await {
        Ok(form) => form.params.get("access_token").map(|t| (t.to_owned(), false)),
        Err(_) => None,
    };
    match (header, body_token) {
        (Some(_), Some(_)) => {
            challenge(StatusCode::BAD_REQUEST, Scheme::Bearer, "invalid_request", "send the token in one place only")
        }
        (h, b) => userinfo_for(&s, h.or(b), &dpop, "POST").await,
    }
}

async fn userinfo_for(s: &Services, token: Option<(String, bool)>, dpop: &DpopHeader, method: &str) -> Response {
    let Some((token, dpop_scheme)) = token else {
        // RFC 6750 §3.1: a request without any authentication gets no error code.
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"yaoshi\""));
        return resp;
    };
    let (scheme, token_scheme) = if dpop_scheme {
        match dpop.presented(method) {
            Ok(proof) => (Scheme::Dpop, TokenScheme::Dpop(proof)),
            Err(e) => return challenge(StatusCode::UNAUTHORIZED, Scheme::Dpop, "invalid_dpop_proof", &e.description),
        }
    } else {
        (Scheme::Bearer, TokenScheme::Bearer)
    };
    let mut resp = match s.userinfo(&token, token_scheme).await {
        Ok(info) => json_no_store(info),
        Err(BearerError::InvalidToken) => challenge(
            StatusCode::UNAUTHORIZED,
            scheme,
            "invalid_token",
            "the access token is invalid, expired or revoked, or presented with the wrong scheme",
        ),
        Err(BearerError::InvalidProof(why)) => {
            challenge(StatusCode::UNAUTHORIZED, Scheme::Dpop, "invalid_dpop_proof", &why)
        }
        Err(BearerError::UseDpopNonce) => challenge(
            StatusCode::UNAUTHORIZED,
            Scheme::Dpop,
            "use_dpop_nonce",
            "the DPoP proof must carry the nonce in DPoP-Nonce",
        ),
        Err(BearerError::Unavailable) => {
            OAuthResponse::from(OAuthError::temporarily_unavailable("the service is temporarily unavailable"))
                .into_response()
        }
    };
    if dpop.sent() {
        add_dpop_nonce(s, &mut resp).await;
    }
    resp
}

/// The authentication scheme a resource's challenge names (RFC 6750 §3, RFC 9449 §7.1).
#[derive(Clone, Copy)]
enum Scheme {
    Bearer,
    Dpop,
}

/// An error at a resource: the JSON body and the `WWW-Authenticate` challenge of `scheme`. A
/// DPoP challenge lists the proof algorithms (RFC 9449 §7.1 `algs`).
fn challenge(status: StatusCode, scheme: Scheme, code: &'static str, description: &str) -> Response {
    let mut resp = (status, Json(serde_json::json!({"error": code, "error_description": description}))).into_response();
    // Quoted-string content: no quotes or backslashes (RFC 9110 §5.6.4).
    let said: String = description.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
    let challenge = match scheme {
        Scheme::Bearer => format!("Bearer realm=\"yaoshi\", error=\"{code}\", error_description=\"{said}\""),
        Scheme::Dpop => {
            let algs: Vec<&str> = crate::oauth::dpop::ALGS.iter().map(|a| a.as_str()).collect();
            format!("DPoP error=\"{code}\", error_description=\"{said}\", algs=\"{}\"", algs.join(" "))
        }
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    no_store(&mut resp);
    resp
}
