//! Account deletion, developer apps, the admin pages and the UI language, driven over HTTP as
//! a browser without JavaScript would, on SQLite and PostgreSQL.

use crate::common::{
    browser,
    oauth::{self, active, App, PW},
    Backend, TestServer,
};
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, SET_COOKIE};
use yaoshi::{oauth::model::GrantType, service::users::Registration};

async fn admin(t: &TestServer, username: &str) -> i64 {
    let r = Registration { username: username.into(), password: Some(PW.into()), admin: true, ..Default::default() };
    t.services.create_user(r).await.expect("admin").id
}

async fn deleting_an_account_revokes_everything_and_holds_the_username(backend: Backend) {
    let (t, app, _alice) = oauth::setup(backend).await;
    let (access, refresh) = oauth::password(&t, &app, "read").await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;

    let (status, location) =
        t.submit(&b, "/api/account/delete", &[("csrf", &csrf), ("password", "not my password")]).await;
    assert_eq!((status, location.as_str()), (303, "/account?error=password"));
    assert!(t.services.find_user("alice").await.is_ok(), "a wrong password deletes nothing");
    assert!(active(&t, &app, &access).await);

    let (status, location) = t.submit(&b, "/api/account/delete", &[("csrf", &csrf), ("password", PW)]).await;
    assert_eq!((status, location.as_str()), (303, "/o/login/?done=account_deleted"));
    assert!(t.services.find_user("alice").await.is_err());
    assert!(!active(&t, &app, &access).await, "the access token dies with the account");
    oauth::refresh(&t, &app, &refresh).await.error(400, "invalid_grant");
    let (_, body) = t.page(&b, "/account").await;
    assert!(!body.contains("alice"), "the browser is signed out");

    // The name stays taken, in any case, until the cool-down ends.
    let again = Registration { username: "ALICE".into(), password: Some(PW.into()), ..Default::default() };
    assert!(t.services.create_user(again.clone()).await.is_err());
    let bob = t.user("bob", PW).await;
    t.store().delete_user(bob, t.services.now() - 1).await.expect("delete with an expired hold");
    let bob_again = Registration { username: "bob".into(), password: Some(PW.into()), ..Default::default() };
    assert!(t.services.create_user(bob_again).await.is_ok(), "an expired hold releases the name");
}

/// Registers a developer app through the form; returns the redirect's `Location`.
async fn register_app(t: &TestServer, b: &reqwest::Client, csrf: &str, name: &str, redirects: &str) -> String {
    let form = [
        ("csrf", csrf),
        ("name", name),
        ("client_type", "confidential"),
        ("redirect_uris", redirects),
        ("authorization_code", "on"),
        ("client_credentials", "on"),
    ];
    t.submit(b, "/api/account/apps/register", &form).await.1
}

/// The one-time secret on the apps page, if it shows one.
fn shown_secret(html: &str) -> Option<(String, String)> {
    let grab = |class: &str| {
        html.split(&format!("<code class=\"{class}\">")).nth(1).and_then(|s| s.split('<').next()).map(str::to_owned)
    };
    let secret = grab("client-secret")?;
    let id = html.split("<dd><code class=\"client-id\">").nth(1)?.split('<').next()?.to_owned();
    Some((id, secret))
}

async fn client_credentials(t: &TestServer, id: &str, secret: &str) -> u16 {
    let app = App { id: id.into(), secret: Some(secret.into()) };
    oauth::token(t, &app, &[("grant_type", "client_credentials")]).await.status
}

