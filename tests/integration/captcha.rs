//! The CAPTCHA on the forms that send codes, over HTTP as a browser posts them: the built-in
//! proof of work (a missing, unsolved or reused answer sends nothing) and a provider checked
//! through its `siteverify` API (a fake one here, on loopback); on SQLite and PostgreSQL.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{extract::State, routing::post, Form, Json, Router};
use serde_json::{json, Value};
use yaoshi::{config::CaptchaKind, service::captcha::solve_pow};

use crate::common::{browser, oauth::PW, process::free_port, Backend, TestServer};

const BITS: u8 = 10;
const SECRET: &str = "captcha-secret";

fn field<'a>(html: &'a str, start: &str) -> &'a str {
    html.split(start).nth(1).and_then(|s| s.split('"').next()).unwrap_or_else(|| panic!("{start} in the page"))
}

/// The page's CSRF token and CAPTCHA challenge.
async fn form_of(t: &TestServer, b: &reqwest::Client, path: &str) -> (String, String) {
    let (status, html) = t.page(b, path).await;
    assert_eq!(status, 200, "{path}");
    assert!(html.contains(&format!("data-pow-bits=\"{BITS}\"")), "the field says how much work: {html}");
    (field(&html, "name=\"csrf\" value=\"").to_owned(), field(&html, "name=\"captcha\" value=\"").to_owned())
}

async fn forgot(t: &TestServer, b: &reqwest::Client, csrf: &str, captcha: Option<&str>) -> String {
    let mut form = vec![("csrf", csrf), ("address", "alice@example.com")];
    form.extend(captcha.map(|c| ("captcha", c)));
    let (status, location) = t.submit(b, "/api/password/forgot", &form).await;
    assert_eq!(status, 303);
    location
}

async fn proof_of_work_guards_the_forms_that_send_codes(backend: Backend) {
    let t = TestServer::start_with(backend, |s| {
        s.captcha.kind = CaptchaKind::Pow;
        s.captcha.pow_bits = BITS;
        s.contacts.resend_after_secs = 1;
    })
    .await;
    t.user("alice", PW).await;
    let b = browser();
    let (csrf, challenge) = form_of(&t, &b, "/o/password/forgot/").await;
    let refused = "/o/password/forgot/?error=captcha";
    assert_eq!(forgot(&t, &b, &csrf, None).await, refused, "no answer");
    assert_eq!(forgot(&t, &b, &csrf, Some(&challenge)).await, refused, "the challenge, unsolved");
    let forged = solve_pow(&challenge.replacen('.', ".x", 1), BITS);
    assert_eq!(forgot(&t, &b, &csrf, Some(&forged)).await, refused, "a challenge the server did not make");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.store().pending_messages().await.unwrap(), 0, "nothing was queued");
    assert_eq!(t.sent.count(), 0);

    let answer = solve_pow(&challenge, BITS);
    assert_eq!(forgot(&t, &b, &csrf, Some(&answer)).await, "/o/password/reset/?to=alice%40example.com");
    t.sent.mail("alice@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(forgot(&t, &b, &csrf, Some(&answer)).await, refused, "an answer is good once");

    // The phone tab's form carries one too; each page load a new challenge.
    let (csrf, first) = form_of(&t, &b, "/o/login/?method=phone").await;
    let (_, second) = form_of(&t, &b, "/o/login/?method=phone").await;
    assert_ne!(first, second);
    let send = |captcha: String| {
        let (t, b, csrf) = (t.clone(), b.clone(), csrf.clone());
        async move {
            let form = [("csrf", csrf.as_str()), ("phone", "13800138000"), ("next", ""), ("captcha", &captcha)];
            t.submit(&b, "/api/login/phone/send", &form).await.1
        }
    };
    assert!(send(first.clone()).await.ends_with("error=captcha"));
    assert!(send(solve_pow(&first, BITS)).await.contains("done=code_sent"));
    t.sent.code("+8613800138000", 1).await;
}

