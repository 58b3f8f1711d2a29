//! JSON Web Signatures and keys: what the ID Token issuer, the JWKS endpoint,
//! `id_token_hint` / logout token parsing and upstream ID Token verification
//! need, and nothing more.
//!
//! Only two algorithms exist here: RS256 (RFC 7518 §3.1 "Recommended", and the
//! one OIDC Core §15.1 makes mandatory for OPs) and ES256. No HMAC (it would
//! make every client secret a signing key), no `none`, no key material taken
//! from the token itself (`jwk`, `jku`, `x5u`, `x5c` headers are ignored): the
//! verifier only trusts the [`JwkSet`] it is given. The one exception is
//! [`verify_embedded`], for DPoP proofs (RFC 9449), whose `jwk` header names
//! the key a token is to be bound to rather than a key to trust.
//!
//! Like the rest of [`crate::oauth`] this is pure: callers pass `now` and an
//! RNG.
//!
//! | Specification                                          | file        |
//! |--------------------------------------------------------|-------------|
//! | RFC 7518 §3.1, §3.3 (algorithm names, RSA key size)    | `alg.rs`    |
//! | RFC 7517 §4, §5; RFC 7518 §6 (JWK, JWK Set)            | `jwk.rs`    |
//! | RFC 7515 §4, §5, §7.1; RFC 7518 §3.3, §3.4 (compact JWS signing and verification) | `jws.rs` |
//! | RFC 7519 §2, §4.1; OIDC Core 3.1.3.6, 3.1.3.7, 3.3.2.11 (claim checks, `at_hash`, `c_hash`) | `claims.rs` |
//! | PKCS#8 storage and generation of our signing keys      | `keys.rs`   |
//! | the shared error type                                  | `error.rs`  |

mod alg;
mod claims;
mod error;
mod jwk;
mod jws;
mod keys;

#[cfg(test)]
mod fixtures;

pub use alg::Alg;
pub use claims::{check_claims, left_half_hash, Expect};
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet};
pub use jws::{verify, verify_embedded, Header};
pub use keys::SigningKey;