async fn developer_apps_are_private_and_their_secrets_work_once_shown(backend: Backend) {
    let t = TestServer::start(backend).await;
    t.user("alice", PW).await;
    t.user("bob", PW).await;
    let (alice, bob) = (browser(), browser());
    let csrf = t.sign_in(&alice, "alice", PW).await;

    for bad in ["javascript:alert(1)", "http://example.com/cb", "https://app.example/cb#frag", "data:text/html,hi"] {
        assert_eq!(register_app(&t, &alice, &csrf, "Bad", bad).await, "/account/apps?error=invalid", "{bad}");
    }
    assert_eq!(register_app(&t, &alice, &csrf, "", "https://app.example/cb").await, "/account/apps?error=invalid");
    assert_eq!(
        register_app(&t, &alice, &csrf, "Shop", "https://shop.example/cb\nhttp://127.0.0.1:8080/cb").await,
        "/account/apps?done=registered"
    );

    let resp = alice.get(t.url("/account/apps")).header(ACCEPT, "text/html").send().await.expect("page");
    assert_eq!(
        resp.headers().get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "a page with a secret is never cached"
    );
    let page = resp.text().await.expect("html");
    let (id, secret) = shown_secret(&page).expect("the new secret is shown");
    assert!(page.contains("Shop") && page.contains("http://127.0.0.1:8080/cb"));
    let (_, again) = t.page(&alice, "/account/apps").await;
    assert!(shown_secret(&again).is_none() && !again.contains(&secret), "a secret is shown only once");
    assert_eq!(client_credentials(&t, &id, &secret).await, 200);

    // Bob sees nothing of it and can change nothing.
    let bob_csrf = t.sign_in(&bob, "bob", PW).await;
    let (_, bob_page) = t.page(&bob, "/account/apps").await;
    assert!(!bob_page.contains(&id));
    for path in ["/api/account/apps/rotate", "/api/account/apps/delete"] {
        let (_, location) = t.submit(&bob, path, &[("csrf", &bob_csrf), ("client_id", &id)]).await;
        assert_eq!(location, "/account/apps?error=invalid", "{path}");
    }
    let edit = [
        ("csrf", bob_csrf.as_str()),
        ("client_id", &id),
        ("name", "Mine"),
        ("redirect_uris", "https://evil.example/cb"),
        ("authorization_code", "on"),
    ];
    assert_eq!(t.submit(&bob, "/api/account/apps/edit", &edit).await.1, "/account/apps?error=invalid");
    assert_eq!(t.services.find_client(&id).await.expect("client").client.name, "Shop");
    assert_eq!(client_credentials(&t, &id, &secret).await, 200);

    // An admin trusts the app; changing its redirect URIs withdraws that until an admin looks.
    let mut trusted = t.services.find_client(&id).await.expect("client").client;
    trusted.trusted = true;
    t.store().update_client(&trusted).await.expect("trust");

    // Alice edits, rotates (the old secret stops working) and deletes.
    let edit = [
        ("csrf", csrf.as_str()),
        ("client_id", &id),
        ("name", "Shop 2"),
        ("redirect_uris", "https://shop.example/cb2"),
        ("client_credentials", "on"),
    ];
    assert_eq!(t.submit(&alice, "/api/account/apps/edit", &edit).await.1, "/account/apps?done=saved");
    let client = t.services.find_client(&id).await.expect("client").client;
    assert_eq!(
        (client.name.as_str(), client.redirect_uris.as_slice()),
        ("Shop 2", &["https://shop.example/cb2".to_owned()][..])
    );
    assert_eq!(client.grant_types, vec![GrantType::ClientCredentials]);
    assert!(!client.trusted, "new redirect URIs are not trusted on the admin's word for the old ones");
    assert_eq!(
        t.submit(&alice, "/api/account/apps/rotate", &[("csrf", &csrf), ("client_id", &id)]).await.1,
        "/account/apps?done=rotated"
    );
    let (_, page) = t.page(&alice, "/account/apps").await;
    let (_, rotated) = shown_secret(&page).expect("the rotated secret is shown");
    assert_ne!(rotated, secret);
    assert_eq!(client_credentials(&t, &id, &secret).await, 401);
    assert_eq!(client_credentials(&t, &id, &rotated).await, 200);
    assert_eq!(
        t.submit(&alice, "/api/account/apps/delete", &[("csrf", &csrf), ("client_id", &id)]).await.1,
        "/account/apps?done=app_deleted"
    );
    assert_eq!(client_credentials(&t, &id, &rotated).await, 401);
}

