//! Signing in with the providers people in China have, each against a fake that speaks the
//! provider's own request and answer formats, on SQLite and PostgreSQL.
//!
//! WeChat: two applications of one Open Platform account (website QR login and an official
//! account) give one person two `openid`s and one `unionid`, which must be one account here;
//! an identity first seen by `openid` alone is upgraded in place once its `unionid` appears.

mod mini_program;
mod platforms;
mod wechat;

use crate::common::{browser, Backend, TestServer};
use reqwest::header::ACCEPT;
use yaoshi::oauth::upstream::{presets::Preset, Protocol, ProviderConfig, Secret};

use wechat::{FakeWechat, Person};
use yaoshi::oauth::upstream::dialect::Dialect;

const WEB_APP: (&str, &str) = ("wx-web-app", "web-app-secret");
const MP_APP: (&str, &str) = ("wx-mp-app", "mp-app-secret");
const IN_WECHAT: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.44";

/// `preset` under `id`, with every endpoint moved from `https://<host>` to the fake.
fn at_fake(preset: Preset, id: &str, app: (&str, &str), fake: &str) -> ProviderConfig {
    let mut p = preset.config(id, app.0, Secret::new(app.1));
    let moved = |url: &mut String| {
        let path = url::Url::parse(url).expect("preset URL").path().to_owned();
        *url = format!("{fake}{path}");
    };
    if let Protocol::OAuth2 { authorization_endpoint, token_endpoint, userinfo_endpoint, .. } = &mut p.protocol {
        moved(authorization_endpoint);
        moved(token_endpoint);
        moved(userinfo_endpoint);
    }
    p
}

/// Our server with the QR login (`wechat`) and the official account (`wechat-mp`) of one Open
/// Platform account, in one union group.
async fn with_wechat(backend: Backend) -> (TestServer, FakeWechat) {
    let fake = FakeWechat::start(&[WEB_APP, MP_APP]).await;
    let base = fake.base.clone();
    let idp = TestServer::start_with(backend, |s| {
        let mut web = at_fake(Preset::Wechat, "wechat", WEB_APP, &base);
        let mut mp = at_fake(Preset::WechatOfficial, "wechat-mp", MP_APP, &base);
        web.union_group = Some("wxopen".into());
        mp.union_group = Some("wxopen".into());
        s.providers = vec![web, mp];
    })
    .await;
    (idp, fake)
}

/// A browser inside WeChat.
fn wechat_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(IN_WECHAT)
        .build()
        .expect("client")
}

async fn get(b: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = b.get(url).header(ACCEPT, "text/html").send().await.expect("GET");
    (resp.status().as_u16(), crate::common::location(&resp).unwrap_or_default())
}

/// Starts a sign-in with `provider` in `b`, lets the fake approve, follows the callback;
/// returns where the callback sent the browser.
async fn sign_in_with(idp: &TestServer, b: &reqwest::Client, provider: &str, expect_at: &str) -> (u16, String) {
    let (status, to_provider) = get(b, &idp.url(&format!("/o/login/start/{provider}?next=/account"))).await;
    assert_eq!(status, 303, "{to_provider}");
    assert!(to_provider.contains(expect_at), "{to_provider}");
    assert!(to_provider.ends_with("#wechat_redirect") && !to_provider.contains("client_id="), "{to_provider}");
    let (status, callback) = get(&browser(), &to_provider).await;
    assert_eq!(status, 302, "the fake approves: {callback}");
    assert!(callback.starts_with(&idp.url(&format!("/o/login/callback/{provider}?"))), "{callback}");
    get(b, &callback).await
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field").to_owned()
}

/// Creates the account `username` on the finish page.
async fn finish_signup(idp: &TestServer, b: &reqwest::Client, username: &str) {
    let (_, html) = idp.page(b, "/o/login/finish/").await;
    let (status, to) =
        idp.submit(b, "/api/login/finish/signup", &[("csrf", &csrf_of(&html)), ("username", username)]).await;
    assert_eq!((status, to.as_str()), (303, "/account"));
}

