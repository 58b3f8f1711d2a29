//! Issue 3 over real HTTP, on SQLite and PostgreSQL: `POST /o/revoke_token/` (RFC 7009),
//! `POST /o/introspect/` (RFC 7662) and `/o/userinfo/` (RFC 6750).

use crate::common::{oauth::*, Backend, TestServer};
use serde_json::{json, Value};
use yaoshi::oauth::model::GrantType;

async fn revoke(srv: &TestServer, app: &App, token: &str) -> Reply {
    post(srv, "/o/revoke_token/", &app.form(&[("token", token)])).await
}

async fn introspect(srv: &TestServer, app: &App, token: &str) -> Reply {
    post(srv, "/o/introspect/", &app.form(&[("token", token)])).await
}

async fn userinfo(srv: &TestServer, token: &str) -> Reply {
    send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(token)).await
}

/// Asserts a revocation answer: 200, empty, not cached.
#[track_caller]
fn assert_revoked(r: &Reply) {
    assert_eq!((r.status, r.raw.as_str()), (200, ""));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

// ---------------------------------------------------------------------------------------------
// Revocation (RFC 7009)
// ---------------------------------------------------------------------------------------------

async fn revoking_a_refresh_token_revokes_its_access_tokens(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (a1, r1) = password(&srv, &app, "openid").await;
    let rotated = refresh(&srv, &app, &r1).await;
    let (a2, r2) = (rotated.field("access_token"), rotated.field("refresh_token"));
    assert_revoked(&revoke(&srv, &app, &r2).await);
    for t in [&a1, &a2, &r2] {
        assert!(!active(&srv, &app, t).await);
    }
    refresh(&srv, &app, &r2).await.error(400, "invalid_grant");
    assert_eq!(userinfo(&srv, &a2).await.status, 401);
    // Revoking again, or revoking with Basic credentials and a hint, still answers 200.
    assert_revoked(&revoke(&srv, &app, &r2).await);
    let (a3, _) = password(&srv, &app, "openid").await;
    let auth = basic(&app.id, app.secret.as_deref().unwrap());
    assert_revoked(
        &post_basic(&srv, "/o/revoke_token/", &auth, &[("token", &a3), ("token_type_hint", "access_token")]).await,
    );
    assert!(!active(&srv, &app, &a3).await);
}

async fn other_clients_and_unknown_tokens_are_left_alone(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (access, refresh_token) = password(&srv, &app, "openid").await;
    let other = register(&srv, false, &[GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
    assert_revoked(&revoke(&srv, &other, &refresh_token).await);
    assert_revoked(&revoke(&srv, &other, &access).await);
    assert_revoked(&revoke(&srv, &app, "yat_no-such-token").await);
    assert!(active(&srv, &app, &access).await);
    assert_eq!(refresh(&srv, &app, &refresh_token).await.status, 200);
}

async fn revocation_needs_client_and_token(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (access, _) = password(&srv, &app, "openid").await;
    let wrong = App { id: app.id.clone(), secret: Some("wrong-secret".into()) };
    revoke(&srv, &wrong, &access).await.error(401, "invalid_client");
    post(&srv, "/o/revoke_token/", &[("token", &access)]).await.error(401, "invalid_client");
    post(&srv, "/o/revoke_token/", &app.form(&[])).await.error(400, "invalid_request");
    assert!(active(&srv, &app, &access).await);
}

async fn storage_failure_is_503_never_200(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (access, refresh_token) = password(&srv, &app, "openid").await;
    srv.execute_sql("DROP TABLE refresh_tokens").await;
    for t in [&refresh_token, &access, "yat_no-such-token"] {
        revoke(&srv, &app, t).await.error(503, "temporarily_unavailable");
    }
    refresh(&srv, &app, &refresh_token).await.error(503, "temporarily_unavailable");
    introspect(&srv, &app, "yat_no-such-token").await.error(503, "temporarily_unavailable");
}

// ---------------------------------------------------------------------------------------------
// Introspection (RFC 7662)
// ---------------------------------------------------------------------------------------------

async fn introspection_of_active_tokens(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let before = srv.services.now();
    let (access, refresh_token) = password(&srv, &app, "openid profile").await;
    let after = srv.services.now();
    let r = introspect(&srv, &app, &access).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = &r.json;
    assert_eq!(v["active"], json!(true), "{}", r.raw);
    assert_eq!(v["scope"], json!("openid profile"));
    assert_eq!(v["client_id"], json!(app.id));
    assert_eq!(v["username"], json!("alice"));
    assert_eq!(v["token_type"], json!("Bearer"));
    assert_eq!(v["sub"], json!(alice.to_string()));
    let (iat, exp) = (v["iat"].as_i64().expect("iat"), v["exp"].as_i64().expect("exp"));
    assert!((before..=after).contains(&iat), "{}", r.raw);
    assert_eq!(exp - iat, 3600);
    assert_eq!(introspect(&srv, &app, &refresh_token).await.json["active"], json!(true));
    // A client_credentials token acts for no user.
    let cc = token(&srv, &app, &[("grant_type", "client_credentials"), ("scope", "read")]).await;
    let v = introspect(&srv, &app, &cc.field("access_token")).await.json;
    assert_eq!((&v["active"], &v["scope"], &v["client_id"]), (&json!(true), &json!("read"), &json!(app.id)));
    assert_eq!((&v["username"], &v["sub"]), (&Value::Null, &Value::Null));
}

async fn introspection_of_inactive_tokens(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let (revoked, _) = password(&srv, &app, "openid").await;
    assert_revoked(&revoke(&srv, &app, &revoked).await);
    let (expired_access, expired_refresh) = expired_tokens(&srv, &app, alice).await;
    for t in [revoked.as_str(), &expired_access, &expired_refresh, "yat_no-such-token", "x"] {
        let r = introspect(&srv, &app, t).await;
        assert_eq!((r.status, &r.json), (200, &json!({"active": false})), "{t}");
    }
    assert_eq!(userinfo(&srv, &expired_access).await.status, 401);
    post(&srv, "/o/introspect/", &app.form(&[])).await.error(400, "invalid_request");
}

async fn introspection_needs_a_confidential_client(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (access, _) = password(&srv, &app, "openid").await;
    let spa = register(&srv, true, &[GrantType::AuthorizationCode, GrantType::RefreshToken]).await;
    introspect(&srv, &spa, &access).await.error(401, "invalid_client");
    post(&srv, "/o/introspect/", &[("token", &access)]).await.error(401, "invalid_client");
    let r = post_basic(&srv, "/o/introspect/", &basic(&app.id, "wrong-secret"), &[("token", &access)]).await;
    r.error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")));
    let ok = post_basic(&srv, "/o/introspect/", &basic(&app.id, app.secret.as_deref().unwrap()), &[("token", &access)])
        .await;
    assert_eq!(ok.json["active"], json!(true), "{}", ok.raw);
}

// ---------------------------------------------------------------------------------------------
// User info (RFC 6750)
// ---------------------------------------------------------------------------------------------

async fn userinfo_claims_follow_scopes(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let sub = alice.to_string();
    let (all, _) = password(&srv, &app, "openid profile email").await;
    let r = userinfo(&srv, &all).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = &r.json;
    assert_eq!(
        (&v["sub"], &v["username"], &v["name"], &v["email"]),
        (&json!(sub), &json!("alice"), &json!("alice display"), &json!("alice@example.com"))
    );
    let cases = [
        ("openid", false, false),
        ("openid profile", true, false),
        ("openid email", false, true),
        ("read", false, false),
    ];
    for (scope, profile, email) in cases {
        let (access, _) = password(&srv, &app, scope).await;
        let v = userinfo(&srv, &access).await.json;
        assert_eq!(v["sub"], json!(sub), "{scope}");
        assert_eq!((v["username"].is_string(), v["name"].is_string()), (profile, profile), "{scope}: {v}");
        assert_eq!(v["email"].is_string(), email, "{scope}: {v}");
    }
    // RFC 6750 §2.2: the token in a form body of a POST.
    let r = send(srv.http.post(srv.url("/o/userinfo/")).form(&[("access_token", all.as_str())])).await;
    assert_eq!((r.status, &r.json), (200, v), "{}", r.raw);
    let r = send(srv.http.post(srv.url("/o/userinfo/")).bearer_auth(&all)).await;
    assert_eq!((r.status, &r.json), (200, v), "{}", r.raw);
}

async fn userinfo_refuses_invalid_tokens(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (revoked, _) = password(&srv, &app, "openid profile").await;
    assert_revoked(&revoke(&srv, &app, &revoked).await);
    let by_post = |t: &str| srv.http.post(srv.url("/o/userinfo/")).form(&[("access_token", t.to_owned())]);
    for r in [userinfo(&srv, "yat_bogus").await, userinfo(&srv, &revoked).await, send(by_post("yat_bogus")).await] {
        assert_eq!(r.status, 401, "{}", r.raw);
        let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
        assert!(challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    // No token at all: a challenge without an error code (RFC 6750 §3.1).
    let r = send(srv.http.get(srv.url("/o/userinfo/"))).await;
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
    assert!(challenge.starts_with("Bearer") && !challenge.contains("error="), "{challenge}");
}

on_both_backends!(
    revoking_a_refresh_token_revokes_its_access_tokens,
    other_clients_and_unknown_tokens_are_left_alone,
    revocation_needs_client_and_token,
    storage_failure_is_503_never_200,
    introspection_of_active_tokens,
    introspection_of_inactive_tokens,
    introspection_needs_a_confidential_client,
    userinfo_claims_follow_scopes,
    userinfo_refuses_invalid_tokens,
);
