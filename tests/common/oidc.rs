//! OpenID Connect helpers: a browser that signs in and runs the code flow over HTTP, and the
//! JWKS and ID Token checks a relying party makes.

use reqwest::header::LOCATION;
use serde_json::Value;
use yaoshi::{
    oauth::{
        jose::{self, Alg, Expect, Header, JwkSet},
        model::GrantType,
    },
    service::clients::ClientSpec,
    store::LogoutSettings,
};

pub use super::oauth::App;
use super::{browser, oauth::PW, TestServer};

/// The relying party's redirect URI.
pub const RP_URI: &str = "https://rp.example/cb";

/// Registers the confidential trusted client `rp` (code and refresh grants).
pub async fn register_rp(t: &TestServer) -> App {
    register_rp_with(t, LogoutSettings::default()).await
}

/// [`register_rp`] with logout URIs.
pub async fn register_rp_with(t: &TestServer, logout: LogoutSettings) -> App {
    let (id, secret) = t
        .client(ClientSpec {
            name: "Relying Party".into(),
            redirect_uris: vec![RP_URI.into()],
            grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            trusted: true,
            client_id: Some("rp".into()),
            logout,
            ..ClientSpec::default()
        })
        .await;
    App { id, secret: Some(secret.expect("confidential")) }
}

/// Registers the public trusted client `spa` (PKCE, no secret).
pub async fn register_spa(t: &TestServer) -> App {
    t.client(ClientSpec {
        name: "SPA".into(),
        public: true,
        redirect_uris: vec![RP_URI.into()],
        trusted: true,
        client_id: Some("spa".into()),
        ..ClientSpec::default()
    })
    .await;
    App { id: "spa".into(), secret: None }
}

/// Signs `username` in through the login form, as a browser without JavaScript does, and
/// returns that browser.
pub async fn signed_in(t: &TestServer, username: &str) -> reqwest::Client {
    let b = browser();
    t.sign_in(&b, username, PW).await;
    b
}

/// `GET /o/authorize/?{query}` in browser `b`; returns the redirect's `Location`.
pub async fn authorize(t: &TestServer, b: &reqwest::Client, query: &str) -> String {
    let resp = b.get(t.url(&format!("/o/authorize/?{query}"))).send().await.expect("authorize");
    assert_eq!(resp.status(), 302, "{query}");
    resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).expect("location").to_owned()
}

/// A query parameter of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).expect("absolute URL");
    u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Query-encodes `pairs`.
pub fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Runs the code flow for the trusted client `rp` with `scope` and `extra` authorization
/// parameters in browser `b`; returns the code.
pub async fn code(t: &TestServer, b: &reqwest::Client, rp: &App, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs =
        vec![("response_type", "code"), ("client_id", rp.id.as_str()), ("redirect_uri", RP_URI), ("scope", scope)];
    pairs.extend_from_slice(extra);
    let location = authorize(t, b, &query(&pairs)).await;
    assert!(location.starts_with(RP_URI), "{location}");
    assert_eq!(param(&location, "iss").as_deref(), Some(t.base.as_str()), "RFC 9207 iss");
    param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// Redeems `code` for `rp` (client_secret_post).
pub async fn redeem(t: &TestServer, rp: &App, code: &str) -> (u16, Value) {
    t.token(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", RP_URI),
        ("client_id", &rp.id),
        ("client_secret", rp.secret()),
    ])
    .await
}

/// The code flow end to end: signs `alice` in, authorizes, redeems; returns the token response.
pub async fn tokens(t: &TestServer, rp: &App, scope: &str, extra: &[(&str, &str)]) -> Value {
    let b = signed_in(t, "alice").await;
    let c = code(t, &b, rp, scope, extra).await;
    let (status, body) = redeem(t, rp, &c).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The published JWK Set, fetched as a relying party does.
pub async fn jwks(t: &TestServer) -> JwkSet {
    let resp = t.http.get(t.url("/o/.well-known/jwks.json")).send().await.expect("jwks");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("JWK Set")
}

/// Verifies `id_token` against `keys` and checks it the way OIDC Core §3.1.3.7 says a client
/// must: issuer, audience, expiry, issue time, nonce.
#[track_caller]
pub fn verified(t: &TestServer, keys: &JwkSet, id_token: &str, audience: &str, nonce: Option<&str>) -> (Header, Value) {
    let (header, claims) = jose::verify(id_token, keys, &[Alg::RS256, Alg::ES256])
        .unwrap_or_else(|e| panic!("id_token does not verify: {e}"));
    let expect = Expect { issuer: &t.base, audience, nonce, leeway: 5 };
    jose::check_claims(&claims, &expect, t.services.now()).unwrap_or_else(|e| panic!("id_token claims: {e}: {claims}"));
    (header, claims)
}

/// The claims of a JWS, without verifying it.
pub fn claims_of(jws: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = jws.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}
