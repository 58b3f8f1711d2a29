//! Token-endpoint helpers shared by the OAuth integration tests: a client as it authenticates,
//! requests and their answers, authorization codes stored as the browser flow would.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::{header::HeaderMap, RequestBuilder};
use serde_json::Value;
use yaoshi::{
    crypto::{prefix, random_id, random_token, sha256_hex},
    oauth::{
        model::{AuthCode, GrantType},
        scope::Scope,
    },
    service::clients::ClientSpec,
    store::{NewRefresh, NewTokens},
};

use super::{Backend, TestServer};
use GrantType::{AuthorizationCode, ClientCredentials, Password, RefreshToken};

/// The redirect URI every test client registers.
pub const URI: &str = "https://app.example.com/cb";
/// Alice's (and bob's) password.
pub const PW: &str = "correct horse battery";
/// RFC 7636 appendix B: a verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The S256 challenge of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Every scope the server offers by default, as a token response prints them.
pub const ALL_SCOPES: &str = "email groups openid phone profile read write";

/// One HTTP answer.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as sent.
    pub raw: String,
    /// The body as JSON (`Null` if it is not).
    pub json: Value,
}

impl Reply {
    /// A header's value, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 6749 §5.2 error: status, code, a description, never cached.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.json["error"].as_str()), (status, Some(code)), "{}", self.raw);
        assert!(self.json["error_description"].is_string(), "{}", self.raw);
        assert_eq!(self.header("cache-control"), Some("no-store"), "{}", self.raw);
    }

    /// Asserts a 200 and returns the string field `key`.
    #[track_caller]
    pub fn field(&self, key: &str) -> String {
        assert_eq!(self.status, 200, "{}", self.raw);
        self.json[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.raw)).to_owned()
    }
}

/// Sends a request and collects its answer.
pub async fn send(req: RequestBuilder) -> Reply {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.text().await.expect("body");
    let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply { status, headers, raw, json }
}

/// An `Authorization: Basic` value with both halves form-urlencoded (RFC 6749 §2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
}

/// A registered client and the credentials it sends in the body.
#[derive(Clone)]
pub struct App {
    /// `client_id`.
    pub id: String,
    /// `client_secret`, for confidential clients.
    pub secret: Option<String>,
}

impl App {
    /// `client_secret` as sent in a form: empty for a public client.
    pub fn secret(&self) -> &str {
        self.secret.as_deref().unwrap_or_default()
    }

    /// `client_id` (and `client_secret` if confidential) followed by `extra`.
    pub fn form<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![("client_id", self.id.as_str())];
        form.extend(self.secret.as_deref().map(|s| ("client_secret", s)));
        form.extend_from_slice(extra);
        form
    }
}

/// POSTs a form to `path`.
pub async fn post(srv: &TestServer, path: &str, form: &[(&str, &str)]) -> Reply {
    send(srv.http.post(srv.url(path)).form(form)).await
}

/// POSTs a form to `path` with an `Authorization` header.
pub async fn post_basic(srv: &TestServer, path: &str, auth: &str, form: &[(&str, &str)]) -> Reply {
    send(srv.http.post(srv.url(path)).header("authorization", auth).form(form)).await
}

/// POSTs `app`'s body credentials and `extra` to `/o/token/`.
pub async fn token(srv: &TestServer, app: &App, extra: &[(&str, &str)]) -> Reply {
    post(srv, "/o/token/", &app.form(extra)).await
}

/// Registers a client redirecting to [`URI`] with `grants`.
pub async fn register(srv: &TestServer, public: bool, grants: &[GrantType]) -> App {
    let spec = ClientSpec {
        name: "App".into(),
        public,
        redirect_uris: vec![URI.into()],
        grants: grants.to_vec(),
        ..Default::default()
    };
    let (id, secret) = srv.client(spec).await;
    App { id, secret }
}

/// A server with user `alice` and a confidential client allowed every token-endpoint grant.
pub async fn setup(backend: Backend) -> (TestServer, App, i64) {
    let srv = TestServer::start(backend).await;
    let alice = srv.user("alice", PW).await;
    let app = register(&srv, false, &[AuthorizationCode, Password, ClientCredentials, RefreshToken]).await;
    (srv, app, alice)
}

/// A password grant for alice; returns (access_token, refresh_token).
pub async fn password(srv: &TestServer, app: &App, scope: &str) -> (String, String) {
    let r =
        token(srv, app, &[("grant_type", "password"), ("username", "alice"), ("password", PW), ("scope", scope)]).await;
    (r.field("access_token"), r.field("refresh_token"))
}

/// `grant_type=refresh_token` for `app`.
pub async fn refresh(srv: &TestServer, app: &App, refresh_token: &str) -> Reply {
    token(srv, app, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

/// An unexpired code for `client_id` and `user`, sent to [`URI`] named explicitly.
pub fn code_for(srv: &TestServer, client_id: &str, user: i64) -> AuthCode {
    let now = srv.services.now();
    AuthCode {
        client_id: client_id.into(),
        user_id: user,
        redirect_uri: URI.into(),
        redirect_uri_explicit: true,
        scope: Scope::parse("openid profile email").unwrap(),
        code_challenge: None,
        nonce: None,
        auth_time: now,
        session_hash: None,
        expires_at: now + 60,
    }
}

/// Stores `code` as the browser flow would; returns the plaintext code.
pub async fn insert_code(srv: &TestServer, code: &AuthCode) -> String {
    let plain = random_token(prefix::CODE);
    srv.store().insert_auth_code(&sha256_hex(&plain), code, srv.services.now()).await.expect("insert code");
    plain
}

/// `grant_type=authorization_code` for `app`, plus `extra`.
pub async fn redeem(srv: &TestServer, app: &App, code: &str, extra: &[(&str, &str)]) -> Reply {
    token(srv, app, &[&[("grant_type", "authorization_code"), ("code", code)], extra].concat()).await
}

/// Whether `/o/introspect/` calls the token active; an inactive answer must be exactly
/// `{"active": false}` (RFC 7662 §2.2).
pub async fn active(srv: &TestServer, app: &App, token: &str) -> bool {
    let r = post(srv, "/o/introspect/", &app.form(&[("token", token)])).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    if r.json["active"] == Value::Bool(true) {
        return true;
    }
    assert_eq!(r.json, serde_json::json!({"active": false}));
    false
}

/// An access and a refresh token for `user` that expired a second ago, stored directly.
pub async fn expired_tokens(srv: &TestServer, app: &App, user: i64) -> (String, String) {
    let now = srv.services.now();
    let (access, refresh) = (random_token(prefix::ACCESS), random_token(prefix::REFRESH));
    let scope = Scope::parse("openid profile").unwrap();
    let tokens = NewTokens {
        family_id: Some(random_id()),
        client_id: app.id.clone(),
        user_id: Some(user),
        scope: scope.clone(),
        access_hash: sha256_hex(&access),
        access_expires_at: now - 1,
        refresh: Some(NewRefresh { hash: sha256_hex(&refresh), expires_at: now - 1, scope, jkt: None }),
        access_jkt: None,
        now: now - 3600,
    };
    srv.store().insert_tokens(&tokens).await.expect("insert tokens");
    (access, refresh)
}
