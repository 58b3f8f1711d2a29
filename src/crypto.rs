//! Secrets: random tokens, their SHA-256 fingerprints, constant-time comparison, and argon2id
//! for human passwords (off the async workers, on a bounded pool).

use std::sync::Arc;

use argon2::{
    password_hash::{Output, ParamsString, SaltString},
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
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
    /// Links sent to verify an address or reset a password.
    pub const LINK: &str = "ylk_";
}

/// A one-time code of 6 decimal digits, uniform (from the OS generator), for people to type.
pub fn random_code() -> String {
    use rand::Rng;
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
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

/// HMAC-SHA256 of `message` under `key` for one `purpose` (so one key never signs the same
/// bytes for two uses), base64url-encoded.
pub fn mac(key: &[u8], purpose: &str, message: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
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
    /// Password checks run so far (for the metrics, and for tests that count what reached
    /// argon2).
    checks: Arc<std::sync::atomic::AtomicU64>,
    /// Hashes waiting for a worker right now.
    waiting: Arc<std::sync::atomic::AtomicI64>,
    /// A hash of a random password, verified when an account does not exist so that unknown
    /// users cost the same as wrong passwords.
    dummy: Arc<str>,
    /// Argon2's working memory (19 MiB at the default parameters), at most one per worker,
    /// reused from hash to hash. Allocated per hash, it stayed with the allocator's arena of
    /// every thread that had ever hashed: hundreds of MiB of RSS after a burst of sign-ins.
    memory: Arc<std::sync::Mutex<Vec<Blocks>>>,
}

/// Argon2's working memory.
type Blocks = Vec<Block>;

/// A password could not be hashed or checked: never the user's fault, and never a verdict on
/// the password.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every worker stayed busy for [`POOL_WAIT`]: the caller answers "try again later".
    #[error("the password hashing pool is busy")]
    Busy,
    /// Bad parameters or a failed worker.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// How long a hash waits for a worker before giving up with [`HashError::Busy`].
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl PasswordHasher {
    /// A hasher with the given parameters and as many concurrent hashes as there are cores.
    pub fn new(p: Argon2Params) -> Result<Self, HashError> {
        let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_with(&params, &random_token(""), &mut Blocks::new())?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(workers)),
            checks: Arc::default(),
            waiting: Arc::default(),
            dummy: dummy.into(),
            memory: Arc::default(),
        })
    }

    /// How many passwords (and operator-chosen client secrets) have been checked.
    pub fn checks(&self) -> u64 {
        self.checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many hashes are waiting for a worker.
    pub fn queue_depth(&self) -> i64 {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes `password` with a fresh salt into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move |memory| hash_with(&params, &password, memory)).await?
    }

    /// Whether `password` matches `stored` (a PHC string). `None` (no such account, or no local
    /// password) still spends one verification and answers `false`. A busy pool is an error,
    /// never a `false`: it says nothing about the password.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let (stored, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy.to_string(), false),
        };
        let password = password.to_owned();
        let checks = self.checks.clone();
        let matched = self
            .run(move |memory| {
                checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                verify_phc(&password, &stored, memory)
            })
            .await?;
        Ok(matched && real)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Blocks) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // A bounded wait: under a flood the caller answers "temporarily unavailable" instead of
        // queueing forever.
        self.waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let permit = tokio::time::timeout(POOL_WAIT, self.permits.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let permit = permit.map_err(|_| HashError::Busy)?.map_err(|e| HashError::Failed(e.to_string()))?;
        // The permit and the working memory go with the job and come back when it ends, even
        // if the request that asked for it has gone away meanwhile: never more hashes running,
        // nor memories allocated, than workers.
        let memories = self.memory.clone();
        let mut memory = memories.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        let out = tokio::task::spawn_blocking(move || {
            let out = job(&mut memory);
            memories.lock().unwrap_or_else(|e| e.into_inner()).push(memory);
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(out)
    }
}

fn hash_with(params: &Params, password: &str, memory: &mut Blocks) -> Result<String, HashError> {
    let failed = |e: &dyn std::fmt::Display| HashError::Failed(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(Algorithm::Argon2id, Version::V0x13, params, password.as_bytes(), salt_bytes, &mut out, memory)
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether a stored password or client secret record is one imported from Django (see
/// [`crate::django::hash`]), to be replaced by argon2id (or, for a client secret, by the
/// SHA-256 record) once a check has succeeded.
pub fn is_imported_hash(stored: &str) -> bool {
    crate::django::hash::is_django_hash(stored)
}

/// Verifies an argon2 PHC string with the parameters recorded in it, so hashes made under
/// older settings keep working; a hash imported from Django, with its own algorithm.
fn verify_phc(password: &str, stored: &str, memory: &mut Blocks) -> bool {
    if !stored.starts_with('$') {
        return crate::django::hash::verify(password, stored, |pw, phc| verify_argon2(pw, phc, memory));
    }
    verify_argon2(password, stored, memory)
}

fn verify_argon2(password: &str, stored: &str, memory: &mut Blocks) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    // `Output`'s equality is constant-time.
    argon2_into(algorithm, version, &params, password.as_bytes(), salt_bytes, &mut out, memory).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// One argon2 computation in `memory`, grown to the parameters' size if need be.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Blocks,
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..blocks],
    )
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
    fn macs_are_stable_keyed_and_purpose_bound() {
        let a = mac(b"key-one", "refresh", "yrt_old");
        assert_eq!(a, mac(b"key-one", "refresh", "yrt_old"));
        assert_ne!(a, mac(b"key-two", "refresh", "yrt_old"));
        assert_ne!(a, mac(b"key-one", "access", "yrt_old"));
        assert_ne!(a, mac(b"key-one", "refresh", "yrt_other"));
        assert_eq!(a.len(), 43);
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
        assert!(h.verify("correct horse", Some(&stored)).await.unwrap());
        assert!(!h.verify("wrong", Some(&stored)).await.unwrap());
        assert!(!h.verify("correct horse", None).await.unwrap());
        assert!(!h.verify("x", Some("not a phc string")).await.unwrap());
        assert_eq!(h.checks(), 4);
    }

    #[tokio::test]
    async fn hashes_agree_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let h = cheap();
        // Ours verifies with the stock verifier, and the stock hasher's (other parameters,
        // argon2i too) verifies with ours: the working memory is resized, not assumed.
        let ours = h.hash("correct horse").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        let salt = SaltString::generate(&mut OsRng);
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let params = Params::new(256, 2, 1, None).unwrap();
            let theirs =
                Argon2::new(algorithm, Version::V0x13, params).hash_password(b"pw", &salt).unwrap().to_string();
            assert!(h.verify("pw", Some(&theirs)).await.unwrap());
            assert!(!h.verify("pW", Some(&theirs)).await.unwrap());
        }
    }

    #[tokio::test]
    async fn django_hashes_verify_in_the_pool() {
        let h = cheap();
        // Written by Django 5.2's `make_password("correct horse")` (PBKDF2 at 1,000 rounds).
        let django = "pbkdf2_sha256$1000$m8cEaFMXvKecdJFIX1Uj5j$uLh+x0YXBQAswIj5AZTCt3oRupMWgFvyBjcZlr9J6wQ=";
        assert!(is_imported_hash(django));
        assert!(h.verify("correct horse", Some(django)).await.unwrap());
        assert!(!h.verify("correct horsE", Some(django)).await.unwrap());
        assert_eq!(h.checks(), 2);
        // Django's argon2 (its prefix, then a PHC string) goes through this argon2.
        let ours = h.hash("pw").await.unwrap();
        assert!(!is_imported_hash(&ours));
        assert!(h.verify("pw", Some(&format!("argon2{ours}"))).await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_pool_is_an_error_not_a_wrong_password() {
        let h = cheap();
        let stored = h.hash("correct horse").await.unwrap();
        // Every worker taken: the check waits out POOL_WAIT and says so.
        let _all = h.permits.clone().acquire_many_owned(h.permits.available_permits() as u32).await.unwrap();
        let busy = h.verify("correct horse", Some(&stored)).await;
        assert!(matches!(busy, Err(HashError::Busy)), "{busy:?}");
        assert_eq!(h.queue_depth(), 0);
    }
}
