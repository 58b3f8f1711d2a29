//! Fakes of QQ Connect, DingTalk, Feishu, WeCom and Alipay in one loopback server, each under
//! its own prefix (`/qq`, `/dingtalk`, `/feishu`, `/wecom`, `/alipay`) with the provider's
//! real paths, parameter names, answer formats and errors below it: QQ's JSONP
//! `callback( {...} );`, DingTalk's JSON bodies and `x-acs-dingtalk-access-token` header,
//! Feishu's app token before the user token, WeCom's `gettoken` and `getuserinfo`, and
//! Alipay's gateway with RSA2 signatures checked on every request and made on every answer.
//! Each authorization endpoint approves at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Form, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use rsa::{pkcs8::EncodePrivateKey as _, pkcs8::EncodePublicKey as _, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Our credentials at every fake provider.
pub const CLIENT_ID: &str = "our-app-id";
pub const CLIENT_SECRET: &str = "our-app-secret";
/// The WeCom application's agent id.
pub const AGENT_ID: &str = "1000002";

/// Who signs in, and what goes wrong.
#[derive(Clone, Debug, Default)]
pub struct Person {
    /// Their ids derive from it.
    pub name: String,
    /// Alipay signs its answers with a key that is not the one we were given.
    pub alipay_wrong_key: bool,
}

impl Person {
    /// A person for whom everything works.
    pub fn new(name: &str) -> Self {
        Self { name: name.into(), ..Self::default() }
    }
}

struct Inner {
    person: Mutex<Person>,
    /// code -> person
    codes: Mutex<HashMap<String, Person>>,
    /// token -> person
    tokens: Mutex<HashMap<String, Person>>,
    /// Feishu app access tokens issued.
    app_tokens: Mutex<Vec<String>>,
    /// Alipay's own key, and another one.
    alipay_key: RsaPrivateKey,
    other_key: RsaPrivateKey,
    /// Our application's public key, as registered at Alipay.
    our_public: RsaPublicKey,
}

/// The running fakes.
#[derive(Clone)]
pub struct Platforms {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Our Alipay application's private key (PKCS#8, base64 DER).
    pub our_private_key: String,
    /// Alipay's public key (SubjectPublicKeyInfo, base64 DER).
    pub alipay_public_key: String,
    inner: Arc<Inner>,
}

type Q = Query<HashMap<String, String>>;
type S = State<Arc<Inner>>;

fn arg<'a>(q: &'a HashMap<String, String>, k: &str) -> &'a str {
    q.get(k).map(String::as_str).unwrap_or_default()
}

impl Platforms {
    /// Starts the fakes (and makes the Alipay keys).
    pub async fn start() -> Self {
        let mut rng = rand::rngs::OsRng;
        let ours = RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let alipay_key = RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let other_key = RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let our_private_key = STANDARD.encode(ours.to_pkcs8_der().expect("der").as_bytes());
        let alipay_public_key =
            STANDARD.encode(alipay_key.to_public_key().to_public_key_der().expect("der").as_bytes());
        let inner = Arc::new(Inner {
            person: Mutex::new(Person::new("nobody")),
            codes: Mutex::default(),
            tokens: Mutex::default(),
            app_tokens: Mutex::default(),
            alipay_key,
            other_key,
            our_public: ours.to_public_key(),
        });
        let app = Router::new()
            .route("/qq/oauth2.0/authorize", get(qq_authorize))
            .route("/qq/oauth2.0/token", get(qq_token))
            .route("/qq/oauth2.0/me", get(qq_me))
            .route("/qq/user/get_user_info", get(qq_user_info))
            .route("/dingtalk/oauth2/auth", get(dingtalk_authorize))
            .route("/dingtalk/v1.0/oauth2/userAccessToken", post(dingtalk_token))
            .route("/dingtalk/v1.0/contact/users/me", get(dingtalk_me))
            .route("/feishu/open-apis/authen/v1/authorize", get(feishu_authorize))
            .route("/feishu/open-apis/auth/v3/app_access_token/internal", post(feishu_app_token))
            .route("/feishu/open-apis/authen/v1/oidc/access_token", post(feishu_user_token))
            .route("/feishu/open-apis/authen/v1/user_info", get(feishu_user_info))
            .route("/wecom/wwlogin/sso/login", get(wecom_authorize))
            .route("/wecom/cgi-bin/gettoken", get(wecom_gettoken))
            .route("/wecom/cgi-bin/auth/getuserinfo", get(wecom_getuserinfo))
            .route("/alipay/oauth2/publicAppAuthorize.htm", get(alipay_authorize))
            .route("/alipay/gateway.do", post(alipay_gateway))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, our_private_key, alipay_public_key, inner }
    }

    /// Who signs in next.
    pub fn set(&self, p: Person) {
        *self.inner.person.lock().unwrap() = p;
    }
}

