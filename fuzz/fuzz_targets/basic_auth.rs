//! `Authorization: Basic` client credentials (RFC 6749 §2.3.1): any header value either is
//! refused as `invalid_client` or decodes to a non-empty client id; what decodes encodes back
//! to the same credentials; and Basic together with body credentials is refused.
#![no_main]

use base64::{engine::general_purpose::STANDARD, Engine as _};
use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::{
    client_auth::{parse_basic, ClientCredentials},
    error::ErrorCode,
    params::Params,
};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let (id, secret) = match parse_basic(header) {
        Ok(credentials) => credentials,
        Err(e) => return assert_eq!(e.code, ErrorCode::InvalidClient),
    };
    assert!(!id.is_empty(), "an empty client id was accepted");
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let again = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
    assert_eq!(parse_basic(&again).as_ref(), Ok(&(id.clone(), secret.clone())), "round trip of {header:?}");
    let body = Params::from_form(b"client_id=other&client_secret=s").unwrap();
    assert!(ClientCredentials::from_parts(Some((id, secret)), &body).is_err(), "two methods at once");
});
