//! The accept loop: HTTP/1.1 connections under the limits that must hold before any route
//! runs, because a route only sees a request once its head has arrived.
//!
//! - A request head over `max_header_bytes`, or with more than `max_headers` fields, gets 431
//!   (hyper answers it and closes the connection).
//! - A head must arrive within `header_read_timeout`, also the next one on a kept-alive
//!   connection: a client that dribbles its request out byte by byte (slow-loris), or idles,
//!   is disconnected instead of holding a connection for ever.
//! - At most `max_connections` are served at once. The loop takes a slot before it accepts,
//!   so a connection over the cap waits in the kernel's listen queue until one closes: a
//!   burst of clients is served late rather than refused, and the server's open files stay
//!   bounded. The header timeout bounds how long a silent connection keeps its slot.
//! - Each request carries `ConnectInfo<SocketAddr>`, as with `axum::serve`.
//! - When `shutdown` completes, the loop stops accepting (the listening socket closes, so a
//!   load balancer moves on at once); open connections finish the request they are serving
//!   and close, idle kept-alive ones close now. Whatever is still running after
//!   `shutdown_grace_secs` is dropped, so a stuck request cannot keep the process alive.
//!
//! HTTP/1.1 only: HTTP/2 and TLS are a reverse proxy's side of a deployment.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, http::Request, Router};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

use crate::config::RequestLimits;

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then waits for the
/// open connections to finish. Installs the panic hook of [`super::panics`].
pub async fn serve(listener: TcpListener, app: Router, limits: RequestLimits, shutdown: impl Future<Output = ()>) {
    super::panics::install();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            // The client gave up before it was accepted: nothing to do.
            Err(e) if is_connection_error(&e) => continue,
            // Most likely out of file descriptors: wait for some connections to close.
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept connections; trying again in a second");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = &mut shutdown => break,
                }
            }
        };
        // Answers are small and written whole: sending them at once saves a round trip.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        }));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let grace = limits.shutdown_grace();
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the shutdown grace; dropping them");
    }
}

/// Errors of one connection that does not exist any more, after which accepting goes on.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
