//! A fuzzer of the HTTP endpoints, run with the other tests: seeded and bounded, it sends
//! malformed requests (`gen.rs`: parameters random, huge, repeated or missing, bad escapes,
//! bytes that are not UTF-8, odd content types and methods, broken Basic credentials, bogus
//! cookies and CSRF tokens, values and heads near the limits) to each endpoint group and checks
//! that every one is answered without a server error and with the group's error format, that
//! nothing panicked, and that the server still works afterwards.
//!
//! `YAOSHI_FUZZ_SEED` (default below) and `YAOSHI_FUZZ_REQUESTS` (per group, default 10,000)
//! make longer or other runs; a failure prints the seed and the request. SQLite only.

mod gen;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use gen::{Fields, Req, Rng};
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

use crate::common::{
    oauth::{code_for, insert_code, password, PW, URI},
    raw::{RawConn, RawReply},
    Backend, TestServer,
};

const DEFAULT_SEED: u64 = 0x7961_6f73_6869;
const DEFAULT_REQUESTS: usize = 10_000;
/// Connections sending at once.
const WORKERS: usize = 12;
/// The CSRF token the fuzzer's own cookie carries (any long token does: double submit).
const CSRF: &str = "fuzz-csrf-token-0123456789abcdefghijklmnopq";

/// RFC 6749 §5.2, the token endpoint's error codes.
const TOKEN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    // RFC 9449 §5, §8: a request with a DPoP header.
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

/// What the fuzzer knows about the server, so that some requests get past the first checks.
struct Known {
    addr: SocketAddr,
    client_id: String,
    secret: String,
    public_id: String,
    access_token: String,
    refresh_token: String,
    codes: Vec<String>,
    session: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// A server with a user, a confidential and a public client, tokens, codes and a session.
async fn setup() -> (TestServer, Known) {
    let srv = TestServer::start(Backend::Sqlite).await;
    let alice = srv.user("alice", PW).await;
    let all =
        vec![GrantType::AuthorizationCode, GrantType::Password, GrantType::ClientCredentials, GrantType::RefreshToken];
    let (client_id, secret) = srv
        .client(ClientSpec {
            name: "Fuzzed".into(),
            redirect_uris: vec![URI.into(), "http://127.0.0.1/cb".into()],
            grants: [all, vec![GrantType::Implicit]].concat(),
            client_id: Some("fuzz-app".into()),
            ..ClientSpec::default()
        })
        .await;
    let (public_id, _) = srv
        .client(ClientSpec {
            name: "Fuzzed SPA".into(),
            public: true,
            redirect_uris: vec![URI.into()],
            client_id: Some("fuzz-spa".into()),
            ..ClientSpec::default()
        })
        .await;
    let app = crate::common::oauth::App { id: client_id.clone(), secret: secret.clone() };
    let (access_token, refresh_token) = password(&srv, &app, "openid profile email").await;
    let mut codes = Vec::new();
    for _ in 0..20 {
        codes.push(insert_code(&srv, &code_for(&srv, &client_id, alice)).await);
    }
    let session = sign_in(&srv).await;
    let addr = srv.base.trim_start_matches("http://").parse().expect("address");
    let known = Known {
        addr,
        client_id,
        secret: secret.expect("a confidential client's secret"),
        public_id,
        access_token,
        refresh_token,
        codes,
        session,
    };
    (srv, known)
}

/// Signs alice in through the login form; returns the session cookie's value.
async fn sign_in(srv: &TestServer) -> String {
    let resp = srv
        .http
        .post(srv.url("/api/login"))
        .header(ACCEPT, "text/html")
        .header(COOKIE, format!("yaoshi_csrf={CSRF}"))
        .form(&[("csrf", CSRF), ("username", "alice"), ("password", PW), ("next", "/")])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 303);
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("yaoshi_session=")?.split(';').next().map(str::to_owned))
        .expect("a session cookie")
}

/// What an answer must be, beyond "not a server error".
type Check = fn(&Req, &RawReply) -> Result<(), String>;

