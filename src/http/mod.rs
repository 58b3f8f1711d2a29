//! The plain axum routes (everything that is not a Leptos page): thin adapters into `service`.

pub mod admin_api;
mod authorize;
mod browser;
mod cors;
mod dot_pages;
mod error;
mod extract;
mod form_post;
mod health;
mod lang;
mod oidc;
mod token;
mod upstream;

use axum::{
    routing::{get, post},
    Router,
};

pub use browser::guard as browser_guard;
pub use cors::cors;
pub use error::OAuthResponse;
pub use extract::{DpopHeader, HeaderToken, OAuthForm};

use crate::state::AppState;

/// The OAuth endpoints and the health check. Each OAuth path answers with and without its
/// trailing slash; the seed's form (with) is canonical.
pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/o/authorize/", get(authorize::authorize))
        .route("/o/authorize", get(authorize::authorize))
        .route("/o/authorize/denied/", get(authorize::denied))
        .route("/o/lang/", get(lang::switch))
        .route("/o/login/start/{provider}", get(upstream::start))
        .route("/o/login/callback/{provider}", get(upstream::callback));
    for (path, route) in [
        ("/o/token", post(token::token).fallback(token::method_not_allowed)),
        ("/o/revoke_token", post(token::revoke).fallback(token::method_not_allowed)),
        ("/o/introspect", post(token::introspect).fallback(token::method_not_allowed)),
        ("/o/device/authorize", post(token::device_authorize).fallback(token::method_not_allowed)),
        ("/o/par", post(token::pushed_authorization_request).fallback(token::method_not_allowed)),
        ("/o/login/wechat-mp", post(token::wechat_mini_program).fallback(token::method_not_allowed)),
        ("/o/userinfo", get(token::userinfo).post(token::userinfo_post)),
    ] {
        r = r.route(&format!("{path}/"), route.clone()).route(path, route);
    }
    r.merge(oidc::router()).merge(dot_pages::router()).merge(admin_api::router())
}
