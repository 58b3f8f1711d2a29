//! A fake WeChat (open.weixin.qq.com and api.weixin.qq.com in one server) speaking the real
//! formats: the authorization endpoints of website QR login (`/connect/qrconnect`,
//! `snsapi_login`) and of official accounts (`/connect/oauth2/authorize`, `snsapi_base` or
//! `snsapi_userinfo`), the token request as a GET with `appid`/`secret`/`code`/`grant_type`,
//! and `/sns/userinfo` with `access_token` and `openid` in the query. Errors are WeChat's:
//! HTTP 200 with `errcode` and `errmsg`.
//!
//! Mini programs get codes from `wx.login()` ([`FakeWechat::js_code`] plays it) and trade them
//! at `/sns/jscode2session` for `openid`, `session_key` and, once bound, `unionid`.
//!
//! Every application of the fake belongs to one Open Platform account: a person has one
//! `openid` per application and, once the application is bound (`bound`), one `unionid`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

/// Who signs in at the fake, and how it answers.
#[derive(Clone, Debug)]
pub struct Person {
    /// Names the person: their openids and unionid derive from it.
    pub name: String,
    /// The applications are bound to the Open Platform account: `unionid` is sent.
    pub bound: bool,
    /// The token request answers this `errcode` (with HTTP 200).
    pub token_errcode: Option<i64>,
    /// The user-info request answers this `errcode` (with HTTP 200).
    pub userinfo_errcode: Option<i64>,
}

impl Person {
    /// A bound person named `name` for whom everything works.
    pub fn new(name: &str) -> Self {
        Self { name: name.into(), bound: true, token_errcode: None, userinfo_errcode: None }
    }

    /// The person's openid in application `appid`.
    pub fn openid(&self, appid: &str) -> String {
        format!("o{}-{}", appid.replace('-', ""), self.name)
    }

    /// The person's unionid (the same in every application).
    pub fn unionid(&self) -> String {
        format!("union-{}", self.name)
    }
}

struct Grant {
    appid: String,
    person: Person,
}

struct Inner {
    /// appid -> secret.
    apps: HashMap<String, String>,
    person: Mutex<Person>,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Grant>>,
    js_codes: Mutex<HashMap<String, Grant>>,
    js_exchanges: Mutex<usize>,
}

/// A running fake WeChat.
#[derive(Clone)]
pub struct FakeWechat {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    inner: Arc<Inner>,
}

fn errcode(code: i64, msg: &str) -> Response {
    // WeChat answers its errors with HTTP 200.
    Json(json!({"errcode": code, "errmsg": msg})).into_response()
}

impl FakeWechat {
    /// Starts the fake with these applications (appid, secret).
    pub async fn start(apps: &[(&str, &str)]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let inner = Arc::new(Inner {
            apps: apps.iter().map(|(a, s)| ((*a).to_owned(), (*s).to_owned())).collect(),
            person: Mutex::new(Person::new("nobody")),
            codes: Mutex::default(),
            tokens: Mutex::default(),
            js_codes: Mutex::default(),
            js_exchanges: Mutex::default(),
        });
        let app = Router::new()
            .route("/connect/qrconnect", get(qrconnect))
            .route("/connect/oauth2/authorize", get(official_authorize))
            .route("/sns/oauth2/access_token", get(access_token))
            .route("/sns/userinfo", get(userinfo))
            .route("/sns/jscode2session", get(jscode2session))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, inner }
    }

    /// Who signs in next.
    pub fn set(&self, p: Person) {
        *self.inner.person.lock().unwrap() = p;
    }

    /// What `wx.login()` gives mini program `appid` for the current person: a code for
    /// `jscode2session`, once.
    pub fn js_code(&self, appid: &str) -> String {
        let code = format!("js-{}", yaoshi::crypto::random_id());
        let grant = Grant { appid: appid.to_owned(), person: self.inner.person.lock().unwrap().clone() };
        self.inner.js_codes.lock().unwrap().insert(code.clone(), grant);
        code
    }

    /// How many `jscode2session` requests reached the fake.
    pub fn js_code_exchanges(&self) -> usize {
        *self.inner.js_exchanges.lock().unwrap()
    }
}

type Q = Query<HashMap<String, String>>;

