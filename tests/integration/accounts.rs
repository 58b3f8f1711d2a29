//! Sign-up over HTTP without JavaScript, open and closed, on SQLite and PostgreSQL.

use crate::common::{browser, Backend, TestServer};
use reqwest::header::{ACCEPT, LOCATION, SET_COOKIE};

async fn csrf(t: &TestServer, b: &reqwest::Client) -> String {
    let html = b
        .get(t.url("/o/register/"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

async fn sign_up(t: &TestServer, b: &reqwest::Client, csrf: &str, username: &str, password: &str) -> reqwest::Response {
    b.post(t.url("/api/register"))
        .header(ACCEPT, "text/html")
        .form(&[
            ("csrf", csrf),
            ("username", username),
            ("email", ""),
            ("display_name", ""),
            ("password", password),
            ("next", "/o/authorize/?response_type=code&client_id=x"),
        ])
        .send()
        .await
        .expect("register")
}

async fn sign_up_opens_a_session(backend: Backend) {
    let t = TestServer::start(backend).await;
    let b = browser();
    let token = csrf(&t, &b).await;
    let bad = sign_up(&t, &b, &token, "newbie", "12345678").await;
    assert_eq!(bad.status(), 303);
    assert_eq!(bad.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/o/register/?error=invalid"));
    let ok = sign_up(&t, &b, &token, "Newbie", "a long enough passphrase").await;
    assert_eq!(ok.status(), 303);
    assert_eq!(
        ok.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/o/authorize/?response_type=code&client_id=x")
    );
    assert!(ok
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("yaoshi_session=")));
    let user = t.services.find_user("newbie").await.expect("created");
    assert!(!user.admin);
    // The name is taken now, in any case.
    let again = sign_up(&t, &b, &token, "NEWBIE", "another long passphrase").await;
    assert_eq!(again.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/o/register/?error=invalid"));
}

async fn closed_sign_up_creates_nobody(backend: Backend) {
    let t = TestServer::start_with(backend, |s| s.registration = false).await;
    let b = browser();
    let page = b
        .get(t.url("/o/register/"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Sign-up is closed"), "{page}");
    let token = {
        let html = b
            .get(t.url("/o/login/"))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .expect("login")
            .text()
            .await
            .expect("html");
        assert!(!html.contains("Create an account"));
        html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_owned()
    };
    let resp = sign_up(&t, &b, &token, "intruder", "a long enough passphrase").await;
    assert_eq!(resp.status(), 303);
    assert!(t.services.find_user("intruder").await.is_err());
}

/// The login round trip carries an authorization request exactly: a `%26` inside the
/// client's `state` stays an encoded `&` (decoded once, not twice).
async fn next_is_decoded_once(backend: Backend) {
    let t = TestServer::start(backend).await;
    let b = browser();
    for page in ["/o/login/", "/o/register/"] {
        let url = format!("{page}?next=/o/authorize/%3Fclient_id%3Ddemo%26state%3Da%2526b%252Bc");
        let html =
            b.get(t.url(&url)).header(ACCEPT, "text/html").send().await.expect("page").text().await.expect("html");
        assert!(
            html.contains(r#"name="next" value="/o/authorize/?client_id=demo&amp;state=a%26b%2Bc""#),
            "{page}: {html}"
        );
    }
}

on_both_backends!(sign_up_opens_a_session, closed_sign_up_creates_nobody, next_is_decoded_once);
