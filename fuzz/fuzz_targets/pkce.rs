//! PKCE (RFC 7636): verifier and challenge syntax, and S256 verification. The input is a
//! verifier and a challenge, split at the first newline. A valid verifier's own challenge is
//! a valid challenge that verifies; a challenge verifies only if it is the verifier's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::pkce::{s256, validate_challenge, validate_verifier, verify, S256};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (verifier, challenge) = text.split_once('\n').unwrap_or((text, ""));
    if validate_verifier(verifier).is_ok() {
        let own = s256(verifier);
        assert!(validate_challenge(&own, Some(S256)).is_ok(), "{verifier:?} -> {own:?}");
        assert!(verify(verifier, &own));
    }
    let _ = validate_challenge(challenge, Some(S256));
    let _ = validate_challenge(challenge, None);
    if verify(verifier, challenge) {
        assert_eq!(challenge, s256(verifier));
    }
});
