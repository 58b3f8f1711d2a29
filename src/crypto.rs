//! Secrets: random tokens, their SHA-256 fingerprints, constant-time comparison, and argon2id
//! for human passwords (off the async workers, on a bounded pool).

use std::sync::Arc;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Params, Version,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::Argon2Params;

/// Prefixes that let secret scanners recognise a leaked Yaoshi credential.
pub mod prefix {
    /// Access tokens.
    pub const ACCESS: &str = "yat_";
    /// Refresh tokens.
    pub const REFRESH: &str = "yrt_";
    /// Authorization codes.
    pub const CODE: &str = "yac_";
    /// Client secrets.
    pub const CLIENT_SECRET: &str = "ycs_";
    /// Login sessions.
    pub const SESSION: &str = "yss_";
}

/// 256 bits from the OS generator, base64url-encoded behind `prefix`.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A short random identifier (client ids, token families): 128 bits, lowercase hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lowercase hex SHA-256 of `value`: how codes, tokens, session ids and generated client
/// secrets are stored. Enough for 256-bit random values, which no dictionary holds.
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends only on their lengths.
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// How a stored client secret is written: `sha256:<hex>` for generated secrets, an argon2id PHC
/// string for secrets an operator chose.
pub fn client_secret_record(secret: &str) -> String {
    format!("sha256:{}", sha256_hex(secret))
}

/// Hashes and verifies human passwords with argon2id. Clones share one bounded pool, so a burst
/// of logins queues instead of starving the async workers or exhausting memory.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when an account does not exist so that unknown
    /// users cost the same as wrong passwords.
    dummy: Arc<str>,
}

/// A password could not be hashed (bad parameters or a failed worker): never the user's fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    /// A hasher with the given parameters and as many concurrent hashes as there are cores.
    pub fn new(p: Argon2Params) -> Result<Self, HashError> {
        let params =
            Params::new(p.memory_kib, p.iterations, p.parallelism, None).map_err(|e| HashError(e.to_string()))?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_with(&params, &random_token(""))?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(workers)), dummy: dummy.into() })
    }

    /// Hashes `password` with a fresh salt into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move || hash_with(&params, &password)).await?
    }

    /// Whether `password` matches `stored` (a PHC string). `None` (no such account, or no local
    /// password) still spends one verification and answers `false`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let (stored, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy.to_string(), false),
        };
        let password = password.to_owned();
        let matched = self.run(move || verify_phc(&password, &stored)).await.unwrap_or(false);
        matched && real
    }

    /// Checks a client secret against its stored record (`sha256:` or argon2id).
    pub async fn verify_client_secret(&self, presented: &str, record: &str) -> bool {
        match record.strip_prefix("sha256:") {
            Some(hex) => ct_eq(&sha256_hex(presented), hex),
            None => self.verify(presented, Some(record)).await,
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        // A bounded wait: under a flood the caller answers "temporarily unavailable" instead of
        // queueing forever.
        let permit = tokio::time::timeout(std::time::Duration::from_secs(10), self.permits.acquire()).await;
        let _permit = permit
            .map_err(|_| HashError("the password hashing pool is busy".into()))?
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(job).await.map_err(|e| HashError(e.to_string()))
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Verifies with the parameters recorded in the PHC string itself, so hashes made under older
/// settings keep working.
fn verify_phc(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[test]
    fn tokens_are_prefixed_long_and_distinct() {
        let a = random_token(prefix::ACCESS);
        let b = random_token(prefix::ACCESS);
        assert!(a.starts_with("yat_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(random_id().len(), 32);
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[tokio::test]
    async fn passwords_verify_and_unknown_users_never_match() {
        let h = cheap();
        let stored = h.hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("correct horse", Some(&stored)).await);
        assert!(!h.verify("wrong", Some(&stored)).await);
        assert!(!h.verify("correct horse", None).await);
        assert!(!h.verify("x", Some("not a phc string")).await);
    }

    #[tokio::test]
    async fn client_secrets_verify_in_both_record_forms() {
        let h = cheap();
        let generated = random_token(prefix::CLIENT_SECRET);
        assert!(h.verify_client_secret(&generated, &client_secret_record(&generated)).await);
        assert!(!h.verify_client_secret("other", &client_secret_record(&generated)).await);
        let chosen = h.hash("operator-chosen").await.unwrap();
        assert!(h.verify_client_secret("operator-chosen", &chosen).await);
        assert!(!h.verify_client_secret("nope", &chosen).await);
    }
}