async fn admin_pages_need_the_admin_flag_and_disabling_ends_access(backend: Backend) {
    let (t, app, _alice) = oauth::setup(backend).await;
    let bob = t.user("bob", PW).await;
    admin(&t, "root").await;
    let (alice_browser, root) = (browser(), browser());
    let alice_csrf = t.sign_in(&alice_browser, "alice", PW).await;
    for page in ["/admin/users", "/admin/clients"] {
        let (status, body) = t.page(&alice_browser, page).await;
        assert_eq!(status, 403, "{page}");
        assert!(body.contains("You do not have access to this page."), "{page}");
    }
    let (_, location) = t
        .submit(
            &alice_browser,
            "/api/admin/users/active",
            &[("csrf", &alice_csrf), ("user_id", &bob.to_string()), ("enabled", "false")],
        )
        .await;
    assert_eq!(location, "/admin/users?error=forbidden");
    assert!(t.services.find_user("bob").await.expect("bob").active);

    let csrf = t.sign_in(&root, "root", PW).await;
    let (status, body) = t.page(&root, "/admin/users?q=AL").await;
    assert_eq!(status, 200);
    assert!(body.contains("alice") && !body.contains("data-username=\"bob\""), "search narrows the list");
    let (_, body) = t.page(&root, "/admin/users?q=%25").await;
    assert!(!body.contains("data-username"), "LIKE wildcards are literal");

    // Disabling alice ends her browser session and her tokens at once.
    let (access, _) = oauth::password(&t, &app, "read").await;
    let alice_id = t.services.find_user("alice").await.expect("alice").id.to_string();
    let (_, location) = t
        .submit(&root, "/api/admin/users/active", &[("csrf", &csrf), ("user_id", &alice_id), ("enabled", "false")])
        .await;
    assert_eq!(location, "/admin/users?done=disabled");
    assert!(!active(&t, &app, &access).await);
    let (_, account) = t.page(&alice_browser, "/account").await;
    assert!(!account.contains("class=\"who\""), "her browser is signed out");
    let r = oauth::token(&t, &app, &[("grant_type", "password"), ("username", "alice"), ("password", PW)]).await;
    r.error(400, "invalid_grant");
    let (_, location) = t
        .submit(&root, "/api/admin/users/active", &[("csrf", &csrf), ("user_id", &alice_id), ("enabled", "true")])
        .await;
    assert_eq!(location, "/admin/users?done=enabled");
    oauth::password(&t, &app, "read").await;

    // Switches: the password grant off for this client, then on again; implicit needs a URI.
    let (status, body) = t.page(&root, "/admin/clients").await;
    assert_eq!(status, 200);
    assert!(body.contains(&app.id));
    let (_, location) = t
        .submit(&root, "/api/admin/clients/policy", &[("csrf", &csrf), ("client_id", &app.id), ("trusted", "on")])
        .await;
    assert_eq!(location, "/admin/clients?done=saved");
    let r = oauth::token(&t, &app, &[("grant_type", "password"), ("username", "alice"), ("password", PW)]).await;
    r.error(400, "unauthorized_client");
    let client = t.services.find_client(&app.id).await.expect("client").client;
    assert!(client.trusted && client.grant_types.contains(&GrantType::ClientCredentials));
    let (_, location) = t
        .submit(
            &root,
            "/api/admin/clients/policy",
            &[("csrf", &csrf), ("client_id", &app.id), ("password", "on"), ("implicit", "on")],
        )
        .await;
    assert_eq!(location, "/admin/clients?done=saved");
    let client = t.services.find_client(&app.id).await.expect("client").client;
    assert!(!client.trusted && client.grant_types.contains(&GrantType::Implicit));
    oauth::password(&t, &app, "read").await;
}

