//! `GET /healthz`: 200 when the database answers, 503 otherwise.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::service::Services;

/// Liveness and readiness in one: load balancers take an instance out when its database is gone.
pub(super) async fn healthz(State(s): State<Services>) -> (StatusCode, Json<Value>) {
    match s.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok", "storage": s.store.backend()}))),
        Err(e) => {
            tracing::error!(error = %e, "health check: storage unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "storage": s.store.backend()})))
        }
    }
}
