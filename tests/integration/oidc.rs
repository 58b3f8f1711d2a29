//! The OpenID Connect provider over HTTP, on SQLite and PostgreSQL. The OpenID conformance
//! suite's Basic and Config OP plans cannot run here; the tests named `oidcc_*` mirror the
//! modules of the same name (for what this server implements: the code flow, discovery, the
//! ID Token, UserInfo, refresh). The `keys_*` tests cover signing-key storage and rotation.

use std::time::{Duration, Instant};

use crate::common::{
    oauth::{send, PW},
    oidc::*,
    test_settings, Backend, TestServer,
};
use reqwest::header::LOCATION;
use serde_json::{json, Value};
use yaoshi::{
    config::Settings,
    oauth::{
        client_auth::ClientCredentials,
        jose::{self, left_half_hash, Alg, JoseError},
        model::GrantType,
        params::Params,
        request::TokenRequest,
    },
    service::{clients::ClientSpec, Services},
};

/// A server with alice, bob and the trusted relying party `rp`.
async fn setup(backend: Backend) -> (TestServer, App, i64) {
    setup_with(backend, |_| {}).await
}

async fn setup_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> (TestServer, App, i64) {
    let t = TestServer::start_with(backend, adjust).await;
    let alice = t.user("alice", PW).await;
    t.user("bob", PW).await;
    let rp = register_rp(&t).await;
    (t, rp, alice)
}

/// Another instance over the same database, as a second server (or the CLI) would be.
async fn instance(t: &TestServer, adjust: impl FnOnce(&mut Settings)) -> Services {
    let mut settings = test_settings(t.database_url());
    settings.issuer = t.base.clone();
    adjust(&mut settings);
    let store = yaoshi::store::connect(t.database_url(), &Default::default()).await.expect("open store");
    Services::new(store, settings).expect("services")
}

async fn get(t: &TestServer, path: &str) -> crate::common::oauth::Reply {
    send(t.http.get(t.url(path))).await
}

/// The string `key` of a JSON object.
fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v}"))
}

// ---------------------------------------------------------------------------------------------
// The code flow and its ID Token
// ---------------------------------------------------------------------------------------------

/// oidcc-server: the code flow with `openid` returns an ID Token that verifies against the
/// published JWKS and carries the claims OIDC Core §2 and §3.1.3.6 require.
async fn oidcc_server(backend: Backend) {
    let (t, rp, alice) = setup(backend).await;
    let before = t.services.now();
    let b = signed_in(&t, "alice").await;
    let after_login = t.services.now();
    let c = code(&t, &b, &rp, "openid", &[("state", "st4te"), ("nonce", "n-0S6_WzA2Mj")]).await;
    let (status, body) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s(&body, "token_type"), "Bearer");
    let access = s(&body, "access_token");
    let keys = jwks(&t).await;
    let (header, claims) = verified(&t, &keys, s(&body, "id_token"), "rp", Some("n-0S6_WzA2Mj"));
    assert_eq!(header.alg, Alg::RS256, "RS256 by default");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let kid = header.kid.expect("kid");
    assert!(keys.keys.iter().any(|k| k.kid.as_deref() == Some(kid.as_str())), "the signing key is published");
    assert_eq!(claims["iss"], json!(t.base));
    assert_eq!(claims["sub"], json!(alice.to_string()));
    assert_eq!(claims["aud"], json!("rp"));
    assert_eq!(claims["azp"], json!("rp"));
    let (iat, exp, auth_time) =
        (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap(), claims["auth_time"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600, "id_token_ttl");
    assert!((before..=after_login).contains(&auth_time), "auth_time is the sign-in: {claims}");
    assert!(auth_time <= iat && iat <= t.services.now());
    assert_eq!(claims["at_hash"], json!(left_half_hash(header.alg, access)));
    let sid = s(&claims, "sid");
    assert!(sid.len() >= 32, "{sid}");
    // Only `openid`: no user claims.
    for absent in ["name", "preferred_username", "email", "email_verified"] {
        assert_eq!(claims.get(absent), None, "{absent} without its scope");
    }
}

