//! Per-client CORS over real HTTP, on SQLite and PostgreSQL: the token, revocation,
//! introspection and user info endpoints answer preflights and carry
//! `Access-Control-Allow-Origin` only for an origin a client registered (the token endpoint:
//! the requesting client's), the discovery documents answer `*`, and the authorization
//! endpoint and the pages never carry CORS headers.

use crate::common::{oauth::*, Backend, TestServer};
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

const SPA: &str = "http://127.0.0.1:5173";
const OTHER_SPA: &str = "https://other.example";
const STRANGER: &str = "https://evil.example";

/// A server with alice, a public SPA client registered for [`SPA`] (written un-normalised),
/// and a confidential client registered for [`OTHER_SPA`].
async fn setup_cors(backend: Backend) -> (TestServer, App, App) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let spa = ClientSpec {
        name: "SPA".into(),
        public: true,
        redirect_uris: vec![URI.into()],
        allowed_origins: vec!["HTTP://127.0.0.1:5173/".into()],
        ..ClientSpec::default()
    };
    let (id, secret) = srv.client(spa).await;
    let other = ClientSpec {
        name: "Other".into(),
        redirect_uris: vec![URI.into()],
        grants: vec![GrantType::Password, GrantType::RefreshToken],
        allowed_origins: vec![OTHER_SPA.into()],
        ..ClientSpec::default()
    };
    let (other_id, other_secret) = srv.client(other).await;
    (srv, App { id, secret }, App { id: other_id, secret: other_secret })
}

async fn preflight(srv: &TestServer, path: &str, origin: &str, method: &str) -> Reply {
    send(
        srv.http
            .request(reqwest::Method::OPTIONS, srv.url(path))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type, authorization"),
    )
    .await
}

async fn token_from(srv: &TestServer, origin: &str, form: &[(&str, &str)]) -> Reply {
    send(srv.http.post(srv.url("/o/token/")).header("origin", origin).form(form)).await
}

#[track_caller]
fn assert_no_cors(r: &Reply, what: &str) {
    for h in ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers"] {
        assert_eq!(r.header(h), None, "{what}: {h}");
    }
}

async fn preflights_allow_registered_origins_only(backend: Backend) {
    let (srv, _, _) = setup_cors(backend).await;
    for path in ["/o/token/", "/o/token", "/o/revoke_token/", "/o/introspect/"] {
        let r = preflight(&srv, path, SPA, "POST").await;
        assert_eq!(r.status, 204, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some(SPA), "{path}");
        assert_eq!(r.header("access-control-allow-methods"), Some("POST"), "{path}");
        let headers = r.header("access-control-allow-headers").unwrap_or_default();
        assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
        assert!(r.header("vary").unwrap_or_default().contains("origin"), "{path}");
        assert_eq!(r.header("access-control-allow-credentials"), None);
        // Another client's origin passes the preflight too: it carries no client.
        let other = preflight(&srv, path, OTHER_SPA, "POST").await;
        assert_eq!(other.header("access-control-allow-origin"), Some(OTHER_SPA), "{path}");
        let refused = preflight(&srv, path, STRANGER, "POST").await;
        assert_eq!(refused.status, 204, "{path}");
        assert_no_cors(&refused, path);
    }
    let r = preflight(&srv, "/o/userinfo/", SPA, "GET").await;
    assert_eq!(r.header("access-control-allow-origin"), Some(SPA));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST"));
    // Origins match exactly: another port, scheme or host is another origin.
    for near in ["http://127.0.0.1:5174", "https://127.0.0.1:5173", "http://localhost:5173", "null"] {
        assert_no_cors(&preflight(&srv, "/o/token/", near, "POST").await, near);
    }
}

async fn token_endpoint_allows_only_the_requesting_clients_origin(backend: Backend) {
    let (srv, spa, other) = setup_cors(backend).await;
    let form = [("grant_type", "password"), ("username", "alice"), ("password", PW)];
    // The confidential client from its own origin: allowed, and the answer is readable.
    let ok = token_from(&srv, OTHER_SPA, &other.form(&form)).await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.header("access-control-allow-origin"), Some(OTHER_SPA));
    assert!(ok.header("access-control-expose-headers").unwrap_or_default().contains("www-authenticate"));
    assert!(ok.header("vary").unwrap_or_default().contains("origin"));
    // The same client from the SPA's origin, which only the other client registered: no header.
    let foreign = token_from(&srv, SPA, &other.form(&form)).await;
    assert_eq!(foreign.status, 200, "{}", foreign.raw);
    assert_no_cors(&foreign, "other client's origin");
    // With HTTP Basic the client is known as well.
    let auth = basic(&other.id, other.secret());
    let basic_reply =
        send(srv.http.post(srv.url("/o/token/")).header("origin", SPA).header("authorization", &auth).form(&form))
            .await;
    assert_eq!(basic_reply.status, 200, "{}", basic_reply.raw);
    assert_no_cors(&basic_reply, "basic from a foreign origin");
    // An error for the SPA client from its origin still carries the header, so the app can
    // read why.
    let bad = token_from(&srv, SPA, &spa.form(&[("grant_type", "authorization_code"), ("code", "nope")])).await;
    bad.error(400, "invalid_grant");
    assert_eq!(bad.header("access-control-allow-origin"), Some(SPA));
    // A stranger's origin never gets one; a request without Origin gets none either.
    assert_no_cors(&token_from(&srv, STRANGER, &other.form(&form)).await, "stranger");
    let plain = token(&srv, &other, &form).await;
    assert_eq!(plain.status, 200);
    assert_no_cors(&plain, "no origin");
}

