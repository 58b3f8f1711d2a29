//! Server functions: compiled into both builds; their bodies run only on the server, where
//! each is a thin call into `service`.

// `#[server]` turns each function's arguments into the fields of a generated struct, where a
// doc comment cannot go: the functions' own docs say what the arguments are.
#[allow(missing_docs)]
pub mod account;
#[allow(missing_docs)]
pub mod admin;
#[allow(missing_docs)]
pub mod admin_clients;
#[allow(missing_docs)]
pub mod admin_groups;
#[allow(missing_docs)]
pub mod admin_users;
#[allow(missing_docs)]
pub mod apps;
#[allow(missing_docs)]
pub mod auth;
#[allow(missing_docs)]
pub mod consent;
#[allow(missing_docs)]
pub mod contacts;
#[allow(missing_docs)]
pub mod device;
pub mod error;
#[allow(missing_docs)]
pub mod factors;
#[allow(missing_docs)]
pub mod passkeys;
#[allow(missing_docs)]
pub mod register;
#[cfg(feature = "ssr")]
pub mod ssr;
#[allow(missing_docs)]
pub mod upstream;
