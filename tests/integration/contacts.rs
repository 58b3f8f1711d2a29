//! Verified contacts and recovery over HTTP, as a browser without JavaScript: email
//! verification by link and by code, squatting, forgot password, phone sign-in by SMS code and
//! its throttle, and the message outbox across a restart; on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use crate::common::{
    browser,
    capture::{code_in, link_in},
    oauth::{self, active, PW},
    oidc, Backend, TestServer,
};

const NEW_PW: &str = "a brand new passphrase";

/// Signs up through the form; returns the browser (signed in) and its CSRF token.
async fn sign_up(t: &TestServer, username: &str, email: &str) -> (reqwest::Client, String) {
    let b = browser();
    let (_, html) = t.page(&b, "/o/register/").await;
    let csrf = csrf_of(&html);
    let form = [
        ("csrf", csrf.as_str()),
        ("username", username),
        ("email", email),
        ("display_name", ""),
        ("password", PW),
        ("next", "/account"),
    ];
    let (status, location) = t.submit(&b, "/api/register", &form).await;
    assert_eq!((status, location.as_str()), (303, "/account"), "sign-up of {username}");
    (b, csrf)
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field").to_owned()
}

/// The path and query of an absolute link.
fn path_of(t: &TestServer, link: &str) -> String {
    link.strip_prefix(&t.base).unwrap_or_else(|| panic!("{link} is not on {}", t.base)).to_owned()
}

/// Opens a verification link and confirms it; returns the redirect's `Location`.
async fn confirm(t: &TestServer, b: &reqwest::Client, link: &str) -> String {
    let path = path_of(t, link);
    let (status, html) = t.page(b, &path).await;
    assert_eq!(status, 200, "{path}");
    let token = path.split("token=").nth(1).expect("token").to_owned();
    // A dead link's page has no form: the token is posted with another page's CSRF token.
    let csrf = match html.contains("name=\"token\"") {
        true => csrf_of(&html),
        false => csrf_of(&t.page(b, "/o/login/").await.1),
    };
    t.submit(b, "/api/verify", &[("csrf", &csrf), ("token", &token)]).await.1
}

/// Signs in through the login form; returns where it sends the browser (`/` on success).
async fn try_sign_in(t: &TestServer, login: &str, password: &str) -> String {
    t.sign_in_to(&browser(), "/o/login/", login, password, "/").await.1
}

