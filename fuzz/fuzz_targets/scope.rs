//! `scope` values (RFC 6749 §3.3): a parsed scope prints as a value that parses to the same
//! scope, and its set operations agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::{error::ErrorCode, scope::Scope};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\n').unwrap_or((text, "openid profile"));
    let a = match Scope::parse(a) {
        Ok(s) => s,
        Err(e) => return assert_eq!(e.code, ErrorCode::InvalidScope),
    };
    assert_eq!(Scope::parse(&a.to_string()).as_ref(), Ok(&a), "round trip of {a}");
    assert!(a.is_subset(&a) && a.unknown_in(&a).is_none());
    let Ok(b) = Scope::parse(b) else { return };
    let both = a.intersection(&b);
    assert!(both.is_subset(&a) && both.is_subset(&b));
    assert_eq!(a.unknown_in(&b).is_none(), a.is_subset(&b));
});
