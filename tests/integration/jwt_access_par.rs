//! JWT access tokens (RFC 9068) with resource indicators (RFC 8707), and pushed authorization
//! requests (RFC 9126), over real HTTP on SQLite and PostgreSQL. The JWTs are verified by an
//! unmodified third-party library (`jsonwebtoken`) against the published JWK Set, as a
//! resource server would.

use crate::common::{
    browser, location,
    oauth::*,
    oidc::{param, query, RP_URI},
    Backend, TestServer,
};
use serde_json::Value;
use yaoshi::{
    oauth::{jwt_access::AccessTokenFormat, model::GrantType},
    service::clients::ClientSpec,
    store::ClientTokenPolicy,
};

const API: &str = "https://api.example/";
const BILLING: &str = "https://billing.example/";

/// A trusted confidential client with JWT access tokens for two resource servers.
async fn jwt_client(srv: &TestServer) -> App {
    let (id, secret) = srv
        .client(ClientSpec {
            name: "JWT App".into(),
            redirect_uris: vec![RP_URI.into()],
            grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
            trusted: true,
            client_id: Some("jwt-app".into()),
            ..ClientSpec::default()
        })
        .await;
    let policy = ClientTokenPolicy {
        format: AccessTokenFormat::Jwt,
        resources: vec![API.into(), BILLING.into()],
        require_par: false,
        require_dpop: false,
    };
    srv.services.set_client_token_policy(&id, policy).await.expect("policy");
    App { id, secret }
}

