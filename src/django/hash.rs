//! Django's password hash formats (`django.contrib.auth.hashers`), verified so that passwords
//! and client secrets imported from a Django database keep working until their first use
//! replaces them with argon2id (as Django's own `check_password(setter=…)` upgrades a hash).
//!
//! Formats, as Django's `encode()` writes them:
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` and `pbkdf2_sha1$…` (PBKDF2-HMAC, RFC 8018
//!   §5.2, the salt's UTF-8 bytes, a digest-sized key);
//! - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: a PHC string behind the prefix;
//! - `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the hex SHA-256 of the password; `bcrypt$$2b$…`;
//! - `scrypt$<N>$<salt>$<r>$<p>$<base64 hash>` (RFC 7914, a 64-byte key).
//!
//! Every comparison is constant-time. Pure: no I/O, no clock.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use subtle::ConstantTimeEq;

/// Most PBKDF2 iterations accepted (Django 5 uses 1,000,000): a hand-edited row cannot make
/// one sign-in burn minutes of a worker.
const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;
/// Largest scrypt `N` accepted (Django uses 2^14): 2^20 × r × 128 bytes is already 1 GiB at r = 8.
const MAX_SCRYPT_LOG_N: u8 = 20;

/// The Django hashers whose hashes verify here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// `PBKDF2PasswordHasher`, Django's default.
    Pbkdf2Sha256,
    /// `PBKDF2SHA1PasswordHasher`.
    Pbkdf2Sha1,
    /// `Argon2PasswordHasher`.
    Argon2,
    /// `BCryptSHA256PasswordHasher`.
    BcryptSha256,
    /// `BCryptPasswordHasher` (bcrypt of the password itself, truncated at 72 bytes).
    Bcrypt,
    /// `ScryptPasswordHasher`.
    Scrypt,
}

impl Algorithm {
    /// The algorithm Django wrote before the first `$`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pbkdf2Sha256 => "pbkdf2_sha256",
            Self::Pbkdf2Sha1 => "pbkdf2_sha1",
            Self::Argon2 => "argon2",
            Self::BcryptSha256 => "bcrypt_sha256",
            Self::Bcrypt => "bcrypt",
            Self::Scrypt => "scrypt",
        }
    }
}

/// What a Django `password` (or hashed `client_secret`) column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored<'a> {
    /// A hash this module verifies.
    Hash(Algorithm),
    /// `!…` (`set_unusable_password`) or empty: the account has no password.
    Unusable,
    /// A hasher this module does not know (`md5`, `sha1`, `unsalted_md5`, `crypt`, a custom
    /// one): named so the import can say so.
    Unsupported(&'a str),
}

/// Classifies a stored Django value.
pub fn identify(stored: &str) -> Stored<'_> {
    if stored.is_empty() || stored.starts_with('!') {
        return Stored::Unusable;
    }
    let Some((name, _)) = stored.split_once('$') else { return Stored::Unsupported("") };
    let algorithm = match name {
        "pbkdf2_sha256" => Algorithm::Pbkdf2Sha256,
        "pbkdf2_sha1" => Algorithm::Pbkdf2Sha1,
        "argon2" => Algorithm::Argon2,
        "bcrypt_sha256" => Algorithm::BcryptSha256,
        "bcrypt" => Algorithm::Bcrypt,
        "scrypt" => Algorithm::Scrypt,
        other => return Stored::Unsupported(other),
    };
    Stored::Hash(algorithm)
}

/// Whether `stored` is a Django hash this module verifies (and so one to replace after a
/// successful check).
pub fn is_django_hash(stored: &str) -> bool {
    matches!(identify(stored), Stored::Hash(_))
}

