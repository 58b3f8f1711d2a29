//! The device authorization grant (RFC 8628) over real HTTP, on SQLite and PostgreSQL: the
//! device authorization endpoint, the `/o/device/` page without JavaScript, and the token
//! endpoint's answers to a polling device (`authorization_pending`, `slow_down`,
//! `access_denied`, `expired_token`). Waiting out the poll interval is done by moving the
//! stored last poll back, so the tests do not sleep.

use crate::common::{browser, oauth::*, Backend, TestServer};
use serde_json::Value;
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// As if the device had waited out its interval since the last poll.
async fn wait_interval(srv: &TestServer) {
    srv.execute_sql("UPDATE device_codes SET polled_at = polled_at - 100 WHERE polled_at IS NOT NULL").await;
}

/// A server with alice and a public TV app that registered the device grant.
async fn setup_device(backend: Backend) -> (TestServer, App) {
    setup_device_with(backend, |_| {}).await
}

async fn setup_device_with(backend: Backend, adjust: impl FnOnce(&mut yaoshi::config::Settings)) -> (TestServer, App) {
    let srv = TestServer::start_with(backend, adjust).await;
    srv.user("alice", PW).await;
    let spec = ClientSpec {
        name: "Living Room TV".into(),
        public: true,
        grants: vec![GrantType::DeviceCode, GrantType::RefreshToken],
        ..ClientSpec::default()
    };
    let (id, secret) = srv.client(spec).await;
    (srv, App { id, secret })
}

async fn authorize_device(srv: &TestServer, app: &App, scope: &str) -> Reply {
    post(srv, "/o/device/authorize/", &app.form(&[("scope", scope)])).await
}

async fn poll(srv: &TestServer, app: &App, device_code: &str) -> Reply {
    token(srv, app, &[("grant_type", DEVICE_GRANT), ("device_code", device_code)]).await
}

/// Signs alice in and opens the page for `user_code`; returns the browser, its CSRF token and
/// the page.
async fn open_page(srv: &TestServer, user_code: &str) -> (reqwest::Client, String, String) {
    let b = browser();
    let csrf = srv.sign_in(&b, "alice", PW).await;
    let (status, html) = srv.page(&b, &format!("/o/device/?user_code={user_code}")).await;
    assert_eq!(status, 200, "{html}");
    (b, csrf, html)
}

async fn decide(srv: &TestServer, b: &reqwest::Client, csrf: &str, user_code: &str, decision: &str) -> (u16, String) {
    srv.submit(b, "/api/device/decide", &[("csrf", csrf), ("user_code", user_code), ("decision", decision)]).await
}

async fn approved_device_gets_tokens_once(backend: Backend) {
    let (srv, app) = setup_device(backend).await;
    let r = authorize_device(&srv, &app, "openid profile").await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let device_code = r.field("device_code");
    let user_code = r.field("user_code");
    assert!(device_code.starts_with("ydc_") && device_code.len() > 40, "{device_code}");
    let (a, b) = user_code.split_once('-').expect("XXXX-XXXX");
    assert!(
        a.len() == 4 && b.len() == 4 && format!("{a}{b}").bytes().all(|c| b"BCDFGHJKLMNPQRSTVWXZ".contains(&c)),
        "{user_code}"
    );
    assert_eq!(r.field("verification_uri"), srv.url("/o/device/"));
    assert_eq!(r.field("verification_uri_complete"), srv.url(&format!("/o/device/?user_code={user_code}")));
    assert_eq!((r.json["expires_in"].as_i64(), r.json["interval"].as_i64()), (Some(600), Some(5)));

    // The device polls before the user did anything, then too fast.
    poll(&srv, &app, &device_code).await.error(400, "authorization_pending");
    poll(&srv, &app, &device_code).await.error(400, "slow_down");
    wait_interval(&srv).await;
    poll(&srv, &app, &device_code).await.error(400, "authorization_pending");

    // The user types the code in lowercase without the dash: the page shows the app and code.
    let typed = user_code.replace('-', "").to_lowercase();
    let (b, csrf, html) = open_page(&srv, &typed).await;
    assert!(html.contains("Living Room TV") && html.contains(&user_code), "{html}");
    assert_eq!(decide(&srv, &b, &csrf, &user_code, "approve").await, (303, "/o/device/?done=approved".into()));
    let (_, done) = srv.page(&b, "/o/device/?done=approved").await;
    assert!(done.contains("your device is signed in"), "{done}");

    wait_interval(&srv).await;
    let issued = poll(&srv, &app, &device_code).await;
    let access = issued.field("access_token");
    assert!(issued.field("refresh_token").starts_with("yrt_"));
    assert_eq!(issued.json["scope"], "openid profile");
    let info = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access)).await;
    assert_eq!((info.status, info.json["preferred_username"].as_str()), (200, Some("alice")), "{}", info.raw);
    // Redeemed once: the next poll, and a second decision, find nothing.
    wait_interval(&srv).await;
    poll(&srv, &app, &device_code).await.error(400, "invalid_grant");
    assert_eq!(decide(&srv, &b, &csrf, &user_code, "approve").await.0, 303);
    // The approval is remembered as a consent: the account page lists the app.
    let (_, account) = srv.page(&b, "/account").await;
    assert!(account.contains("Living Room TV"), "{account}");
    // Neither code is stored in the clear.
    let dump = table_text(&srv).await;
    assert!(!dump.contains(&device_code) && !dump.contains(&user_code.replace('-', "")), "{dump}");
}

