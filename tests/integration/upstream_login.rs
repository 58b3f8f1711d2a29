//! Signing in with an upstream provider, over HTTP as a browser without JavaScript would, on
//! SQLite and PostgreSQL: a second Yaoshi server is the upstream OpenID Connect provider, and a
//! fake provider the tests control answers wrongly on purpose.
//!
//! Our server and the upstream both live on 127.0.0.1, where browsers share cookies across
//! ports; each side therefore gets its own cookie jar, as two host names would.

mod fake;

use std::time::{Duration, Instant};

use crate::common::{
    browser,
    oauth::{self, App, PW, URI},
    oidc::param,
    Backend, TestServer,
};
use reqwest::header::ACCEPT;
use yaoshi::{
    oauth::{
        model::GrantType,
        upstream::{Protocol, ProviderConfig, Quirks, Secret},
    },
    service::clients::ClientSpec,
    store::ExternalIdentity,
};

/// Our client id and secret at the upstream Yaoshi.
const UP_CLIENT: &str = "yaoshi-rp";
const UP_SECRET: &str = "upstream-client-secret-0123456789";

fn oidc_provider(id: &str, name: &str, issuer: &str) -> ProviderConfig {
    ProviderConfig {
        id: id.into(),
        name: name.into(),
        protocol: Protocol::Oidc { issuer: issuer.into() },
        client_id: UP_CLIENT.into(),
        client_secret: Secret::new(UP_SECRET),
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        link_by_verified_email: false,
        quirks: Quirks::default(),
        union_group: None,
        preset: None,
    }
}

/// The upstream Yaoshi (with user `uma`) and our server, which has it as provider `up` and the
/// trusted client `shop`.
struct Pair {
    up: TestServer,
    idp: TestServer,
    /// The secret of `shop`.
    shop_secret: String,
}

