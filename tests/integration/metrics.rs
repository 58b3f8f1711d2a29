//! `GET /metrics` on its own listener, on SQLite and PostgreSQL: it parses as Prometheus text,
//! its counters move as clients act, and the public address does not serve it.

use crate::common::{oauth::*, Backend};

/// Scrapes `/metrics` at `base` and parses it as a Prometheus server would.
async fn scrape(base: &str) -> prometheus_parse::Scrape {
    let resp = reqwest::get(format!("{base}/metrics")).await.expect("scrape");
    assert_eq!(resp.status(), 200);
    let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let body = resp.text().await.expect("body");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text")
}

/// The sum of `metric`'s samples whose labels `keep` accepts.
fn sum(s: &prometheus_parse::Scrape, metric: &str, keep: impl Fn(&prometheus_parse::Labels) -> bool) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == metric && keep(&x.labels))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// The sum of `metric`'s samples whose label `key` is `wanted`.
fn value(s: &prometheus_parse::Scrape, metric: &str, key: &str, wanted: &str) -> f64 {
    sum(s, metric, |labels| labels.get(key) == Some(wanted))
}

/// The sum of all of `metric`'s samples.
fn plain(s: &prometheus_parse::Scrape, metric: &str) -> f64 {
    sum(s, metric, |_| true)
}

async fn metrics_move_as_clients_act(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let metrics = yaoshi::server::metrics_app(srv.services.clone());
    tokio::spawn(async move { axum::serve(listener, metrics).await });
    let before = scrape(&base).await;

    token(&srv, &app, &[("grant_type", "client_credentials")]).await.field("access_token");
    for i in 0..7 {
        token(&srv, &app, &[("grant_type", "password"), ("username", "alice"), ("password", &format!("no {i}"))]).await;
    }
    let after = scrape(&base).await;
    let moved = |metric: &str, key: &str, v: &str| value(&after, metric, key, v) - value(&before, metric, key, v);
    assert!(moved("yaoshi_tokens_issued_total", "grant", "client_credentials") >= 1.0);
    assert!(moved("yaoshi_oauth_errors_total", "error", "invalid_grant") >= 7.0);
    assert!(moved("yaoshi_throttled_attempts_total", "budget", "account_address") >= 1.0);
    assert!(moved("yaoshi_http_requests_total", "route", "/o/token/") >= 8.0);
    assert!(plain(&after, "yaoshi_password_checks") >= plain(&before, "yaoshi_password_checks") + 5.0);
    assert!(after.samples.iter().any(|x| x.metric == "yaoshi_db_pool_connections"), "pool usage is reported");
    assert!(after.samples.iter().any(|x| x.metric.starts_with("yaoshi_http_request_duration_seconds")));
    // Never on the public address.
    assert_eq!(srv.http.get(srv.url("/metrics")).send().await.expect("public").status(), 404);
}

on_both_backends!(metrics_move_as_clients_act);