/// Approves: back to `redirect_uri` with the code under `code_param` (and `extra`).
fn approve(s: &Inner, redirect_uri: &str, state: &str, code_param: &str, extra: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response();
    };
    let code = yaoshi::crypto::random_id();
    s.codes.lock().unwrap().insert(code.clone(), s.person.lock().unwrap().clone());
    url.query_pairs_mut().extend_pairs(extra).append_pair(code_param, &code).append_pair("state", state);
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

fn redeem(s: &Inner, code: &str) -> Option<String> {
    let person = s.codes.lock().unwrap().remove(code)?;
    let token = yaoshi::crypto::random_id();
    s.tokens.lock().unwrap().insert(token.clone(), person);
    Some(token)
}

fn holder(s: &Inner, token: &str) -> Option<Person> {
    s.tokens.lock().unwrap().get(token).cloned()
}

// QQ Connect.

fn jsonp(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/x-javascript")], format!("callback( {v} );\n")).into_response()
}

async fn qq_authorize(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "response_type") != "code" || arg(&q, "client_id") != CLIENT_ID || arg(&q, "scope") != "get_user_info" {
        return (StatusCode::BAD_REQUEST, "client_id or scope").into_response();
    }
    approve(&s, arg(&q, "redirect_uri"), arg(&q, "state"), "code", &[])
}

async fn qq_token(State(s): S, Query(q): Q) -> Response {
    let known = arg(&q, "client_id") == CLIENT_ID && arg(&q, "client_secret") == CLIENT_SECRET;
    let token = (known && arg(&q, "grant_type") == "authorization_code").then(|| redeem(&s, arg(&q, "code"))).flatten();
    match token {
        Some(t) if arg(&q, "fmt") == "json" => {
            Json(json!({"access_token": t, "expires_in": "7776000", "refresh_token": "r"})).into_response()
        }
        Some(t) => format!("access_token={t}&expires_in=7776000&refresh_token=r").into_response(),
        None => jsonp(json!({"error": 100019, "error_description": "code to access token error"})),
    }
}

async fn qq_me(State(s): S, Query(q): Q) -> Response {
    let Some(p) = holder(&s, arg(&q, "access_token")) else {
        return jsonp(json!({"error": 100016, "error_description": "access token check failed"}));
    };
    let mut me = json!({"client_id": CLIENT_ID, "openid": format!("QQOPENID{}", p.name)});
    if arg(&q, "unionid") == "1" {
        me["unionid"] = json!(format!("QQUNION{}", p.name));
    }
    jsonp(me)
}

async fn qq_user_info(State(s): S, Query(q): Q) -> Response {
    let p = holder(&s, arg(&q, "access_token"));
    match p {
        Some(p) if arg(&q, "oauth_consumer_key") == CLIENT_ID && arg(&q, "openid") == format!("QQOPENID{}", p.name) => {
            Json(json!({"ret": 0, "msg": "", "is_lost": 0, "nickname": format!("qq-{}", p.name), "gender": "男", "figureurl": ""}))
                .into_response()
        }
        _ => Json(json!({"ret": -1, "msg": "client request's parameters are invalid, invalid openid"})).into_response(),
    }
}

// DingTalk.

async fn dingtalk_authorize(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "client_id") != CLIENT_ID || arg(&q, "response_type") != "code" || arg(&q, "scope") != "openid" {
        return (StatusCode::BAD_REQUEST, "client_id, response_type or scope").into_response();
    }
    approve(&s, arg(&q, "redirect_uri"), arg(&q, "state"), "authCode", &[])
}

fn dingtalk_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message, "requestid": "7C5F-1"}))).into_response()
}

