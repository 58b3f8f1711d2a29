//! A WeChat mini program signing in at `POST /o/login/wechat-mp/` with its `wx.login()` code,
//! as its `wx.request` would: the fake WeChat's `jscode2session` names the person, and the
//! answer is our token response.

use reqwest::header::ACCEPT;
use serde_json::Value;
use yaoshi::{
    oauth::{model::GrantType, upstream::presets::Preset},
    service::clients::ClientSpec,
};

use super::{
    at_fake, browser, finish_signup, identities, sign_in_with,
    wechat::{FakeWechat, Person},
    Backend, TestServer, WEB_APP,
};

/// The mini program's appid and secret at the fake, of the same Open Platform account as the
/// website's QR login.
const MINI_APP: (&str, &str) = ("wx-mini-app", "mini-app-secret");

/// Our server with the website's QR login and the mini program in one union group, a public
/// client that opted in to the mini program grant (`mini`) and one that did not (`web`).
async fn with_mini_program(
    backend: Backend,
    adjust: impl FnOnce(&mut yaoshi::config::Settings),
) -> (TestServer, FakeWechat) {
    let fake = FakeWechat::start(&[WEB_APP, MINI_APP]).await;
    let base = fake.base.clone();
    let idp = TestServer::start_with(backend, |s| {
        let mut web = at_fake(Preset::Wechat, "wechat", WEB_APP, &base);
        let mut mini = Preset::WechatMiniProgram.config(
            "wechat-mini",
            MINI_APP.0,
            yaoshi::oauth::upstream::Secret::new(MINI_APP.1),
        );
        if let yaoshi::oauth::upstream::Protocol::Platform { api_base, .. } = &mut mini.protocol {
            *api_base = base.clone();
        }
        web.union_group = Some("wxopen".into());
        mini.union_group = Some("wxopen".into());
        s.providers = vec![web, mini];
        adjust(s);
    })
    .await;
    for (id, grants) in
        [("mini", vec![GrantType::WechatMiniProgram, GrantType::RefreshToken]), ("web", vec![GrantType::RefreshToken])]
    {
        let spec = ClientSpec {
            name: format!("{id} app"),
            public: true,
            client_id: Some(id.into()),
            grants,
            ..ClientSpec::default()
        };
        idp.client(spec).await;
    }
    (idp, fake)
}

/// `POST /o/login/wechat-mp/` as the mini program sends it.
async fn login(idp: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
    let (status, headers, json) = idp.post_form("/o/login/wechat-mp/", None, form).await;
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{json}");
    (status, json)
}