/// Verifies `token` as a resource server for `audience` would, with `jsonwebtoken` and the
/// JWK Set fetched over HTTP; returns its header `typ` and claims.
async fn verify(srv: &TestServer, token: &str, audience: &str) -> (Option<String>, Value) {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, DecodingKey, Validation};
    let keys: JwkSet = srv.http.get(srv.url("/o/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let header = decode_header(token).expect("a JWS header");
    let kid = header.kid.clone().expect("kid");
    let jwk = keys.find(&kid).expect("the signing key is published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[srv.base.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<Value>(token, &DecodingKey::from_jwk(jwk).expect("key"), &validation)
        .unwrap_or_else(|e| panic!("the access token does not verify for {audience}: {e}"));
    (header.typ, data.claims)
}

async fn introspect(srv: &TestServer, app: &App, token: &str) -> Reply {
    post(srv, "/o/introspect/", &app.form(&[("token", token)])).await
}

async fn jwt_access_tokens_verify_offline(backend: Backend) {
    let srv = TestServer::start(backend).await;
    let app = jwt_client(&srv).await;
    let r = token(&srv, &app, &[("grant_type", "client_credentials"), ("scope", "read")]).await;
    let at = r.field("access_token");
    let (typ, claims) = verify(&srv, &at, API).await;
    assert_eq!(typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    assert_eq!(claims["sub"], "jwt-app", "client credentials: the client is the subject");
    assert_eq!(claims["client_id"], "jwt-app");
    assert_eq!(claims["scope"], "read");
    assert_eq!(claims["aud"], serde_json::json!([API, BILLING]), "every registered resource");
    assert!(claims["jti"].is_string() && claims["iat"].is_i64(), "{claims}");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        r.json["expires_in"].as_i64().unwrap()
    );

    // The request's resource narrows the audience; one not registered is refused.
    let one = token(&srv, &app, &[("grant_type", "client_credentials"), ("resource", BILLING)]).await;
    let (_, narrowed) = verify(&srv, &one.field("access_token"), BILLING).await;
    assert_eq!(narrowed["aud"], BILLING);
    let two =
        token(&srv, &app, &[("grant_type", "client_credentials"), ("resource", API), ("resource", BILLING)]).await;
    assert_eq!(verify(&srv, &two.field("access_token"), API).await.1["aud"], serde_json::json!([API, BILLING]));
    let bad = token(&srv, &app, &[("grant_type", "client_credentials"), ("resource", "https://evil.example/")]).await;
    bad.error(400, "invalid_target");

    // Introspection and revocation treat it as the stored token it stands for.
    let active = introspect(&srv, &app, &at).await;
    assert_eq!((active.json["active"].as_bool(), active.json["client_id"].as_str()), (Some(true), Some("jwt-app")));
    assert_eq!(post(&srv, "/o/revoke_token/", &app.form(&[("token", &at)])).await.status, 200);
    assert_eq!(introspect(&srv, &app, &at).await.json, serde_json::json!({"active": false}), "a revoked jti");
    // Still a valid signature: a resource server that does not introspect trusts it until exp.
    verify(&srv, &at, API).await;

    // A forged token (claims changed, signature kept) is no token at all.
    let parts: Vec<&str> = at.split('.').collect();
    let forged_claims =
        base64_url(&serde_json::to_vec(&serde_json::json!({"iss": srv.base, "jti": claims["jti"]})).unwrap());
    let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
    assert_eq!(introspect(&srv, &app, &forged).await.json["active"], false);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn code_flow_jwt_works_at_userinfo_and_refreshes(backend: Backend) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let app = jwt_client(&srv).await;
    let body = crate::common::oidc::tokens(&srv, &app, "openid profile", &[]).await;
    let at = body["access_token"].as_str().unwrap();
    let (_, claims) = verify(&srv, at, API).await;
    assert_eq!(claims["scope"], "openid profile");
    let sub = claims["sub"].as_str().unwrap().to_owned();
    // The ID Token's at_hash is of the token the client received.
    let keys = crate::common::oidc::jwks(&srv).await;
    let (_, id) = crate::common::oidc::verified(&srv, &keys, body["id_token"].as_str().unwrap(), "jwt-app", None);
    assert_eq!(id["sub"], sub.as_str());
    let alg = yaoshi::oauth::jose::Alg::RS256;
    assert_eq!(id["at_hash"].as_str(), Some(yaoshi::oauth::jose::left_half_hash(alg, at).as_str()));

    let info = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(at)).await;
    assert_eq!((info.status, info.json["sub"].as_str()), (200, Some(sub.as_str())), "{}", info.raw);

    let rt = body["refresh_token"].as_str().unwrap();
    let refreshed = token(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
    let next = refreshed.field("access_token");
    assert_ne!(next, at);
    assert_eq!(verify(&srv, &next, API).await.1["sub"], sub.as_str());
    let old = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(at)).await;
    assert_eq!(old.status, 200, "the first token lives until it expires");

    // An opaque client is unchanged.
    let opaque = srv
        .client(ClientSpec {
            name: "Opaque".into(),
            grants: vec![GrantType::ClientCredentials],
            ..ClientSpec::default()
        })
        .await;
    let app2 = App { id: opaque.0, secret: opaque.1 };
    let r = token(&srv, &app2, &[("grant_type", "client_credentials")]).await;
    assert!(!r.field("access_token").contains('.'), "opaque by default");
    let r = token(&srv, &app2, &[("grant_type", "client_credentials"), ("resource", API)]).await;
    r.error(400, "invalid_target");
}

/// Pushes `pairs` for `app`; returns the answer.
async fn push(srv: &TestServer, app: &App, pairs: &[(&str, &str)]) -> Reply {
    post(srv, "/o/par/", &app.form(pairs)).await
}

fn code_request(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = vec![("response_type", "code"), ("redirect_uri", RP_URI), ("scope", "openid"), ("state", "s1")];
    pairs.extend_from_slice(extra);
    pairs
}

/// `GET /o/authorize/` with `client_id` and `request_uri` in `b`.
async fn authorize_pushed(srv: &TestServer, b: &reqwest::Client, app: &App, request_uri: &str) -> reqwest::Response {
    let q = query(&[("client_id", app.id.as_str()), ("request_uri", request_uri)]);
    b.get(srv.url(&format!("/o/authorize/?{q}"))).header("accept", "text/html").send().await.expect("authorize")
}

async fn pushed_requests_are_answered_once(backend: Backend) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let app = jwt_client(&srv).await;
    let r = push(&srv, &app, &code_request(&[])).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.json["expires_in"], 60);
    let request_uri = r.json["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{request_uri}");

    // Signed out: the login page returns to the short URL, which then answers with a code.
    let b = browser();
    let resp = authorize_pushed(&srv, &b, &app, &request_uri).await;
    assert_eq!(resp.status(), 302, "to the login page");
    let login = location(&resp).expect("location");
    let next =
        url::Url::parse(&srv.url(&login)).unwrap().query_pairs().find(|(k, _)| k == "next").unwrap().1.into_owned();
    assert!(next.contains("request_uri=") && !next.contains("redirect_uri"), "{next}");
    let (_, back) = srv.sign_in_to(&b, &login, "alice", PW, &next).await;
    let resp = b.get(srv.url(&back)).send().await.unwrap();
    let to_client = location(&resp).expect("an answer to the client");
    assert!(to_client.starts_with(RP_URI), "{to_client}");
    assert_eq!(param(&to_client, "state").as_deref(), Some("s1"));
    let code = param(&to_client, "code").expect("code");
    let redeemed =
        token(&srv, &app, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", RP_URI)]).await;
    assert!(redeemed.json["id_token"].is_string(), "{}", redeemed.raw);

    // Once answered, the reference is spent.
    let again = authorize_pushed(&srv, &b, &app, &request_uri).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("invalid_request_uri"));

    // prompt=login is satisfied by the sign-in it causes, not asked again in a loop.
    let r = push(&srv, &app, &code_request(&[("prompt", "login")])).await;
    let uri = r.json["request_uri"].as_str().unwrap().to_owned();
    let resp = authorize_pushed(&srv, &b, &app, &uri).await;
    let login = location(&resp).expect("to the login page");
    assert!(login.starts_with("/o/login/"), "{login}");
    let next =
        url::Url::parse(&srv.url(&login)).unwrap().query_pairs().find(|(k, _)| k == "next").unwrap().1.into_owned();
    let (_, back) = srv.sign_in_to(&b, &login, "alice", PW, &next).await;
    let resp = b.get(srv.url(&back)).send().await.unwrap();
    assert!(location(&resp).is_some_and(|l| l.starts_with(RP_URI)), "{:?}", location(&resp));
}

