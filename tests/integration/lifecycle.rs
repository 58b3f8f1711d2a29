//! Starting and stopping `yaoshi serve` as an orchestrator does: a server started before its
//! database waits for it (one log line per attempt) and then serves; one whose database never
//! comes exits with a clear error; SIGTERM lets the request in flight finish, refuses new
//! connections and exits 0.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    cluster::Cluster,
    fresh_database,
    process::{free_port, ServerProcess},
    Backend,
};

fn attempts(log: &str) -> usize {
    log.lines().filter(|l| l.contains("the database is not reachable yet")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_for_a_database_that_is_not_up_yet() {
    let pg = tokio::task::block_in_place(Cluster::start);
    tokio::task::block_in_place(|| pg.down());
    let mut server = ServerProcess::spawn(&pg.url(), free_port(), &[]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let log = server.log();
    assert!(attempts(&log) >= 1, "one line per attempt while the database is down: {log}");
    assert!(!log.contains("password"), "{log}");
    tokio::task::block_in_place(|| pg.up());
    let started = Instant::now();
    server.ready(Duration::from_secs(15)).await;
    eprintln!("ready {:?} after the database came up, {} attempts logged", started.elapsed(), attempts(&server.log()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_gives_up_when_the_database_never_comes() {
    let pg = tokio::task::block_in_place(Cluster::start);
    tokio::task::block_in_place(|| pg.down());
    let mut server = ServerProcess::spawn(&pg.url(), free_port(), &["--database-wait", "5"]);
    let status = server.exited(Duration::from_secs(20)).await.expect("gave up within the wait and its last attempt");
    assert!(!status.success());
    let log = server.log();
    assert!(attempts(&log) >= 1, "{log}");
    assert!(log.contains("cannot open the database"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let db = fresh_database(Backend::Sqlite).await;
    let port = free_port();
    let mut server = ServerProcess::spawn(&db.url, port, &[]);
    server.ready(Duration::from_secs(30)).await;
    // A request whose body is still arriving when the signal comes.
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=nothing";
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let head = format!(
        "POST /o/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(&body.as_bytes()[..10]).await.expect("part of the body");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "a stopping server accepts no new connections"
    );
    conn.write_all(&body.as_bytes()[10..]).await.expect("the rest of the body");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_string(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 401"), "the request in flight was answered: {answer}");
    assert!(answer.contains("invalid_client"), "{answer}");
    let status = server.exited(Duration::from_secs(10)).await.expect("exited after its last request");
    assert!(status.success(), "exit status {status}: {}", server.log());
}