/// oidcc-id-token-signature: the signature covers header and claims; a changed byte, a
/// changed claim or a foreign key makes the token fail.
async fn oidcc_id_token_signature(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let body = tokens(&t, &rp, "openid", &[]).await;
    let id_token = s(&body, "id_token");
    let keys = jwks(&t).await;
    verified(&t, &keys, id_token, "rp", None);
    let parts: Vec<&str> = id_token.split('.').collect();
    // A claim changed after signing.
    let mut forged_claims = claims_of(id_token);
    forged_claims["sub"] = json!("999");
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged_claims.to_string()), parts[2]);
    assert_eq!(jose::verify(&forged, &keys, &[Alg::RS256]).unwrap_err(), JoseError::BadSignature);
    // A flipped signature byte.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(jose::verify(&flipped, &keys, &[Alg::RS256]).unwrap_err(), JoseError::BadSignature);
    // Another server's keys do not verify it.
    let (other, other_rp, _) = setup(backend).await;
    tokens(&other, &other_rp, "openid", &[]).await;
    let foreign = jwks(&other).await;
    assert!(jose::verify(id_token, &foreign, &[Alg::RS256]).is_err());
    // No unsecured or HMAC tokens are ever issued or advertised.
    let meta = get(&t, "/.well-known/openid-configuration").await.json;
    assert_eq!(meta["id_token_signing_alg_values_supported"], json!(["RS256"]));
}

/// ES256 selected by the setting: tokens are ES256, discovery says so, and a JWKS shared with
/// an instance still on RS256 publishes both keys.
async fn oidcc_id_token_es256(backend: Backend) {
    let (t, rp, _) = setup_with(backend, |s| s.signing_alg = Alg::ES256).await;
    let body = tokens(&t, &rp, "openid", &[("nonce", "abc")]).await;
    let keys = jwks(&t).await;
    let (header, claims) = verified(&t, &keys, s(&body, "id_token"), "rp", Some("abc"));
    assert_eq!(header.alg, Alg::ES256);
    assert_eq!(claims["at_hash"], json!(left_half_hash(Alg::ES256, s(&body, "access_token"))));
    assert!(jose::verify(s(&body, "id_token"), &keys, &[Alg::RS256]).is_err(), "an RS256-only verifier refuses it");
    let meta = get(&t, "/.well-known/openid-configuration").await.json;
    assert_eq!(meta["id_token_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(keys.keys.len(), 1);
    assert_eq!((keys.keys[0].kty.as_str(), keys.keys[0].crv.as_deref()), ("EC", Some("P-256")));
    // A second instance configured for RS256 adds its key; both are published.
    let rs = instance(&t, |_| {}).await;
    assert!(rs.ensure_signing_key().await.expect("RS256 key"));
    let both = rs.jwks().await.expect("jwks");
    let mut algs: Vec<&str> = both.keys.iter().filter_map(|k| k.alg.as_deref()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "RS256"]);
    verified(&t, &both, s(&body, "id_token"), "rp", Some("abc"));
}

/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow, and a nonce is echoed exactly as
/// sent, whatever it contains.
async fn oidcc_nonce_echoed_exactly(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let without = tokens(&t, &rp, "openid", &[]).await;
    assert_eq!(claims_of(s(&without, "id_token")).get("nonce"), None, "no nonce asked, none given");
    let odd = "n 0/+%20é?&=\"'<>";
    let with = tokens(&t, &rp, "openid", &[("nonce", odd)]).await;
    let keys = jwks(&t).await;
    let (_, claims) = verified(&t, &keys, s(&with, "id_token"), "rp", Some(odd));
    assert_eq!(claims["nonce"], json!(odd));
    // A relying party expecting another nonce refuses it.
    let expect = jose::Expect { issuer: &t.base, audience: "rp", nonce: Some("other"), leeway: 5 };
    assert_eq!(jose::check_claims(&claims, &expect, t.services.now()), Err(JoseError::NonceMismatch));
}

/// oidcc-codereuse-30seconds: a code works once; the second redemption fails and revokes
/// what the first one issued (RFC 6749 §4.1.2, §10.5).
async fn oidcc_codereuse_30seconds(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let c = code(&t, &b, &rp, "openid profile", &[]).await;
    let (status, first) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{first}");
    let access = s(&first, "access_token");
    assert_eq!(send(t.http.get(t.url("/o/userinfo/")).bearer_auth(access)).await.status, 200);
    let (status, second) = redeem(&t, &rp, &c).await;
    assert_eq!((status, s(&second, "error")), (400, "invalid_grant"), "{second}");
    assert!(second.get("id_token").is_none());
    assert_eq!(
        send(t.http.get(t.url("/o/userinfo/")).bearer_auth(access)).await.status,
        401,
        "the first access token is revoked"
    );
    let refreshed = t
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", s(&first, "refresh_token")),
            ("client_id", "rp"),
            ("client_secret", rp.secret()),
        ])
        .await;
    assert_eq!(refreshed.0, 400, "the refresh token is revoked: {}", refreshed.1);
}

