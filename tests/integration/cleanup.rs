//! Housekeeping's purge, on SQLite and PostgreSQL: expired rows go in batches, live ones stay,
//! and two instances purging at once both succeed.

use crate::common::{Backend, TestServer};
use yaoshi::service::cleanup::BATCH;

/// The number of rows `sql` (a `SELECT COUNT(*)`) counts.
async fn count(t: &TestServer, sql: &str) -> i64 {
    use sqlx::Connection as _;
    let url = t.database_url();
    let (n,): (i64,) = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_one(&mut c).await.expect(sql)
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_as(sql).fetch_one(&mut c).await.expect(sql)
    };
    n
}

/// Inserts `n` rows with `INSERT INTO {into} SELECT {select} FROM n`, where `i` numbers them.
async fn insert_many(t: &TestServer, n: i64, into: &str, select: &str) {
    let sql = format!(
        "INSERT INTO {into} WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         SELECT {select} FROM n"
    );
    assert_eq!(t.execute_sql(&sql).await, n as u64);
}

/// 2,000 expired events, 1,200 expired throttle windows and 600 ended sessions go, in batches
/// of at most [`BATCH`]; the live rows among them stay.
async fn expired_rows_go_in_batches_and_live_ones_stay(backend: Backend) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", crate::common::oauth::PW).await;
    let now = t.services.now();
    insert_many(&t, 2_000, "events (at, kind)", "0, 'test.old'").await;
    insert_many(&t, 3, "events (at, kind)", &format!("{now}, 'test.live'")).await;
    insert_many(&t, 1_200, "throttle (key, failures, window_start)", "'old-' || i, 1, 0").await;
    insert_many(&t, 2, "throttle (key, failures, window_start)", &format!("'live-' || i, 1, {now}")).await;
    let session = "(session_hash, user_id, auth_time, created_at, last_seen_at, expires_at)";
    insert_many(&t, 600, &format!("sessions {session}"), &format!("'old-' || i, {alice}, 0, 0, {now}, 0")).await;
    let live = format!("'live-' || i, {alice}, {now}, {now}, {now}, {}", now + 3600);
    insert_many(&t, 2, &format!("sessions {session}"), &live).await;

    let cleanup = t.services.purge_expired().await.expect("purge");
    let of = |kind: &str| cleanup.of(kind).map(|p| (p.rows, p.batches));
    assert_eq!(BATCH, 500);
    assert_eq!(of("events"), Some((2_000, 5)), "four full batches, then an empty one");
    assert_eq!(of("throttle_windows"), Some((1_200, 3)));
    assert_eq!(of("sessions"), Some((600, 2)));
    assert!(cleanup.total() >= 3_800, "{cleanup:?}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM events WHERE kind = 'test.old'").await, 0);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM events WHERE kind = 'test.live'").await, 3);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM throttle WHERE key LIKE 'live-%'").await, 2);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM sessions").await, 2);
    let again = t.services.purge_expired().await.expect("purge again");
    assert_eq!(again.of("events").map(|p| (p.rows, p.batches)), Some((0, 1)), "nothing left: one empty batch");
}

/// Two instances sweeping the same rows at once both succeed, and every row goes once.
async fn two_purges_at_once_both_succeed(backend: Backend) {
    let t = TestServer::start(backend).await;
    let other = t.beside(|_| {}).await;
    insert_many(&t, 3_000, "events (at, kind)", "0, 'test.old'").await;
    let (a, b) = tokio::join!(t.services.purge_expired(), other.services.purge_expired());
    let (a, b) = (a.expect("first purge"), b.expect("second purge"));
    let rows = |c: &yaoshi::service::cleanup::Cleanup| c.of("events").map_or(0, |p| p.rows);
    assert_eq!(rows(&a) + rows(&b), 3_000, "every row deleted once: {a:?} {b:?}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM events WHERE kind = 'test.old'").await, 0);
}

on_both_backends!(expired_rows_go_in_batches_and_live_ones_stay, two_purges_at_once_both_succeed);
