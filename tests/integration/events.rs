//! The security event trail, on SQLite and PostgreSQL: every kind of event is produced the way
//! a user, a client or an admin would produce it, and found on `/admin/events`; the account
//! page shows the user's own sign-ins. And a password change leaves nothing issued before it.

use reqwest::header::ACCEPT;

use crate::common::{browser, location, oauth::*, oidc, Backend, TestServer};
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

async fn post_page_form(t: &TestServer, b: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let resp = b.post(t.url(path)).header(ACCEPT, "text/html").form(form).send().await.expect("form");
    (resp.status().as_u16(), location(&resp).unwrap_or_default())
}

async fn every_event_reaches_the_admin_page(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let admin = yaoshi::service::users::Registration {
        username: "root".into(),
        password: Some(PW.into()),
        admin: true,
        ..Default::default()
    };
    srv.services.create_user(admin).await.expect("root");
    srv.user("bob", PW).await;
    let web = srv
        .client(ClientSpec {
            name: "Web".into(),
            redirect_uris: vec![URI.into()],
            grants: vec![GrantType::AuthorizationCode],
            client_id: Some("web".into()),
            ..ClientSpec::default()
        })
        .await;
    // Sign-ins, a failure and a lockout (five wrong passwords for bob).
    let b = browser();
    let csrf = srv.sign_in(&b, "alice", PW).await;
    for i in 0..5 {
        token(&srv, &app, &[("grant_type", "password"), ("username", "bob"), ("password", &format!("no {i}"))]).await;
    }
    // Consent given and revoked.
    let (status, _) = post_page_form(
        &srv,
        &b,
        "/api/consent",
        &[("csrf", &csrf), ("query", "response_type=code&client_id=web&scope=read"), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = post_page_form(&srv, &b, "/api/account/revoke", &[("csrf", &csrf), ("client_id", &web.0)]).await;
    assert_eq!(status, 303);
    // A refresh token and a code used twice.
    let (_, refresh_token) = password(&srv, &app, "read").await;
    refresh(&srv, &app, &refresh_token).await;
    refresh(&srv, &app, &refresh_token).await.error(400, "invalid_grant");
    let alice = srv.services.find_user("alice").await.expect("alice").id;
    let code = insert_code(&srv, &code_for(&srv, &app.id, alice)).await;
    redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await;
    redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
    // Email and password changed, a secret and the signing key rotated, a sign-up, a
    // deletion, and an admin disabling an account.
    let form = [("csrf", csrf.as_str()), ("display_name", "Alice"), ("email", "alice@new.example")];
    assert_eq!(post_page_form(&srv, &b, "/api/account/profile", &form).await.0, 303);
    let form = [("csrf", csrf.as_str()), ("current_password", PW), ("new_password", "another long passphrase")];
    assert_eq!(post_page_form(&srv, &b, "/api/account/password", &form).await.0, 303);
    srv.services.rotate_client_secret(&app.id).await.expect("rotate secret");
    srv.services.rotate_signing_key().await.expect("rotate key");
    let newcomer = browser();
    let (_, page) = srv.page(&newcomer, "/o/register/").await;
    let csrf_new = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
    let form = [
        ("csrf", csrf_new),
        ("username", "newcomer"),
        ("email", ""),
        ("display_name", ""),
        ("password", "newcomer passphrase"),
        ("next", "/"),
    ];
    assert_eq!(post_page_form(&srv, &newcomer, "/api/register", &form).await.0, 303);
    let csrf_new = srv.sign_in(&newcomer, "newcomer", "newcomer passphrase").await;
    let form = [("csrf", csrf_new.as_str()), ("password", "newcomer passphrase")];
    assert_eq!(post_page_form(&srv, &newcomer, "/api/account/delete", &form).await.0, 303);
    let admin = browser();
    let csrf_admin = srv.sign_in(&admin, "root", PW).await;
    let bob = srv.services.find_user("bob").await.expect("bob").id.to_string();
    let form = [("csrf", csrf_admin.as_str()), ("user_id", bob.as_str()), ("enabled", "false")];
    assert_eq!(post_page_form(&srv, &admin, "/api/admin/users/active", &form).await.0, 303);

    let (status, html) = srv.page(&admin, "/admin/events").await;
    assert_eq!(status, 200);
    for kind in [
        "sign_in.success",
        "sign_in.failure",
        "sign_in.lockout",
        "consent.given",
        "consent.revoked",
        "token.refresh_reuse",
        "token.code_replay",
        "account.email_changed",
        "account.password_changed",
        "account.created",
        "account.deleted",
        "client.created",
        "client.secret_rotated",
        "key.rotated",
        "admin.action",
    ] {
        assert!(html.contains(&format!("data-kind=\"{kind}\"")), "{kind} is not on /admin/events");
    }
    // Filters narrow the list; only admins see it.
    let (_, only_bob) = srv.page(&admin, "/admin/events?kind=sign_in.failure&user=bob").await;
    assert!(only_bob.contains("data-kind=\"sign_in.failure\"") && !only_bob.contains("data-kind=\"sign_in.success\""));
    assert_eq!(srv.page(&b, "/admin/events").await.0, 403);
    // The user's own recent sign-ins on the account page.
    let (_, account) = srv.page(&b, "/account").await;
    assert!(account.contains("data-kind=\"sign_in.success\""), "recent activity");
}

async fn a_password_change_leaves_nothing_issued_before_it(backend: Backend) {
    let srv = TestServer::start(backend).await;
    let alice = srv.user("alice", PW).await;
    let (id, secret) = srv
        .client(ClientSpec {
            name: "Implicit".into(),
            redirect_uris: vec![URI.into()],
            grants: vec![GrantType::Implicit, GrantType::AuthorizationCode],
            trusted: true,
            client_id: Some("imp".into()),
            ..ClientSpec::default()
        })
        .await;
    let app = App { id, secret };
    let b = browser();
    let csrf = srv.sign_in(&b, "alice", PW).await;
    let to = oidc::authorize(&srv, &b, "response_type=token&client_id=imp&scope=read").await;
    let fragment = to.split_once('#').map(|(_, f)| f.to_owned()).expect("fragment");
    let access = url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .expect("access_token");
    assert!(fragment.contains("expires_in=600"), "front-channel tokens are short-lived: {fragment}");
    assert!(active(&srv, &app, &access).await);
    let code = insert_code(&srv, &code_for(&srv, &app.id, alice)).await;
    let form = [("csrf", csrf.as_str()), ("current_password", PW), ("new_password", "another long passphrase")];
    assert_eq!(post_page_form(&srv, &b, "/api/account/password", &form).await.0, 303);
    assert!(!active(&srv, &app, &access).await, "the implicit token died with the old password");
    redeem(&srv, &app, &code, &[("redirect_uri", URI)]).await.error(400, "invalid_grant");
}

on_both_backends!(every_event_reaches_the_admin_page, a_password_change_leaves_nothing_issued_before_it);
