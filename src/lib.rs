//! Yaoshi (钥匙, "key"): an OAuth 2.0 / OpenID Connect authorization server and user system.
//!
//! The crate builds twice: with `ssr` as the server binary, with `hydrate` as the WASM that
//! hydrates the pages. Everything that touches storage, crypto or HTTP is `ssr`-only; the pages
//! and the server-function signatures are shared.

pub mod api;
pub mod app;
pub mod components;
pub mod i18n;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod site;
#[cfg(feature = "ssr")]
pub mod store;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