async fn a_link_verifies_the_address_and_the_id_token_says_so(backend: Backend) {
    let t = TestServer::start(backend).await;
    let (b, _) = sign_up(&t, "vera", "Vera@Example.com").await;
    let user = t.services.find_user("vera").await.unwrap();
    assert!(!user.email_verified, "an address is a claim until verified");
    assert_eq!(try_sign_in(&t, "vera@example.com", PW).await, "/o/login/?error=credentials", "not a sign-in name yet");

    let mail = t.sent.mail("vera@example.com", 1).await;
    assert!(mail.subject.contains("confirm your email"), "{}", mail.subject);
    // Opening the link changes nothing (mail scanners open links); confirming does.
    let (_, html) = t.page(&browser(), &path_of(&t, &link_in(&mail))).await;
    assert!(html.contains("v***@example.com"), "the page names the address, masked");
    assert!(!t.services.find_user("vera").await.unwrap().email_verified);
    assert_eq!(confirm(&t, &b, &link_in(&mail)).await, "/account?done=verified");
    assert_eq!(confirm(&t, &browser(), &link_in(&mail)).await.split("error=").nth(1), Some("stale_link"), "single use");
    let (_, account) = t.page(&b, "/account").await;
    assert!(account.contains("badge ok"), "the account page says verified");
    assert_eq!(try_sign_in(&t, "VERA@example.com", PW).await, "/", "a verified address signs in");

    // The ID Token and userinfo tell the truth.
    let rp = oidc::register_rp(&t).await;
    let code = oidc::code(&t, &b, &rp, "openid email", &[]).await;
    let (status, body) = oidc::redeem(&t, &rp, &code).await;
    assert_eq!(status, 200, "{body}");
    let claims = oidc::claims_of(body["id_token"].as_str().unwrap());
    assert_eq!((claims["email"].as_str(), claims["email_verified"].as_bool()), (Some("Vera@Example.com"), Some(true)));
    let info = t
        .http
        .get(t.url("/o/userinfo/"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(info["email_verified"], true);
}

async fn a_typed_code_verifies_and_wrong_codes_are_throttled(backend: Backend) {
    let t = TestServer::start(backend).await;
    let (b, csrf) = sign_up(&t, "walt", "walt@example.com").await;
    let code = code_in(&t.sent.mail("walt@example.com", 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (_, location) =
            t.submit(&b, "/api/account/contacts/verify", &[("csrf", &csrf), ("which", "email"), ("code", wrong)]).await;
        assert_eq!(location, "/account?error=wrong_code");
    }
    let (_, location) =
        t.submit(&b, "/api/account/contacts/verify", &[("csrf", &csrf), ("which", "email"), ("code", &code)]).await;
    assert!(location.starts_with("/account?error=throttled_"), "the sixth guess waits: {location}");
    assert!(!t.services.find_user("walt").await.unwrap().email_verified);
    // The code died after five misses: a new one, once the resend pause is over, works.
    let (_, location) = t.submit(&b, "/api/account/contacts/send", &[("csrf", &csrf), ("which", "email")]).await;
    assert_eq!(location, "/account?error=too_soon", "one code a minute per address");
}

async fn squatting_an_address_keeps_nobody_out(backend: Backend) {
    let t = TestServer::start(backend).await;
    // A registers B's address; B registers it too.
    let (mallory, _) = sign_up(&t, "mallory", "bob@example.com").await;
    let (bob, _) = sign_up(&t, "bob", "bob@example.com").await;
    let squat_link = link_in(&t.sent.mail("bob@example.com", 1).await);
    let own_link = link_in(&t.sent.mail("bob@example.com", 2).await);
    assert_eq!(confirm(&t, &bob, &own_link).await, "/account?done=verified");
    assert!(t.services.find_user("bob").await.unwrap().email_verified);
    let a = t.services.find_user("mallory").await.unwrap();
    assert_eq!(a.email, None, "the squatter's claim is dropped");
    let (_, page) = t.page(&mallory, "/account").await;
    assert!(page.contains("removed from your account"), "with a notice on their account page");
    assert!(confirm(&t, &mallory, &squat_link).await.ends_with("error=stale_link"), "their link is dead");
    assert_eq!(try_sign_in(&t, "bob@example.com", PW).await, "/");
    assert_eq!(t.services.find_user("bob@example.com").await.unwrap().username, "bob");

    // A reset by that address reaches B, never A.
    let b = browser();
    let (_, html) = t.page(&b, "/o/password/forgot/").await;
    let (_, location) =
        t.submit(&b, "/api/password/forgot", &[("csrf", &csrf_of(&html)), ("address", "bob@example.com")]).await;
    assert_eq!(location, "/o/password/reset/?to=bob%40example.com");
    let reset = t.sent.mail("bob@example.com", 3).await;
    assert!(reset.subject.contains("reset"), "{}", reset.subject);
    let path = path_of(&t, &link_in(&reset));
    let (_, html) = t.page(&b, &path).await;
    let token = path.split("token=").nth(1).unwrap();
    let (_, location) =
        t.submit(&b, "/api/password/reset", &[("csrf", &csrf_of(&html)), ("token", token), ("password", NEW_PW)]).await;
    assert_eq!(location, "/o/login/?done=reset");
    assert_eq!(try_sign_in(&t, "bob", NEW_PW).await, "/");
    assert_eq!(try_sign_in(&t, "mallory", PW).await, "/", "A's password is untouched");
}

async fn a_reset_ends_every_session_and_token(backend: Backend) {
    let (t, app, _alice) = oauth::setup(backend).await;
    let (access, refresh) = oauth::password(&t, &app, "read").await;
    let signed_in = browser();
    t.sign_in(&signed_in, "alice", PW).await;

    let b = browser();
    let (_, html) = t.page(&b, "/o/password/forgot/").await;
    let (_, location) =
        t.submit(&b, "/api/password/forgot", &[("csrf", &csrf_of(&html)), ("address", "ALICE@example.com ")]).await;
    assert_eq!(location, "/o/password/reset/?to=alice%40example.com");
    let code = code_in(&t.sent.mail("alice@example.com", 1).await);
    let (_, html) = t.page(&b, &location).await;
    let csrf = csrf_of(&html);
    let form = |code: &str, password: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("to".to_owned(), "alice@example.com".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ]
    };
    let post = |f: Vec<(String, String)>| {
        let b = b.clone();
        let url = t.url("/api/password/reset");
        async move {
            let r = b.post(url).header("accept", "text/html").form(&f).send().await.unwrap();
            r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        }
    };
    assert!(post(form(&code, "password")).await.contains("error="), "the common-password rules apply");
    assert_eq!(post(form(&code, NEW_PW)).await, "/o/login/?done=reset");
    assert!(post(form(&code, "another new passphrase")).await.contains("error=wrong_code"), "single use");

    assert_eq!(try_sign_in(&t, "alice", PW).await, "/o/login/?error=credentials");
    assert_eq!(try_sign_in(&t, "alice", NEW_PW).await, "/");
    assert!(!active(&t, &app, &access).await, "access tokens are revoked");
    oauth::refresh(&t, &app, &refresh).await.error(400, "invalid_grant");
    let (_, page) = t.page(&signed_in, "/account").await;
    assert!(!page.contains("alice display"), "the old session ended");
    let notice = t.sent.mail("alice@example.com", 2).await;
    assert!(notice.subject.contains("password was changed"), "{}", notice.subject);
}

async fn forgot_password_says_the_same_for_every_address(backend: Backend) {
    let t = TestServer::start_with(backend, |s| s.throttle.signups = 1000).await;
    t.user("alice", PW).await;
    let b = browser();
    let (_, html) = t.page(&b, "/o/password/forgot/").await;
    let csrf = csrf_of(&html);
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..24 {
        for (i, address) in ["alice@example.com", "nobody@example.com"].into_iter().enumerate() {
            let started = Instant::now();
            let (status, location) =
                t.submit(&b, "/api/password/forgot", &[("csrf", &csrf), ("address", address)]).await;
            times[i].push(started.elapsed());
            assert_eq!(status, 303);
            assert_eq!(location, format!("/o/password/reset/?to={}", address.replace('@', "%40")), "round {round}");
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut times[0]), median(&mut times[1]));
    let gap = known.abs_diff(unknown);
    assert!(gap < Duration::from_millis(10) + known.min(unknown), "known {known:?} against unknown {unknown:?}");
    // The difference shows only in what is sent, later: one reset (then the per-address
    // limit), nothing to the unknown address.
    t.sent.mail("alice@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(t.sent.mails_to("nobody@example.com").is_empty());
    assert_eq!(t.sent.mails_to("alice@example.com").len(), 1, "one code a minute per address");
}

async fn phone_sign_in_opens_an_account_and_resumes_the_request(backend: Backend) {
    let t = TestServer::start_with(backend, |s| s.contacts.resend_after_secs = 1).await;
    let b = browser();
    let (_, html) = t.page(&b, "/o/login/?method=phone").await;
    assert!(html.contains("name=\"phone\""), "the phone tab");
    let csrf = csrf_of(&html);
    let next = "/o/authorize/?client_id=x&response_type=code";
    let send = |phone: &'static str| {
        let (b, csrf) = (b.clone(), csrf.clone());
        let t = t.clone();
        async move { t.submit(&b, "/api/login/phone/send", &[("csrf", &csrf), ("phone", phone), ("next", next)]).await.1 }
    };
    let location = send("138 0013 8000").await;
    assert_eq!(
        location,
        "/o/login/?method=phone&next=/o/authorize/%3Fclient_id%3Dx%26response_type%3Dcode&phone=%2B8613800138000&done=code_sent"
    );
    assert!(send("12345").await.ends_with("error=invalid"), "an impossible number");
    let code = t.sent.code("+8613800138000", 1).await;
    let login = |code: String| {
        let (b, csrf) = (b.clone(), csrf.clone());
        let t = t.clone();
        async move {
            let form = [("csrf", csrf.as_str()), ("phone", "+8613800138000"), ("code", &code), ("next", next)];
            t.submit(&b, "/api/login/phone", &form).await.1
        }
    };
    assert_eq!(login(code.clone()).await, next, "on to the authorization request, like a password sign-in");
    let user = t.store().user_by_verified_phone("+8613800138000").await.unwrap().expect("a new account");
    assert!(user.phone_verified && user.password_hash.is_none());
    assert!(login(code).await.contains("error=wrong_code"), "a code works once");

    // The same number later: the same account (a success forgives the miss above).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    send("+86 13800138000").await;
    assert_eq!(login(t.sent.code("+8613800138000", 2).await).await, next);
    let (_, page) = t.page(&b, "/account").await;
    assert!(page.contains(&user.username), "signed in to the same account");
    // Five wrong codes, then the throttle.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    send("+8613800138000").await;
    let code = t.sent.code("+8613800138000", 3).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(login(wrong.to_owned()).await.ends_with("error=wrong_code"));
    }
    assert!(login(code).await.contains("error=throttled_"), "the sixth try waits");
    assert_eq!(t.store().user_by_verified_phone("+8613800138000").await.unwrap().map(|u| u.id), Some(user.id));
}

async fn the_outbox_sends_once_after_a_restart(backend: Backend) {
    let t = TestServer::start(backend).await;
    t.sent.fail(true);
    let (_, _) = sign_up(&t, "olga", "olga@example.com").await;
    // The first attempt fails; the server goes down with the message queued.
    for _ in 0..100 {
        if t.store().pending_messages().await.unwrap() == 1 && t.sent.count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.store().pending_messages().await.unwrap(), 1);
    let db = t.stop().await;
    let again = TestServer::start_on(db, |_| {}).await;
    let mail = again.sent.mail("olga@example.com", 1).await;
    assert!(mail.subject.contains("confirm"));
    for _ in 0..40 {
        if again.store().pending_messages().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(again.store().pending_messages().await.unwrap(), 0, "the outbox is empty");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(again.sent.mails_to("olga@example.com").len(), 1, "sent exactly once");
}

on_both_backends!(
    a_link_verifies_the_address_and_the_id_token_says_so,
    a_typed_code_verifies_and_wrong_codes_are_throttled,
    squatting_an_address_keeps_nobody_out,
    a_reset_ends_every_session_and_token,
    forgot_password_says_the_same_for_every_address,
    phone_sign_in_opens_an_account_and_resumes_the_request,
    the_outbox_sends_once_after_a_restart,
);