/// (provider, subject, app_subject, union_id) of each identity of `username`.
async fn identities(idp: &TestServer, username: &str) -> Vec<(String, String, String, Option<String>)> {
    let user = idp.services.find_user(username).await.expect("user");
    let mut all: Vec<_> = idp
        .store()
        .identities_for_user(user.id)
        .await
        .expect("identities")
        .into_iter()
        .map(|i| (i.provider, i.subject, i.app_subject, i.union_id))
        .collect();
    all.sort();
    all
}

async fn signed_in_as(idp: &TestServer, b: &reqwest::Client, username: &str) {
    let (_, html) = idp.page(b, "/account").await;
    assert!(html.contains(&format!("class=\"who\">{username}<")), "signed in as {username}");
}

async fn two_wechat_apps_with_one_unionid_are_one_account(backend: Backend) {
    let (idp, fake) = with_wechat(backend).await;
    let li = Person::new("li");
    fake.set(li.clone());

    // On a computer: the QR login only.
    let b = browser();
    let (_, html) = idp.page(&b, "/o/login/").await;
    assert!(html.contains("href=\"/o/login/start/wechat?") && !html.contains("/o/login/start/wechat-mp"), "{html}");
    assert!(html.contains("Sign in with WeChat") && html.contains("src=\"/providers/wechat.svg\""), "{html}");
    let zh = b.get(idp.url("/o/login/")).header("Accept-Language", "zh-CN,zh;q=0.9").send().await.unwrap();
    let zh = zh.text().await.unwrap();
    assert!(zh.contains("使用 微信 登录"), "the Chinese page names the provider in Chinese: {zh}");
    let icon = b.get(idp.url("/providers/wechat.svg")).send().await.unwrap();
    assert_eq!(icon.status(), 200, "the icon is served from our own origin");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
    let (status, to) = sign_in_with(&idp, &b, "wechat", "/connect/qrconnect?appid=wx-web-app&").await;
    assert_eq!((status, to.as_str()), (303, "/o/login/finish/"));
    finish_signup(&idp, &b, "li").await;
    let web = ("wechat".to_owned(), li.unionid(), li.openid(WEB_APP.0), Some(li.unionid()));
    assert_eq!(identities(&idp, "li").await, std::slice::from_ref(&web));

    // In WeChat's browser: the official account, another openid, the same unionid.
    let w = wechat_browser();
    let (_, html) = idp.page(&w, "/o/login/").await;
    assert!(html.contains("href=\"/o/login/start/wechat-mp?") && !html.contains("/o/login/start/wechat?"), "{html}");
    let (status, to) = sign_in_with(&idp, &w, "wechat-mp", "/connect/oauth2/authorize?appid=wx-mp-app&").await;
    assert_eq!((status, to.as_str()), (303, "/account"), "signed straight in: the unionid is known");
    signed_in_as(&idp, &w, "li").await;
    assert_ne!(li.openid(WEB_APP.0), li.openid(MP_APP.0));
    let mp = ("wechat-mp".to_owned(), li.unionid(), li.openid(MP_APP.0), Some(li.unionid()));
    assert_eq!(identities(&idp, "li").await, [web, mp]);
    assert_eq!(idp.store().list_users().await.unwrap().len(), 1, "one account");

    // And back on the computer, the QR login still finds the account.
    let b2 = browser();
    let (_, to) = sign_in_with(&idp, &b2, "wechat", "/connect/qrconnect?").await;
    assert_eq!(to, "/account");
    signed_in_as(&idp, &b2, "li").await;
}