/// oidcc-ensure-registered-redirect-uri: an unregistered redirect URI gets an error page and
/// no redirect; a token request naming another URI than the code's is refused.
async fn oidcc_ensure_registered_redirect_uri(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    for uri in ["https://attacker.example/cb", "https://rp.example/cb/other", "https://rp.example/cb?x=1"] {
        let q = query(&[
            ("response_type", "code"),
            ("client_id", "rp"),
            ("redirect_uri", uri),
            ("scope", "openid"),
            ("state", "s"),
        ]);
        let resp = b.get(t.url(&format!("/o/authorize/?{q}"))).send().await.expect("authorize");
        assert_eq!(resp.status(), 400, "{uri}");
        assert!(resp.headers().get(LOCATION).is_none(), "{uri} must not be redirected to");
    }
    let c = code(&t, &b, &rp, "openid", &[]).await;
    let (status, body) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", "https://rp.example/other"),
            ("client_id", "rp"),
            ("client_secret", rp.secret()),
        ])
        .await;
    assert_eq!((status, s(&body, "error")), (400, "invalid_grant"), "{body}");
}

/// oidcc-ensure-request-with-valid-pkce-succeeds: a public client with S256 gets an ID Token
/// (and cannot redeem without the verifier).
async fn oidcc_ensure_request_with_valid_pkce_succeeds(backend: Backend) {
    let (t, _, alice) = setup(backend).await;
    let spa = register_spa(&t).await;
    let b = signed_in(&t, "alice").await;
    let pkce = [
        ("code_challenge", crate::common::oauth::CHALLENGE),
        ("code_challenge_method", "S256"),
        ("nonce", "pkce-nonce"),
    ];
    let redeem_with = |code: String, verifier: &'static str| {
        let t = &t;
        async move {
            t.token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", RP_URI),
                ("client_id", "spa"),
                ("code_verifier", verifier),
            ])
            .await
        }
    };
    let (status, body) = redeem_with(code(&t, &b, &spa, "openid", &pkce).await, crate::common::oauth::VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verified(&t, &jwks(&t).await, s(&body, "id_token"), "spa", Some("pkce-nonce"));
    assert_eq!(claims["sub"], json!(alice.to_string()));
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-x";
    let (status, body) = redeem_with(code(&t, &b, &spa, "openid", &pkce).await, wrong).await;
    assert_eq!((status, s(&body, "error")), (400, "invalid_grant"), "{body}");
}

/// The ID Token comes only with `openid`: an OAuth-only code flow gets none.
async fn oidcc_no_openid_no_id_token(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let body = tokens(&t, &rp, "profile read", &[]).await;
    assert!(body.get("id_token").is_none(), "{body}");
    assert_eq!(s(&body, "scope"), "profile read");
}

/// oidcc-scope-profile.
async fn oidcc_scope_profile(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let body = tokens(&t, &rp, "openid profile", &[]).await;
    let (_, claims) = verified(&t, &jwks(&t).await, s(&body, "id_token"), "rp", None);
    assert_eq!((&claims["name"], &claims["preferred_username"]), (&json!("alice display"), &json!("alice")));
    assert_eq!((claims.get("email"), claims.get("email_verified")), (None, None));
    let info = send(t.http.get(t.url("/o/userinfo/")).bearer_auth(s(&body, "access_token"))).await.json;
    assert_eq!(
        (&info["name"], &info["preferred_username"], info.get("email")),
        (&json!("alice display"), &json!("alice"), None)
    );
}

/// oidcc-scope-email.
async fn oidcc_scope_email(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let body = tokens(&t, &rp, "openid email", &[]).await;
    let (_, claims) = verified(&t, &jwks(&t).await, s(&body, "id_token"), "rp", None);
    assert_eq!((&claims["email"], &claims["email_verified"]), (&json!("alice@example.com"), &json!(true)));
    assert_eq!((claims.get("name"), claims.get("preferred_username")), (None, None));
    let info = send(t.http.get(t.url("/o/userinfo/")).bearer_auth(s(&body, "access_token"))).await.json;
    assert_eq!(
        (&info["email"], &info["email_verified"], info.get("name")),
        (&json!("alice@example.com"), &json!(true), None)
    );
}

