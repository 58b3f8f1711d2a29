//! Form bodies and query strings as the endpoints read them: `Params::from_form`, then the
//! token request, the client credentials and the authorization request built from them.
//! Beyond "no panic": every error's description stays in RFC 6749 §5.2's character set
//! (attackers choose what is echoed), and an accepted authorization request names a
//! registered redirect URI and a scope the server knows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi::oauth::{
    authorize::{self, AuthorizeError},
    client_auth::ClientCredentials,
    error::OAuthError,
    model::{Client, GrantType},
    params::Params,
    request::TokenRequest,
    scope::Scope,
};

/// RFC 6749 §5.2: `error_description` "MUST NOT include characters outside the set
/// %x20-21 / %x23-5B / %x5D-7E".
fn check(e: &OAuthError) {
    let allowed = |b: u8| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E);
    assert!(e.description.bytes().all(allowed), "description outside RFC 6749 §5.2: {:?}", e.description);
}

fn client() -> Client {
    Client {
        client_id: "app".into(),
        name: "App".into(),
        confidential: true,
        redirect_uris: vec!["https://app.example.com/cb".into(), "http://127.0.0.1/cb".into()],
        grant_types: GrantType::ALL.to_vec(),
        scopes: Scope::parse("openid profile email read").unwrap(),
        trusted: false,
    }
}

/// Requests that pass the first checks: the input's first byte picks one, the rest is
/// appended to it, so that the fuzzer reaches the later checks without guessing the client's
/// redirect URI first.
const TEMPLATES: [&str; 7] = [
    "",
    "client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&scope=openid&state=s\
     &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
    "client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb&response_type=id_token+token&scope=openid&nonce=n",
    "grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&client_id=app\
     &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "grant_type=password&username=alice&password=p&scope=read",
    "grant_type=refresh_token&refresh_token=r&scope=openid",
    "grant_type=client_credentials&client_id=app&client_secret=s",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let template = TEMPLATES[usize::from(pick) % TEMPLATES.len()];
    let form = [template.as_bytes(), b"&", rest].concat();
    let params = match Params::from_form(&form) {
        Ok(p) => p,
        Err(e) => return check(&e),
    };
    if let Err(e) = TokenRequest::from_params(&params) {
        check(&e);
    }
    if let Err(e) = ClientCredentials::from_parts(None, &params) {
        check(&e);
    }
    let (client, known) = (client(), Scope::parse("openid profile email read write").unwrap());
    match authorize::validate(&params, Some(&client), &known) {
        Ok(valid) => {
            let registered = client.redirect_uris.contains(&valid.redirect_uri)
                || valid.redirect_uri.starts_with("http://127.0.0.1:");
            assert!(registered, "unregistered redirect URI accepted: {}", valid.redirect_uri);
            assert!(valid.scope.is_subset(&known), "unknown scope accepted: {}", valid.scope);
        }
        Err(AuthorizeError::Page(e) | AuthorizeError::Redirect(_, e)) => check(&e),
    }
});
