//! Yaoshi (钥匙, "key"): an OAuth 2.0 / OpenID Connect authorization server and user system.
//!
//! The crate builds twice: with `ssr` as the server binary, with `hydrate` as the WASM that
//! hydrates the pages' islands (Leptos islands mode: the server renders each page, and only its
//! forms, `components::forms`, become interactive in the browser). Everything that touches
//! storage, crypto or HTTP is `ssr`-only; the pages, the server-function signatures, `view`,
//! `web`'s query reading and `i18n` are shared.
//!
//! # Layers
//!
//! Modules import downwards only, along this line (a module may skip layers, never go up):
//!
//! ```text
//! main → cli → server → {http, app} → state → pages → components → api
//!      → web → service → {crypto, store, metrics} → config → {oauth, i18n, view, site}
//! ```
//!
//! - `oauth` is the pure protocol core: no axum, Leptos, SQL or clock. It also builds alone
//!   (feature `oauth`, which `ssr` includes), for the fuzz targets in `fuzz/`.
//! - `service` holds the use cases; `http` (axum routes) and `api` (server functions) are thin
//!   adapters into it, and share the browser conventions of `web` (cookies, CSRF, `next`,
//!   query decoding, the request's language) instead of reaching into each other.
//! - `view` (the data the pages show, returned by server functions), `i18n` (the languages and
//!   their strings) and `site` (the embedded assets) are leaves that import nothing above them.
//!
//! Three searches keep the line: `crate::api` under `src/service/` and `src/i18n/`,
//! `crate::http` under `src/api/`, and `crate::server` under `src/http/` each find nothing.

pub mod api;
pub mod app;
pub mod components;
pub mod i18n;
pub mod pages;
pub mod view;
pub mod web;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod django;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "oauth")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod site;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;

/// Entry point of the WASM bundle, called before the page's islands are hydrated (each by its
/// own export, see `components::forms`): sets up the reactive root they share and the page's
/// language, which the server wrote to `<html lang>`.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    leptos::prelude::provide_context(web::locale::detect());
}
