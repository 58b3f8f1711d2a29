//! The integration tests, as one test binary (one link instead of one per file): each module
//! drives a real server over HTTP, on SQLite and on PostgreSQL (`on_both_backends!`), or the
//! `yaoshi` command line (`cli`); `limits` and `fuzz` test the HTTP edge and run on SQLite
//! only; `balance` puts two instances behind nginx, on PostgreSQL only. Run one module with a
//! filter, e.g. `cargo test --release --features ssr --test integration token_grants::sqlite`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod abuse;
mod accounts;
mod admin_api;
mod authorize_endpoint;
mod balance;
mod captcha;
mod cleanup;
mod cli;
mod contacts;
mod cors;
mod crash;
mod device_grant;
mod django_import;
mod dpop;
mod events;
mod fuzz;
mod groups;
mod hardening;
mod jwt_access_par;
mod lifecycle;
mod limits;
mod logout_outbox;
mod metrics;
mod notify;
mod oidc;
mod oidc_authorize;
mod oidc_client_library;
mod oidc_logout;
mod openapi_client;
mod outage;
mod outbox_crash;
mod page_stall;
mod passkeys;
mod proxy;
mod schema;
mod second_factors;
mod self_service;
mod store;
mod token_grants;
mod token_revoke_introspect;
mod upstream_cn;
mod upstream_login;
