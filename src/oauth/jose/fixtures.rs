//! Keys and token builders shared by the unit tests of the `jose` files.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use super::{Alg, JwkSet, SigningKey};

/// A fixed seed, so that every run signs the same bytes.
pub(super) fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// One RSA key per test binary: generation is the slow part.
pub(super) fn rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Alg::RS256, "rsa-1", &mut rng()))
}

/// One P-256 key per test binary, `kid` "ec-1".
pub(super) fn ec_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Alg::ES256, "ec-1", &mut rng()))
}

/// The public halves of [`rsa_key`] and [`ec_key`].
pub(super) fn both() -> JwkSet {
    JwkSet { keys: vec![rsa_key().public_jwk(), ec_key().public_jwk()] }
}

/// Both algorithms, for verifiers that accept either.
pub(super) const ALL: &[Alg] = &[Alg::RS256, Alg::ES256];

/// A minimal valid claim set: `iat` 1000, `exp` 2000.
pub(super) fn claims() -> Value {
    json!({"iss": "https://op.example", "sub": "u1", "aud": "c1", "exp": 2000, "iat": 1000})
}

/// base64url of the JSON serialization of `v`.
pub(super) fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// A token with an arbitrary header, signed by `key`.
pub(super) fn token_with_header(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = key.sign_input(input.as_bytes(), &mut rng());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The three parts of a compact JWS.
pub(super) fn split(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}