async fn an_identity_seen_by_openid_first_is_upgraded_not_duplicated(backend: Backend) {
    let (idp, fake) = with_wechat(backend).await;
    // The official account is not yet bound to the Open Platform account: openid only.
    let mei = Person { bound: false, ..Person::new("mei") };
    fake.set(mei.clone());
    let w = wechat_browser();
    let (_, to) = sign_in_with(&idp, &w, "wechat-mp", "/connect/oauth2/authorize?").await;
    assert_eq!(to, "/o/login/finish/");
    finish_signup(&idp, &w, "mei").await;
    let openid = mei.openid(MP_APP.0);
    assert_eq!(identities(&idp, "mei").await, [("wechat-mp".to_owned(), openid.clone(), openid.clone(), None)]);

    // Bound now: the same openid comes with a unionid, and the identity takes it in place.
    let mei = Person { bound: true, ..mei };
    fake.set(mei.clone());
    let w2 = wechat_browser();
    let (_, to) = sign_in_with(&idp, &w2, "wechat-mp", "/connect/oauth2/authorize?").await;
    assert_eq!(to, "/account");
    signed_in_as(&idp, &w2, "mei").await;
    let upgraded = ("wechat-mp".to_owned(), mei.unionid(), openid.clone(), Some(mei.unionid()));
    assert_eq!(identities(&idp, "mei").await, std::slice::from_ref(&upgraded), "upgraded, not duplicated");

    // From then on the website's QR login, with its own openid, is the same person.
    let b = browser();
    let (_, to) = sign_in_with(&idp, &b, "wechat", "/connect/qrconnect?").await;
    assert_eq!(to, "/account");
    signed_in_as(&idp, &b, "mei").await;
    assert_eq!(identities(&idp, "mei").await.len(), 2);
    assert_eq!(idp.store().list_users().await.unwrap().len(), 1);

    // Signing in again changes nothing.
    let w3 = wechat_browser();
    let (_, to) = sign_in_with(&idp, &w3, "wechat-mp", "/connect/oauth2/authorize?").await;
    assert_eq!(to, "/account");
    assert!(identities(&idp, "mei").await.contains(&upgraded));
}

async fn wechat_errors_show_a_readable_page_and_link_nothing(backend: Backend) {
    let (idp, fake) = with_wechat(backend).await;
    for person in [
        Person { token_errcode: Some(-1), ..Person::new("err1") },
        Person { userinfo_errcode: Some(40003), ..Person::new("err2") },
    ] {
        fake.set(person.clone());
        let b = browser();
        let (status, to) = sign_in_with(&idp, &b, "wechat", "/connect/qrconnect?").await;
        assert_eq!((status, to.as_str()), (303, "/o/login/?next=/account&error=upstream_error"), "{person:?}");
        let (status, html) = idp.page(&b, &to).await;
        assert_eq!(status, 200);
        assert!(html.contains("role=\"alert\"") && html.contains("The provider answered with an error"), "{html}");
    }
    // A code WeChat does not know (replayed, forged): WeChat's 40029, the same page.
    let b = browser();
    let (_, to_provider) = get(&b, &idp.url("/o/login/start/wechat?next=/account")).await;
    let state = url::Url::parse(&to_provider)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let (_, to) = get(&b, &idp.url(&format!("/o/login/callback/wechat?code=forged&state={state}"))).await;
    assert_eq!(to, "/o/login/?next=/account&error=upstream_error");
    assert!(idp.store().list_users().await.unwrap().is_empty(), "no account was created");
}

/// `preset` with its endpoints under the fakes' `prefix`.
fn platform_at(preset: Preset, id: &str, fakes: &platforms::Platforms, prefix: &str) -> ProviderConfig {
    let mut p = preset.config(id, platforms::CLIENT_ID, Secret::new(platforms::CLIENT_SECRET));
    let Protocol::Platform { dialect, authorization_endpoint, api_base } = &mut p.protocol else {
        panic!("{preset:?}")
    };
    let path = url::Url::parse(authorization_endpoint).unwrap().path().to_owned();
    *authorization_endpoint = format!("{}/{prefix}{path}", fakes.base);
    *api_base = format!("{}/{prefix}", fakes.base);
    match dialect {
        Dialect::WeCom { agent_id } => *agent_id = platforms::AGENT_ID.into(),
        Dialect::Alipay { alipay_public_key } => {
            *alipay_public_key = fakes.alipay_public_key.clone();
            p.client_secret = Secret::new(fakes.our_private_key.clone());
        }
        _ => {}
    }
    p
}

/// Our server with each platform provider pointed at its fake.
async fn with_platforms(backend: Backend) -> (TestServer, platforms::Platforms) {
    let fakes = platforms::Platforms::start().await;
    let f = fakes.clone();
    let idp = TestServer::start_with(backend, move |s| {
        s.providers = vec![
            platform_at(Preset::Qq, "qq", &f, "qq"),
            platform_at(Preset::DingTalk, "dingtalk", &f, "dingtalk"),
            platform_at(Preset::Feishu, "feishu", &f, "feishu"),
            platform_at(Preset::WeCom, "wecom", &f, "wecom"),
            platform_at(Preset::Alipay, "alipay", &f, "alipay"),
        ];
    })
    .await;
    (idp, fakes)
}

