//! The state every axum route can extract from, in a module of its own so that the routes
//! (`http`) need not import the server that mounts them.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::service::Services;

/// The state every route can extract from.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' settings (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The use cases.
    pub services: Services,
}
