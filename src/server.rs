//! `yaoshi serve`: wires the store, the services, the OAuth routes and the Leptos pages, and
//! serves them until SIGTERM or Ctrl-C: `listen` owns the connections and the limits on
//! request heads, `body_limit` the limits on bodies, `panics` the count of panics.

mod body_limit;
pub mod listen;
mod pages;
pub mod panics;

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, DefaultBodyLimit, State},
    http::{header, HeaderValue, Request},
    middleware::{self, Next},
    response::Response,
    Router,
};
use leptos::prelude::*;

use crate::{
    app::shell,
    metrics::{metrics, PoolLabels, RequestLabels, RouteLabels},
    service::Services,
    site::Site,
    state::AppState,
    web::client_addr::{self, ClientAddr},
};

/// The Leptos options for serving on `addr` from the process's [`Site`].
pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("yaoshi")
        .site_root(Site::current().root().to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The whole application: OAuth routes, Leptos pages and server functions, static files.
pub fn app(services: Services, leptos_options: LeptosOptions) -> Router {
    let limits = services.settings.limits;
    let state = AppState { leptos_options: leptos_options.clone(), services: services.clone() };
    Router::new()
        .merge(crate::http::router())
        // Only the Leptos pages are guarded against render stalls (see `pages`).
        .merge(pages::router(&state, services, leptos_options))
        .route_layer(middleware::from_fn(note_route))
        .fallback(site_file)
        .layer(middleware::from_fn(crate::api::ssr::error_status))
        .layer(middleware::from_fn(crate::http::browser_guard))
        // No request may hold a connection forever (a stuck dependency answers 503 instead).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            std::time::Duration::from_secs(30),
        ))
        // Bodies are read whole and bounded here, before the request timeout starts; axum's
        // extractors get the same bound instead of their own default.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(limits, body_limit::limit_body))
        .layer(middleware::from_fn_with_state(state.clone(), crate::http::cors))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(log_failures))
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn_with_state(state.clone(), attach_client_addr))
        .with_state(state)
}

/// Any other GET: a file of the site (embedded or on disk), else the not-found page.
async fn site_file(State(state): State<AppState>, req: Request<axum::body::Body>) -> Response {
    if let Some(resp) = Site::current().embedded_response(req.method(), req.uri(), req.headers()) {
        return resp;
    }
    leptos_axum::file_and_error_handler::<AppState, _>(shell)(req.uri().clone(), State(state), req).await
}

/// Counts every answer and its latency by route pattern (see [`crate::metrics`]).
async fn count_requests(req: Request<axum::body::Body>, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    // The route is known only after routing, which records it on the response's request:
    // the inner router puts `MatchedPath` in the request, so it is read back from there.
    let route = resp.extensions().get::<MatchedRoute>().map_or("other", |r| r.0.as_str()).to_owned();
    let m = metrics();
    m.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(started.elapsed().as_secs_f64());
    m.requests.get_or_create(&RequestLabels { route, method, status: resp.status().as_u16().to_string() }).inc();
    resp
}

/// The route pattern a request matched, carried out on its response for [`count_requests`].
#[derive(Clone)]
struct MatchedRoute(String);

/// Copies the matched route pattern onto the response (innermost, where it is known).
async fn note_route(req: Request<axum::body::Body>, next: Next) -> Response {
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let mut resp = next.run(req).await;
    if let Some(route) = route {
        resp.extensions_mut().insert(MatchedRoute(route));
    }
    resp
}

/// `GET /metrics`, for the separate `metrics_bind` listener only.
pub fn metrics_app(services: Services) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let s = services.clone();
            async move {
                let m = metrics();
                m.password_checks.set(s.hasher.checks() as i64);
                m.hash_queue.set(s.hasher.queue_depth());
                let (open, idle) = s.store.pool_usage();
                m.db_pool.get_or_create(&PoolLabels { state: "idle".into() }).set(idle as i64);
                m.db_pool.get_or_create(&PoolLabels { state: "in_use".into() }).set(i64::from(open) - idle as i64);
                let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                ([(header::CONTENT_TYPE, kind)], m.render())
            }
        }),
    )
}

/// Works out who the client is, once, before anything else reads it ([`ClientAddr`]).
async fn attach_client_addr(State(state): State<AppState>, mut req: Request<axum::body::Body>, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let settings = &state.services.settings;
        let client = client_addr::resolve(peer, req.headers(), &settings.trusted_proxies, settings.forwarded_header);
        req.extensions_mut().insert(client);
    }
    next.run(req).await
}

/// The one place answers are logged: every response with a 5xx status, with its route. Causes
/// are logged where they happen (with their details, never secrets); this line ties them to
/// the request a user or client saw fail.
async fn log_failures(req: Request<axum::body::Body>, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let client = ClientAddr::of(req.extensions()).map(|ip| ip.to_string()).unwrap_or_default();
    let resp = next.run(req).await;
    if resp.status().is_server_error() {
        tracing::warn!(%method, %path, %client, status = resp.status().as_u16(), "answered with a server error");
    }
    resp
}

/// Headers that keep every page out of frames and keep URLs (which may carry codes) out of
/// Referer headers.
async fn security_headers(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    // Every 503 (a busy password check, an unreachable database, the request timeout) says
    // when to come back (RFC 9110 §10.2.3).
    let unavailable = resp.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE;
    let h = resp.headers_mut();
    if unavailable {
        h.entry(header::RETRY_AFTER).or_insert(HeaderValue::from_static("5"));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Pages are per user and may show a one-time secret: never stored by a cache or the
    // browser's history (the static files under /pkg stay cacheable).
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html {
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    // Pages set their own policy with the hydration script's nonce; everything else gets this.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ));
    resp
}

/// Binds `addr` and serves until a shutdown signal.
pub async fn serve(services: Services, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Made now rather than on the first sign-in; a failure is retried when a token needs it.
    if let Err(e) = services.ensure_signing_key().await {
        tracing::warn!(error = %e, "cannot create the signing key yet");
    }
    tokio::spawn(housekeeping(services.clone()));
    tokio::spawn(services.clone().deliver_logout_notices(std::future::pending()));
    tokio::spawn(services.clone().deliver_messages(std::future::pending()));
    if let Some(at) = services.settings.metrics_bind {
        let metrics = tokio::net::TcpListener::bind(at).await?;
        tracing::info!(%at, "metrics at /metrics");
        let app = metrics_app(services.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, app).await {
                tracing::warn!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let local = listener.local_addr()?;
    let router = app(services.clone(), leptos_options(local));
    tracing::info!(%local, issuer = %services.settings.issuer, site = %Site::current().describe(), "listening");
    listen::serve(listener, router, services.settings.limits, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Every ten minutes, deletes what has expired, so the database does not grow without bound,
/// and rotates the signing key when it is due. Several instances may all do it: the deletes
/// are idempotent and only one of several concurrent rotations succeeds.
async fn housekeeping(services: Services) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match services.purge_expired().await {
            Ok(c) if c.total() == 0 => {}
            Ok(c) => tracing::info!(rows = c.total(), "purged expired rows"),
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
        if let Err(e) = services.rotate_signing_key_if_due().await {
            tracing::warn!(error = %e, "scheduled signing key rotation failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