async fn pushed_requests_refuse_what_rfc_9126_refuses(backend: Backend) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let app = jwt_client(&srv).await;
    // Client authentication as at the token endpoint.
    let anonymous = App { id: app.id.clone(), secret: Some("wrong-secret".into()) };
    push(&srv, &anonymous, &code_request(&[])).await.error(401, "invalid_client");
    // No request_uri inside a push; no other client's id; the request checked as at /o/authorize/.
    push(&srv, &app, &code_request(&[("request_uri", "urn:x")])).await.error(400, "invalid_request");
    push(&srv, &app, &[("client_id", "someone-else"), ("response_type", "code")]).await.error(400, "invalid_request");
    let bad_redirect =
        push(&srv, &app, &[("response_type", "code"), ("redirect_uri", "https://evil.example/cb")]).await;
    assert_eq!(bad_redirect.status, 400, "{}", bad_redirect.raw);
    push(&srv, &app, &[("response_type", "code"), ("scope", "nope")]).await.error(400, "invalid_scope");
    assert_eq!(srv.http.get(srv.url("/o/par/")).send().await.unwrap().status(), 405);

    let b = browser();
    srv.sign_in(&b, "alice", PW).await;
    // Expired before use.
    let uri = push(&srv, &app, &code_request(&[])).await.json["request_uri"].as_str().unwrap().to_owned();
    srv.execute_sql("UPDATE pushed_requests SET expires_at = 1").await;
    let resp = authorize_pushed(&srv, &b, &app, &uri).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("expired"));
    // Another client's reference; an unknown one.
    let uri = push(&srv, &app, &code_request(&[])).await.json["request_uri"].as_str().unwrap().to_owned();
    let other = App { id: "another".into(), secret: None };
    assert_eq!(authorize_pushed(&srv, &b, &other, &uri).await.status(), 400);
    let unknown = authorize_pushed(&srv, &b, &app, "urn:ietf:params:oauth:request_uri:nothing-here").await;
    assert_eq!(unknown.status(), 400);

    // A client that must push cannot send its parameters through the browser.
    let policy = ClientTokenPolicy { require_par: true, ..ClientTokenPolicy::default() };
    srv.services.set_client_token_policy(&app.id, policy).await.unwrap();
    let mut plain = code_request(&[]);
    plain.push(("client_id", app.id.as_str()));
    let resp =
        b.get(srv.url(&format!("/o/authorize/?{}", query(&plain)))).header("accept", "text/html").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("must push"));
    let uri = push(&srv, &app, &code_request(&[])).await.json["request_uri"].as_str().unwrap().to_owned();
    let resp = authorize_pushed(&srv, &b, &app, &uri).await;
    assert!(location(&resp).is_some_and(|l| l.starts_with(RP_URI)), "pushed, it is answered");
}

on_both_backends!(
    jwt_access_tokens_verify_offline,
    code_flow_jwt_works_at_userinfo_and_refreshes,
    pushed_requests_are_answered_once,
    pushed_requests_refuse_what_rfc_9126_refuses,
);