/// The person approves at once: back to `redirect_uri` with `code` and `state`.
fn approve(s: &Inner, q: &HashMap<String, String>, scopes: &[&str]) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    if !s.apps.contains_key(get("appid")) || get("response_type") != "code" || !scopes.contains(&get("scope")) {
        return (StatusCode::BAD_REQUEST, "参数错误").into_response();
    }
    let Ok(mut url) = url::Url::parse(get("redirect_uri")) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri 参数错误").into_response();
    };
    let code = yaoshi::crypto::random_id();
    let grant = Grant { appid: get("appid").to_owned(), person: s.person.lock().unwrap().clone() };
    s.codes.lock().unwrap().insert(code.clone(), grant);
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", get("state"));
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

async fn qrconnect(State(s): State<Arc<Inner>>, Query(q): Q) -> Response {
    approve(&s, &q, &["snsapi_login"])
}

async fn official_authorize(State(s): State<Arc<Inner>>, Query(q): Q) -> Response {
    approve(&s, &q, &["snsapi_base", "snsapi_userinfo"])
}

/// What the token request and `jscode2session` check alike: the application's secret,
/// `grant_type`, and a code of `codes` issued to that application (taken: it works once). The
/// person's `token_errcode` answers instead. An error is WeChat's `errcode` and `errmsg`.
fn redeem(
    s: &Inner,
    q: &HashMap<String, String>,
    code_param: &str,
    codes: &Mutex<HashMap<String, Grant>>,
) -> Result<Grant, (i64, &'static str)> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    if s.apps.get(get("appid")).map(String::as_str) != Some(get("secret")) {
        return Err((40125, "invalid appsecret"));
    }
    if get("grant_type") != "authorization_code" {
        return Err((40002, "invalid grant_type"));
    }
    let Some(grant) = codes.lock().unwrap().remove(get(code_param)).filter(|g| g.appid == get("appid")) else {
        return Err((40029, "invalid code"));
    };
    match grant.person.token_errcode {
        Some(code) => Err((code, "system error")),
        None => Ok(grant),
    }
}

async fn access_token(State(s): State<Arc<Inner>>, Query(q): Q) -> Response {
    let grant = match redeem(&s, &q, "code", &s.codes) {
        Ok(g) => g,
        Err((code, message)) => return errcode(code, message),
    };
    let token = yaoshi::crypto::random_id();
    let mut body = json!({
        "access_token": token,
        "expires_in": 7200,
        "refresh_token": yaoshi::crypto::random_id(),
        "openid": grant.person.openid(&grant.appid),
        "scope": "snsapi_userinfo",
    });
    if grant.person.bound {
        body["unionid"] = json!(grant.person.unionid());
    }
    s.tokens.lock().unwrap().insert(token, grant);
    Json(body).into_response()
}

async fn userinfo(State(s): State<Arc<Inner>>, Query(q): Q) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let tokens = s.tokens.lock().unwrap();
    let Some(grant) = tokens.get(get("access_token")) else {
        return errcode(40001, "invalid credential, access_token is invalid or not latest");
    };
    let p = &grant.person;
    if let Some(code) = p.userinfo_errcode {
        return errcode(code, "invalid openid");
    }
    if get("openid") != p.openid(&grant.appid) {
        return errcode(40003, "invalid openid");
    }
    let mut body: Value = json!({
        "openid": p.openid(&grant.appid),
        "nickname": format!("微信用户{}", p.name),
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": "",
        "privilege": [],
    });
    if p.bound {
        body["unionid"] = json!(p.unionid());
    }
    Json(body).into_response()
}

/// A mini program's code for the person's ids in it (`token_errcode` answers instead).
async fn jscode2session(State(s): State<Arc<Inner>>, Query(q): Q) -> Response {
    *s.js_exchanges.lock().unwrap() += 1;
    let grant = match redeem(&s, &q, "js_code", &s.js_codes) {
        Ok(g) => g,
        Err((code, message)) => return errcode(code, message),
    };
    let mut body = json!({"openid": grant.person.openid(&grant.appid), "session_key": "c2Vzc2lvbi1rZXk="});
    if grant.person.bound {
        body["unionid"] = json!(grant.person.unionid());
    }
    Json(body).into_response()
}
