//! django-oauth-toolkit's management pages, for people with bookmarks from before a move to
//! Yaoshi: `/o/applications/…` (a developer's registered applications) goes to the developer
//! apps page and `/o/authorized_tokens/…` (the applications a person authorized) to the
//! account page. Its protocol URLs (`/o/authorize/`, `/o/token/`, `/o/revoke_token/`,
//! `/o/introspect/`, `/o/userinfo/`, `/o/.well-known/…`) are Yaoshi's own already.

use axum::{response::Redirect, routing::get, Router};

use crate::state::AppState;

/// The redirects of this module.
pub(super) fn router() -> Router<AppState> {
    let apps = get(|| async { Redirect::to("/account/apps") });
    let account = get(|| async { Redirect::to("/account") });
    Router::new()
        .route("/o/applications", apps.clone())
        .route("/o/applications/", apps.clone())
        .route("/o/applications/{*rest}", apps)
        .route("/o/authorized_tokens", account.clone())
        .route("/o/authorized_tokens/", account.clone())
        .route("/o/authorized_tokens/{*rest}", account)
}
