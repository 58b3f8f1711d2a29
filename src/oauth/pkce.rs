//! Proof Key for Code Exchange (RFC 7636), S256 only.
//!
//! The `plain` method gives no protection once the authorization request leaks,
//! and RFC 7636 §4.2 says "If the client is capable of using "S256", it MUST use
//! "S256", as "S256" is Mandatory To Implement (MTI) on the server", so this
//! server supports S256 alone.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::oauth::error::OAuthError;

/// The only `code_challenge_method` this server accepts.
pub const S256: &str = "S256";

/// Length of a base64url-encoded SHA-256 digest without padding.
const CHALLENGE_LEN: usize = 43;

/// Checks a `code_verifier` sent to the token endpoint.
///
/// RFC 7636 §4.1: `code-verifier = 43*128unreserved` with
/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`. Anything else is
/// `invalid_grant` (§4.6: "If the values are not equal, an error response
/// indicating "invalid_grant" ... MUST be returned").
pub fn validate_verifier(v: &str) -> Result<(), OAuthError> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if (43..=128).contains(&v.len()) && v.bytes().all(unreserved) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]"))
    }
}

/// Checks the `code_challenge` and `code_challenge_method` of an authorization
/// request.
///
/// RFC 7636 §4.3: `code_challenge_method` "defaults to "plain" if not present in
/// the request", and we refuse `plain`, so the method must be exactly `S256`
/// (else `invalid_request`). §4.2: for S256 the challenge is
/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, i.e. 43 base64url
/// characters encoding 32 bytes (else `invalid_request`).
pub fn validate_challenge(challenge: &str, method: Option<&str>) -> Result<(), OAuthError> {
    if method != Some(S256) {
        return Err(OAuthError::invalid_request("only S256 is supported as code_challenge_method"));
    }
    let well_formed =
        challenge.len() == CHALLENGE_LEN && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|digest| digest.len() == 32);
    if well_formed {
        Ok(())
    } else {
        Err(OAuthError::invalid_request("code_challenge must be 43 base64url characters (an S256 digest)"))
    }
}

/// RFC 7636 §4.2: `code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: the server "verifies it by calculating the code challenge from
/// the received "code_verifier" and comparing it with the previously associated
/// "code_challenge"". The comparison is constant-time.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    s256(verifier).as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn appendix_b_vector() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        assert!(verify(VERIFIER, CHALLENGE));
        assert_eq!(validate_verifier(VERIFIER), Ok(()));
        assert_eq!(validate_challenge(CHALLENGE, Some("S256")), Ok(()));
    }

    #[test]
    fn verify_rejects_mismatch() {
        let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let cases = [
            (other, CHALLENGE),
            (VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"),
            (VERIFIER, ""),
            (VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="),
            (CHALLENGE, CHALLENGE),
        ];
        for (verifier, challenge) in cases {
            assert!(!verify(verifier, challenge), "{verifier} / {challenge}");
        }
    }

    #[test]
    fn verifier_syntax() {
        let ok = ["a".repeat(43), "~._-".repeat(32), "Z9".repeat(64)];
        for v in ok {
            assert_eq!(validate_verifier(&v), Ok(()), "{v}");
        }
        let bad = [
            "a".repeat(42),
            "a".repeat(129),
            String::new(),
            format!("{}+", "a".repeat(42)),
            format!("{}/", "a".repeat(42)),
            format!("{} ", "a".repeat(42)),
            format!("{}\u{e9}", "a".repeat(42)),
        ];
        for v in bad {
            assert_eq!(validate_verifier(&v).unwrap_err().code, ErrorCode::InvalidGrant, "{v:?}");
        }
    }

    #[test]
    fn challenge_method_and_syntax() {
        let cases = [
            (CHALLENGE, None),
            (CHALLENGE, Some("plain")),
            (CHALLENGE, Some("s256")),
            (CHALLENGE, Some("S512")),
            (VERIFIER, Some("plain")),
            ("short", Some("S256")),
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", Some("S256")),
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=", Some("S256")),
            ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", Some("S256")),
            ("", Some("S256")),
        ];
        for (challenge, method) in cases {
            let err = validate_challenge(challenge, method).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{challenge} {method:?}");
        }
        let plain = validate_challenge(CHALLENGE, None).unwrap_err();
        assert!(plain.description.contains("only S256 is supported"));
    }
}