async fn dingtalk_token(State(s): S, Json(body): Json<Value>) -> Response {
    if body["clientId"] != CLIENT_ID
        || body["clientSecret"] != CLIENT_SECRET
        || body["grantType"] != "authorization_code"
    {
        return dingtalk_error(StatusCode::BAD_REQUEST, "invalidClientIdOrSecret", "无效的clientId或者clientSecret");
    }
    match redeem(&s, body["code"].as_str().unwrap_or_default()) {
        Some(t) => {
            Json(json!({"expireIn": 7200, "accessToken": t, "refreshToken": "r", "corpId": "ding0"})).into_response()
        }
        None => dingtalk_error(StatusCode::BAD_REQUEST, "invalidParameter.authCode.notFound", "不合法的临时授权码"),
    }
}

async fn dingtalk_me(State(s): S, headers: HeaderMap) -> Response {
    let token = headers.get("x-acs-dingtalk-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match holder(&s, token) {
        Some(p) => Json(json!({
            "nick": format!("ding-{}", p.name),
            "avatarUrl": "",
            "mobile": "13800000000",
            "openId": format!("dingopen{}", p.name),
            "unionId": format!("dingunion{}", p.name),
            "email": format!("{}@ding.example", p.name),
            "stateCode": "86"
        }))
        .into_response(),
        None => dingtalk_error(StatusCode::UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token"),
    }
}

// Feishu.

async fn feishu_authorize(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "app_id") != CLIENT_ID {
        return (StatusCode::BAD_REQUEST, "app_id").into_response();
    }
    approve(&s, arg(&q, "redirect_uri"), arg(&q, "state"), "code", &[])
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

async fn feishu_app_token(State(s): S, Json(body): Json<Value>) -> Response {
    if body["app_id"] != CLIENT_ID || body["app_secret"] != CLIENT_SECRET {
        return Json(json!({"code": 10014, "msg": "app secret invalid"})).into_response();
    }
    let t = format!("t-{}", yaoshi::crypto::random_id());
    s.app_tokens.lock().unwrap().push(t.clone());
    Json(json!({"code": 0, "msg": "ok", "app_access_token": t, "expire": 7200})).into_response()
}

async fn feishu_user_token(State(s): S, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !s.app_tokens.lock().unwrap().contains(&bearer(&headers)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 20014, "msg": "The app access token passed is invalid"})),
        )
            .into_response();
    }
    match (body["grant_type"] == "authorization_code")
        .then(|| redeem(&s, body["code"].as_str().unwrap_or_default()))
        .flatten()
    {
        Some(t) => Json(json!({"code": 0, "msg": "success", "data": {
            "access_token": format!("u-{t}"), "token_type": "Bearer", "expires_in": 6900,
            "refresh_token": "ur-x", "refresh_expires_in": 2592000, "scope": ""
        }}))
        .into_response(),
        None => (StatusCode::BAD_REQUEST, Json(json!({"code": 20003, "msg": "The authorization code is not found"})))
            .into_response(),
    }
}

async fn feishu_user_info(State(s): S, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    match token.strip_prefix("u-").and_then(|t| holder(&s, t)) {
        Some(p) => Json(json!({"code": 0, "msg": "success", "data": {
            "name": format!("飞书{}", p.name), "en_name": format!("lark-{}", p.name), "avatar_url": "",
            "open_id": format!("ou_{}", p.name), "union_id": format!("on_{}", p.name),
            "tenant_key": "736588c9260f175d", "user_id": "5d9bdxxx"
        }}))
        .into_response(),
        None => {
            (StatusCode::BAD_REQUEST, Json(json!({"code": 20005, "msg": "The user access token passed is invalid"})))
                .into_response()
        }
    }
}

// WeCom.

async fn wecom_authorize(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "login_type") != "CorpApp" || arg(&q, "appid") != CLIENT_ID || arg(&q, "agentid") != AGENT_ID {
        return (StatusCode::BAD_REQUEST, "参数错误").into_response();
    }
    approve(&s, arg(&q, "redirect_uri"), arg(&q, "state"), "code", &[])
}

async fn wecom_gettoken(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "corpid") != CLIENT_ID || arg(&q, "corpsecret") != CLIENT_SECRET {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"})).into_response();
    }
    let t = yaoshi::crypto::random_id();
    s.app_tokens.lock().unwrap().push(t.clone());
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": t, "expires_in": 7200})).into_response()
}

async fn wecom_getuserinfo(State(s): S, Query(q): Q) -> Response {
    if !s.app_tokens.lock().unwrap().iter().any(|t| t == arg(&q, "access_token")) {
        return Json(json!({"errcode": 40014, "errmsg": "invalid access_token"})).into_response();
    }
    match s.codes.lock().unwrap().remove(arg(&q, "code")) {
        Some(p) => Json(json!({"errcode": 0, "errmsg": "ok", "userid": format!("wc{}", p.name), "user_ticket": "t"}))
            .into_response(),
        None => Json(json!({"errcode": 40029, "errmsg": "invalid code"})).into_response(),
    }
}

