//! Probes for load balancers and orchestrators: `GET /healthz` (liveness: the process answers)
//! and `GET /readyz` (readiness: the database answers and has every migration this binary
//! expects). An instance that is alive but not ready is taken out of rotation, not restarted:
//! it comes back by itself when the database does.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::service::Services;

/// Liveness: answers without touching the database, so a database outage never gets healthy
/// instances restarted.
pub(super) async fn healthz(State(s): State<Services>) -> (StatusCode, Json<Value>) {
    (StatusCode::OK, Json(json!({"status": "ok", "storage": s.store.backend()})))
}

/// Readiness: 503 while the database does not answer (within the database timeout) or lacks
/// migrations this binary needs.
pub(super) async fn readyz(State(s): State<Services>) -> (StatusCode, Json<Value>) {
    let backend = s.store.backend();
    let unready = |reason: &str| {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "storage": backend, "reason": reason})))
    };
    match s.store.pending_migrations().await {
        Ok(0) => (StatusCode::OK, Json(json!({"status": "ok", "storage": backend}))),
        Ok(n) => {
            tracing::warn!(pending = n, "readiness: migrations pending");
            unready("migrations pending")
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: storage unavailable");
            unready("storage unavailable")
        }
    }
}
