//! Back-channel logout through the outbox, on SQLite and PostgreSQL: a notice is retried until
//! its receiver answers, with the same `jti` every time; it survives a restart of the server;
//! and two servers on one database deliver every notice.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::common::{oauth::PW, oidc::*, Backend, TestServer};
use axum::{extract::State, http::StatusCode, routing::post, Form, Router};
use tokio::sync::mpsc;
use yaoshi::store::LogoutSettings;

/// One POST the receiver saw: the token's `jti` and `sid`, and what it answered.
#[derive(Debug)]
struct Seen {
    jti: String,
    sid: String,
    accepted: bool,
}

/// A free loopback port, for a receiver that is not up yet.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A back-channel receiver on `port` that answers 503 to the first `refuse` POSTs, then 200.
async fn receiver(port: u16, refuse: usize) -> mpsc::UnboundedReceiver<Seen> {
    #[derive(serde::Deserialize)]
    struct Body {
        logout_token: String,
    }
    type Shared = (mpsc::UnboundedSender<Seen>, Arc<AtomicUsize>, usize);
    async fn receive(State((tx, n, refuse)): State<Shared>, Form(body): Form<Body>) -> StatusCode {
        let accepted = n.fetch_add(1, Ordering::SeqCst) >= refuse;
        let claims = claims_of(&body.logout_token);
        let field = |k: &str| claims[k].as_str().unwrap_or_default().to_owned();
        let _ = tx.send(Seen { jti: field("jti"), sid: field("sid"), accepted });
        if accepted {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the receiver's port");
    let app =
        Router::new().route("/backchannel", post(receive)).with_state((tx, Arc::new(AtomicUsize::new(0)), refuse));
    tokio::spawn(async move { axum::serve(listener, app).await });
    rx
}

/// A server retrying after 1 s, 2 s, 4 s…, with alice and the relying party `rp`, which wants
/// back-channel logout at `port`.
async fn setup(backend: Backend, port: u16) -> (TestServer, App, i64) {
    let t = TestServer::start_with(backend, |s| s.logout_retry_base = 1).await;
    let alice = t.user("alice", PW).await;
    let logout = LogoutSettings {
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: Some(format!("http://127.0.0.1:{port}/backchannel")),
    };
    let rp = register_rp_with(&t, logout).await;
    (t, rp, alice)
}

/// Signs alice in and has `rp` issued an ID Token in that session; returns the ID Token's `sid`.
async fn session_with_id_token(t: &TestServer, rp: &App) -> String {
    let b = signed_in(t, "alice").await;
    let c = code(t, &b, rp, "openid", &[("nonce", "n")]).await;
    let (status, body) = redeem(t, rp, &c).await;
    assert_eq!(status, 200, "{body}");
    claims_of(body["id_token"].as_str().expect("id_token"))["sid"].as_str().expect("sid").to_owned()
}

/// Waits (at most 20 s) until `ready` holds.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut ready: impl FnMut() -> F) {
    let started = Instant::now();
    while !ready().await {
        assert!(started.elapsed() < Duration::from_secs(20), "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The notices' attempts so far and last errors, read behind the server's back.
async fn outbox(t: &TestServer) -> Vec<(i64, Option<String>)> {
    use sqlx::Connection as _;
    let (url, sql) = (t.database_url(), "SELECT attempts, last_error FROM logout_outbox ORDER BY id");
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_all(&mut c).await.expect("outbox")
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_all(&mut c).await.expect("outbox")
    }
}

/// Receives until a POST was accepted (at most 20 s); returns everything seen.
async fn until_accepted(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Vec<Seen> {
    let mut seen = Vec::new();
    while !seen.last().is_some_and(|s: &Seen| s.accepted) {
        let next = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("a logout token within 20 s");
        seen.push(next.expect("receiver open"));
    }
    seen
}

/// The receiver is down when the session ends, then refuses once: the notice is retried until
/// it is accepted, every attempt carries the same `jti`, and then it leaves the outbox.
async fn a_notice_is_retried_until_accepted_with_one_jti(backend: Backend) {
    let port = free_port();
    let (t, rp, alice) = setup(backend, port).await;
    let sid = session_with_id_token(&t, &rp).await;
    t.services.end_user_sessions(alice, None).await.expect("end sessions");
    eventually("a failed attempt", || async { outbox(&t).await.first().is_some_and(|r| r.0 >= 1) }).await;
    assert_eq!(outbox(&t).await[0].1.as_deref(), Some("cannot connect"), "a short error, no URL or token");

    let mut rx = receiver(port, 1).await;
    let seen = until_accepted(&mut rx).await;
    assert!(seen.len() >= 2 && !seen[0].accepted, "refused once, then retried: {seen:?}");
    assert!(seen.iter().all(|s| s.jti == seen[0].jti && s.sid == sid), "one jti and the session's sid: {seen:?}");
    eventually("the outbox empties", || async { outbox(&t).await.is_empty() }).await;
    assert!(tokio::time::timeout(Duration::from_millis(2_500), rx.recv()).await.is_err(), "no copy after a 2xx");
}

/// A notice queued by a server that stops before it can deliver is delivered by the server
/// started next on the same database.
async fn a_notice_survives_a_restart(backend: Backend) {
    let port = free_port();
    let (t, rp, alice) = setup(backend, port).await;
    let sid = session_with_id_token(&t, &rp).await;
    t.services.end_user_sessions(alice, None).await.expect("end sessions");
    eventually("a failed attempt", || async { outbox(&t).await.first().is_some_and(|r| r.0 >= 1) }).await;
    let db = t.stop().await;

    let mut rx = receiver(port, 0).await;
    let t = TestServer::start_on(db, |s| s.logout_retry_base = 1).await;
    assert_eq!(outbox(&t).await.len(), 1, "the notice outlived the server");
    let seen = until_accepted(&mut rx).await;
    assert_eq!((seen.len(), seen[0].sid.as_str()), (1, sid.as_str()));
    eventually("the outbox empties", || async { outbox(&t).await.is_empty() }).await;
}

/// Two servers on one database, a receiver refusing the first few POSTs: every notice is
/// delivered; a repeat, if any, carries its notice's `jti`.
async fn two_servers_deliver_every_notice(backend: Backend) {
    let port = free_port();
    let mut rx = receiver(port, 3).await;
    let (a, rp, alice) = setup(backend, port).await;
    let b = a.beside(|s| s.logout_retry_base = 1).await;
    let mut sids = BTreeSet::new();
    for server in [&a, &b, &a, &b] {
        sids.insert(session_with_id_token(server, &rp).await);
    }
    assert_eq!(sids.len(), 4);
    let (ea, eb) = tokio::join!(a.services.end_user_sessions(alice, None), b.services.end_user_sessions(alice, None));
    ea.expect("end on a");
    eb.expect("end on b");

    let mut jti_sid = BTreeMap::new();
    let mut delivered = BTreeSet::new();
    let started = Instant::now();
    while delivered.len() < 4 {
        assert!(started.elapsed() < Duration::from_secs(25), "delivered {delivered:?} of {sids:?}");
        let Ok(Some(seen)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await else { continue };
        assert_eq!(jti_sid.entry(seen.jti.clone()).or_insert(seen.sid.clone()), &seen.sid, "one jti, one notice");
        if seen.accepted {
            delivered.insert(seen.sid);
        }
    }
    assert_eq!(delivered, sids, "every ended session was announced");
    assert_eq!(jti_sid.len(), 4, "one jti per notice: {jti_sid:?}");
    eventually("the outbox empties", || async { outbox(&a).await.is_empty() }).await;
}

on_both_backends!(
    a_notice_is_retried_until_accepted_with_one_jti,
    a_notice_survives_a_restart,
    two_servers_deliver_every_notice
);
