//! Issue 3 over real HTTP, on SQLite and PostgreSQL: `POST /o/token/` with every seed grant,
//! client authentication, RFC 6749 §5.2 errors, authorization codes and PKCE, refresh rotation,
//! the password grant's throttle, and the races on codes and refresh tokens.

use std::{collections::BTreeSet, net::IpAddr, sync::Arc};

use crate::common::{oauth::*, Backend, TestServer};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use yaoshi::{
    oauth::model::{AuthCode, GrantType},
    service::{clients::ClientSpec, demo},
};

use GrantType::{AuthorizationCode, ClientCredentials, RefreshToken};

/// Asserts a successful token response of the seed's shape.
#[track_caller]
fn assert_seed_shape(r: &Reply, with_refresh: bool, scope: &str) {
    assert_eq!(r.status, 200, "{}", r.raw);
    let keys: BTreeSet<&str> = r.json.as_object().expect("object").keys().map(String::as_str).collect();
    let mut expected = BTreeSet::from(["access_token", "expires_in", "scope", "token_type"]);
    if with_refresh {
        expected.insert("refresh_token");
    }
    assert_eq!(keys, expected, "{}", r.raw);
    assert_eq!((r.json["expires_in"].as_i64(), r.json["token_type"].as_str()), (Some(3600), Some("Bearer")));
    assert_eq!(r.json["scope"].as_str(), Some(scope));
    assert_eq!((r.header("cache-control"), r.header("pragma")), (Some("no-store"), Some("no-cache")));
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let access = r.field("access_token");
    assert!(access.len() >= 32, "short token {access}");
    if with_refresh {
        assert_ne!(access, r.field("refresh_token"));
    }
}

/// The demo client of the README (body credentials, as in the seed) and the demo user's id.
async fn demo_setup(backend: Backend) -> (TestServer, App, i64) {
    let srv = TestServer::start(backend).await;
    demo::ensure(&srv.services).await.expect("demo");
    let user = srv.services.find_user(demo::USER).await.expect("demo user").id;
    (srv, App { id: demo::CLIENT_ID.into(), secret: Some(demo::CLIENT_SECRET.into()) }, user)
}

// ---------------------------------------------------------------------------------------------
// The seed's examples
// ---------------------------------------------------------------------------------------------

async fn seed_password(backend: Backend) {
    let (srv, _, _) = demo_setup(backend).await;
    // The seed's request, byte for byte but for the credentials.
    let body = format!(
        "client_id={}&client_secret={}&grant_type=password&username={}&password={}",
        demo::CLIENT_ID,
        demo::CLIENT_SECRET,
        demo::USER,
        demo::PASSWORD
    );
    let req =
        srv.http.post(srv.url("/o/token/")).header("content-type", "application/x-www-form-urlencoded").body(body);
    assert_seed_shape(&send(req).await, true, ALL_SCOPES);
}

async fn seed_authorization_code(backend: Backend) {
    let (srv, app, user) = demo_setup(backend).await;
    let code =
        insert_code(&srv, &AuthCode { redirect_uri: demo::REDIRECT_URI.into(), ..code_for(&srv, &app.id, user) }).await;
    let mut r = redeem(&srv, &app, &code, &[("redirect_uri", demo::REDIRECT_URI)]).await;
    // OIDC Core §3.1.3.3: with `openid` granted the answer also has an ID Token (tests/oidc.rs).
    let id_token = r.json.as_object_mut().and_then(|o| o.remove("id_token"));
    assert!(id_token.is_some_and(|t| t.is_string()), "{}", r.raw);
    assert_seed_shape(&r, true, "email openid profile");
}

async fn seed_client_credentials(backend: Backend) {
    let (srv, app, _) = demo_setup(backend).await;
    let r = token(&srv, &app, &[("grant_type", "client_credentials")]).await;
    assert_seed_shape(&r, false, ALL_SCOPES);
}