/// oidcc-scope-all, in another order than usual (oidcc-ensure-other-scope-order-succeeds).
async fn oidcc_scope_all(backend: Backend) {
    let (t, rp, alice) = setup(backend).await;
    let body = tokens(&t, &rp, "email profile openid", &[]).await;
    let (_, claims) = verified(&t, &jwks(&t).await, s(&body, "id_token"), "rp", None);
    for (k, v) in [
        ("sub", json!(alice.to_string())),
        ("name", json!("alice display")),
        ("preferred_username", json!("alice")),
        ("email", json!("alice@example.com")),
        ("email_verified", json!(true)),
    ] {
        assert_eq!(claims[k], v, "{k}");
    }
}

// ---------------------------------------------------------------------------------------------
// UserInfo (OIDC Core §5.3)
// ---------------------------------------------------------------------------------------------

/// The ID Token's `sub` and the access token of one code flow with every user scope.
async fn user_tokens(t: &TestServer, rp: &App) -> (String, String) {
    let body = tokens(t, rp, "openid profile email", &[]).await;
    let (_, claims) = verified(t, &jwks(t).await, s(&body, "id_token"), "rp", None);
    (s(&claims, "sub").to_owned(), s(&body, "access_token").to_owned())
}

#[track_caller]
fn assert_userinfo(reply: &crate::common::oauth::Reply, sub: &str) {
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let v = &reply.json;
    assert_eq!(v["sub"], json!(sub), "the same sub as the ID Token (§5.3.2)");
    assert_eq!((&v["name"], &v["preferred_username"]), (&json!("alice display"), &json!("alice")));
    assert_eq!((&v["email"], &v["email_verified"]), (&json!("alice@example.com"), &json!(true)));
}

/// oidcc-userinfo-get.
async fn oidcc_userinfo_get(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let (sub, access) = user_tokens(&t, &rp).await;
    assert_userinfo(&send(t.http.get(t.url("/o/userinfo/")).bearer_auth(&access)).await, &sub);
    let none = send(t.http.get(t.url("/o/userinfo/"))).await;
    assert_eq!(none.status, 401);
    assert!(none.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
    let bad = send(t.http.get(t.url("/o/userinfo/")).bearer_auth("yat_forged")).await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").is_some_and(|h| h.contains("invalid_token")));
}

/// oidcc-userinfo-post-header.
async fn oidcc_userinfo_post_header(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let (sub, access) = user_tokens(&t, &rp).await;
    assert_userinfo(&send(t.http.post(t.url("/o/userinfo/")).bearer_auth(&access)).await, &sub);
}

/// oidcc-userinfo-post-body.
async fn oidcc_userinfo_post_body(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let (sub, access) = user_tokens(&t, &rp).await;
    assert_userinfo(&send(t.http.post(t.url("/o/userinfo/")).form(&[("access_token", access.as_str())])).await, &sub);
    // Both places at once is ambiguous (RFC 6750 §2: "MUST NOT use more than one method").
    let both =
        send(t.http.post(t.url("/o/userinfo/")).bearer_auth(&access).form(&[("access_token", access.as_str())])).await;
    assert_eq!(both.status, 400, "{}", both.raw);
}

// ---------------------------------------------------------------------------------------------
// Refresh (OIDC Core §12)
// ---------------------------------------------------------------------------------------------

/// oidcc-refresh-token: the ID Token of a refresh repeats iss, sub, aud, auth_time and sid,
/// has a new iat and no nonce; without `openid` in the refreshed scope there is none.
async fn oidcc_refresh_token(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let first = tokens(&t, &rp, "openid profile", &[("nonce", "only-once")]).await;
    let keys = jwks(&t).await;
    let (_, original) = verified(&t, &keys, s(&first, "id_token"), "rp", Some("only-once"));
    let (status, second) = refresh(&t, &rp, s(&first, "refresh_token"), None).await;
    assert_eq!(status, 200, "{second}");
    let (_, renewed) = verified(&t, &keys, s(&second, "id_token"), "rp", None);
    for k in ["iss", "sub", "aud", "azp", "auth_time", "sid", "preferred_username"] {
        assert_eq!(renewed[k], original[k], "{k}");
    }
    assert_eq!(renewed.get("nonce"), None, "§12.2: no nonce on a refresh");
    assert!(renewed["iat"].as_i64() >= original["iat"].as_i64());
    assert_eq!(renewed["at_hash"], json!(left_half_hash(Alg::RS256, s(&second, "access_token"))));
    // Narrowed to a scope without openid: no ID Token.
    let (status, third) = refresh(&t, &rp, s(&second, "refresh_token"), Some("profile")).await;
    assert_eq!(status, 200, "{third}");
    assert!(third.get("id_token").is_none(), "{third}");
    // A password grant with openid was never an authentication: its refreshes get none either.
    let pw = t
        .client(ClientSpec {
            name: "Legacy".into(),
            grants: vec![GrantType::Password, GrantType::RefreshToken],
            client_id: Some("legacy".into()),
            ..ClientSpec::default()
        })
        .await;
    let secret = pw.1.expect("secret");
    let (status, body) = t
        .token(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PW),
            ("scope", "openid"),
            ("client_id", "legacy"),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none());
    let (status, body) = t
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", s(&body, "refresh_token")),
            ("client_id", "legacy"),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none());
}