async fn pair(backend: Backend) -> Pair {
    let up = TestServer::start(backend).await;
    up.user("uma", PW).await;
    let issuer = up.base.clone();
    let idp =
        TestServer::start_with(backend, |s| s.providers = vec![oidc_provider("up", "Upstream Yaoshi", &issuer)]).await;
    up.client(ClientSpec {
        name: "Our Yaoshi".into(),
        redirect_uris: vec![idp.url("/o/login/callback/up")],
        grants: vec![GrantType::AuthorizationCode],
        trusted: true,
        client_id: Some(UP_CLIENT.into()),
        secret: Some(UP_SECRET.into()),
        ..ClientSpec::default()
    })
    .await;
    let (_, shop_secret) = idp
        .client(ClientSpec {
            name: "Shop".into(),
            redirect_uris: vec![URI.into()],
            grants: vec![GrantType::AuthorizationCode, GrantType::Password],
            trusted: true,
            client_id: Some("shop".into()),
            ..ClientSpec::default()
        })
        .await;
    Pair { up, idp, shop_secret: shop_secret.expect("confidential") }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET` in browser `b`; returns status and `Location`.
async fn get(b: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = b.get(url).header(ACCEPT, "text/html").send().await.expect("GET");
    (resp.status().as_u16(), crate::common::location(&resp).unwrap_or_default())
}

/// Starts a sign-in with `provider` in `b` and lets the upstream answer in `b_up` (already
/// signed in there, or the fake); returns the callback URL the provider sends the browser to.
async fn via_provider(
    idp: &TestServer,
    b: &reqwest::Client,
    b_up: &reqwest::Client,
    provider: &str,
    next: &str,
) -> String {
    let (status, to_upstream) = get(b, &idp.url(&format!("/o/login/start/{provider}?next={}", enc(next)))).await;
    assert_eq!(status, 303, "start answers with the provider's URL: {to_upstream}");
    for p in ["state", "nonce", "code_challenge"] {
        assert!(param(&to_upstream, p).is_some_and(|v| v.len() >= 43), "{p} in {to_upstream}");
    }
    assert_eq!(param(&to_upstream, "code_challenge_method").as_deref(), Some("S256"));
    let (status, callback) = get(b_up, &to_upstream).await;
    assert_eq!(status, 302, "the provider sends the browser back: {callback}");
    assert!(callback.starts_with(&idp.url(&format!("/o/login/callback/{provider}?"))), "{callback}");
    callback
}

/// The CSRF field of an HTML page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field").to_owned()
}

async fn identities(t: &TestServer, username: &str) -> Vec<(String, String)> {
    let user = t.services.find_user(username).await.expect("user");
    t.store()
        .identities_for_user(user.id)
        .await
        .expect("identities")
        .into_iter()
        .map(|i| (i.provider, i.subject))
        .collect()
}

async fn signing_in_with_a_provider_creates_an_account_and_resumes_the_authorize_flow(backend: Backend) {
    let Pair { up, idp, shop_secret } = pair(backend).await;
    let b_up = browser();
    up.sign_in(&b_up, "uma", PW).await;
    let b = browser();

    let authorize = format!(
        "/o/authorize/?response_type=code&client_id=shop&scope=openid%20profile&state=s1&redirect_uri={}",
        enc(URI)
    );
    let (status, login) = get(&b, &idp.url(&authorize)).await;
    assert_eq!(status, 302);
    let next = param(&idp.url(&login), "next").expect("next");
    let (_, page) = idp.page(&b, &login).await;
    assert!(page.contains("Sign in with Upstream Yaoshi"), "the login page offers the provider");
    let raw_next = login.split("next=").nth(1).expect("raw next");
    assert!(
        page.contains(&format!("href=\"/o/login/start/up?next={raw_next}\"")),
        "next is passed on as it came: {page}"
    );

    let callback = via_provider(&idp, &b, &b_up, "up", &next).await;
    assert_eq!(param(&callback, "iss").as_deref(), Some(up.base.as_str()), "RFC 9207 iss from the upstream");
    let (status, finish) = get(&b, &callback).await;
    assert_eq!((status, finish.as_str()), (303, "/o/login/finish/"));
    assert!(idp.services.find_user("uma").await.is_err(), "no account before the person chooses");

    let (status, html) = idp.page(&b, "/o/login/finish/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("value=\"uma\"") && html.contains("Upstream Yaoshi"),
        "the upstream's username is proposed: {html}"
    );
    let csrf = csrf_of(&html);
    let (status, to) = idp.submit(&b, "/api/login/finish/signup", &[("csrf", &csrf), ("username", "uma")]).await;
    assert_eq!((status, to.as_str()), (303, next.as_str()), "on to the authorize request, as after a password login");

    let (status, back) = get(&b, &idp.url(&next)).await;
    assert_eq!(status, 302);
    assert!(back.starts_with(URI) && param(&back, "state").as_deref() == Some("s1"), "{back}");
    let code = param(&back, "code").expect("code");
    let uma = idp.services.find_user("uma").await.expect("account created");
    assert!(uma.password_hash.is_none(), "an account made through a provider has no password");
    let up_uma = up.services.find_user("uma").await.unwrap();
    assert_eq!(identities(&idp, "uma").await, [("up".to_owned(), up_uma.id.to_string())]);
    let redeemed = code_owner(&idp, &code, &shop_secret).await;
    assert_eq!(redeemed, uma.id, "the code is for the new account");

    // The password grant refuses an account without a password, whatever is sent.
    let pw_app = oauth::register(&idp, false, &[GrantType::Password]).await;
    for password in ["x", "anything-at-all"] {
        oauth::token(&idp, &pw_app, &[("grant_type", "password"), ("username", "uma"), ("password", password)])
            .await
            .error(400, "invalid_grant");
    }

    // Later, in another browser: the identity signs straight in.
    let b2 = browser();
    let callback = via_provider(&idp, &b2, &b_up, "up", "/account").await;
    let (status, to) = get(&b2, &callback).await;
    assert_eq!((status, to.as_str()), (303, "/account"));
    let (_, html) = idp.page(&b2, "/account").await;
    assert!(html.contains("class=\"who\">uma<"), "signed in as uma");
    assert!(html.contains("aria-label=\"Unlink Upstream Yaoshi\""));

    // The only way to sign in cannot be removed; after setting a password it can.
    let csrf = csrf_of(&html);
    let (_, to) = idp.submit(&b2, "/api/account/unlink", &[("csrf", &csrf), ("provider", "up")]).await;
    assert_eq!(to, "/account?error=last_method");
    assert_eq!(identities(&idp, "uma").await.len(), 1);
    let (_, to) = idp
        .submit(
            &b2,
            "/api/account/password",
            &[("csrf", &csrf), ("current_password", ""), ("new_password", "uma-own-password")],
        )
        .await;
    assert_eq!(to, "/account?done=password", "an account without a password sets its first one");
    let (_, to) = idp.submit(&b2, "/api/account/unlink", &[("csrf", &csrf), ("provider", "up")]).await;
    assert_eq!(to, "/account?done=unlinked");
    assert!(identities(&idp, "uma").await.is_empty());
    oauth::token(&idp, &pw_app, &[("grant_type", "password"), ("username", "uma"), ("password", "uma-own-password")])
        .await
        .field("access_token");
}

/// The user a code was issued for (redeemed by the trusted client `shop`).
async fn code_owner(idp: &TestServer, code: &str, secret: &str) -> i64 {
    let shop = App { id: "shop".into(), secret: Some(secret.into()) };
    let (status, body) =
        idp.token(&shop.form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", URI)])).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().expect("access_token");
    let info = idp.http.get(idp.url("/o/userinfo/")).bearer_auth(access).send().await.expect("userinfo");
    let info: serde_json::Value = info.json().await.expect("json");
    info["sub"].as_str().and_then(|s| s.parse().ok()).expect("sub")
}

async fn signed_in_users_link_and_unlink_providers(backend: Backend) {
    let Pair { up, idp, .. } = pair(backend).await;
    idp.user("dave", PW).await;
    idp.user("erin", PW).await;
    let b_up = browser();
    up.sign_in(&b_up, "uma", PW).await;

    let b = browser();
    let csrf = idp.sign_in(&b, "dave", PW).await;
    let (_, html) = idp.page(&b, "/account").await;
    assert!(html.contains("aria-label=\"Link Upstream Yaoshi\""), "{html}");
    let (status, to_upstream) = idp.submit(&b, "/api/account/link", &[("csrf", &csrf), ("provider", "up")]).await;
    assert_eq!(status, 303);
    assert!(to_upstream.starts_with(&up.url("/o/authorize/?")), "{to_upstream}");
    let (_, callback) = get(&b_up, &to_upstream).await;
    let (status, to) = get(&b, &callback).await;
    assert_eq!((status, to.as_str()), (303, "/account?done=linked"));
    assert_eq!(identities(&idp, "dave").await.len(), 1);
    let (_, html) = idp.page(&b, "/account?done=linked").await;
    assert!(
        html.contains("The provider was linked to your account.")
            && html.contains("aria-label=\"Unlink Upstream Yaoshi\"")
    );

    // The same upstream account cannot be linked to erin as well.
    let e = browser();
    let csrf_e = idp.sign_in(&e, "erin", PW).await;
    let (_, to_upstream) = idp.submit(&e, "/api/account/link", &[("csrf", &csrf_e), ("provider", "up")]).await;
    let (_, callback) = get(&b_up, &to_upstream).await;
    let (_, to) = get(&e, &callback).await;
    assert_eq!(to, "/account?error=identity_taken");
    assert!(identities(&idp, "erin").await.is_empty());

    // A link flow finishes only for the account that started it.
    let (_, to_upstream) = idp.submit(&e, "/api/account/link", &[("csrf", &csrf_e), ("provider", "up")]).await;
    let (_, callback) = get(&b_up, &to_upstream).await;
    let (status, _) = idp.submit(&e, "/o/logout/", &[("csrf", &csrf_e)]).await;
    assert_eq!(status, 303);
    let (_, to) = get(&e, &callback).await;
    assert_eq!(to, "/account?error=upstream_state");

    // dave now signs in with the provider, then unlinks it (he has a password).
    let b2 = browser();
    let callback = via_provider(&idp, &b2, &b_up, "up", "/account").await;
    let (_, to) = get(&b2, &callback).await;
    assert_eq!(to, "/account");
    let (_, html) = idp.page(&b2, "/account").await;
    assert!(html.contains("class=\"who\">dave<"));
    let (_, to) = idp.submit(&b2, "/api/account/unlink", &[("csrf", &csrf_of(&html)), ("provider", "up")]).await;
    assert_eq!(to, "/account?done=unlinked");
    assert!(identities(&idp, "dave").await.is_empty());
    let (_, to) = idp.submit(&b2, "/api/account/unlink", &[("csrf", &csrf_of(&html)), ("provider", "up")]).await;
    assert_eq!(to, "/account?error=invalid", "nothing left to unlink");
}

/// Our server with the fake provider (`fake`, and `fakelink`, which may link by verified
/// email), one that refuses connections (`down`) and one that never answers (`slow`).
async fn with_fake(backend: Backend) -> (TestServer, fake::Fake) {
    let f = fake::Fake::start().await;
    let down = format!("http://{}", fake::closed_port().await);
    let slow = format!("http://{}", fake::silent_listener().await);
    let issuer = f.issuer.clone();
    let idp = TestServer::start_with(backend, |s| {
        let mut linking = oidc_provider("fakelink", "Fake Linking", &issuer);
        linking.link_by_verified_email = true;
        s.providers = vec![
            oidc_provider("fake", "Fake", &issuer),
            linking,
            oidc_provider("down", "Down", &down),
            oidc_provider("slow", "Slow", &slow),
        ];
    })
    .await;
    (idp, f)
}

/// Asserts the browser went back to the login page (continuing to `/account`) with `code`.
#[track_caller]
fn back_to_login(status: u16, to: &str, code: &str) {
    assert_eq!((status, to), (303, format!("/o/login/?next=/account&error={code}").as_str()));
}

/// Changes a callback URL on its way back.
type Tamper = Box<dyn Fn(String) -> String>;

async fn wrong_answers_show_an_error_and_link_nothing(backend: Backend) {
    let (idp, f) = with_fake(backend).await;
    let fake_browser = browser();
    // Each case: how the provider answers, how the callback is tampered with, the error.
    let cases: Vec<(fake::Behaviour, Tamper, &str)> = vec![
        (fake::Behaviour::default(), Box::new(|cb| cb.replace("state=", "state=x")), "upstream_state"),
        (
            fake::Behaviour { nonce: Some("another-nonce".into()), ..Default::default() },
            Box::new(|cb| cb),
            "upstream_rejected",
        ),
        (
            fake::Behaviour { token_iss: Some("http://evil.example".into()), ..Default::default() },
            Box::new(|cb| cb),
            "upstream_rejected",
        ),
        (
            fake::Behaviour { iss_param: Some("http://evil.example".into()), ..Default::default() },
            Box::new(|cb| cb),
            "upstream_rejected",
        ),
        (
            fake::Behaviour { iss_param: Some(String::new()), ..Default::default() },
            Box::new(|cb| cb),
            "upstream_rejected",
        ),
        (fake::Behaviour { alg_none: true, ..Default::default() }, Box::new(|cb| cb), "upstream_rejected"),
        (
            fake::Behaviour { error: Some("access_denied".into()), ..Default::default() },
            Box::new(|cb| cb),
            "upstream_denied",
        ),
    ];
    for (behaviour, tamper, code) in cases {
        f.set(behaviour.clone());
        let b = browser();
        let callback = via_provider(&idp, &b, &fake_browser, "fake", "/account").await;
        let (status, to) = get(&b, &tamper(callback)).await;
        back_to_login(status, &to, code);
        let (_, html) = idp.page(&b, &to).await;
        assert!(html.contains("role=\"alert\""), "the login page shows the error for {behaviour:?}");
    }
    f.set(fake::Behaviour::default());

    // The callback is bound to the browser that started the flow, and works once.
    let b = browser();
    let callback = via_provider(&idp, &b, &fake_browser, "fake", "/account").await;
    let (status, to) = get(&browser(), &callback).await;
    assert_eq!((status, to.as_str()), (303, "/o/login/?error=upstream_state"), "another browser has no flow");
    let (_, to) = get(&b, &callback).await;
    assert_eq!(to, "/o/login/finish/", "the right browser still finishes");
    let (_, to) = get(&b, &callback).await;
    assert_eq!(to, "/o/login/?error=upstream_state", "a flow is used once");
    let (_, to) = get(&b, &idp.url("/o/login/callback/fake?code=forged&state=forged")).await;
    assert_eq!(to, "/o/login/?error=upstream_state");

    // Down, slow and unknown providers: an error on the login page, quickly enough.
    let (status, to) = get(&b, &idp.url("/o/login/start/down?next=/account")).await;
    back_to_login(status, &to, "upstream_unavailable");
    let started = Instant::now();
    let (status, to) = get(&b, &idp.url("/o/login/start/slow?next=/account")).await;
    back_to_login(status, &to, "upstream_unavailable");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(11) && took < Duration::from_secs(16), "gave up after {took:?}");
    let (status, to) = get(&b, &idp.url("/o/login/start/nope?next=/account")).await;
    back_to_login(status, &to, "unknown_provider");

    assert!(idp.store().list_users().await.unwrap().is_empty(), "no account was created");
}

async fn a_verified_email_links_to_the_existing_account_after_its_password(backend: Backend) {
    let (idp, f) = with_fake(backend).await;
    let erin = idp.user("erin", PW).await;
    let up = browser();
    f.set(fake::Behaviour { email: Some("Erin@Example.com".into()), email_verified: true, ..Default::default() });

    // The plain provider does not offer linking; the one the operator trusts does.
    let b = browser();
    let (_, to) = get(&b, &via_provider(&idp, &b, &up, "fake", "/account").await).await;
    assert_eq!(to, "/o/login/finish/");
    let (_, html) = idp.page(&b, "/o/login/finish/").await;
    assert!(!html.contains("link_password"), "linking by email is off for this provider");

    let b = browser();
    let (_, to) = get(&b, &via_provider(&idp, &b, &up, "fakelink", "/account").await).await;
    assert_eq!(to, "/o/login/finish/");
    let (_, html) = idp.page(&b, "/o/login/finish/").await;
    assert!(html.contains("e***@example.com") && html.contains("link_password"), "{html}");
    let csrf = csrf_of(&html);
    let (_, to) = idp.submit(&b, "/api/login/finish/link", &[("csrf", &csrf), ("password", "not erin's")]).await;
    assert_eq!(to, "/o/login/finish/?error=password");
    assert!(idp.store().identities_for_user(erin).await.unwrap().is_empty());
    let (_, to) = idp.submit(&b, "/api/login/finish/link", &[("csrf", &csrf), ("password", PW)]).await;
    assert_eq!(to, "/account");
    let linked = idp.store().identities_for_user(erin).await.unwrap();
    assert_eq!((linked[0].provider.as_str(), linked[0].subject.as_str()), ("fakelink", "fake-user-1"));
    let (_, html) = idp.page(&b, "/account").await;
    assert!(html.contains("class=\"who\">erin<"));
    let (_, to) = idp.submit(&b, "/api/login/finish/link", &[("csrf", &csrf), ("password", PW)]).await;
    assert_eq!(to, "/o/login/?error=upstream_state", "the pending identity is gone");

    // Unverified: no offer, whatever the email.
    f.set(fake::Behaviour {
        sub: "fake-user-2".into(),
        email: Some("erin@example.com".into()),
        email_verified: false,
        ..Default::default()
    });
    let b = browser();
    let (_, to) = get(&b, &via_provider(&idp, &b, &up, "fakelink", "/account").await).await;
    assert_eq!(to, "/o/login/finish/");
    let (_, html) = idp.page(&b, "/o/login/finish/").await;
    assert!(!html.contains("link_password"));
    // A taken username is refused on its field; the new account does not take erin's email.
    let csrf = csrf_of(&html);
    let (_, to) = idp.submit(&b, "/api/login/finish/signup", &[("csrf", &csrf), ("username", "ERIN")]).await;
    assert_eq!(to, "/o/login/finish/?error=invalid");
    let (_, to) = idp.submit(&b, "/api/login/finish/signup", &[("csrf", &csrf), ("username", "fay")]).await;
    assert_eq!(to, "/account");
    let fay = idp.services.find_user("fay").await.unwrap();
    assert_eq!(fay.email, None, "erin's address stays erin's");

    // An address the provider did not verify is not taken over even when nobody has it: an
    // email is also a sign-in name.
    f.set(fake::Behaviour {
        sub: "fake-user-3".into(),
        email: Some("gus@example.com".into()),
        email_verified: false,
        ..Default::default()
    });
    let b = browser();
    let (_, to) = get(&b, &via_provider(&idp, &b, &up, "fakelink", "/account").await).await;
    assert_eq!(to, "/o/login/finish/");
    let (_, html) = idp.page(&b, "/o/login/finish/").await;
    let (_, to) = idp.submit(&b, "/api/login/finish/signup", &[("csrf", &csrf_of(&html)), ("username", "gus")]).await;
    assert_eq!(to, "/account");
    assert_eq!(idp.services.find_user("gus").await.unwrap().email, None);
}

/// A provider whose token endpoint takes 9 s is slow, not down: the callback waits for it
/// (it is never replayed into "sign-in expired") and signs the known identity in.
async fn a_provider_answering_in_nine_seconds_still_signs_in(backend: Backend) {
    let (idp, f) = with_fake(backend).await;
    let fay = idp.user("fay", PW).await;
    let identity = ExternalIdentity {
        provider: "fake".into(),
        subject: "fake-user-1".into(),
        app_subject: "fake-user-1".into(),
        union_id: None,
        union_group: None,
        user_id: fay,
        email: None,
        created_at: idp.services.now(),
    };
    idp.store().link_identity(&identity).await.expect("link");
    f.set(fake::Behaviour { token_delay: Duration::from_secs(9), ..Default::default() });
    let b = browser();
    let callback = via_provider(&idp, &b, &browser(), "fake", "/account").await;
    let started = Instant::now();
    let (status, to) = get(&b, &callback).await;
    let took = started.elapsed();
    assert_eq!((status, to.as_str()), (303, "/account"), "signed in, not sent back to the login page");
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(20), "the callback took {took:?}");
    let (_, html) = idp.page(&b, "/account").await;
    assert!(html.contains("class=\"who\">fay<"), "the session is fay's: {html}");
}

on_both_backends!(
    a_provider_answering_in_nine_seconds_still_signs_in,
    signing_in_with_a_provider_creates_an_account_and_resumes_the_authorize_flow,
    signed_in_users_link_and_unlink_providers,
    wrong_answers_show_an_error_and_link_nothing,
    a_verified_email_links_to_the_existing_account_after_its_password,
);