// Alipay.

async fn alipay_authorize(State(s): S, Query(q): Q) -> Response {
    if arg(&q, "app_id") != CLIENT_ID || arg(&q, "scope") != "auth_user" {
        return (StatusCode::BAD_REQUEST, "app_id or scope").into_response();
    }
    let extra = [("app_id", CLIENT_ID), ("source", "alipay_wallet"), ("scope", "auth_user")];
    approve(&s, arg(&q, "redirect_uri"), arg(&q, "state"), "auth_code", &extra)
}

/// Alipay's signing rule, written out here on its own: sorted `k=v` pairs without `sign`
/// and empty values, SHA256withRSA.
fn alipay_content(form: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = form.keys().filter(|k| *k != "sign" && !form[*k].is_empty()).collect();
    keys.sort();
    keys.iter().map(|k| format!("{k}={}", form[*k])).collect::<Vec<_>>().join("&")
}

fn alipay_answer(s: &Inner, key: &str, node: Value, wrong_key: bool) -> Response {
    let text = node.to_string();
    let signer = if wrong_key { &s.other_key } else { &s.alipay_key };
    let sig = signer.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(text.as_bytes())).expect("sign");
    let body = format!("{{\"{key}\":{text},\"sign\":\"{}\"}}", STANDARD.encode(sig));
    ([(header::CONTENT_TYPE, "text/html;charset=utf-8")], body).into_response()
}

fn alipay_error(s: &Inner, sub_code: &str, sub_msg: &str) -> Response {
    let node = json!({"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg});
    alipay_answer(s, "error_response", node, false)
}

async fn alipay_gateway(State(s): S, Form(form): Form<HashMap<String, String>>) -> Response {
    let sig = STANDARD.decode(arg(&form, "sign")).unwrap_or_default();
    let digest = Sha256::digest(alipay_content(&form).as_bytes());
    if arg(&form, "sign_type") != "RSA2" || s.our_public.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig).is_err() {
        return alipay_error(&s, "isv.invalid-signature", "验签出错");
    }
    let ts = arg(&form, "timestamp");
    let well_formed = ts.len() == 19 && ts.as_bytes()[10] == b' ' && ts.as_bytes()[4] == b'-';
    if arg(&form, "app_id") != CLIENT_ID
        || arg(&form, "version") != "1.0"
        || arg(&form, "charset") != "utf-8"
        || !well_formed
    {
        return alipay_error(&s, "isv.invalid-app-id", "无效的AppID参数");
    }
    match arg(&form, "method") {
        "alipay.system.oauth.token" => {
            let person = (arg(&form, "grant_type") == "authorization_code")
                .then(|| s.codes.lock().unwrap().remove(arg(&form, "code")))
                .flatten();
            let Some(p) = person else { return alipay_error(&s, "isv.code-invalid", "授权码code无效") };
            let token = format!("authusrB{}", yaoshi::crypto::random_id());
            s.tokens.lock().unwrap().insert(token.clone(), p.clone());
            let node = json!({
                "user_id": format!("2088{}", p.name), "open_id": format!("074a{}", p.name),
                "access_token": token, "expires_in": 1296000, "refresh_token": "authusrR", "re_expires_in": 2592000,
                "auth_start": "2026-01-01 08:00:00"
            });
            alipay_answer(&s, "alipay_system_oauth_token_response", node, p.alipay_wrong_key)
        }
        "alipay.user.info.share" => {
            let Some(p) = holder(&s, arg(&form, "auth_token")) else {
                let node = json!({"code": "20001", "msg": "Insufficient Token Permissions", "sub_code": "aop.invalid-auth-token", "sub_msg": "无效的访问令牌"});
                return alipay_answer(&s, "alipay_user_info_share_response", node, false);
            };
            let node = json!({
                "code": "10000", "msg": "Success", "user_id": format!("2088{}", p.name),
                "open_id": format!("074a{}", p.name), "nick_name": format!("ali-{}", p.name), "avatar": ""
            });
            alipay_answer(&s, "alipay_user_info_share_response", node, p.alipay_wrong_key)
        }
        _ => alipay_error(&s, "isv.invalid-method", "不存在的方法名"),
    }
}
