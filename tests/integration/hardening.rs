//! Defences against concurrent and hostile clients, on SQLite and PostgreSQL (the sign-in
//! throttle has `abuse`): consent that widens, forged and cross-site form posts, and form
//! input that cannot become a header.

use crate::common::{browser, oauth::*, Backend, TestServer};
use reqwest::header::{ACCEPT, LOCATION, ORIGIN};
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

async fn approve(t: &TestServer, b: &reqwest::Client, csrf: &str, query: &str) -> reqwest::Response {
    b.post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .form(&[("csrf", csrf), ("query", query), ("decision", "approve")])
        .send()
        .await
        .expect("consent")
}

async fn consent_widens_and_forms_resist_forgery(backend: Backend) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    srv.client(ClientSpec {
        name: "App".into(),
        redirect_uris: vec![URI.into()],
        grants: vec![GrantType::AuthorizationCode],
        client_id: Some("app".into()),
        ..ClientSpec::default()
    })
    .await;
    let b = browser();
    let csrf = srv.sign_in(&b, "alice", PW).await;
    assert_eq!(approve(&srv, &b, &csrf, "response_type=code&client_id=app&scope=read").await.status(), 303);
    assert_eq!(approve(&srv, &b, &csrf, "response_type=code&client_id=app&scope=write").await.status(), 303);
    // Both approvals are remembered: read alone no longer asks.
    let again =
        b.get(srv.url("/o/authorize/?response_type=code&client_id=app&scope=read")).send().await.expect("again");
    let to = again.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(to.starts_with(&format!("{URI}?code=")), "{to}");

    // A post the browser marks as cross-site is refused even with a valid token.
    let cross = b
        .post(srv.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .header("sec-fetch-site", "cross-site")
        .header(ORIGIN, "null")
        .form(&[("csrf", csrf.as_str()), ("query", "response_type=code&client_id=app"), ("decision", "approve")])
        .send()
        .await
        .expect("cross-site");
    assert_eq!(cross.status(), 403);

    // Control characters in a form field cannot become a header, and the server stays up.
    for decision in ["maybe", "approve"] {
        let resp = b
            .post(srv.url("/api/consent"))
            .header(ACCEPT, "text/html")
            .form(&[("csrf", csrf.as_str()), ("query", "\u{1}\r\nX-Evil: 1"), ("decision", decision)])
            .send()
            .await
            .expect("control characters");
        assert!(resp.status().as_u16() < 500, "{}", resp.status());
        assert!(resp.headers().get("x-evil").is_none());
    }
    let health = srv.http.get(srv.url("/healthz")).send().await.expect("health");
    assert_eq!(health.status(), 200);
}

/// Registering a redirect URI with white space is refused (stored lists are space-separated).
async fn redirect_uris_with_spaces_are_refused(backend: Backend) {
    let srv = TestServer::start(backend).await;
    let spec = ClientSpec {
        name: "X".into(),
        redirect_uris: vec!["https://app.example/cb?x=a b".into()],
        ..ClientSpec::default()
    };
    assert!(srv.services.create_client(spec).await.is_err());
}

on_both_backends!(consent_widens_and_forms_resist_forgery, redirect_uris_with_spaces_are_refused,);