async fn revocation_introspection_and_userinfo(backend: Backend) {
    let (srv, _, other) = setup_cors(backend).await;
    let (access, refresh) = password(&srv, &other, "openid profile").await;
    let info = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access).header("origin", SPA)).await;
    assert_eq!(info.status, 200, "{}", info.raw);
    // User info names no client: any client's registered origin is allowed.
    assert_eq!(info.header("access-control-allow-origin"), Some(SPA));
    let refused = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access).header("origin", STRANGER)).await;
    assert_eq!(refused.status, 200);
    assert_no_cors(&refused, "userinfo from a stranger");
    // A refused token's challenge is readable by the app.
    let bad = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth("nope").header("origin", SPA)).await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.header("access-control-allow-origin"), Some(SPA));
    let introspected = send(
        srv.http.post(srv.url("/o/introspect/")).header("origin", OTHER_SPA).form(&other.form(&[("token", &access)])),
    )
    .await;
    assert_eq!(introspected.json["active"], true, "{}", introspected.raw);
    assert_eq!(introspected.header("access-control-allow-origin"), Some(OTHER_SPA));
    let revoked = send(
        srv.http
            .post(srv.url("/o/revoke_token/"))
            .header("origin", OTHER_SPA)
            .form(&other.form(&[("token", &refresh)])),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.raw);
    assert_eq!(revoked.header("access-control-allow-origin"), Some(OTHER_SPA));
    let foreign =
        send(srv.http.post(srv.url("/o/revoke_token/")).header("origin", SPA).form(&other.form(&[("token", &access)])))
            .await;
    assert_eq!(foreign.status, 200);
    assert_no_cors(&foreign, "revocation from another client's origin");
}

async fn documents_are_public_and_pages_never_cors(backend: Backend) {
    let (srv, spa, _) = setup_cors(backend).await;
    for path in
        ["/.well-known/openid-configuration", "/o/.well-known/jwks.json", "/.well-known/oauth-authorization-server"]
    {
        let r = send(srv.http.get(srv.url(path)).header("origin", STRANGER)).await;
        assert_eq!((r.status, r.header("access-control-allow-origin")), (200, Some("*")), "{path}");
        let p = preflight(&srv, path, STRANGER, "GET").await;
        assert_eq!((p.status, p.header("access-control-allow-origin")), (204, Some("*")), "{path}");
    }
    let authorize = format!(
        "/o/authorize/?response_type=code&client_id={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        spa.id
    );
    for path in [authorize.as_str(), "/o/login/", "/account", "/"] {
        let r = send(srv.http.get(srv.url(path)).header("origin", SPA)).await;
        assert_no_cors(&r, path);
        let p = preflight(&srv, path, SPA, "GET").await;
        assert_no_cors(&p, path);
    }
}

async fn origins_are_validated_and_replaced(backend: Backend) {
    let (srv, spa, _) = setup_cors(backend).await;
    assert_eq!(srv.services.client_origins(&spa.id).await.unwrap(), vec![SPA.to_owned()]);
    for bad in ["http://spa.example", "https://spa.example/app", "spa.example", "https://spa.example?x"] {
        let spec = ClientSpec {
            name: "Bad".into(),
            public: true,
            redirect_uris: vec![URI.into()],
            allowed_origins: vec![bad.into()],
            ..ClientSpec::default()
        };
        assert!(srv.services.create_client(spec).await.is_err(), "{bad}");
        assert!(srv.services.set_client_origins(&spa.id, &[bad.into()]).await.is_err(), "{bad}");
    }
    srv.services.set_client_origins(&spa.id, &["https://new.example:443".into()]).await.unwrap();
    assert_eq!(srv.services.client_origins(&spa.id).await.unwrap(), vec!["https://new.example".to_owned()]);
    assert_no_cors(&preflight(&srv, "/o/token/", SPA, "POST").await, "replaced origin");
    let r = preflight(&srv, "/o/token/", "https://new.example", "POST").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://new.example"));
    // Deleting the client takes its origins with it.
    srv.services.delete_client(&spa.id).await.unwrap();
    assert_no_cors(&preflight(&srv, "/o/token/", "https://new.example", "POST").await, "deleted client");
}

on_both_backends!(
    preflights_allow_registered_origins_only,
    token_endpoint_allows_only_the_requesting_clients_origin,
    revocation_introspection_and_userinfo,
    documents_are_public_and_pages_never_cors,
    origins_are_validated_and_replaced,
);