async fn the_language_follows_accept_language_and_the_switch(backend: Backend) {
    let t = TestServer::start(backend).await;
    let b = browser();
    let zh = b
        .get(t.url("/o/login/"))
        .header(ACCEPT, "text/html")
        .header(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.5")
        .send()
        .await
        .expect("page");
    let html = zh.text().await.expect("html");
    assert!(html.contains("<html lang=\"zh-CN\"") && html.contains("用户名或邮箱"), "{html}");
    let (_, en) = t.page(&b, "/o/login/").await;
    assert!(en.contains("<html lang=\"en\"") && en.contains("Username or email"));

    let switch = b.get(t.url("/o/lang/?to=zh-CN&next=/o/login/%3Fnext%3D%252Faccount")).send().await.expect("switch");
    assert_eq!(switch.status(), 303);
    assert_eq!(switch.headers().get("location").and_then(|v| v.to_str().ok()), Some("/o/login/?next=%2Faccount"));
    assert!(switch
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("yaoshi_lang=zh-CN")));
    let (_, chosen) = t.page(&b, "/o/login/").await;
    assert!(chosen.contains("用户名或邮箱") && chosen.contains("English"), "the cookie wins over Accept-Language");

    let away = b.get(t.url("/o/lang/?to=en&next=//evil.example/")).send().await.expect("switch");
    assert_eq!(away.headers().get("location").and_then(|v| v.to_str().ok()), Some("/"));
}

/// A page that needs a session sends a browser without one to sign in, and tells one whose
/// session ended that it was signed out. The account page names each browser by its
/// `User-Agent` and writes its times in UTC, for the browser to make local.
async fn the_login_page_tells_a_first_visit_from_an_ended_session(backend: Backend) {
    let (t, _app, _alice) = oauth::setup(backend).await;
    let redirect = |b: reqwest::Client| {
        let url = t.url("/account");
        async move {
            let resp = b.get(url).header(ACCEPT, "text/html").send().await.expect("page");
            assert!(resp.status().is_redirection(), "{}", resp.status());
            resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        }
    };
    let first = browser();
    let to = redirect(first.clone()).await;
    assert_eq!(to, "/o/login/?next=/account&error=sign_in");
    let (_, login) = t.page(&first, &to).await;
    assert!(login.contains("Sign in to continue.") && !login.contains("signed out"), "{login}");

    let chrome =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(chrome)
        .build()
        .expect("client");
    t.sign_in(&other, "alice", PW).await;
    let csrf = t.sign_in(&first, "alice", PW).await;
    let (_, account) = t.page(&first, "/account").await;
    assert!(account.contains("<strong>Chrome 156 on Linux</strong>"), "{account}");
    assert!(account.contains("<strong>Unknown browser</strong>"), "reqwest names no browser");
    let started = account.split("<time datetime=\"").nth(1).expect("a time");
    assert!(started.contains("Z\" data-local=\"\">") && started.contains(" UTC</time>"), "{started}");
    assert!(account.contains("just now</time>"), "last seen, relative");

    let (status, _) = t.submit(&first, "/api/account/sessions", &[("csrf", &csrf), ("session_id", "")]).await;
    assert_eq!(status, 303);
    let to = redirect(other.clone()).await;
    assert_eq!(to, "/o/login/?next=/account&error=signed_out");
    let (_, login) = t.page(&other, &to).await;
    assert!(login.contains("You are signed out. Sign in again."), "{login}");
}

on_both_backends!(
    the_login_page_tells_a_first_visit_from_an_ended_session,
    deleting_an_account_revokes_everything_and_holds_the_username,
    developer_apps_are_private_and_their_secrets_work_once_shown,
    admin_pages_need_the_admin_flag_and_disabling_ends_access,
    the_language_follows_accept_language_and_the_switch,
);
