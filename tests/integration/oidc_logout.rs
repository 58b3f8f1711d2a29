//! OpenID Connect logout over HTTP, on SQLite and PostgreSQL: RP-Initiated Logout (the
//! end-session endpoint `/o/logout/`) and Back-Channel Logout (a logout token POSTed to the
//! client). The `oidcc_*` names mirror the conformance suite's RP-initiated and back-channel
//! logout modules.

use std::time::Duration;

use crate::common::{oauth::PW, oidc::*, Backend, TestServer};
use axum::{extract::State, routing::post, Form, Router};
use reqwest::header::ACCEPT;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use yaoshi::{
    oauth::jose::{self, Alg},
    store::LogoutSettings,
};

const BYE: &str = "https://rp.example/bye";

/// A listener that collects the logout tokens POSTed to it; returns its URL.
async fn backchannel_receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    #[derive(serde::Deserialize)]
    struct Body {
        logout_token: String,
    }
    async fn receive(State(tx): State<mpsc::UnboundedSender<String>>, Form(body): Form<Body>) -> &'static str {
        let _ = tx.send(body.logout_token);
        "ok"
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/backchannel", listener.local_addr().expect("addr"));
    let app = Router::new().route("/backchannel", post(receive)).with_state(tx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// A server with alice and the trusted relying party `rp`, which registered [`BYE`] and a
/// back-channel URI (when given).
async fn setup(backend: Backend, backchannel: Option<String>) -> (TestServer, App) {
    let t = TestServer::start(backend).await;
    t.user("alice", PW).await;
    let rp = register_rp_with(
        &t,
        LogoutSettings { post_logout_redirect_uris: vec![BYE.into()], backchannel_logout_uri: backchannel },
    )
    .await;
    (t, rp)
}

/// Signs alice in and runs the code flow with `openid`; returns her browser and the ID Token.
async fn signed_in_with_id_token(t: &TestServer, rp: &App) -> (reqwest::Client, String) {
    let b = signed_in(t, "alice").await;
    let c = code(t, &b, rp, "openid profile", &[("nonce", "n-1")]).await;
    let (status, body) = redeem(t, rp, &c).await;
    assert_eq!(status, 200, "{body}");
    (b, body["id_token"].as_str().expect("id_token").to_owned())
}

/// `GET /o/logout/?{query}` as a browser; returns the page and its CSRF token.
async fn logout_page(t: &TestServer, b: &reqwest::Client, pairs: &[(&str, &str)]) -> (String, String) {
    let resp =
        b.get(t.url(&format!("/o/logout/?{}", query(pairs)))).header(ACCEPT, "text/html").send().await.expect("page");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    let csrf =
        html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field").to_owned();
    (html, csrf)
}

/// Whether browser `b` is still signed in.
async fn signed_in_still(t: &TestServer, b: &reqwest::Client) -> bool {
    t.page(b, "/account").await.1.contains("class=\"who\"")
}

/// oidcc-rp-initiated-logout + oidcc-backchannel-rp-initiated-logout: the hint names the
/// client, the browser returns to the registered URI with `state`, the session is over, and
/// the client receives a logout token for that very session.
async fn oidcc_rp_initiated_logout_with_backchannel(backend: Backend) {
    let (url, mut tokens) = backchannel_receiver().await;
    let (t, rp) = setup(backend, Some(url)).await;
    let (b, id_token) = signed_in_with_id_token(&t, &rp).await;
    let id_claims = claims_of(&id_token);

    let params = [("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", BYE), ("state", "st 1")];
    let (page, csrf) = logout_page(&t, &b, &params).await;
    assert!(page.contains("Relying Party") && page.contains("Sign out of this server?"), "{page}");
    assert!(signed_in_still(&t, &b).await, "showing the page signs nobody out");

    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(&params);
    let (status, location) = t.submit(&b, "/o/logout/", &form).await;
    assert_eq!((status, location.as_str()), (303, "https://rp.example/bye?state=st+1"));
    assert!(!signed_in_still(&t, &b).await);

    let token = tokio::time::timeout(Duration::from_secs(10), tokens.recv())
        .await
        .expect("a logout token within 10 s")
        .expect("token");
    let (header, claims) =
        jose::verify(&token, &jwks(&t).await, &[Alg::RS256, Alg::ES256]).expect("signed with a published key");
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    assert_eq!(claims["iss"], json!(t.base));
    assert_eq!(claims["aud"], json!("rp"));
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], id_claims["sid"], "the session the ID Token named");
    assert_eq!(claims["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));
    assert!(
        claims.get("nonce").is_none() && claims["jti"].is_string() && claims["exp"].as_i64() > claims["iat"].as_i64()
    );
    assert!(tokio::time::timeout(Duration::from_millis(300), tokens.recv()).await.is_err(), "one token per client");
}

/// oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an unregistered URI is named on the
/// page and never receives the browser, even when posted directly.
async fn oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(backend: Backend) {
    let (t, rp) = setup(backend, None).await;
    let (b, id_token) = signed_in_with_id_token(&t, &rp).await;
    let params =
        [("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://evil.example/"), ("state", "s")];
    let (page, csrf) = logout_page(&t, &b, &params).await;
    assert!(page.contains("post_logout_redirect_uri is not registered for this client"), "{page}");
    assert!(!page.contains("name=\"post_logout_redirect_uri\""), "the bad URI is not carried into the form");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(&params);
    let (status, location) = t.submit(&b, "/o/logout/", &form).await;
    assert_eq!((status, location.as_str()), (303, "/o/login/?done=signed_out"));
    assert!(!signed_in_still(&t, &b).await, "the user still signs out");
}

/// oidcc-rp-initiated-logout-bad-id-token-hint / -no-id-token-hint: a hint this server did not
/// sign is refused; without hint or client_id no redirect happens; a hint for one client with
/// another's client_id is refused.
async fn oidcc_rp_initiated_logout_hint_rules(backend: Backend) {
    let (t, rp) = setup(backend, None).await;
    let (b, id_token) = signed_in_with_id_token(&t, &rp).await;
    let mut parts: Vec<&str> = id_token.split('.').collect();
    let forged_payload = {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let mut claims: Value = claims_of(&id_token);
        claims["sub"] = json!("999");
        URL_SAFE_NO_PAD.encode(claims.to_string())
    };
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let (page, _) = logout_page(&t, &b, &[("id_token_hint", &forged), ("post_logout_redirect_uri", BYE)]).await;
    assert!(page.contains("the id_token_hint is not an ID Token issued here"), "{page}");

    let (page, _) = logout_page(&t, &b, &[("post_logout_redirect_uri", BYE)]).await;
    assert!(page.contains("post_logout_redirect_uri needs client_id or id_token_hint"), "{page}");

    let (page, _) = logout_page(&t, &b, &[("id_token_hint", &id_token), ("client_id", "someone-else")]).await;
    assert!(page.contains("client_id does not match the id_token_hint"), "{page}");

    // client_id alone is enough to name the client.
    let (page, csrf) = logout_page(&t, &b, &[("client_id", "rp"), ("post_logout_redirect_uri", BYE)]).await;
    assert!(!page.contains("role=\"alert\""), "{page}");
    let form = [("csrf", csrf.as_str()), ("client_id", "rp"), ("post_logout_redirect_uri", BYE)];
    assert_eq!(t.submit(&b, "/o/logout/", &form).await, (303, BYE.to_owned()));
    assert!(!signed_in_still(&t, &b).await);
}

/// Logging out without any client involved: a confirmation, then the login page; a logout
/// from a browser whose session never got an ID Token notifies nobody.
async fn plain_logout_asks_first(backend: Backend) {
    let (url, mut tokens) = backchannel_receiver().await;
    let (t, _rp) = setup(backend, Some(url)).await;
    let b = signed_in(&t, "alice").await;
    let (page, csrf) = logout_page(&t, &b, &[]).await;
    assert!(page.contains("Sign out of this server?"));
    assert!(signed_in_still(&t, &b).await);
    assert_eq!(t.submit(&b, "/o/logout/", &[("csrf", &csrf)]).await, (303, "/o/login/?done=signed_out".to_owned()));
    assert!(!signed_in_still(&t, &b).await);
    assert!(tokio::time::timeout(Duration::from_millis(500), tokens.recv()).await.is_err(), "no client took part");
    // Without the page's token nothing happens: the post is shown the confirmation page.
    let b = signed_in(&t, "alice").await;
    let (status, location) = t.submit(&b, "/o/logout/", &[("csrf", "forged")]).await;
    assert_eq!((status, location.as_str()), (303, "/o/logout/"));
    assert!(signed_in_still(&t, &b).await);
}

/// RP-Initiated Logout §2: the end-session endpoint takes POST. A relying party's cross-site
/// POST carries its parameters to the confirmation page and ends nothing by itself.
async fn oidcc_rp_initiated_logout_by_post(backend: Backend) {
    let (t, rp) = setup(backend, None).await;
    let (b, id_token) = signed_in_with_id_token(&t, &rp).await;
    let resp = b
        .post(t.url("/o/logout/"))
        .header("origin", "https://rp.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "p&q"),
            ("evil", "x"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(location.starts_with("/o/logout/?id_token_hint="), "{location}");
    assert!(location.ends_with("&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&state=p%26q"), "{location}");
    assert!(signed_in_still(&t, &b).await, "a cross-site post ends nothing");
    let (page, csrf) =
        logout_page(&t, &b, &[("id_token_hint", &id_token), ("post_logout_redirect_uri", BYE), ("state", "p&q")]).await;
    assert!(page.contains("Relying Party"));
    let form =
        [("csrf", csrf.as_str()), ("id_token_hint", &id_token), ("post_logout_redirect_uri", BYE), ("state", "p&q")];
    assert_eq!(t.submit(&b, "/o/logout/", &form).await, (303, "https://rp.example/bye?state=p%26q".to_owned()));
}

/// oidcc-backchannel for sessions ended elsewhere: "sign out all other browsers" on the account
/// page and an admin disabling the account each tell the client about the very session.
async fn sessions_ended_elsewhere_are_announced(backend: Backend) {
    let (url, mut tokens) = backchannel_receiver().await;
    let (t, rp) = setup(backend, Some(url)).await;
    let next_token = |tokens: &mut mpsc::UnboundedReceiver<String>| {
        let mut rx = std::mem::replace(tokens, mpsc::unbounded_channel().1);
        async move {
            let token =
                tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a logout token").expect("token");
            (claims_of(&token), rx)
        }
    };

    let (_first, id_token) = signed_in_with_id_token(&t, &rp).await;
    let other = signed_in(&t, "alice").await;
    let csrf = t.sign_in(&other, "alice", PW).await;
    let (_, location) = t.submit(&other, "/api/account/sessions", &[("csrf", &csrf), ("session_id", "")]).await;
    assert_eq!(location, "/account?done=sessions");
    let (claims, rx) = next_token(&mut tokens).await;
    tokens = rx;
    assert_eq!(claims["sid"], claims_of(&id_token)["sid"]);

    let (_second, id_token) = signed_in_with_id_token(&t, &rp).await;
    let alice = t.services.find_user("alice").await.expect("alice");
    let root = yaoshi::service::users::Registration {
        username: "root".into(),
        password: Some(PW.into()),
        admin: true,
        ..Default::default()
    };
    t.services.create_user(root).await.expect("admin");
    let admin = crate::common::browser();
    let csrf = t.sign_in(&admin, "root", PW).await;
    let form = [("csrf", csrf.as_str()), ("user_id", &alice.id.to_string()), ("enabled", "false")];
    assert_eq!(t.submit(&admin, "/api/admin/users/active", &form).await.1, "/admin/users?done=disabled");
    let (claims, _) = next_token(&mut tokens).await;
    assert_eq!(claims["sid"], claims_of(&id_token)["sid"]);
}

on_both_backends!(
    oidcc_rp_initiated_logout_by_post,
    sessions_ended_elsewhere_are_announced,
    oidcc_rp_initiated_logout_with_backchannel,
    oidcc_rp_initiated_logout_bad_post_logout_redirect_uri,
    oidcc_rp_initiated_logout_hint_rules,
    plain_logout_asks_first,
);
