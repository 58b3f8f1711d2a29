//! Redirection URIs: registration rules and matching (RFC 6749 §3.1.2, RFC 8252 §7.3,
//! RFC 9700 §2.1). The input is lines: every line but the last is offered for registration,
//! the last is the requested URI. A match is either exact or a loopback URI that differs only
//! in its port; building the answer's URI keeps the registered one as its prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::redirect::{append_fragment, append_query, resolve, validate_registration};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines: Vec<&str> = text.split('\n').collect();
    let requested = lines.pop().filter(|r| !r.is_empty());
    let registered: Vec<String> =
        lines.into_iter().filter(|u| validate_registration(u).is_ok()).map(str::to_owned).collect();
    let Ok((uri, explicit)) = resolve(&registered, requested) else { return };
    assert_eq!(explicit, requested.is_some());
    match requested {
        Some(r) => {
            assert_eq!(uri, r);
            let exact = registered.iter().any(|g| g == r);
            assert!(exact || r.starts_with("http://"), "a non-loopback URI matched without being registered: {r}");
        }
        None => assert_eq!(registered, std::slice::from_ref(&uri)),
    }
    let pairs = [("code", "c"), ("state", "a&b=#?")];
    let (base, _) = uri.split_once('#').unwrap_or((&uri, ""));
    assert!(append_query(&uri, &pairs).starts_with(base));
    assert!(append_fragment(&uri, &pairs).starts_with(&uri));
});