async fn refresh(t: &TestServer, rp: &App, token: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", &rp.id),
        ("client_secret", rp.secret()),
    ];
    form.extend(scope.map(|s| ("scope", s)));
    t.token(&form).await
}

/// `sid` names the login session: the same across codes of one browser session, different in
/// another, and unrelated to the session cookie.
async fn oidcc_sid_per_session(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let sid_of = |body: &Value| s(&claims_of(s(body, "id_token")), "sid").to_owned();
    let b = signed_in(&t, "alice").await;
    let first = redeem(&t, &rp, &code(&t, &b, &rp, "openid", &[]).await).await.1;
    let again = redeem(&t, &rp, &code(&t, &b, &rp, "openid", &[]).await).await.1;
    assert_eq!(sid_of(&first), sid_of(&again));
    let other_browser = tokens(&t, &rp, "openid", &[]).await;
    assert_ne!(sid_of(&first), sid_of(&other_browser));
    let bob = signed_in(&t, "bob").await;
    let bobs = redeem(&t, &rp, &code(&t, &bob, &rp, "openid", &[]).await).await.1;
    assert_ne!(sid_of(&bobs), sid_of(&first));
    // Another instance derives the same sid (the key is shared through the database).
    let other = instance(&t, |_| {}).await;
    let c = code(&t, &b, &rp, "openid", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", RP_URI),
        ("client_id", "rp"),
        ("client_secret", rp.secret()),
    ];
    let params = Params::from_pairs(form.iter().map(|(k, v)| (k.to_string(), v.to_string()))).expect("params");
    let creds = ClientCredentials::from_parts(None, &params).expect("credentials");
    let via_other = other
        .exchange(&creds, TokenRequest::from_params(&params).expect("request"), &[], None, None)
        .await
        .expect("exchange on the other instance");
    assert_eq!(s(&claims_of(via_other.id_token.as_deref().expect("id_token")), "sid"), sid_of(&first));
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

/// oidcc-discovery-endpoint-verification: the metadata names this issuer exactly, the required
/// members, and only endpoints that answer.
async fn oidcc_discovery_endpoint_verification(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let r = get(&t, "/.well-known/openid-configuration").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    assert!(r.header("cache-control").is_some_and(|c| c.contains("max-age")), "cacheable");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let m = &r.json;
    assert_eq!(m["issuer"], json!(t.base), "Discovery §4.3: exactly the issuer");
    for (key, path) in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/.well-known/jwks.json"),
        ("revocation_endpoint", "/o/revoke_token/"),
        ("introspection_endpoint", "/o/introspect/"),
    ] {
        assert_eq!(m[key], json!(t.url(path)), "{key}");
    }
    assert_eq!(
        m["response_types_supported"],
        json!(["code", "token", "id_token", "id_token token", "code id_token", "code token", "code id_token token"])
    );
    assert_eq!(m["response_modes_supported"], json!(["query", "fragment", "form_post"]));
    assert_eq!(m["prompt_values_supported"], json!(["none", "login", "consent", "select_account"]));
    assert_eq!(m["ui_locales_supported"], json!(["en", "zh-CN"]));
    for off in ["claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported"] {
        assert_eq!(m[off], json!(false), "{off}");
    }
    assert_eq!(m["subject_types_supported"], json!(["public"]));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], json!(true));
    assert_eq!(m["scopes_supported"], json!(["email", "groups", "openid", "phone", "profile", "read", "write"]));
    for g in ["authorization_code", "refresh_token", "client_credentials", "password", "implicit"] {
        assert!(m["grant_types_supported"].as_array().unwrap().contains(&json!(g)), "{g}");
    }
    for c in ["sub", "iss", "auth_time", "nonce", "sid", "name", "preferred_username", "email", "email_verified"] {
        assert!(m["claims_supported"].as_array().unwrap().contains(&json!(c)), "{c}");
    }
    assert_eq!(m["end_session_endpoint"], json!(t.url("/o/logout/")));
    assert_eq!(m["backchannel_logout_supported"], json!(true));
    // The same document at the other two addresses.
    for path in ["/o/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let other = get(&t, path).await;
        assert_eq!((other.status, &other.json), (200, m), "{path}");
    }
    // Every advertised endpoint answers as what it claims to be.
    let jwks = send(t.http.get(s(m, "jwks_uri"))).await;
    assert_eq!(jwks.status, 200);
    assert!(jwks.header("cache-control").is_some_and(|c| c.contains("max-age")));
    assert_eq!(jwks.header("access-control-allow-origin"), Some("*"));
    assert!(jwks.json["keys"].as_array().is_some_and(|k| !k.is_empty()), "{}", jwks.raw);
    for k in jwks.json["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "private member {private} published");
        }
    }
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "yac_nope"),
        ("redirect_uri", RP_URI),
        ("client_id", "rp"),
        ("client_secret", rp.secret()),
    ];
    let token = send(t.http.post(s(m, "token_endpoint")).form(&form)).await;
    assert_eq!((token.status, token.json["error"].as_str()), (400, Some("invalid_grant")), "{}", token.raw);
    assert_eq!(send(t.http.get(s(m, "userinfo_endpoint"))).await.status, 401);
    assert_eq!(
        send(t.http.post(s(m, "revocation_endpoint")).form(&[
            ("token", "x"),
            ("client_id", "rp"),
            ("client_secret", rp.secret())
        ]))
        .await
        .status,
        200
    );
    let introspect = send(t.http.post(s(m, "introspection_endpoint")).form(&[
        ("token", "x"),
        ("client_id", "rp"),
        ("client_secret", rp.secret()),
    ]))
    .await;
    assert_eq!(introspect.json, json!({"active": false}));
    let authorize =
        send(t.http.get(format!("{}?response_type=code&client_id=rp&scope=openid", s(m, "authorization_endpoint"))))
            .await;
    assert_eq!(authorize.status, 302, "to the login page");
}

