//! Behind a real reverse proxy (Debian's nginx, started here on loopback and forwarding
//! `X-Forwarded-For` as deployments do): with `trusted_proxies` the throttle and the event
//! trail see each client's own address, and a client cannot forge one; without it the header
//! is ignored and everyone is the proxy.

use std::net::IpAddr;

use crate::common::{nginx::Nginx, oauth::*, Backend, TestServer, REQUEST_TIMEOUT};
use yaoshi::store::EventFilter;

/// A password grant through `nginx` from 127.0.0.`last`, with a forged `X-Forwarded-For`.
async fn through(nginx: &Nginx, app: &App, last: u8, pw: &str, forged: &str) -> Reply {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client");
    let form = app.form(&[("grant_type", "password"), ("username", "alice"), ("password", pw)]);
    send(http.post(nginx.url("/o/token/")).header("x-forwarded-for", forged).form(&form)).await
}

async fn sign_in_events(srv: &TestServer) -> Vec<yaoshi::store::EventRow> {
    let filter = EventFilter { kind: Some("sign_in".into()), limit: 50, ..Default::default() };
    srv.services.events(&filter).await.expect("events")
}

async fn forwarded_clients_are_told_apart_only_behind_trusted_proxies(backend: Backend) {
    let trusted: Vec<yaoshi::config::Cidr> = vec!["127.0.0.1/32".parse().expect("cidr")];
    let srv = TestServer::start_with(backend, |s| s.trusted_proxies = trusted).await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[yaoshi::oauth::model::GrantType::Password]).await;
    let nginx = Nginx::start(&[&srv.base]).await;
    // The attacker at .77 spends alice's budget for its own address, and claims to be .78.
    for i in 0..5 {
        through(&nginx, &app, 77, &format!("guess {i}"), "127.0.0.78").await.error(400, "invalid_grant");
    }
    through(&nginx, &app, 77, PW, "127.0.0.78").await.error(400, "invalid_grant");
    // The owner at .78, through the same proxy, is not slowed.
    assert_eq!(through(&nginx, &app, 78, PW, "").await.status, 200);
    let events = sign_in_events(&srv).await;
    let failure_ips: Vec<&str> = events.iter().filter(|e| e.kind == "sign_in.failure").map(|e| e.ip.as_str()).collect();
    assert!(!failure_ips.is_empty() && failure_ips.iter().all(|ip| *ip == "127.0.0.77"), "{failure_ips:?}");
    assert!(events.iter().any(|e| e.kind == "sign_in.success" && e.ip == "127.0.0.78"));

    // Without trusted_proxies the header is ignored: every client is the proxy, 127.0.0.1.
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[yaoshi::oauth::model::GrantType::Password]).await;
    let nginx = Nginx::start(&[&srv.base]).await;
    for i in 0..5 {
        through(&nginx, &app, 77, &format!("guess {i}"), "203.0.113.1").await.error(400, "invalid_grant");
    }
    through(&nginx, &app, 78, PW, "203.0.113.2").await.error(400, "invalid_grant");
    assert!(sign_in_events(&srv).await.iter().all(|e| e.ip == "127.0.0.1"), "the forged header is ignored");
}

on_both_backends!(forwarded_clients_are_told_apart_only_behind_trusted_proxies);