/// Every text column of `device_codes`, concatenated.
async fn table_text(srv: &TestServer) -> String {
    use sqlx::{Connection, Row};
    let sql = "SELECT device_hash, user_code_hash, client_id, scope, status FROM device_codes";
    let url = srv.database_url();
    let mut out = String::new();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        for row in sqlx::query(sql).fetch_all(&mut conn).await.expect(sql) {
            for i in 0..5 {
                out.push_str(&row.get::<String, _>(i));
                out.push(' ');
            }
        }
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        for row in sqlx::query(sql).fetch_all(&mut conn).await.expect(sql) {
            for i in 0..5 {
                out.push_str(&row.get::<String, _>(i));
                out.push(' ');
            }
        }
    }
    assert!(!out.is_empty(), "no device code stored");
    out
}

async fn denial_and_expiry_give_the_rfc_errors(backend: Backend) {
    let (srv, app) = setup_device(backend).await;
    let denied = authorize_device(&srv, &app, "profile").await;
    let (device_code, user_code) = (denied.field("device_code"), denied.field("user_code"));
    let (b, csrf, _) = open_page(&srv, &user_code).await;
    assert_eq!(decide(&srv, &b, &csrf, &user_code, "deny").await, (303, "/o/device/?done=denied".into()));
    poll(&srv, &app, &device_code).await.error(400, "access_denied");
    // A decided request cannot be decided again.
    let (status, location) = decide(&srv, &b, &csrf, &user_code, "approve").await;
    assert_eq!((status, location.as_str()), (303, "/o/device/?error=wrong_code"));
    poll(&srv, &app, &device_code).await.error(400, "access_denied");

    let late = authorize_device(&srv, &app, "profile").await;
    let (device_code, user_code) = (late.field("device_code"), late.field("user_code"));
    srv.execute_sql("UPDATE device_codes SET expires_at = 1 WHERE status = 'pending'").await;
    poll(&srv, &app, &device_code).await.error(400, "expired_token");
    let (_, html) = srv.page(&b, &format!("/o/device/?user_code={user_code}")).await;
    assert!(html.contains("wrong or has expired") && !html.contains("Approve"), "{html}");
    assert_eq!(decide(&srv, &b, &csrf, &user_code, "approve").await.1, "/o/device/?error=wrong_code");
    poll(&srv, &app, &device_code).await.error(400, "expired_token");
}

