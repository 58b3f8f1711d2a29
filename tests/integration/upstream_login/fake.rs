//! A tiny OpenID Connect provider the tests control: it approves every authorization request
//! at once and can be told to answer wrongly (another issuer, another nonce, `alg: none`, an
//! error), plus listeners that refuse or never answer.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Form, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::rngs::OsRng;
use serde_json::{json, Value};
use yaoshi::oauth::jose::{Alg, JwkSet, SigningKey};

/// How the fake answers the next flows.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The user's `sub`.
    pub sub: String,
    /// `preferred_username`.
    pub username: String,
    /// `email`, if any.
    pub email: Option<String>,
    /// `email_verified`.
    pub email_verified: bool,
    /// The callback's `iss`: `None` the real issuer, `Some("")` left out, else this value.
    pub iss_param: Option<String>,
    /// The ID Token's `iss`, if not the real one.
    pub token_iss: Option<String>,
    /// The ID Token's `nonce`, if not the one requested.
    pub nonce: Option<String>,
    /// Send the ID Token unsigned (`alg: none`).
    pub alg_none: bool,
    /// Answer the authorization request with this `error`.
    pub error: Option<String>,
    /// How long the token endpoint waits before it answers (a slow but healthy provider).
    pub token_delay: std::time::Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            sub: "fake-user-1".into(),
            username: "fay".into(),
            email: Some("fay@fake.example".into()),
            email_verified: false,
            iss_param: None,
            token_iss: None,
            nonce: None,
            alg_none: false,
            error: None,
            token_delay: std::time::Duration::ZERO,
        }
    }
}

struct Inner {
    issuer: String,
    key: SigningKey,
    behaviour: Mutex<Behaviour>,
    /// code -> (nonce, client_id)
    codes: Mutex<HashMap<String, (String, String)>>,
}

/// A running fake provider.
#[derive(Clone)]
pub struct Fake {
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
    inner: Arc<Inner>,
}

impl Fake {
    /// Starts the fake on a loopback port.
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            key: SigningKey::generate(Alg::ES256, "fake-k1", &mut OsRng),
            behaviour: Mutex::new(Behaviour::default()),
            codes: Mutex::default(),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { issuer, inner }
    }

    /// Sets how the next flows are answered.
    pub fn set(&self, b: Behaviour) {
        *self.inner.behaviour.lock().unwrap() = b;
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "extra_member": {"ignored": true}
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<JwkSet> {
    Json(JwkSet { keys: vec![s.key.public_jwk()] })
}

async fn authorize(State(s): State<Arc<Inner>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let b = s.behaviour.lock().unwrap().clone();
    let (Some(redirect), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri or state").into_response();
    };
    let mut url = url::Url::parse(redirect).expect("redirect_uri");
    {
        let mut pairs = url.query_pairs_mut();
        match &b.error {
            Some(e) => pairs.append_pair("error", e),
            None => {
                let code = yaoshi::crypto::random_id();
                let nonce = q.get("nonce").cloned().unwrap_or_default();
                let client = q.get("client_id").cloned().unwrap_or_default();
                s.codes.lock().unwrap().insert(code.clone(), (nonce, client));
                pairs.append_pair("code", &code)
            }
        };
        pairs.append_pair("state", state);
        match b.iss_param.as_deref() {
            None => {
                pairs.append_pair("iss", &s.issuer);
            }
            Some("") => {}
            Some(other) => {
                pairs.append_pair("iss", other);
            }
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

fn claims(s: &Inner, b: &Behaviour) -> Value {
    json!({
        "sub": b.sub,
        "preferred_username": b.username,
        "email": b.email,
        "email_verified": b.email_verified,
        "iss": s.issuer,
    })
}

async fn token(State(s): State<Arc<Inner>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let b = s.behaviour.lock().unwrap().clone();
    tokio::time::sleep(b.token_delay).await;
    let found = form.get("code").and_then(|c| s.codes.lock().unwrap().remove(c));
    let Some((nonce, client)) = found else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut c = claims(&s, &b);
    c["iss"] = json!(b.token_iss.clone().unwrap_or_else(|| s.issuer.clone()));
    c["aud"] = json!(client);
    c["nonce"] = json!(b.nonce.clone().unwrap_or(nonce));
    c["iat"] = json!(now);
    c["exp"] = json!(now + 300);
    let id_token = if b.alg_none {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", enc(&json!({"alg": "none", "typ": "JWT"})), enc(&c))
    } else {
        s.key.sign("JWT", &c, &mut OsRng)
    };
    Json(json!({"access_token": "fake-access", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

async fn userinfo(State(s): State<Arc<Inner>>) -> Json<Value> {
    let b = s.behaviour.lock().unwrap().clone();
    Json(claims(&s, &b))
}

/// An address where nothing listens (connections are refused).
pub async fn closed_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}

/// An address that accepts connections and never answers.
pub async fn silent_listener() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = l.accept().await {
            held.push(socket);
        }
    });
    addr
}