/// The `/o/userinfo/` of an access token.
async fn userinfo(idp: &TestServer, access_token: &str) -> Value {
    let resp = reqwest::Client::new().get(idp.url("/o/userinfo/")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The person who signed in on the website by QR code is the same account in the mini
/// program: one unionid, three ways in. A refresh works like any other.
async fn a_mini_program_login_finds_the_websites_account(backend: Backend) {
    let (idp, fake) = with_mini_program(backend, |_| {}).await;
    let li = Person::new("li");
    fake.set(li.clone());
    let b = browser();
    let (_, to) = sign_in_with(&idp, &b, "wechat", "/connect/qrconnect?").await;
    assert_eq!(to, "/o/login/finish/");
    finish_signup(&idp, &b, "li").await;

    let code = fake.js_code(MINI_APP.0);
    let (status, tokens) = login(&idp, &[("client_id", "mini"), ("js_code", &code), ("scope", "openid profile")]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile");
    assert!(tokens["refresh_token"].is_string() && tokens["expires_in"].as_i64() > Some(0), "{tokens}");
    assert!(!tokens.to_string().contains("session_key") && !tokens.to_string().contains("c2Vzc2lvbi1rZXk="));
    let me = userinfo(&idp, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me["preferred_username"], "li", "{me}");
    assert_eq!(idp.store().list_users().await.unwrap().len(), 1, "one account");
    let mini = ("wechat-mini".to_owned(), li.unionid(), li.openid(MINI_APP.0), Some(li.unionid()));
    assert!(identities(&idp, "li").await.contains(&mini), "the mini program's openid is stored with the unionid");

    // The code works once (WeChat's 40029 the second time).
    let (status, err) = login(&idp, &[("client_id", "mini"), ("js_code", &code)]).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")), "{err}");
    let (status, refreshed) = idp
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "mini"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(status, 200, "{refreshed}");

    // The account page lists the mini program, linked, with nothing to link from a browser.
    let (_, page) = idp.page(&b, "/account").await;
    assert!(page.contains("WeChat Mini Program"), "linked, so listed");
    assert!(!page.contains("/o/login/start/wechat-mini"), "never started from a browser");
    let (_, login_page) = idp.page(&browser(), "/o/login/").await;
    assert!(!login_page.contains("wechat-mini") && !login_page.contains("Mini Program"), "no button");
    let resp = browser().get(idp.url("/o/login/start/wechat-mini?next=/")).header(ACCEPT, "text/html").send().await;
    assert_ne!(resp.unwrap().status(), 500);
}

/// Someone first seen in the mini program gets an account at once, found again by its
/// unionid when they later scan the website's QR code.
async fn a_new_person_in_the_mini_program_gets_an_account(backend: Backend) {
    let (idp, fake) = with_mini_program(backend, |_| {}).await;
    let wang = Person::new("wang");
    fake.set(wang.clone());
    let (status, tokens) = login(&idp, &[("client_id", "mini"), ("js_code", &fake.js_code(MINI_APP.0))]).await;
    assert_eq!(status, 200, "{tokens}");
    let users = idp.store().list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    let username = users[0].username.clone();
    assert!(username.starts_with("wx-") && users[0].password_hash.is_none(), "{username}");
    let me = userinfo(&idp, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me["sub"], users[0].id.to_string());

    // Again from the mini program: the same account.
    let (_, again) = login(&idp, &[("client_id", "mini"), ("js_code", &fake.js_code(MINI_APP.0))]).await;
    let me2 = userinfo(&idp, again["access_token"].as_str().unwrap()).await;
    assert_eq!(me2["sub"], me["sub"]);

    // On the website: signed straight in, no finish page.
    let b = browser();
    let (status, to) = sign_in_with(&idp, &b, "wechat", "/connect/qrconnect?").await;
    assert_eq!((status, to.as_str()), (303, "/account"));
    assert_eq!(identities(&idp, &username).await.len(), 2);
    assert_eq!(idp.store().list_users().await.unwrap().len(), 1);

    // Disabled: no more tokens.
    idp.execute_sql(&format!("UPDATE users SET active = FALSE WHERE id = {}", users[0].id)).await;
    let (status, err) = login(&idp, &[("client_id", "mini"), ("js_code", &fake.js_code(MINI_APP.0))]).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")), "{err}");
}

/// A form's fields.
type Form<'a> = &'a [(&'a str, &'a str)];

/// Clients that did not opt in, bad requests and WeChat's errors: RFC 6749 error JSON, no
/// account, and WeChat is not asked when the request is refused first.
async fn refused_mini_program_logins_link_nothing(backend: Backend) {
    let (idp, fake) = with_mini_program(backend, |_| {}).await;
    fake.set(Person::new("zhou"));
    let code = fake.js_code(MINI_APP.0);
    let cases: [(Form, u16, &str); 6] = [
        (&[("client_id", "web"), ("js_code", &code)], 400, "unauthorized_client"),
        (&[("client_id", "nobody"), ("js_code", &code)], 401, "invalid_client"),
        (&[("client_id", "mini")], 400, "invalid_request"),
        (&[("client_id", "mini"), ("js_code", &code), ("scope", "nonsense")], 400, "invalid_scope"),
        (&[("client_id", "mini"), ("js_code", &code), ("provider", "wechat")], 400, "invalid_request"),
        (&[("client_id", "mini"), ("js_code", "forged")], 400, "invalid_grant"),
    ];
    for (form, want_status, want) in cases {
        let (status, err) = login(&idp, form).await;
        assert_eq!((status, err["error"].as_str()), (want_status, Some(want)), "{form:?}: {err}");
    }
    assert_eq!(fake.js_code_exchanges(), 1, "only the forged code reached WeChat");
    // The real code is still good after all that.
    let (status, _) = login(&idp, &[("client_id", "mini"), ("js_code", &code)]).await;
    assert_eq!(status, 200);
    let resp = reqwest::Client::new().get(idp.url("/o/login/wechat-mp/")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    let (status, err) = idp
        .token(&[("grant_type", "urn:yaoshi:grant-type:wechat-mini-program"), ("client_id", "mini"), ("js_code", "x")])
        .await;
    assert_eq!((status, err["error"].as_str()), (400, Some("unsupported_grant_type")), "{err}");

    // WeChat busy: 503 temporarily_unavailable, nothing stored.
    fake.set(Person { token_errcode: Some(-1), ..Person::new("busy") });
    let (status, err) = login(&idp, &[("client_id", "mini"), ("js_code", &fake.js_code(MINI_APP.0))]).await;
    assert_eq!((status, err["error"].as_str()), (503, Some("temporarily_unavailable")), "{err}");
    assert_eq!(idp.store().list_users().await.unwrap().len(), 1, "only zhou");
}

/// With sign-up closed, a person nobody knows gets `invalid_grant`, and no account.
async fn closed_sign_up_makes_no_account(backend: Backend) {
    let (idp, fake) = with_mini_program(backend, |s| s.registration = false).await;
    fake.set(Person::new("sun"));
    let (status, err) = login(&idp, &[("client_id", "mini"), ("js_code", &fake.js_code(MINI_APP.0))]).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")), "{err}");
    assert!(err["error_description"].as_str().unwrap().contains("sign-up is closed"), "{err}");
    assert!(idp.store().list_users().await.unwrap().is_empty());
}

on_both_backends!(
    a_mini_program_login_finds_the_websites_account,
    a_new_person_in_the_mini_program_gets_an_account,
    refused_mini_program_logins_link_nothing,
    closed_sign_up_makes_no_account,
);