/// Starts a sign-in with `provider`, lets its fake approve, follows the callback.
async fn through_platform(idp: &TestServer, b: &reqwest::Client, provider: &str) -> (u16, String) {
    let (status, to_provider) = get(b, &idp.url(&format!("/o/login/start/{provider}?next=/account"))).await;
    assert_eq!(status, 303, "{to_provider}");
    let (status, callback) = get(&browser(), &to_provider).await;
    assert_eq!(status, 302, "the fake of {provider} approves: {callback}");
    assert!(callback.starts_with(&idp.url(&format!("/o/login/callback/{provider}?"))), "{callback}");
    get(b, &callback).await
}

/// For each provider: a first sign-in creates the account with the provider's ids, a second
/// signs straight in.
async fn qq_dingtalk_feishu_wecom_and_alipay_sign_in(backend: Backend) {
    let (idp, fakes) = with_platforms(backend).await;
    // (provider, key, app subject, union id)
    let cases = [
        ("qq", "QQUNIONzhao", "QQOPENIDzhao", Some("QQUNIONzhao")),
        ("dingtalk", "dingunionzhao", "dingopenzhao", Some("dingunionzhao")),
        ("feishu", "on_zhao", "ou_zhao", Some("on_zhao")),
        ("wecom", "our-app-id:wczhao", "our-app-id:wczhao", None),
        ("alipay", "2088zhao", "074azhao", Some("2088zhao")),
    ];
    fakes.set(platforms::Person::new("zhao"));
    for (provider, key, app_subject, union) in cases {
        let b = browser();
        let (status, to) = through_platform(&idp, &b, provider).await;
        assert_eq!((status, to.as_str()), (303, "/o/login/finish/"), "{provider}");
        let username = format!("zhao-{provider}");
        finish_signup(&idp, &b, &username).await;
        let want = (provider.to_owned(), key.to_owned(), app_subject.to_owned(), union.map(str::to_owned));
        assert_eq!(identities(&idp, &username).await, [want], "{provider}");

        let b2 = browser();
        let (status, to) = through_platform(&idp, &b2, provider).await;
        assert_eq!((status, to.as_str()), (303, "/account"), "{provider}: the identity is known");
        signed_in_as(&idp, &b2, &username).await;
    }
    assert_eq!(idp.store().list_users().await.unwrap().len(), cases.len());
}

/// Errors in each provider's own format, and an Alipay answer signed by another key: the
/// login page with an error, never a 5xx, and no account.
async fn platform_errors_and_bad_signatures_link_nothing(backend: Backend) {
    let (idp, fakes) = with_platforms(backend).await;
    fakes.set(platforms::Person { alipay_wrong_key: true, ..platforms::Person::new("qian") });
    let b = browser();
    let (status, to) = through_platform(&idp, &b, "alipay").await;
    assert_eq!((status, to.as_str()), (303, "/o/login/?next=/account&error=upstream_rejected"));
    let (status, html) = idp.page(&b, &to).await;
    assert!(status == 200 && html.contains("role=\"alert\""), "{html}");

    // A code the provider does not know: each answers its own error.
    for (provider, code_param) in
        [("qq", "code"), ("dingtalk", "authCode"), ("feishu", "code"), ("wecom", "code"), ("alipay", "auth_code")]
    {
        let b = browser();
        let (_, to_provider) = get(&b, &idp.url(&format!("/o/login/start/{provider}?next=/account"))).await;
        let state = url::Url::parse(&to_provider)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let callback = idp.url(&format!("/o/login/callback/{provider}?{code_param}=forged&state={state}"));
        let (status, to) = get(&b, &callback).await;
        assert_eq!((status, to.as_str()), (303, "/o/login/?next=/account&error=upstream_error"), "{provider}");
    }
    assert!(idp.store().list_users().await.unwrap().is_empty());
}

on_both_backends!(
    qq_dingtalk_feishu_wecom_and_alipay_sign_in,
    platform_errors_and_bad_signatures_link_nothing,
    two_wechat_apps_with_one_unionid_are_one_account,
    an_identity_seen_by_openid_first_is_upgraded_not_duplicated,
    wechat_errors_show_a_readable_page_and_link_nothing,
);
