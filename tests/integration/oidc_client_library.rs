//! The "Done when": an unmodified third-party OpenID Connect client library (the
//! `openidconnect` crate) performs discovery, the code flow with PKCE and nonce, validates the
//! ID Token against the JWKS, checks `at_hash`, calls UserInfo and refreshes, against a running
//! server, on SQLite and PostgreSQL. Only the user's part (signing in; the trusted client skips
//! consent) is done by the test over HTTP, as a browser would.

use crate::common::{
    oauth::PW,
    oidc::{param, register_rp, register_spa, signed_in, RP_URI},
    Backend, TestServer,
};
use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata},
    reqwest, AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::header::LOCATION;
use yaoshi::oauth::jose::Alg;

/// The library's HTTP client, configured as its documentation says (no redirects).
fn library_http() -> reqwest::Client {
    reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The user's part: alice, signed in, opens the authorization URL the library built; returns
/// the code from the redirect after checking `state` and `iss` (RFC 9207).
async fn user_approves(t: &TestServer, auth_url: &url::Url, csrf: &CsrfToken) -> String {
    let browser = signed_in(t, "alice").await;
    let resp = browser.get(auth_url.as_str()).send().await.expect("authorize");
    assert_eq!(resp.status(), 302, "{auth_url}");
    let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(location.starts_with(RP_URI), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(param(&location, "iss").as_deref(), Some(t.base.as_str()));
    param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

async fn openidconnect_crate_code_flow(backend: Backend) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    let rp = register_rp(&t).await;
    let http = library_http();

    // Discovery: the library insists that `issuer` is exactly the URL it was given.
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(t.base.clone()).expect("issuer"), &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.id.clone()),
        Some(ClientSecret::new(rp.secret().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(RP_URI.to_owned()).expect("redirect"));

    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let code = user_approves(&t, &auth_url, &csrf).await;

    // The exchange (client_secret_basic, the library's default), the ID Token validated against
    // the JWKS (signature, iss, aud, azp, exp, iat, nonce), and at_hash.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID Token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("the ID Token validates");
    assert_eq!(claims.subject().as_str(), alice.to_string());
    assert_eq!(claims.issuer().as_str(), t.base);
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("alice display"));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    // The fixture account's address was vouched for by the operator.
    assert_eq!(claims.email_verified(), Some(true));
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let alg = id_token.signing_alg().expect("alg");
    let key = id_token.signing_key(&verifier).expect("signing key from the JWKS");
    let actual_hash = AccessTokenHash::from_token(tokens.access_token(), alg, key).expect("hash");
    assert_eq!(&actual_hash, expected_hash);

    // UserInfo, bound to the ID Token's subject.
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    // A refresh brings a new ID Token for the same subject, without a nonce.
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh token"))
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("refresh");
    let renewed = refreshed.id_token().expect("an ID Token on refresh");
    let renewed_claims = renewed
        .claims(&verifier, |n: Option<&Nonce>| if n.is_none() { Ok(()) } else { Err("a nonce on refresh".to_owned()) })
        .expect("the refreshed ID Token validates");
    assert_eq!(renewed_claims.subject(), claims.subject());
    assert_eq!(renewed_claims.auth_time(), claims.auth_time());

    // Another client's nonce, or another client's ID, and the library refuses the token.
    assert!(id_token.claims(&verifier, &Nonce::new("someone else's".into())).is_err());
    let stranger = CoreClient::from_provider_metadata(
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.base.clone()).unwrap(), &http).await.unwrap(),
        ClientId::new("stranger".into()),
        None,
    );
    assert!(id_token.claims(&stranger.id_token_verifier(), &nonce).is_err());
}

/// A public client (no secret, PKCE) with ES256 ID Tokens: the library reads the EC key from
/// the JWKS.
async fn openidconnect_crate_public_client_es256(backend: Backend) {
    let t = TestServer::start_with(backend, |s| s.signing_alg = Alg::ES256).await;
    let alice = t.user("alice", PW).await;
    register_spa(&t).await;
    let http = library_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.base.clone()).unwrap(), &http).await.expect("discovery");
    assert_eq!(metadata.id_token_signing_alg_values_supported(), &vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(RP_URI.to_owned()).unwrap());
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let code = user_approves(&t, &auth_url, &csrf).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID Token");
    // The library takes the allowed algorithm from the discovered metadata.
    let claims = id_token.claims(&client.id_token_verifier(), &nonce).expect("the ES256 ID Token validates");
    assert_eq!(id_token.signing_alg().expect("alg"), &CoreJwsSigningAlgorithm::EcdsaP256Sha256);
    assert_eq!(claims.subject().as_str(), alice.to_string());
    assert_eq!(claims.email(), None, "only openid was asked for");
}

on_both_backends!(openidconnect_crate_code_flow, openidconnect_crate_public_client_es256);
