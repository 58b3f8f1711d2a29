//! The pure OAuth 2.0 protocol core of Yaoshi.
//!
//! Everything here is synchronous and free of I/O: no database, no clock, no
//! randomness, no HTTP framework. Callers hand in what was read from storage and
//! the current time (`now`, unix seconds), and get back either a validated value
//! or an [`error::OAuthError`] that maps one-to-one onto the wire format of
//! RFC 6749 §5.2.
//!
//! | RFC section                                   | file             |
//! |-----------------------------------------------|------------------|
//! | RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3.1; OIDC Core 3.1.2.6 (error codes) | `error.rs` |
//! | RFC 6749 §3.1, §3.2 (parameter rules)         | `params.rs`      |
//! | RFC 6749 §3.3 (access token scope)            | `scope.rs`       |
//! | RFC 6749 §1.3, §2.1 (grant types, clients)    | `model.rs`       |
//! | RFC 6749 §3.1.1, §4.1.3, §4.3.2, §4.4.2, §6 (token requests, `response_type`) | `request.rs` |
//! | RFC 6749 §2.3 (client authentication)         | `client_auth.rs` |
//! | RFC 7636 §4 (PKCE)                            | `pkce.rs`        |
//! | RFC 6454 §4, §6.2; Fetch §3.2 (web origins for CORS) | `cors.rs`  |
//! | RFC 8628 §3.1-3.5, §6.1 (device authorization grant, user codes) | `device.rs` |
//! | RFC 6749 §3.1.2; RFC 8252 §7, §8.3; RFC 9700 §2.1 (redirection URIs) | `redirect.rs` |
//! | RFC 6749 §3.3, §4.1.3, §6; RFC 9700 §2.1.1 (grant validation) | `grant.rs` |
//! | RFC 6749 §4.2.2, §4.4.3, §5.1 (token response) | `token.rs`      |
//! | RFC 7515 (JWS), RFC 7517 (JWK), RFC 7518 §3.3, §3.4, §6 (RS256, ES256), RFC 7519 (JWT); OIDC Core 3.1.3.6 (at_hash), 3.1.3.7 (ID Token validation) | `jose/` |
//! | RFC 9068 (JWT access tokens), RFC 8707 §2 (resource indicators, `aud`) | `jwt_access.rs` |
//! | RFC 9126 §2, §4 (pushed authorization requests) | `par.rs` |
//! | OIDC Core §2, §5.4, §12.2 (ID Token claims, scope claims), Back-Channel Logout §2.1 (`sid`) | `id_token.rs` |
//! | OIDC RP-Initiated Logout 1.0 §2-3, Back-Channel Logout 1.0 §2.4 (logout token) | `logout.rs` |
//! | OIDC Discovery §3, RFC 8414 §2, RFC 9207 §3 (provider metadata) | `discovery.rs` |
//! | OIDC Core §10.1.1 (signing key rotation: publish first, retire after the last token) | `key_schedule.rs` |
//! | RFC 6749 §4.1.1, §4.2.1; OIDC Core §3.1.2.1, §3.2.2.1, §3.3.2.1; Multiple Response Type Encoding Practices (authorization requests and answers; `prompt`, `max_age` and `id_token_hint` against the session) | `authorize/` |
//! | RFC 8176 (`amr`), OIDC Core §2, §3.1.2.1 (`acr`, `acr_values`) | `acr.rs` |
//! | RFC 6238, RFC 4226 (TOTP second factors), RFC 4648 §6 (base32) | `totp.rs` |
//! | RFC 6749 §4.1 and RFC 7636 as a client, RFC 9207 §2.4, OIDC Core §3.1.3.7, §5.3.2 (signing in with an upstream provider) | `upstream/` |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acr;
pub mod authorize;
pub mod client_auth;
pub mod cors;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod grant;
pub mod id_token;
pub mod jose;
pub mod jwt_access;
pub mod key_schedule;
pub mod logout;
pub mod model;
pub mod par;
pub mod params;
pub mod pkce;
pub mod redirect;
pub mod request;
pub mod scope;
pub mod token;
pub mod totp;
pub mod upstream;