// ---------------------------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------------------------

/// Instances starting together on an empty database agree on one key.
async fn keys_first_key_is_shared_by_concurrent_instances(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(instance(&t, |_| {}).await);
    }
    let tasks: Vec<_> = instances
        .iter()
        .cloned()
        .map(|s| tokio::spawn(async move { s.ensure_signing_key().await.expect("ensure") }))
        .collect();
    let mut created = 0;
    for task in tasks {
        created += usize::from(task.await.expect("task"));
    }
    assert_eq!(created, 1, "exactly one instance stores its key");
    let keys = t.services.signing_keys().await.expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    for s in &instances {
        let set = s.jwks().await.expect("jwks");
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].kid.as_deref(), Some(keys[0].kid.as_str()));
    }
    // The server's own JWKS shows the same key.
    assert_eq!(jwks(&t).await.keys[0].kid.as_deref(), Some(keys[0].kid.as_str()));
}

/// Rotation breaks nobody: the new key is published before it signs, a token signed before the
/// rotation verifies against the published JWKS until it expires, and the retired key leaves
/// the JWKS only after that.
async fn keys_rotation_keeps_earlier_tokens_valid(backend: Backend) {
    let delay = 8;
    let (t, rp, _) = setup_with(backend, |s| {
        s.key_publish_delay = delay;
        s.id_token_ttl = 60;
    })
    .await;
    let browser = signed_in(&t, "alice").await;
    let before = tokens(&t, &rp, "openid", &[]).await;
    let old_token = s(&before, "id_token").to_owned();
    let old_kid = jose::verify(&old_token, &jwks(&t).await, &[Alg::RS256]).unwrap().0.kid.unwrap();
    let old_exp = claims_of(&old_token)["exp"].as_i64().unwrap();

    let rotation_time = t.services.now();
    let rotated = t.services.rotate_signing_key().await.expect("rotate");
    let new_kid = rotated.new.kid.clone();
    assert_ne!(new_kid, old_kid);
    let retired = rotated.retired.expect("the old key is retired");
    assert_eq!(retired.kid, old_kid);
    assert_eq!(retired.retired_at, Some(rotated.new.active_from), "no gap, no overlap");
    assert!(rotated.new.active_from >= rotation_time + delay, "signs only after the publish delay");

    // Published at once, signing nothing yet.
    let published = jwks(&t).await;
    let kids: Vec<&str> = published.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    assert!(kids.contains(&new_kid.as_str()) && kids.contains(&old_kid.as_str()), "{kids:?}");
    let (_, during) = redeem(&t, &rp, &code(&t, &browser, &rp, "openid", &[]).await).await;
    let during_token = s(&during, "id_token").to_owned();
    assert!(
        claims_of(&during_token)["iat"].as_i64().unwrap() < rotated.new.active_from,
        "issued within the publish delay"
    );
    assert_eq!(
        jose::verify(&during_token, &published, &[Alg::RS256]).unwrap().0.kid.as_deref(),
        Some(old_kid.as_str())
    );

    // After the switch the new key signs; the old one's tokens still verify.
    while t.services.now() < rotated.new.active_from {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = tokens(&t, &rp, "openid", &[]).await;
    let keys = jwks(&t).await;
    let (header, _) = verified(&t, &keys, s(&after, "id_token"), "rp", None);
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    verified(&t, &keys, &old_token, "rp", None);
    verified(&t, &keys, &during_token, "rp", None);
    let during_exp = claims_of(&during_token)["exp"].as_i64().unwrap();
    let until = retired.published_until.expect("published_until");
    assert!(
        until >= old_exp.max(during_exp) + 60,
        "published until every token it signed expired (and a leeway): {until} vs {during_exp}"
    );

    // As time passes (seen through another instance's clock-free view): the old key is in the
    // JWKS until `published_until`, and is deleted by housekeeping after.
    let listed = t.services.signing_keys().await.expect("list");
    let state = |kid: &str| listed.iter().find(|k| k.kid == kid).map(|k| k.state.as_str());
    assert_eq!((state(&old_kid), state(&new_kid)), (Some("retired"), Some("active")));
    let mut db = sqlx_connect(&t).await;
    sqlx_exec(&mut db, "UPDATE signing_keys SET published_until = $1 WHERE kid = $2", t.services.now() - 1, &old_kid)
        .await;
    let later = instance(&t, |_| {}).await;
    let set = later.jwks().await.expect("jwks");
    assert!(set.keys.iter().all(|k| k.kid.as_deref() != Some(old_kid.as_str())), "gone once every token expired");
    assert!(jose::verify(&old_token, &set, &[Alg::RS256]).is_err());
    assert_eq!(later.purge_expired().await.expect("purge").of("signing_keys").map(|p| p.rows), Some(1));
    assert_eq!(later.signing_keys().await.expect("list").len(), 1);
}

/// A rotation made by another instance (or `yaoshi keys rotate`) reaches a running server
/// within its key cache's lifetime, with no help.
async fn keys_rotated_elsewhere_reach_every_instance(backend: Backend) {
    let (t, rp, _) = setup_with(backend, |s| s.key_publish_delay = 0).await;
    let first = tokens(&t, &rp, "openid", &[]).await;
    let old_kid = jose::verify(s(&first, "id_token"), &jwks(&t).await, &[Alg::RS256]).unwrap().0.kid.unwrap();
    let elsewhere = instance(&t, |s| s.key_publish_delay = 0).await;
    let rotated = elsewhere.rotate_signing_key().await.expect("rotate");
    let started = Instant::now();
    loop {
        let body = tokens(&t, &rp, "openid", &[]).await;
        let keys = jwks(&t).await;
        let (header, _) = verified(&t, &keys, s(&body, "id_token"), "rp", None);
        // Whatever the server signs with is published by it, at every moment.
        assert!(keys.keys.iter().any(|k| k.kid == header.kid));
        verified(&t, &keys, s(&first, "id_token"), "rp", None);
        if header.kid.as_deref() == Some(rotated.new.kid.as_str()) {
            break;
        }
        assert_eq!(header.kid.as_deref(), Some(old_kid.as_str()));
        let bound = yaoshi::service::keys::CACHE_TTL + Duration::from_secs(3);
        assert!(started.elapsed() < bound, "still signing with the old key after {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The scheduled rotation only rotates a key older than the period, and two instances doing it
/// at once rotate once.
async fn keys_scheduled_rotation(backend: Backend) {
    let t = TestServer::start_with(backend, |s| s.key_rotation_days = 30).await;
    assert!(t.services.ensure_signing_key().await.expect("ensure"));
    assert_eq!(t.services.rotate_signing_key_if_due().await.expect("check"), None, "a new key is not due");
    let kid = t.services.signing_keys().await.expect("list")[0].kid.clone();
    let mut db = sqlx_connect(&t).await;
    sqlx_exec(&mut db, "UPDATE signing_keys SET active_from = $1 WHERE kid = $2", t.services.now() - 31 * 86_400, &kid)
        .await;
    let a = instance(&t, |s| s.key_rotation_days = 30).await;
    let b = instance(&t, |s| s.key_rotation_days = 30).await;
    let (ra, rb) = tokio::join!(a.rotate_signing_key_if_due(), b.rotate_signing_key_if_due());
    let done: Vec<_> = [ra.expect("a"), rb.expect("b")].into_iter().flatten().collect();
    assert_eq!(done.len(), 1, "one rotation: {done:?}");
    assert_eq!(done[0].retired.as_ref().map(|k| k.kid.as_str()), Some(kid.as_str()));
    let keys = t.services.signing_keys().await.expect("list");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().filter(|k| k.retired_at.is_none()).count(), 1, "one current key");
    assert_eq!(a.rotate_signing_key_if_due().await.expect("again"), None, "the successor is not due");
    let off = instance(&t, |s| s.key_rotation_days = 0).await;
    sqlx_exec(&mut db, "UPDATE signing_keys SET active_from = $1 WHERE retired_at IS NULL AND kid <> $2", 0, "").await;
    assert_eq!(off.rotate_signing_key_if_due().await.expect("off"), None, "0 turns the schedule off");
}

/// `yaoshi keys list` and `yaoshi keys rotate` against the server's database; no private key
/// material is ever printed.
async fn keys_cli(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    tokens(&t, &rp, "openid", &[]).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
            .args(args)
            .env("DATABASE_URL", t.database_url())
            .env("YAOSHI_KEY_PUBLISH_DELAY", "60")
            .env_remove("YAOSHI_CONFIG")
            .output()
            .expect("run yaoshi");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(!text.contains("private") && !text.contains("MII"), "private key material printed: {text}");
        text
    };
    let listed: Value = serde_json::from_str(&run(&["keys", "list", "--json"])).expect("json");
    let keys = listed["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{listed}");
    assert_eq!((&keys[0]["alg"], &keys[0]["state"]), (&json!("RS256"), &json!("active")));
    let old = s(&keys[0], "kid").to_owned();
    let rotated: Value = serde_json::from_str(&run(&["keys", "rotate", "--json"])).expect("json");
    assert_eq!(rotated["retired_kid"], json!(old));
    let new = s(&rotated, "kid").to_owned();
    let listed: Value = serde_json::from_str(&run(&["keys", "list", "--json"])).expect("json");
    let state = |kid: &str| {
        listed["keys"].as_array().unwrap().iter().find(|k| k["kid"] == json!(kid)).map(|k| k["state"].clone())
    };
    assert_eq!((state(&old), state(&new)), (Some(json!("active")), Some(json!("pending"))), "{listed}");
    let text = run(&["keys", "list"]);
    assert!(text.contains(&old) && text.contains(&new) && text.contains("pending"), "{text}");
    // The stored row itself holds the private key (the CLI just never shows it).
    let records = t.store().signing_keys().await.expect("records");
    assert!(records.iter().all(|r| !r.private_der.is_empty() && !format!("{r:?}").contains(&r.private_der)));
}

/// A connection to the server's database behind its back, to move a key's times.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

async fn sqlx_connect(t: &TestServer) -> Db {
    use sqlx::Connection as _;
    let url = t.database_url();
    if url.starts_with("sqlite:") {
        Db::Sqlite(sqlx::SqliteConnection::connect(url).await.expect("connect"))
    } else {
        Db::Postgres(sqlx::PgConnection::connect(url).await.expect("connect"))
    }
}

/// Runs `sql` with `$1` = `time` and `$2` = `kid`.
async fn sqlx_exec(db: &mut Db, sql: &str, time: i64, kid: &str) {
    let done = match db {
        Db::Sqlite(c) => sqlx::query(sql).bind(time).bind(kid).execute(c).await.expect("update").rows_affected(),
        Db::Postgres(c) => sqlx::query(sql).bind(time).bind(kid).execute(c).await.expect("update").rows_affected(),
    };
    assert!(done >= 1, "{sql} changed nothing");
}

on_both_backends!(
    oidcc_server,
    oidcc_id_token_signature,
    oidcc_id_token_es256,
    oidcc_nonce_echoed_exactly,
    oidcc_codereuse_30seconds,
    oidcc_ensure_registered_redirect_uri,
    oidcc_ensure_request_with_valid_pkce_succeeds,
    oidcc_no_openid_no_id_token,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_all,
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_refresh_token,
    oidcc_sid_per_session,
    oidcc_discovery_endpoint_verification,
    keys_first_key_is_shared_by_concurrent_instances,
    keys_rotation_keeps_earlier_tokens_valid,
    keys_rotated_elsewhere_reach_every_instance,
    keys_scheduled_rotation,
    keys_cli,
);