/// Sends `count` requests made by `make`, from [`WORKERS`] connections, checking each with
/// `check`; then checks that nothing panicked and that the server still answers.
async fn run(group: &str, stream: u64, make: fn(&mut Rng, &Known) -> Req, check: Check) {
    let (srv, known) = setup().await;
    let seed = env_or("YAOSHI_FUZZ_SEED", DEFAULT_SEED);
    let count = env_or("YAOSHI_FUZZ_REQUESTS", DEFAULT_REQUESTS);
    let panics = yaoshi::server::panics::count();
    let known = Arc::new(known);
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (known, failures, statuses) = (known.clone(), failures.clone(), statuses.clone());
            tokio::spawn(async move {
                let mut rng = Rng::new(seed, stream * 1000 + w as u64);
                let mut conn = None;
                for i in (w..count).step_by(WORKERS) {
                    let req = make(&mut rng, &known);
                    let outcome = exchange(&mut conn, known.addr, &req).await;
                    let verdict = outcome.and_then(|reply| {
                        *statuses.lock().unwrap().entry(reply.status).or_default() += 1;
                        if reply.status >= 500 {
                            return Err(format!(
                                "server error {}: {}",
                                reply.status,
                                String::from_utf8_lossy(&reply.body)
                            ));
                        }
                        check(&req, &reply)
                    });
                    if let Err(why) = verdict {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("request {i} (worker {w}): {why}\n  sent {}", req.describe()));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let took = started.elapsed();
    eprintln!(
        "fuzz {group}: {count} requests in {:.1} s (seed {seed:#x}); statuses {:?}",
        took.as_secs_f64(),
        statuses.lock().unwrap()
    );
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    assert!(
        failures.is_empty(),
        "fuzz {group}, seed {seed:#x}: {} of {count} requests failed; by kind:\n{}\nthe first:\n{}",
        failures.len(),
        kinds(&failures),
        failures.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
    // (The count is the process's: a test failing meanwhile elsewhere in this binary adds one.)
    assert_eq!(yaoshi::server::panics::count(), panics, "the server panicked while fuzzed");
    still_works(&srv, &known).await;
}

/// The failures counted by the start of their reason, most frequent first.
fn kinds(failures: &[String]) -> String {
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for f in failures {
        let why = f.split_once("): ").map_or(f.as_str(), |(_, why)| why);
        *kinds.entry(why.chars().take(90).collect()).or_default() += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    kinds.iter().take(12).map(|(why, n)| format!("  {n} x {why}")).collect::<Vec<_>>().join("\n")
}

/// Sends `req` on the worker's connection (made anew when there is none) and reads the
/// answer. A kept-alive connection the server has closed in the meantime is replaced once;
/// a new connection that gets no answer is a failure (the server dropped the request).
async fn exchange(conn: &mut Option<RawConn>, addr: SocketAddr, req: &Req) -> Result<RawReply, String> {
    let bytes = req.bytes();
    for attempt in 0..2 {
        let reused = conn.is_some();
        let mut c = match conn.take() {
            Some(c) => c,
            None => RawConn::connect(addr).await.map_err(|e| format!("connect: {e}"))?,
        };
        match tokio::time::timeout(Duration::from_secs(30), c.send(&bytes, req.is_head())).await {
            Err(_) => return Err("no answer within 30 s".into()),
            Ok(Ok(reply)) => {
                // After a refused body (unread) or a broken head the server may close the
                // connection without saying so.
                let keep = !reply.closed && !req.broken_head && !matches!(reply.status, 408 | 413);
                if keep {
                    *conn = Some(c);
                }
                return Ok(reply);
            }
            Ok(Err(_)) if reused && attempt == 0 => continue,
            Ok(Err(e)) => return Err(format!("no answer: {e}")),
        }
    }
    Err("no answer on a new connection".into())
}

/// After the fuzzing: the health check and a plain token request still succeed.
async fn still_works(srv: &TestServer, known: &Known) {
    let health = srv.http.get(srv.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    let (status, json) = srv
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &known.client_id),
            ("client_secret", &known.secret),
        ])
        .await;
    assert_eq!(status, 200, "{json}");
    assert!(json["access_token"].is_string(), "{json}");
}

/// The `error` of a JSON body, if it has one.
fn error_code(reply: &RawReply) -> Option<String> {
    reply.json().and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned))
}

/// An error answer of a token-style endpoint must be a JSON object whose `error` is one of
/// `codes`; only hyper's own answers to broken heads (no body) and HEAD answers are exempt.
fn oauth_errors(req: &Req, reply: &RawReply, codes: &[&str]) -> Result<(), String> {
    if reply.status < 400 || !req.routed || req.is_head() || (req.broken_head && reply.body.is_empty()) {
        return Ok(());
    }
    match error_code(reply) {
        Some(code) if codes.contains(&code.as_str()) => Ok(()),
        other => Err(format!("{} with error {other:?}: {}", reply.status, String::from_utf8_lossy(&reply.body))),
    }
}

fn token_check(req: &Req, reply: &RawReply) -> Result<(), String> {
    oauth_errors(req, reply, TOKEN_ERRORS)
}

fn revoke_check(req: &Req, reply: &RawReply) -> Result<(), String> {
    // RFC 7009 §2.2.1 adds one code to RFC 6749 §5.2's.
    oauth_errors(req, reply, &[TOKEN_ERRORS, &["unsupported_token_type"]].concat())
}

fn userinfo_check(req: &Req, reply: &RawReply) -> Result<(), String> {
    // RFC 6750 §3.1: a request without credentials gets 401 and no body (the challenge is in
    // `WWW-Authenticate`); a method other than GET and POST gets 405 with `Allow`.
    let bodiless = |status, header| reply.status == status && reply.body.is_empty() && reply.header(header).is_some();
    if bodiless(401, "www-authenticate") || bodiless(405, "allow") {
        return Ok(());
    }
    let codes = ["invalid_request", "invalid_token", "insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce"];
    oauth_errors(req, reply, &codes)
}

/// The authorization endpoint answers errors on a page, or at the client's redirect URI
/// with a code of RFC 6749 §4.1.2.1 or OIDC Core §3.1.2.6, never `server_error`.
fn authorize_check(_: &Req, reply: &RawReply) -> Result<(), String> {
    let Some(location) = reply.header("location") else { return Ok(()) };
    if !location.starts_with(URI) && !location.starts_with("http://127.0.0.1/cb") {
        return Ok(());
    }
    let params = location.split_once(['?', '#']).map(|(_, p)| p).unwrap_or_default();
    let error = url::form_urlencoded::parse(params.as_bytes()).find(|(k, _)| k == "error").map(|(_, v)| v.into_owned());
    const CODES: &[&str] = &[
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "login_required",
        "consent_required",
        "interaction_required",
        "account_selection_required",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
        "invalid_request_uri",
        "invalid_request_object",
    ];
    match error {
        Some(e) if !CODES.contains(&e.as_str()) => Err(format!("redirected with error {e}: {location}")),
        _ => Ok(()),
    }
}

fn no_check(_: &Req, _: &RawReply) -> Result<(), String> {
    Ok(())
}

/// Form headers every POST group shares: content type, credentials, cookies, `Accept`.
fn form_headers(rng: &mut Rng, req: &mut Req, k: &Known, session: bool) {
    if let Some(ct) = gen::content_type(rng) {
        req.header("Content-Type", ct);
    }
    if let Some(auth) = gen::authorization(rng, &k.client_id, &k.secret) {
        req.header("Authorization", auth);
    }
    if let Some(cookie) = gen::cookie(rng, session.then_some(k.session.as_str()), CSRF) {
        req.header("Cookie", cookie);
    }
    let accept = *rng.pick(&["", "text/html", "application/json", "*/*", "text/html;q=0"]);
    if !accept.is_empty() {
        req.header("Accept", accept);
    }
    match rng.below(8) {
        0 => req.header("Origin", format!("http://{}", k.addr)),
        1 => req.header("Origin", "https://evil.example"),
        2 => req.header("Origin", "null"),
        _ => {}
    }
}

fn token_request(rng: &mut Rng, k: &Known) -> Req {
    let path = *rng.pick(&["/o/token/", "/o/token"]);
    let mut req = Req::new("POST", path);
    let codes: Vec<&str> = k.codes.iter().map(String::as_str).collect();
    let grant: &[&str] =
        &["authorization_code", "password", "client_credentials", "refresh_token", "implicit", "urn:x"];
    let fields: Fields = &[
        ("grant_type", grant),
        ("client_id", &[&k.client_id, &k.public_id]),
        ("client_secret", &[&k.secret]),
        ("code", &codes),
        ("redirect_uri", &[URI, "http://127.0.0.1/cb", "http://127.0.0.1:9/cb"]),
        ("username", &["alice", "nobody"]),
        ("password", &[PW, "wrong"]),
        ("refresh_token", &[&k.refresh_token]),
        ("scope", &["openid", "read write", "openid profile email", "unknown"]),
        ("code_verifier", &["dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"]),
    ];
    req.body = gen::pairs(rng, fields);
    form_headers(rng, &mut req, k, false);
    if rng.chance(20) {
        req.header("DPoP", gen::dpop_proof(rng));
    }
    gen::mangle(rng, &mut req, &k.addr.to_string());
    req
}

fn revoke_request(rng: &mut Rng, k: &Known) -> Req {
    let path = *rng.pick(&["/o/revoke_token/", "/o/introspect/", "/o/revoke_token", "/o/introspect"]);
    let mut req = Req::new("POST", path);
    let fields: Fields = &[
        ("token", &[&k.access_token, &k.refresh_token, "yat_unknown"]),
        ("token_type_hint", &["access_token", "refresh_token", "id_token", "bogus"]),
        ("client_id", &[&k.client_id, &k.public_id]),
        ("client_secret", &[&k.secret]),
    ];
    req.body = gen::pairs(rng, fields);
    form_headers(rng, &mut req, k, false);
    gen::mangle(rng, &mut req, &k.addr.to_string());
    req
}

fn userinfo_request(rng: &mut Rng, k: &Known) -> Req {
    let path = *rng.pick(&["/o/userinfo/", "/o/userinfo"]);
    let method = if rng.chance(50) { "GET" } else { "POST" };
    let mut req = Req::new(method, path);
    if method == "POST" {
        req.body = gen::pairs(rng, &[("access_token", &[&k.access_token, &k.refresh_token])]);
        if let Some(ct) = gen::content_type(rng) {
            req.header("Content-Type", ct);
        }
    }
    match rng.below(7) {
        0 => {}
        1 => req.header("Authorization", format!("Bearer {}", k.access_token)),
        2 => req.header("Authorization", [&b"Bearer "[..], &gen::value(rng, &[&k.access_token])].concat()),
        3 => req.header("Authorization", format!("bearer   {} extra", k.access_token)),
        4 => {
            req.header("Authorization", format!("DPoP {}", k.access_token));
            if rng.chance(80) {
                req.header("DPoP", gen::dpop_proof(rng));
            }
        }
        _ => {
            if let Some(auth) = gen::authorization(rng, &k.client_id, &k.secret) {
                req.header("Authorization", auth);
            }
        }
    }
    gen::mangle(rng, &mut req, &k.addr.to_string());
    req
}

fn authorize_request(rng: &mut Rng, k: &Known) -> Req {
    let fields: Fields = &[
        ("response_type", &["code", "token", "id_token", "code id_token", "id_token token", "code token", "none"]),
        ("client_id", &[&k.client_id, &k.public_id]),
        ("redirect_uri", &[URI, "http://127.0.0.1/cb", "http://127.0.0.1:4000/cb", "https://evil.example/cb"]),
        ("scope", &["openid", "openid profile email", "read", "offline_access", "unknown"]),
        ("state", &["xyz"]),
        ("nonce", &["n-0S6_WzA2Mj"]),
        ("code_challenge", &["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"]),
        ("code_challenge_method", &["S256", "plain"]),
        ("prompt", &["none", "login", "consent", "select_account", "login consent"]),
        ("max_age", &["0", "60", "-1"]),
        ("response_mode", &["query", "fragment", "form_post", "web_message"]),
        ("id_token_hint", &["eyJhbGciOiJub25lIn0.e30."]),
        ("login_hint", &["alice"]),
        ("ui_locales", &["zh en", "xx"]),
        ("request", &["eyJhbGciOiJub25lIn0.e30."]),
        ("request_uri", &["urn:x"]),
    ];
    let path = *rng.pick(&["/o/authorize/", "/o/authorize", "/o/authorize/denied/"]);
    let query = gen::pairs(rng, fields);
    let mut req = Req::new("GET", path);
    req.target = [path.as_bytes(), b"?", &query].concat();
    req.broken_head = query.iter().any(|b| !b.is_ascii_graphic());
    if let Some(cookie) = gen::cookie(rng, Some(&k.session), CSRF) {
        req.header("Cookie", cookie);
    }
    if rng.chance(50) {
        req.header("Accept", "text/html");
    }
    gen::mangle(rng, &mut req, &k.addr.to_string());
    req
}

fn form_request(rng: &mut Rng, k: &Known) -> Req {
    let text: &[&str] = &["alice", "Alice A", "alice@example.com", "/", "/account", "https://evil.example/"];
    let forms: &[(&str, Fields)] = &[
        (
            "/api/login",
            &[("csrf", &[CSRF]), ("username", &["alice", "nobody"]), ("password", &[PW, "x"]), ("next", text)],
        ),
        (
            "/api/consent",
            &[
                ("csrf", &[CSRF]),
                ("query", &["response_type=code&client_id=fuzz-app"]),
                ("decision", &["approve", "deny"]),
            ],
        ),
        ("/api/account/profile", &[("csrf", &[CSRF]), ("display_name", text), ("email", text)]),
        ("/api/account/password", &[("csrf", &[CSRF]), ("current_password", &["wrong"]), ("new_password", text)]),
        ("/api/account/delete", &[("csrf", &[CSRF]), ("password", &["wrong"])]),
        ("/api/account/revoke", &[("csrf", &[CSRF]), ("client_id", &["fuzz-app", "fuzz-spa"])]),
        ("/api/account/sessions", &[("csrf", &[CSRF]), ("session_id", &["1", "all"])]),
        ("/api/account/unlink", &[("csrf", &[CSRF]), ("provider", &["github", "none"])]),
        (
            "/api/register",
            &[
                ("csrf", &[CSRF]),
                ("username", text),
                ("email", text),
                ("display_name", text),
                ("password", &[PW]),
                ("next", text),
            ],
        ),
        (
            "/o/logout/",
            &[("csrf", &[CSRF]), ("post_logout_redirect_uri", &[URI]), ("state", &["s"]), ("client_id", &["fuzz-app"])],
        ),
    ];
    let (path, fields) = *rng.pick(forms);
    let mut req = Req::new("POST", path);
    req.body = gen::pairs(rng, fields);
    // The logout form would end the session the other forms use.
    form_headers(rng, &mut req, k, path != "/o/logout/");
    gen::mangle(rng, &mut req, &k.addr.to_string());
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_endpoint() {
    run("token", 1, token_request, token_check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_and_introspection() {
    run("revoke/introspect", 2, revoke_request, revoke_check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn userinfo() {
    run("userinfo", 3, userinfo_request, userinfo_check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorization_endpoint() {
    run("authorize", 4, authorize_request, authorize_check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_consent_and_account_forms() {
    run("forms", 5, form_request, no_check).await;
}

/// Found by the fuzzer: a server function whose arguments do not decode (a field missing or
/// repeated, bytes that are not UTF-8) answered 500; it is the client's error, 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn undecodable_server_function_arguments_get_400() {
    let (srv, known) = setup().await;
    let cookie = format!("yaoshi_csrf={CSRF}; yaoshi_session={}", known.session);
    let bodies = [
        format!("csrf={CSRF}&display_name=Alice"),
        format!("csrf={CSRF}&display_name=Alice&display_name=Bob&email=a%40example.com"),
    ]
    .map(String::into_bytes);
    let not_utf8 = [format!("csrf={CSRF}&display_name=").into_bytes(), b"\xff\xfe&email=a".to_vec()].concat();
    for body in [&bodies[..], &[not_utf8]].concat() {
        let resp = srv
            .http
            .post(srv.url("/api/account/profile"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(COOKIE, &cookie)
            .body(body.clone())
            .send()
            .await
            .expect("answer");
        let shown = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(resp.status(), 400, "{shown}");
        let error: Value = resp.json().await.expect("the error as JSON");
        assert!(error["Transport"].is_string(), "{shown}: {error}");
    }
    // A well-formed call still succeeds, and an error the function sets keeps its status.
    let ok = srv
        .http
        .post(srv.url("/api/account/profile"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", CSRF), ("display_name", "Alice"), ("email", "alice@example.com")])
        .send()
        .await
        .expect("answer");
    assert_eq!(ok.status(), 200);
    let signed_out = srv
        .http
        .post(srv.url("/api/account/profile"))
        .header(COOKIE, format!("yaoshi_csrf={CSRF}"))
        .form(&[("csrf", CSRF), ("display_name", "Alice"), ("email", "alice@example.com")])
        .send()
        .await
        .expect("answer");
    assert_eq!(signed_out.status(), 401);
}