async fn seed_refresh_token(backend: Backend) {
    let (srv, app, _) = demo_setup(backend).await;
    let first =
        token(&srv, &app, &[("grant_type", "password"), ("username", demo::USER), ("password", demo::PASSWORD)]).await;
    let r = refresh(&srv, &app, &first.field("refresh_token")).await;
    assert_seed_shape(&r, true, ALL_SCOPES);
    assert_ne!(r.field("refresh_token"), first.field("refresh_token"));
    assert_ne!(r.field("access_token"), first.field("access_token"));
}

async fn get_is_405(backend: Backend) {
    let srv = TestServer::start(backend).await;
    for path in ["/o/token/", "/o/revoke_token/", "/o/introspect/"] {
        let r = send(srv.http.get(srv.url(path))).await;
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("allow"), Some("POST"), "{path}");
    }
}

// ---------------------------------------------------------------------------------------------
// Client authentication (RFC 6749 §2.3)
// ---------------------------------------------------------------------------------------------

async fn basic_auth_form_urlencodes_id_and_secret(backend: Backend) {
    let srv = TestServer::start(backend).await;
    let (id, secret) = ("svc/x+y%z", "p@ss w:rd+%/\u{e9}");
    let spec = ClientSpec {
        name: "Svc".into(),
        grants: vec![ClientCredentials],
        client_id: Some(id.into()),
        secret: Some(secret.into()),
        ..Default::default()
    };
    srv.client(spec).await;
    let cc = [("grant_type", "client_credentials")];
    let r = post_basic(&srv, "/o/token/", &basic(id, secret), &cc).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    // The same credentials without the form-urlencoding are not these credentials.
    let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let r = post_basic(&srv, "/o/token/", &raw, &cc).await;
    r.error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")));
    // The body method works for the same client, and Basic for a generated secret.
    assert_eq!(post(&srv, "/o/token/", &[("client_id", id), ("client_secret", secret), cc[0]]).await.status, 200);
    let generated = register(&srv, false, &[ClientCredentials]).await;
    let r = post_basic(&srv, "/o/token/", &basic(&generated.id, generated.secret.as_deref().unwrap()), &cc).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    // Basic plus a body client_id naming the same client is still one method.
    let r = post_basic(&srv, "/o/token/", &basic(id, secret), &[("client_id", id), cc[0]]).await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

async fn two_auth_methods_are_invalid_request(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let auth = basic(&app.id, app.secret.as_deref().unwrap());
    let both = post_basic(&srv, "/o/token/", &auth, &app.form(&[("grant_type", "client_credentials")])).await;
    both.error(400, "invalid_request");
    let other_id =
        post_basic(&srv, "/o/token/", &auth, &[("client_id", "someone-else"), ("grant_type", "client_credentials")])
            .await;
    other_id.error(400, "invalid_request");
}

async fn wrong_secret_and_unknown_client_look_alike(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let cc = ("grant_type", "client_credentials");
    let wrong_body = post(&srv, "/o/token/", &[("client_id", &app.id), ("client_secret", "wrong-secret"), cc]).await;
    wrong_body.error(401, "invalid_client");
    assert_eq!(wrong_body.header("www-authenticate"), None);
    let unknown_body =
        post(&srv, "/o/token/", &[("client_id", "no-such-client"), ("client_secret", "wrong-secret"), cc]).await;
    assert_eq!((unknown_body.status, &unknown_body.raw), (401, &wrong_body.raw));
    assert_eq!(unknown_body.header("www-authenticate"), None);

    let wrong_basic = post_basic(&srv, "/o/token/", &basic(&app.id, "wrong-secret"), &[cc]).await;
    wrong_basic.error(401, "invalid_client");
    assert!(
        wrong_basic.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")),
        "{:?}",
        wrong_basic.headers
    );
    let unknown_basic = post_basic(&srv, "/o/token/", &basic("no-such-client", "wrong-secret"), &[cc]).await;
    assert_eq!((unknown_basic.status, &unknown_basic.raw), (401, &wrong_basic.raw));
    assert_eq!(unknown_basic.header("www-authenticate"), wrong_basic.header("www-authenticate"));
}

async fn confidential_client_without_secret_is_401(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let r = post(&srv, "/o/token/", &[("client_id", &app.id), ("grant_type", "client_credentials")]).await;
    r.error(401, "invalid_client");
    assert_eq!(r.header("www-authenticate"), None);
    let r = post_basic(&srv, "/o/token/", &basic(&app.id, ""), &[("grant_type", "client_credentials")]).await;
    r.error(401, "invalid_client");
    assert!(r.header("www-authenticate").is_some());
    let r = post(&srv, "/o/token/", &[("grant_type", "client_credentials")]).await;
    r.error(401, "invalid_client");
}

async fn public_client_sends_client_id_only(backend: Backend) {
    let (srv, _, alice) = setup(backend).await;
    let spa = register(&srv, true, &[AuthorizationCode, RefreshToken]).await;
    assert!(spa.secret.is_none());
    let code =
        insert_code(&srv, &AuthCode { code_challenge: Some(CHALLENGE.into()), ..code_for(&srv, &spa.id, alice) }).await;
    let r = redeem(&srv, &spa, &code, &[("redirect_uri", URI), ("code_verifier", VERIFIER)]).await;
    let r = refresh(&srv, &spa, &r.field("refresh_token")).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = token(&srv, &spa, &[("grant_type", "password"), ("username", "alice"), ("password", PW)]).await;
    r.error(400, "unauthorized_client");
    // A public client has no secret to present.
    let r = post(
        &srv,
        "/o/token/",
        &[
            ("client_id", &spa.id),
            ("client_secret", "made-up-secret"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    r.error(401, "invalid_client");
}

// ---------------------------------------------------------------------------------------------
// Request errors (RFC 6749 §5.2)
// ---------------------------------------------------------------------------------------------

async fn malformed_requests_are_invalid_request(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    token(&srv, &app, &[]).await.error(400, "invalid_request");
    token(&srv, &app, &[("grant_type", "")]).await.error(400, "invalid_request");
    token(&srv, &app, &[("grant_type", "password"), ("username", "alice")]).await.error(400, "invalid_request");
    token(&srv, &app, &[("grant_type", "authorization_code")]).await.error(400, "invalid_request");
    let repeated = [("grant_type", "client_credentials"), ("scope", "read"), ("scope", "write")];
    token(&srv, &app, &repeated).await.error(400, "invalid_request");
    token(&srv, &app, &[("grant_type", "client_credentials"), ("grant_type", "client_credentials")])
        .await
        .error(400, "invalid_request");
    let json =
        serde_json::json!({"client_id": app.id, "client_secret": app.secret, "grant_type": "client_credentials"});
    send(srv.http.post(srv.url("/o/token/")).json(&json)).await.error(400, "invalid_request");
    let body =
        format!("client_id={}&client_secret={}&grant_type=client_credentials", app.id, app.secret.as_deref().unwrap());
    send(srv.http.post(srv.url("/o/token/")).header("content-type", "text/plain").body(body))
        .await
        .error(400, "invalid_request");
}

async fn unsupported_and_unauthorized_grants(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    for grant in ["implicit", "Password", "urn:ietf:params:oauth:grant-type:jwt-bearer"] {
        token(&srv, &app, &[("grant_type", grant)]).await.error(400, "unsupported_grant_type");
    }
    let web = register(&srv, false, &[AuthorizationCode, RefreshToken]).await;
    token(&srv, &web, &[("grant_type", "client_credentials")]).await.error(400, "unauthorized_client");
    token(&srv, &web, &[("grant_type", "password"), ("username", "alice"), ("password", PW)])
        .await
        .error(400, "unauthorized_client");
}

async fn scopes_are_checked(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let cc = ("grant_type", "client_credentials");
    token(&srv, &app, &[cc, ("scope", "read admin")]).await.error(400, "invalid_scope");
    let pw = [("grant_type", "password"), ("username", "alice"), ("password", PW), ("scope", "openid nope")];
    token(&srv, &app, &pw).await.error(400, "invalid_scope");
    assert_eq!(token(&srv, &app, &[cc, ("scope", "write read")]).await.field("scope"), "read write");
    // A scope the server knows but the client may not use.
    let spec = ClientSpec {
        name: "Narrow".into(),
        grants: vec![ClientCredentials],
        scopes: vec!["read".into()],
        ..Default::default()
    };
    let (id, secret) = srv.client(spec).await;
    let narrow = App { id, secret };
    token(&srv, &narrow, &[cc, ("scope", "write")]).await.error(400, "invalid_scope");
    assert_eq!(token(&srv, &narrow, &[cc]).await.field("scope"), "read");
}

async fn unknown_parameters_are_ignored(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let extra = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", PW),
        ("foo", "bar"),
        ("state", "xyz"),
        ("response_type", "code"),
        ("scope", ""),
    ];
    let r = token(&srv, &app, &extra).await;
    assert_eq!(r.field("scope"), ALL_SCOPES);
    // A charset parameter on the media type is still the form encoding.
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&foo=",
        app.id,
        app.secret.as_deref().unwrap()
    );
    let req = srv
        .http
        .post(srv.url("/o/token/"))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(body);
    assert_eq!(send(req).await.field("scope"), ALL_SCOPES);
}

// ---------------------------------------------------------------------------------------------
// Authorization codes (RFC 6749 §4.1.3, RFC 7636)
// ---------------------------------------------------------------------------------------------

async fn code_is_single_use_and_reuse_revokes_its_tokens(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let code = insert_code(&srv, &code_for(&srv, &app.id, alice)).await;
    let first = redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await;
    let (access, refresh_token) = (first.field("access_token"), first.field("refresh_token"));
    assert!(active(&srv, &app, &access).await);
    redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
    assert!(!active(&srv, &app, &access).await);
    assert!(!active(&srv, &app, &refresh_token).await);
    refresh(&srv, &app, &refresh_token).await.error(400, "invalid_grant");
}

async fn expired_unknown_and_foreign_codes(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let now = srv.services.now();
    let expired = insert_code(&srv, &AuthCode { expires_at: now - 1, ..code_for(&srv, &app.id, alice) }).await;
    redeem(&srv, &app, &expired, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
    redeem(&srv, &app, "yac_no-such-code", &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
    let other = register(&srv, false, &[AuthorizationCode, RefreshToken]).await;
    let theirs = insert_code(&srv, &code_for(&srv, &other.id, alice)).await;
    redeem(&srv, &app, &theirs, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
}

async fn redirect_uri_rules(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let explicit = code_for(&srv, &app.id, alice);
    let implicit = AuthCode { redirect_uri_explicit: false, ..explicit.clone() };
    let cases: [(&AuthCode, Option<&str>, bool); 6] = [
        (&explicit, Some(URI), true),
        (&explicit, None, false),
        (&explicit, Some("https://app.example.com/cb/"), false),
        (&implicit, None, true),
        (&implicit, Some(URI), true),
        (&implicit, Some("https://evil.example/cb"), false),
    ];
    for (stored, sent, ok) in cases {
        let code = insert_code(&srv, stored).await;
        let extra: Vec<_> = sent.map(|u| ("redirect_uri", u)).into_iter().collect();
        let r = redeem(&srv, &app, &code, &extra).await;
        if ok {
            assert_eq!(r.status, 200, "{sent:?} explicit={} {}", stored.redirect_uri_explicit, r.raw);
        } else {
            r.error(400, "invalid_grant");
        }
    }
}

async fn pkce_s256(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let with_challenge = AuthCode { code_challenge: Some(CHALLENGE.into()), ..code_for(&srv, &app.id, alice) };
    let without = code_for(&srv, &app.id, alice);
    let wrong = "A".repeat(43);
    let cases: [(&AuthCode, Option<&str>, bool); 5] = [
        (&with_challenge, Some(VERIFIER), true),
        (&with_challenge, Some(&wrong), false),
        (&with_challenge, Some(CHALLENGE), false),
        (&with_challenge, None, false),
        // Downgrade: a verifier for a code issued without a challenge.
        (&without, Some(VERIFIER), false),
    ];
    for (stored, verifier, ok) in cases {
        let code = insert_code(&srv, stored).await;
        let mut extra = vec![("redirect_uri", URI)];
        extra.extend(verifier.map(|v| ("code_verifier", v)));
        let r = redeem(&srv, &app, &code, &extra).await;
        if ok {
            assert_eq!(r.status, 200, "{verifier:?} {}", r.raw);
        } else {
            r.error(400, "invalid_grant");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens (RFC 6749 §6, rotation)
// ---------------------------------------------------------------------------------------------

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (a1, r1) = password(&srv, &app, "openid profile").await;
    let second = refresh(&srv, &app, &r1).await;
    let (a2, r2) = (second.field("access_token"), second.field("refresh_token"));
    assert_ne!(r2, r1);
    assert_ne!(a2, a1);
    assert!(active(&srv, &app, &a2).await);
    let third = refresh(&srv, &app, &r2).await;
    let (a3, r3) = (third.field("access_token"), third.field("refresh_token"));
    // r1 was superseded: presenting it again revokes everything descended from the grant.
    refresh(&srv, &app, &r1).await.error(400, "invalid_grant");
    for t in [&a1, &a2, &a3, &r3] {
        assert!(!active(&srv, &app, t).await);
    }
    refresh(&srv, &app, &r3).await.error(400, "invalid_grant");
    refresh(&srv, &app, &r2).await.error(400, "invalid_grant");
}

/// With a grace window, the token just replaced may be retried and yields the same pair, until
/// that pair is used; after that the retry is reuse and revokes the family.
async fn refresh_grace_window_returns_the_same_pair(backend: Backend) {
    let srv = TestServer::start_with(backend, |s| s.refresh_grace = 30).await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[GrantType::Password, RefreshToken]).await;
    let (_, r1) = password(&srv, &app, "read").await;
    let first = refresh(&srv, &app, &r1).await;
    let (a2, r2) = (first.field("access_token"), first.field("refresh_token"));
    let retry = refresh(&srv, &app, &r1).await;
    assert_eq!((retry.field("access_token"), retry.field("refresh_token")), (a2.clone(), r2.clone()));
    assert!(active(&srv, &app, &a2).await);
    let second = refresh(&srv, &app, &r2).await;
    let a3 = second.field("access_token");
    refresh(&srv, &app, &r1).await.error(400, "invalid_grant");
    assert!(!active(&srv, &app, &a3).await, "a retry after the successor was used revokes the family");
}

async fn refresh_scope_may_narrow_never_grow(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (_, r0) = password(&srv, &app, "openid profile email").await;
    let narrow =
        token(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", &r0), ("scope", "profile")]).await;
    assert_eq!(narrow.field("scope"), "profile");
    let r1 = narrow.field("refresh_token");
    let grow =
        [("grant_type", "refresh_token"), ("refresh_token", r1.as_str()), ("scope", "openid profile email read")];
    token(&srv, &app, &grow).await.error(400, "invalid_scope");
    // The refused request did not consume r1, and the original grant stays the ceiling.
    let back = token(
        &srv,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1), ("scope", "email openid profile")],
    )
    .await;
    assert_eq!(back.field("scope"), "email openid profile");
}

async fn refresh_token_of_another_client_or_expired(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let (_, r) = password(&srv, &app, "openid").await;
    let other = register(&srv, false, &[AuthorizationCode, RefreshToken]).await;
    refresh(&srv, &other, &r).await.error(400, "invalid_grant");
    assert_eq!(refresh(&srv, &app, &r).await.status, 200, "the owner's token must survive another client's attempt");
    refresh(&srv, &app, "yrt_no-such-token").await.error(400, "invalid_grant");
    let (_, expired) = expired_tokens(&srv, &app, alice).await;
    refresh(&srv, &app, &expired).await.error(400, "invalid_grant");
}

// ---------------------------------------------------------------------------------------------
// Password grant (RFC 6749 §4.3)
// ---------------------------------------------------------------------------------------------

async fn password_failures_look_alike(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let wrong = password_from(&srv, &app, 1, "alice", "not the password").await;
    wrong.error(400, "invalid_grant");
    let unknown = password_from(&srv, &app, 1, "nobody", "not the password").await;
    assert_eq!((unknown.status, &unknown.raw), (wrong.status, &wrong.raw));
    assert_eq!(password_from(&srv, &app, 1, "ALICE", PW).await.status, 200, "usernames compare case-insensitively");
}

async fn disabled_user_is_refused(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let (access, refresh_token) = password(&srv, &app, "openid profile").await;
    let code = insert_code(&srv, &code_for(&srv, &app.id, alice)).await;
    let wrong =
        token(&srv, &app, &[("grant_type", "password"), ("username", "alice"), ("password", "not the password")]).await;
    srv.services.set_active("alice", false).await.expect("disable");
    let r = token(&srv, &app, &[("grant_type", "password"), ("username", "alice"), ("password", PW)]).await;
    assert_eq!((r.status, &r.raw), (400, &wrong.raw), "a disabled account looks like a wrong password");
    refresh(&srv, &app, &refresh_token).await.error(400, "invalid_grant");
    redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
    assert!(!active(&srv, &app, &access).await);
    assert_eq!(send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access)).await.status, 401);
    srv.services.set_active("alice", true).await.expect("enable");
    assert_eq!(
        token(&srv, &app, &[("grant_type", "password"), ("username", "alice"), ("password", PW)]).await.status,
        200
    );
}

/// A password grant sent from the loopback address 127.0.0.`last`, so that per-IP counting can be
/// told apart from per-account counting.
async fn password_from(srv: &TestServer, app: &App, last: u8, user: &str, pw: &str) -> Reply {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .timeout(crate::common::REQUEST_TIMEOUT)
        .build()
        .expect("client");
    send(http.post(srv.url("/o/token/")).form(&app.form(&[
        ("grant_type", "password"),
        ("username", user),
        ("password", pw),
    ])))
    .await
}

// ---------------------------------------------------------------------------------------------
// Races
// ---------------------------------------------------------------------------------------------

/// Sends `form` to `/o/token/` 50 times at once; returns (successes, invalid_grant answers) and
/// fails on anything else.
async fn fifty_at_once(srv: &TestServer, form: &[(&str, &str)]) -> (usize, usize) {
    const N: usize = 50;
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let req = srv.http.post(srv.url("/o/token/")).form(form);
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            send(req).await
        });
    }
    let (mut ok, mut invalid_grant) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("task");
        match (r.status, r.json["error"].as_str()) {
            (200, _) => ok += 1,
            (400, Some("invalid_grant")) => invalid_grant += 1,
            _ => panic!("unexpected answer {}: {}", r.status, r.raw),
        }
    }
    (ok, invalid_grant)
}