/// What the fake provider was asked.
type Seen = Arc<Mutex<Vec<Value>>>;

/// A `siteverify` endpoint: tokens starting `passed-` pass, with the right secret.
async fn fake_provider(port: u16) -> Seen {
    async fn verify(State(seen): State<Seen>, Form(form): Form<HashMap<String, String>>) -> Json<Value> {
        let form = json!(form);
        let passed = form["secret"] == SECRET && form["response"].as_str().is_some_and(|r| r.starts_with("passed-"));
        seen.lock().unwrap().push(form);
        Json(
            json!({ "success": passed, "error-codes": if passed { json!([]) } else { json!(["invalid-input-response"]) } }),
        )
    }
    let seen = Seen::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the provider's port");
    let app = Router::new().route("/siteverify", post(verify)).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    seen
}

async fn a_provider_checks_the_widgets_token(backend: Backend) {
    let port = free_port();
    let provider = format!("http://127.0.0.1:{port}");
    let seen = fake_provider(port).await;
    let p = provider.clone();
    let t = TestServer::start_with(backend, move |s| {
        s.captcha.kind = CaptchaKind::Provider;
        s.captcha.site_key = Some("site-key-1".into());
        s.captcha.secret = Some(SECRET.into());
        s.captcha.verify_url = Some(format!("{p}/siteverify"));
        s.captcha.script_url = Some(format!("{p}/api.js"));
        s.captcha.widget_class = Some("cf-turnstile".into());
    })
    .await;
    t.user("alice", PW).await;
    let b = browser();
    let page = b.get(t.url("/o/password/forgot/")).header("Accept", "text/html").send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["script-src", "frame-src", "connect-src"] {
        let list = csp.split(';').find(|d| d.trim().starts_with(directive)).unwrap_or_default();
        assert!(list.contains(&provider), "{directive} allows the provider: {csp}");
    }
    let html = page.text().await.unwrap();
    let at = html.find("data-sitekey").unwrap_or_else(|| panic!("a widget: {html}"));
    let widget = &html[html[..at].rfind('<').unwrap_or(at)..at + html[at..].find('>').unwrap_or(0)];
    assert!(widget.contains("class=\"cf-turnstile\"") && widget.contains("data-sitekey=\"site-key-1\""), "{html}");
    assert!(html.contains(&format!("src=\"{provider}/api.js\"")));
    let csrf = field(&html, "name=\"csrf\" value=\"").to_owned();

    let refused = "/o/password/forgot/?error=captcha";
    assert_eq!(forgot(&t, &b, &csrf, Some("failed-1")).await, refused);
    assert_eq!(forgot(&t, &b, &csrf, Some("passed-1")).await, "/o/password/reset/?to=alice%40example.com");
    assert_eq!(forgot(&t, &b, &csrf, Some("passed-1")).await, refused, "a token is good once");
    assert_eq!(forgot(&t, &b, &csrf, None).await, refused, "no token: the provider is not asked");
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[1]["secret"], SECRET);
    assert_eq!(asked[1]["remoteip"], "127.0.0.1");
    t.sent.mail("alice@example.com", 1).await;
}

/// Without a `[captcha]` table the forms carry nothing and need nothing.
async fn off_by_default(backend: Backend) {
    let t = TestServer::start(backend).await;
    t.user("alice", PW).await;
    let b = browser();
    let (_, html) = t.page(&b, "/o/password/forgot/").await;
    assert!(!html.contains("name=\"captcha\""));
    let csrf = field(&html, "name=\"csrf\" value=\"").to_owned();
    assert_eq!(forgot(&t, &b, &csrf, None).await, "/o/password/reset/?to=alice%40example.com");
}

on_both_backends!(proof_of_work_guards_the_forms_that_send_codes, a_provider_checks_the_widgets_token, off_by_default,);
