//! Server functions: compiled into both builds; their bodies run only on the server, where
//! each is a thin call into `service`.

pub mod account;
pub mod admin;
pub mod apps;
pub mod auth;
pub mod consent;
pub mod error;
pub mod register;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod upstream;
