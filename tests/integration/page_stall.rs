//! Page renders never stall while other servers start in the same process.
//!
//! leptos_server 0.8 keeps one process-wide `SuppressResourceLoad` flag, set while any thread
//! runs `RouteList::generate`; a page `Resource` first polled inside that window waits forever
//! (leptos-rs/leptos#4773). Every test server calls `server::app`; when each call generated its
//! route list, this load saw about 5 % of pages hang (127 of 2,400 over 16,000 route lists).
//! With the list made once per process (`server::pages`), none may.

use std::time::{Duration, Instant};

use crate::common::{Backend, TestServer};

/// How long one page may take here (a render takes milliseconds; a stall never ends).
const PAGE_DEADLINE: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_render_while_other_servers_start() {
    let t = TestServer::start(Backend::Sqlite).await;
    let services = t.services.clone();
    let addr: std::net::SocketAddr = t.base.trim_start_matches("http://").parse().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(yaoshi::server::app(services.clone(), yaoshi::server::leptos_options(addr)));
                n += 1;
            }
            n
        })
    };
    let client = reqwest::Client::builder().timeout(PAGE_DEADLINE).build().unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let (client, base) = (client.clone(), t.base.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut stalled) = (0, 0);
            for i in 0..150 {
                let path = if (w + i) % 2 == 0 { "/o/login/" } else { "/account" };
                let sent = client.get(format!("{base}{path}")).header("accept", "text/html").send().await;
                let read = match sent {
                    Ok(r) => r.text().await.is_ok(),
                    Err(_) => false,
                };
                if read {
                    ok += 1;
                } else {
                    stalled += 1;
                }
            }
            (ok, stalled)
        }));
    }
    let (mut ok, mut stalled) = (0, 0);
    for task in tasks {
        let (o, s) = task.await.unwrap();
        ok += o;
        stalled += s;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let generated = builder.join().unwrap();
    eprintln!("{ok} pages, {stalled} stalled, {generated} routers built, {:?}", started.elapsed());
    assert_eq!(stalled, 0, "{stalled} of {} pages stalled", ok + stalled);
}