async fn fifty_concurrent_code_redemptions(backend: Backend) {
    let (srv, app, alice) = setup(backend).await;
    let code = insert_code(&srv, &code_for(&srv, &app.id, alice)).await;
    let form = app.form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", URI)]);
    assert_eq!(fifty_at_once(&srv, &form).await, (1, 49));
}

async fn fifty_concurrent_refreshes(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let (_, r) = password(&srv, &app, "openid").await;
    let form = app.form(&[("grant_type", "refresh_token"), ("refresh_token", &r)]);
    assert_eq!(fifty_at_once(&srv, &form).await, (1, 49));
}

on_both_backends!(
    refresh_grace_window_returns_the_same_pair,
    seed_password,
    seed_authorization_code,
    seed_client_credentials,
    seed_refresh_token,
    get_is_405,
    basic_auth_form_urlencodes_id_and_secret,
    two_auth_methods_are_invalid_request,
    wrong_secret_and_unknown_client_look_alike,
    confidential_client_without_secret_is_401,
    public_client_sends_client_id_only,
    malformed_requests_are_invalid_request,
    unsupported_and_unauthorized_grants,
    scopes_are_checked,
    unknown_parameters_are_ignored,
    code_is_single_use_and_reuse_revokes_its_tokens,
    expired_unknown_and_foreign_codes,
    redirect_uri_rules,
    pkce_s256,
    refresh_rotates_and_reuse_revokes_the_family,
    refresh_scope_may_narrow_never_grow,
    refresh_token_of_another_client_or_expired,
    password_failures_look_alike,
    disabled_user_is_refused,
    fifty_concurrent_code_redemptions,
    fifty_concurrent_refreshes,
);