/// Whether `password` matches the Django hash `stored`. Malformed or unknown values never
/// match. `argon2` verifies the PHC string behind Django's prefix with `argon2_phc`, so that
/// the caller's argon2 (and its working memory) serves both.
pub fn verify(password: &str, stored: &str, argon2_phc: impl FnOnce(&str, &str) -> bool) -> bool {
    let Stored::Hash(algorithm) = identify(stored) else { return false };
    let rest = &stored[algorithm.name().len() + 1..];
    match algorithm {
        Algorithm::Pbkdf2Sha256 => pbkdf2(::pbkdf2::pbkdf2_hmac::<sha2::Sha256>, password, rest),
        Algorithm::Pbkdf2Sha1 => pbkdf2(::pbkdf2::pbkdf2_hmac::<sha1::Sha1>, password, rest),
        // Django writes "argon2" + the PHC string, which starts with its own `$`.
        Algorithm::Argon2 => rest.starts_with("argon2") && argon2_phc(password, &stored["argon2".len()..]),
        Algorithm::BcryptSha256 => {
            use sha2::Digest as _;
            let hex: String = sha2::Sha256::digest(password.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            bcrypt_matches(&hex, rest)
        }
        Algorithm::Bcrypt => bcrypt_matches(password, rest),
        Algorithm::Scrypt => scrypt(password, rest),
    }
}

/// `<iterations>$<salt>$<base64 hash>`, derived with `derive` (PBKDF2-HMAC of one digest).
fn pbkdf2(derive: fn(&[u8], &[u8], u32, &mut [u8]), password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Ok(iterations) = iterations.parse::<u32>() else { return false };
    let Ok(expected) = STANDARD.decode(hash) else { return false };
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS || expected.is_empty() || expected.len() > 64 {
        return false;
    }
    let mut out = vec![0u8; expected.len()];
    derive(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    out.ct_eq(&expected).into()
}

/// A bcrypt hash (`$2b$<cost>$<salt><hash>`), recomputed with its own salt and cost and
/// compared in constant time.
fn bcrypt_matches(password: &str, hash: &str) -> bool {
    let Ok(parts) = hash.parse::<bcrypt::HashParts>() else { return false };
    if parts.get_cost() > 16 {
        return false;
    }
    let Ok(salt) = bcrypt_salt(&parts) else { return false };
    let Ok(computed) = bcrypt::hash_with_salt(password.as_bytes(), parts.get_cost(), salt) else { return false };
    // Compare in the version the stored hash names, so `$2a$`/`$2y$` hashes match too.
    let version = match hash.get(1..3) {
        Some("2a") => bcrypt::Version::TwoA,
        Some("2x") => bcrypt::Version::TwoX,
        Some("2y") => bcrypt::Version::TwoY,
        _ => bcrypt::Version::TwoB,
    };
    computed.format_for_version(version).as_bytes().ct_eq(hash.as_bytes()).into()
}

/// The 16 salt bytes of a parsed bcrypt hash (its 22 characters in bcrypt's base64 alphabet).
fn bcrypt_salt(parts: &bcrypt::HashParts) -> Result<[u8; 16], ()> {
    use base64::{alphabet::BCRYPT, engine::GeneralPurpose, engine::GeneralPurposeConfig};
    let engine = GeneralPurpose::new(
        &BCRYPT,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    let bytes = engine.decode(parts.get_salt()).map_err(|_| ())?;
    bytes.try_into().map_err(|_| ())
}

/// `<N>$<salt>$<r>$<p>$<base64 hash>`.
fn scrypt(password: &str, rest: &str) -> bool {
    let parts: Vec<&str> = rest.split('$').collect();
    let [n, salt, r, p, hash] = parts[..] else { return false };
    let (Ok(n), Ok(r), Ok(p)) = (n.parse::<u64>(), r.parse::<u32>(), p.parse::<u32>()) else { return false };
    let Ok(expected) = STANDARD.decode(hash) else { return false };
    if !n.is_power_of_two() || n < 2 || expected.is_empty() || expected.len() > 128 {
        return false;
    }
    let log_n = n.trailing_zeros() as u8;
    if log_n > MAX_SCRYPT_LOG_N || r == 0 || r > 32 || p == 0 || p > 16 {
        return false;
    }
    let Ok(params) = ::scrypt::Params::new(log_n, r, p, expected.len()) else { return false };
    let mut out = vec![0u8; expected.len()];
    ::scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).is_ok()
        && bool::from(out.ct_eq(&expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every vector below was written by Django 5.2's own hashers (`make_password` /
    // `hasher.encode`) for the password "correct horse" (PBKDF2 at 1,000 iterations to keep
    // the tests quick; the format and the code path are those of the default 1,000,000).
    const PBKDF2_SHA256: &str =
        "pbkdf2_sha256$1000$m8cEaFMXvKecdJFIX1Uj5j$uLh+x0YXBQAswIj5AZTCt3oRupMWgFvyBjcZlr9J6wQ=";
    const PBKDF2_SHA1: &str = "pbkdf2_sha1$1000$afexzStQbaNcJqLzzqgk2R$yLLB8IEmEBTdLczWiJ+QGRHp3ik=";
    const ARGON2: &str =
        "argon2$argon2id$v=19$m=102400,t=2,p=8$UmVjb2NzSzkwRU83S2VtcXpRb0l0bA$lKYsCkbLfm+Jzxy4S61SWttlPrCSABJd8sw0gpVTlbo";
    const BCRYPT_SHA256: &str = "bcrypt_sha256$$2b$12$qwv.kSCzW1s4TBv9gbyxOeccu.6oCd1ReBBJOoYyyeZRDVc/O74oK";
    const BCRYPT: &str = "bcrypt$$2b$12$4ogDSYzBc4dPCziYfF7JeOf/UbPpZQviEkUBl/H.KVwze9wbSk9MC";
    const SCRYPT: &str = "scrypt$16384$Okbe4ejlYp09HpBxkWta1K$8$5$sagxwiz0qv7s17MiA8bMRvNBPCpnW2Wx4DvpkQGn0dZRF0eTGslWFaCXdVMbGvOGTjJVHDy5m5p8zgXxN1Bu1Q==";

    fn no_argon2(_: &str, _: &str) -> bool {
        panic!("not an argon2 hash")
    }

    #[test]
    fn formats_are_identified() {
        assert_eq!(identify(PBKDF2_SHA256), Stored::Hash(Algorithm::Pbkdf2Sha256));
        assert_eq!(identify(PBKDF2_SHA1), Stored::Hash(Algorithm::Pbkdf2Sha1));
        assert_eq!(identify(ARGON2), Stored::Hash(Algorithm::Argon2));
        assert_eq!(identify(BCRYPT_SHA256), Stored::Hash(Algorithm::BcryptSha256));
        assert_eq!(identify(SCRYPT), Stored::Hash(Algorithm::Scrypt));
        assert_eq!(identify("!Wq3sJz0aLd"), Stored::Unusable);
        assert_eq!(identify(""), Stored::Unusable);
        assert_eq!(identify("md5$salt$abc"), Stored::Unsupported("md5"));
        assert_eq!(identify("plain-client-secret"), Stored::Unsupported(""));
        assert!(!is_django_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
    }

    #[test]
    fn pbkdf2_hashes_from_django_verify() {
        assert!(verify("correct horse", PBKDF2_SHA256, no_argon2));
        assert!(!verify("correct horsE", PBKDF2_SHA256, no_argon2));
        assert!(verify("correct horse", PBKDF2_SHA1, no_argon2));
        assert!(!verify("correct hors", PBKDF2_SHA1, no_argon2));
        // The SHA-1 hash does not pass as SHA-256 (the name selects the digest).
        let relabelled = PBKDF2_SHA1.replacen("pbkdf2_sha1", "pbkdf2_sha256", 1);
        assert!(!verify("correct horse", &relabelled, no_argon2));
    }

    #[test]
    fn argon2_hashes_go_to_the_callers_argon2_without_the_prefix() {
        let mut seen = String::new();
        assert!(verify("correct horse", ARGON2, |pw, phc| {
            seen = phc.to_owned();
            pw == "correct horse"
        }));
        assert!(seen.starts_with("$argon2id$v=19$m=102400,t=2,p=8$"));
        assert!(!verify("x", "argon2$notargon", |_, _| true));
    }

    #[test]
    fn bcrypt_sha256_hashes_from_django_verify() {
        assert!(verify("correct horse", BCRYPT_SHA256, no_argon2));
        assert!(!verify("correct horse ", BCRYPT_SHA256, no_argon2));
        assert!(verify("correct horse", BCRYPT, no_argon2));
        assert!(!verify("correct horsf", BCRYPT, no_argon2));
        // bcrypt_sha256 is not plain bcrypt of the password.
        assert!(!verify("correct horse", &BCRYPT_SHA256.replacen("bcrypt_sha256", "bcrypt", 1), no_argon2));
    }

    #[test]
    fn scrypt_hashes_from_django_verify() {
        assert!(verify("correct horse", SCRYPT, no_argon2));
        assert!(!verify("Correct horse", SCRYPT, no_argon2));
    }

    #[test]
    fn malformed_and_hostile_values_never_match() {
        for stored in [
            "pbkdf2_sha256$1000$salt",
            "pbkdf2_sha256$x$salt$aGFzaA==",
            "pbkdf2_sha256$0$salt$aGFzaA==",
            "pbkdf2_sha256$4000000000$salt$aGFzaA==",
            "pbkdf2_sha256$1000$salt$not base64!",
            "scrypt$1000$salt$8$1$aGFzaA==",
            "scrypt$1073741824$salt$8$1$aGFzaA==",
            "bcrypt_sha256$$2b$31$qwv.kSCzW1s4TBv9gbyxOeccu.6oCd1ReBBJOoYyyeZRDVc/O74oK",
            "bcrypt_sha256$garbage",
            "!unusable",
            "md5$salt$0123",
        ] {
            assert!(!verify("correct horse", stored, |_, _| true), "{stored}");
        }
    }
}