async fn the_grant_is_opt_in_and_requests_are_checked(backend: Backend) {
    let (srv, tv) = setup_device(backend).await;
    let web = register(&srv, false, &[GrantType::AuthorizationCode]).await;
    authorize_device(&srv, &web, "profile").await.error(400, "unauthorized_client");
    let stranger = App { id: "nobody".into(), secret: None };
    authorize_device(&srv, &stranger, "profile").await.error(401, "invalid_client");
    authorize_device(&srv, &tv, "launch-missiles").await.error(400, "invalid_scope");
    let get = send(srv.http.get(srv.url("/o/device/authorize/"))).await;
    assert_eq!(get.status, 405);
    // The token endpoint: a client without the grant, another client's code, a made-up one.
    let r = post(&srv, "/o/device/authorize/", &tv.form(&[])).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let device_code = r.field("device_code");
    poll(&srv, &web, &device_code).await.error(400, "unauthorized_client");
    let other_tv = ClientSpec {
        name: "Other TV".into(),
        public: true,
        grants: vec![GrantType::DeviceCode],
        ..ClientSpec::default()
    };
    let (other_id, _) = srv.client(other_tv).await;
    let other = App { id: other_id, secret: None };
    poll(&srv, &other, &device_code).await.error(400, "invalid_grant");
    poll(&srv, &tv, "ydc_made_up").await.error(400, "invalid_grant");
    token(&srv, &tv, &[("grant_type", DEVICE_GRANT)]).await.error(400, "invalid_request");
    // The other client's poll did not count as the device's.
    poll(&srv, &tv, &device_code).await.error(400, "authorization_pending");
    // Discovery names the endpoint and the grant.
    let m: Value = send(srv.http.get(srv.url("/.well-known/openid-configuration"))).await.json;
    assert_eq!(m["device_authorization_endpoint"], srv.url("/o/device/authorize/"));
    assert!(m["grant_types_supported"].as_array().unwrap().iter().any(|g| g == DEVICE_GRANT), "{m}");
}

async fn the_page_asks_to_sign_in_and_throttles_guesses(backend: Backend) {
    let (srv, app) = setup_device_with(backend, |s| s.throttle.base_delay = 120).await;
    // Signed out: to the login page, and back here after.
    let anonymous = browser();
    let resp = anonymous
        .get(srv.url("/o/device/?user_code=BCDF-GHJK"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let login = crate::common::location(&resp).unwrap_or_default();
    assert!(login.starts_with("/o/login/?next=") && login.contains("device") && login.contains("BCDF-GHJK"), "{login}");

    let real = authorize_device(&srv, &app, "profile").await.field("user_code");
    let wrong = if real == "BCDF-GHJK" { "ZZZZ-ZZZZ" } else { "BCDF-GHJK" };
    let b = browser();
    let csrf = srv.sign_in(&b, "alice", PW).await;
    // The page without a code asks for one, in either language.
    let (_, empty) = srv.page(&b, "/o/device/").await;
    assert!(empty.contains("name=\"user_code\"") && empty.contains("Enter the code"), "{empty}");
    // Not even shaped like a code: refused without counting.
    for _ in 0..10 {
        let (_, html) = srv.page(&b, "/o/device/?user_code=hello").await;
        assert!(html.contains("wrong or has expired"), "{html}");
    }
    // Five wrong codes are free, then the delays start: even the right code waits.
    for _ in 0..5 {
        let (_, html) = srv.page(&b, &format!("/o/device/?user_code={wrong}")).await;
        assert!(html.contains("wrong or has expired"), "{html}");
    }
    let (_, html) = srv.page(&b, &format!("/o/device/?user_code={real}")).await;
    assert!(html.contains("Too many attempts") && !html.contains("Approve"), "{html}");
    let (status, location) = decide(&srv, &b, &csrf, &real, "approve").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/o/device/?error=throttled"), "{location}");
    // Another user is not held up by alice's guesses.
    srv.user("bob", PW).await;
    let bob = browser();
    let bob_csrf = srv.sign_in(&bob, "bob", PW).await;
    assert_eq!(decide(&srv, &bob, &bob_csrf, &real, "approve").await.1, "/o/device/?done=approved");
}

async fn the_page_speaks_chinese(backend: Backend) {
    let (srv, app) = setup_device(backend).await;
    let user_code = authorize_device(&srv, &app, "profile").await.field("user_code");
    let b = browser();
    srv.sign_in(&b, "alice", PW).await;
    let resp = b
        .get(srv.url(&format!("/o/device/?user_code={user_code}")))
        .header("accept", "text/html")
        .header("accept-language", "zh-CN")
        .send()
        .await
        .expect("page");
    let html = resp.text().await.unwrap();
    assert!(html.contains("连接设备") && html.contains("仅当你的设备显示以下代码时才批准"), "{html}");
}

on_both_backends!(
    approved_device_gets_tokens_once,
    denial_and_expiry_give_the_rfc_errors,
    the_grant_is_opt_in_and_requests_are_checked,
    the_page_asks_to_sign_in_and_throttles_guesses,
    the_page_speaks_chinese,
);
