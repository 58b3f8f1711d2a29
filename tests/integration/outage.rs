//! Database outages, as an operator sees them: while PostgreSQL is stopped (a private cluster,
//! stopped and started under a running server and its load), every answer is a clean and fast
//! 503 with `Retry-After`, `/readyz` says so and `/healthz` does not, and service comes back by
//! itself once the database does, with every token issued before still active. On SQLite, a
//! write lock held elsewhere makes requests wait no longer than the database timeout.
//!
//! The outage lasts `YAOSHI_OUTAGE_SECS` seconds (default 6; the documented long run is 20).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use reqwest::header::{ACCEPT, RETRY_AFTER};
use yaoshi::oauth::model::GrantType;

use crate::common::{browser, cluster::Cluster, location, oauth::*, Backend, TestDb, TestServer};

/// The slowest answer allowed while the database is down.
const SLOWEST: Duration = Duration::from_secs(3);
/// How soon after the database is back requests must succeed again.
const RECOVERY: Duration = Duration::from_secs(10);

fn outage_length() -> Duration {
    let secs = std::env::var("YAOSHI_OUTAGE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    Duration::from_secs(secs)
}

/// One answer of the load: when it was asked, how long it took, and what it was.
#[derive(Debug)]
struct Answer {
    at: Instant,
    took: Duration,
    status: u16,
    retry_after: bool,
    error: Option<String>,
    token: Option<String>,
}

/// Asks for client_credentials tokens in a loop until `stop`, recording every answer.
async fn load(srv: Arc<TestServer>, app: Arc<App>, stop: Arc<AtomicBool>, answers: Arc<Mutex<Vec<Answer>>>) {
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        let r = token(&srv, &app, &[("grant_type", "client_credentials")]).await;
        let answer = Answer {
            at,
            took: at.elapsed(),
            status: r.status,
            retry_after: r.header(RETRY_AFTER.as_str()).is_some(),
            error: r.json["error"].as_str().map(str::to_owned),
            token: r.json["access_token"].as_str().map(str::to_owned),
        };
        answers.lock().unwrap().push(answer);
        if r.status != 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// GETs `path` with `b` as a browser and returns (status, seconds it took, body).
async fn page(srv: &TestServer, b: &reqwest::Client, path: &str) -> (u16, Duration, String, Option<String>) {
    let started = Instant::now();
    let resp = b.get(srv.url(path)).header(ACCEPT, "text/html").send().await.expect("page");
    let took = started.elapsed();
    let to = location(&resp);
    (resp.status().as_u16(), took, resp.text().await.unwrap_or_default(), to)
}

async fn probe(srv: &TestServer, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let resp = srv.http.get(srv.url(path)).send().await.expect("probe");
    (resp.status().as_u16(), started.elapsed())
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_outage_answers_fast_503s_and_recovers_by_itself() {
    let pg = blocking(Cluster::start);
    let srv = Arc::new(TestServer::start_on(Arc::new(TestDb::at(&pg.url())), |_| {}).await);
    let app = Arc::new(register(&srv, false, &[GrantType::ClientCredentials, GrantType::AuthorizationCode]).await);
    srv.user("alice", "alice-password-1").await;
    let b = browser();
    srv.sign_in(&b, "alice", "alice-password-1").await;
    assert_eq!(probe(&srv, "/readyz").await.0, 200);

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> =
        (0..4).map(|_| tokio::spawn(load(srv.clone(), app.clone(), stop.clone(), answers.clone()))).collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    blocking(|| pg.down());
    let down_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Liveness does not depend on the database; readiness does, and says so quickly.
    let (health, _) = probe(&srv, "/healthz").await;
    assert_eq!(health, 200, "/healthz is liveness only");
    let (ready, took) = probe(&srv, "/readyz").await;
    assert_eq!(ready, 503, "/readyz follows the database");
    assert!(took < SLOWEST, "/readyz took {took:?}");
    // Pages: a readable 503 page, also for a signed-in browser at the authorization
    // endpoint (not the login page, which would lose the request).
    let query = format!("/o/authorize/?response_type=code&client_id={}&redirect_uri={URI}&scope=openid", app.id);
    for path in ["/account", query.as_str()] {
        let (status, took, html, to) = page(&srv, &b, path).await;
        assert_eq!(status, 503, "{path} during the outage (to {to:?})");
        assert!(took < SLOWEST, "{path} took {took:?}");
        assert!(html.contains("<html") && html.to_lowercase().contains("unavailable"), "{path}: {html}");
    }
    let remaining = outage_length().saturating_sub(down_at.elapsed());
    tokio::time::sleep(remaining).await;

    blocking(|| pg.up());
    let up_at = Instant::now();
    // Service resumes by itself: the first success comes within the recovery bound.
    let recovered = loop {
        let r = token(&srv, &app, &[("grant_type", "client_credentials")]).await;
        if r.status == 200 {
            break up_at.elapsed();
        }
        assert!(up_at.elapsed() < RECOVERY, "no recovery within {RECOVERY:?}: {} {}", r.status, r.raw);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("load task");
    }
    assert_eq!(probe(&srv, "/readyz").await.0, 200, "/readyz after the outage");
    assert_eq!(page(&srv, &b, "/account").await.0, 200, "the session survived the outage");

    let answers = std::mem::take(&mut *answers.lock().unwrap());
    let during: Vec<&Answer> = answers.iter().filter(|a| a.at > down_at && a.at + a.took < up_at).collect();
    assert!(during.len() >= 8, "the load kept asking during the outage: {} answers", during.len());
    for a in &answers {
        assert!(a.took < SLOWEST, "an answer took {:?}: {a:?}", a.took);
        match a.status {
            200 => assert!(a.token.is_some()),
            503 => {
                assert_eq!(a.error.as_deref(), Some("temporarily_unavailable"), "{a:?}");
                assert!(a.retry_after, "a 503 without Retry-After: {a:?}");
            }
            _ => panic!("an answer that is neither a token nor a clean 503: {a:?}"),
        }
    }
    assert!(during.iter().all(|a| a.status == 503), "no token is issued without the database");
    // Nothing issued was lost: every token received is active after the outage.
    let issued: Vec<&String> = answers.iter().filter_map(|a| a.token.as_ref()).collect();
    assert!(!issued.is_empty());
    for t in issued {
        assert!(active(&srv, &app, t).await, "a token issued around the outage is not active");
    }
    eprintln!(
        "outage {:?}: {} answers ({} during, slowest {:?}); recovered {recovered:?} after the database returned",
        outage_length(),
        answers.len(),
        during.len(),
        answers.iter().map(|a| a.took).max().unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_held_sqlite_write_lock_answers_503_within_the_database_timeout() {
    let (srv, app, _) = setup(Backend::Sqlite).await;
    // Another process's long write transaction, as a stuck `sqlite3` shell would hold it.
    let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(srv.database_url()).await.expect("connect");
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("take the write lock");
    let started = Instant::now();
    let r = token(&srv, &app, &[("grant_type", "client_credentials")]).await;
    let took = started.elapsed();
    r.error(503, "temporarily_unavailable");
    assert!(r.header(RETRY_AFTER.as_str()).is_some());
    assert!(took < SLOWEST, "waited {took:?} for the write lock");
    sqlx::query("ROLLBACK").execute(&mut other).await.expect("release");
    token(&srv, &app, &[("grant_type", "client_credentials")]).await.field("access_token");
}
