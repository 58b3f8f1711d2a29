//! `GET /o/authorize/` over HTTP: the error matrix, the login redirect, prompt handling,
//! remembered consent and the no-JavaScript form posts, on SQLite and PostgreSQL.

use crate::common::{browser, location, Backend, TestServer};
use reqwest::header::{ACCEPT, ORIGIN};
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

const REDIRECT: &str = "https://app.example/cb";

async fn setup(backend: Backend) -> TestServer {
    let t = TestServer::start(backend).await;
    t.user("alice", "alice-password").await;
    t.client(ClientSpec {
        name: "App".into(),
        redirect_uris: vec![REDIRECT.into()],
        grants: vec![GrantType::AuthorizationCode, GrantType::Implicit, GrantType::RefreshToken],
        client_id: Some("app".into()),
        ..ClientSpec::default()
    })
    .await;
    t.client(ClientSpec {
        name: "Native".into(),
        redirect_uris: vec!["http://127.0.0.1:8000/cb".into()],
        client_id: Some("native".into()),
        ..ClientSpec::default()
    })
    .await;
    t
}

async fn untrusted_requests_get_an_error_page(backend: Backend) {
    let t = setup(backend).await;
    let cases = [
        "response_type=code",
        "response_type=code&client_id=nope",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2FAPP.example%2Fcb",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fuser%40app.example%2Fcb",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%3A8443%2Fcb",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F..%3B%2F",
        "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "response_type=code&client_id=app&client_id=app",
    ];
    for q in cases {
        let resp = t.http.get(t.url(&format!("/o/authorize/?{q}"))).send().await.expect("request");
        assert_eq!(resp.status(), 400, "{q}");
        assert_eq!(location(&resp), None, "{q} must not redirect");
        let html = resp.text().await.expect("body");
        assert!(html.contains("This request cannot be completed"), "{q}: {html}");
    }
    // A loopback redirect URI may differ in port only (RFC 8252 §7.3).
    let resp = t
        .http
        .get(t.url("/o/authorize/?response_type=code&client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcb&prompt=none"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        location(&resp).as_deref().map(|l| l.starts_with("http://127.0.0.1:5555/cb?error=login_required")),
        Some(true)
    );
}

async fn logged_out_users_are_sent_to_login(backend: Backend) {
    let t = setup(backend).await;
    let resp = t.http.get(t.url("/o/authorize/?response_type=code&client_id=app")).send().await.expect("request");
    assert_eq!(resp.status(), 302);
    assert_eq!(
        location(&resp).as_deref(),
        Some("/o/login/?next=/o/authorize/%3Fresponse_type%3Dcode%26client_id%3Dapp")
    );
    let resp = t
        .http
        .get(t.url("/o/authorize/?response_type=code&client_id=app&state=s&prompt=none"))
        .send()
        .await
        .expect("request");
    let to = location(&resp).expect("redirect");
    assert!(to.starts_with(&format!("{REDIRECT}?error=login_required")), "{to}");
    assert!(to.contains("&state=s&iss="), "{to}");
}

async fn errors_after_validation_go_back_to_the_client(backend: Backend) {
    let t = setup(backend).await;
    let cases = [
        ("response_type=magic&client_id=app&state=x", "unsupported_response_type", '?'),
        ("client_id=app&state=x", "invalid_request", '?'),
        ("response_type=code&client_id=app&scope=admin&state=x", "invalid_scope", '?'),
        (
            "response_type=code&client_id=app&code_challenge=abc&code_challenge_method=plain&state=x",
            "invalid_request",
            '?',
        ),
        ("response_type=token&client_id=app&scope=admin&state=x", "invalid_scope", '#'),
    ];
    for (q, code, sep) in cases {
        let resp = t.http.get(t.url(&format!("/o/authorize/?{q}"))).send().await.expect("request");
        assert_eq!(resp.status(), 302, "{q}");
        let to = location(&resp).expect("redirect");
        assert!(to.starts_with(&format!("{REDIRECT}{sep}error={code}")), "{q}: {to}");
        assert!(to.contains("state=x"), "{to}");
    }
}

async fn consent_is_asked_once_then_remembered(backend: Backend) {
    let t = setup(backend).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", "alice-password").await;
    let q = "response_type=code&client_id=app&state=abc&scope=read";
    let page = b.get(t.url(&format!("/o/authorize/?{q}"))).header(ACCEPT, "text/html").send().await.expect("consent");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Authorize App") || html.contains("Authorize <!-- -->App") || html.contains("Authorize <!>App"),
        "{html}"
    );

    // prompt=none before consent: consent_required.
    let resp = b.get(t.url(&format!("/o/authorize/?{q}&prompt=none"))).send().await.expect("prompt none");
    assert!(location(&resp).expect("redirect").contains("error=consent_required"));

    // A decision without the CSRF token is refused; with it, approval redirects with a code.
    let forged = b
        .post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .form(&[("query", q), ("decision", "approve")])
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 403);
    let foreign = b
        .post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .header(ORIGIN, "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("query", q), ("decision", "approve")])
        .send()
        .await
        .expect("foreign");
    assert_eq!(foreign.status(), 403);
    let resp = b
        .post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .header(ORIGIN, &t.base)
        .form(&[("csrf", csrf.as_str()), ("query", q), ("decision", "approve")])
        .send()
        .await
        .expect("approve");
    assert_eq!(resp.status(), 303);
    let to = location(&resp).expect("redirect");
    assert!(to.starts_with(&format!("{REDIRECT}?code=yac_")) && to.contains("&state=abc&iss="), "{to}");

    // Remembered: the same or fewer scopes skip the page; prompt=consent forces it again.
    let resp = b.get(t.url(&format!("/o/authorize/?{q}"))).send().await.expect("again");
    assert!(location(&resp).expect("redirect").starts_with(&format!("{REDIRECT}?code=")));
    let resp = b
        .get(t.url(&format!("/o/authorize/?{q}&prompt=consent")))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("forced");
    assert_eq!(resp.status(), 200);
    let resp = b
        .get(t.url("/o/authorize/?response_type=code&client_id=app&scope=read%20write"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("wider");
    assert_eq!(resp.status(), 200, "a wider scope asks again");

    // prompt=login sends a signed-in user to the login page, without looping on prompt=login.
    let resp = b.get(t.url(&format!("/o/authorize/?{q}&prompt=login"))).send().await.expect("prompt login");
    assert_eq!(
        location(&resp).as_deref(),
        Some("/o/login/?next=/o/authorize/%3Fresponse_type%3Dcode%26client_id%3Dapp%26state%3Dabc%26scope%3Dread")
    );

    // Deny answers access_denied.
    let resp = b
        .post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .form(&[
            ("csrf", csrf.as_str()),
            ("query", "response_type=code&client_id=app&state=d&scope=write"),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    assert!(location(&resp).expect("redirect").starts_with(&format!("{REDIRECT}?error=access_denied")));
}

async fn implicit_tokens_travel_in_the_fragment(backend: Backend) {
    let t = setup(backend).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", "alice-password").await;
    let q = "response_type=token&client_id=app&state=i&scope=read";
    let resp = b
        .post(t.url("/api/consent"))
        .header(ACCEPT, "text/html")
        .form(&[("csrf", csrf.as_str()), ("query", q), ("decision", "approve")])
        .send()
        .await
        .expect("approve");
    let to = location(&resp).expect("redirect");
    assert!(to.starts_with(&format!("{REDIRECT}#access_token=yat_")), "{to}");
    assert!(to.contains("&token_type=Bearer&expires_in=600&scope=read&state=i&iss="), "{to}");
    assert!(!to.contains("refresh_token"));
}

async fn logout_ends_the_session(backend: Backend) {
    let t = setup(backend).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", "alice-password").await;
    let resp = b
        .post(t.url("/o/logout/"))
        .header(ACCEPT, "text/html")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(resp.status(), 303);
    let resp = b.get(t.url("/o/authorize/?response_type=code&client_id=app")).send().await.expect("authorize");
    assert!(location(&resp).expect("redirect").starts_with("/o/login/"));
}

on_both_backends!(
    untrusted_requests_get_an_error_page,
    logged_out_users_are_sent_to_login,
    errors_after_validation_go_back_to_the_client,
    consent_is_asked_once_then_remembered,
    implicit_tokens_travel_in_the_fragment,
    logout_ends_the_session,
);
