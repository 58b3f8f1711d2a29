//! DPoP (RFC 9449) over real HTTP on SQLite and PostgreSQL: tokens bound to the key of the
//! token request's proof, the proofs a resource (`/o/userinfo/`) then needs, the checks of
//! §4.3 one by one, the server's nonces (§8) and clients that must use DPoP.
//!
//! The client side is written here from the RFC: P-256 (and one RSA) keys, compact JWS by
//! hand, so the server is checked against the specification, not against itself.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use p256::ecdsa::{signature::Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{oauth::*, oidc, Backend, TestServer};
use yaoshi::{oauth::model::GrantType, store::ClientTokenPolicy};

/// A client's DPoP key and the proofs it makes (RFC 9449 §4.2).
struct Key {
    pair: KeyPair,
}

enum KeyPair {
    Ec(SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// What one proof says, by default a good one for `POST /o/token/` now.
#[derive(Clone, Default)]
struct Claims<'a> {
    htm: Option<&'a str>,
    htu: Option<String>,
    iat_offset: i64,
    nonce: Option<&'a str>,
    access_token: Option<&'a str>,
    jti: Option<&'a str>,
    typ: Option<&'a str>,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Key {
    fn ec(seed: u8) -> Self {
        Self { pair: KeyPair::Ec(SigningKey::from_slice(&[seed; 32]).unwrap()) }
    }

    fn rsa() -> Self {
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        Self { pair: KeyPair::Rsa(Box::new(key)) }
    }

    fn alg(&self) -> &'static str {
        match self.pair {
            KeyPair::Ec(_) => "ES256",
            KeyPair::Rsa(_) => "RS256",
        }
    }

    fn public_jwk(&self) -> Value {
        match &self.pair {
            KeyPair::Ec(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256",
                       "x": URL_SAFE_NO_PAD.encode(p.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(p.y().unwrap())})
            }
            KeyPair::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(k.n().to_bytes_be()),
                       "e": URL_SAFE_NO_PAD.encode(k.e().to_bytes_be())})
            }
        }
    }

    /// RFC 7638: the JWK SHA-256 thumbprint, members in lexicographic order.
    fn thumbprint(&self) -> String {
        let j = self.public_jwk();
        let canonical = match &self.pair {
            KeyPair::Ec(_) => format!(r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#, j["x"], j["y"]),
            KeyPair::Rsa(_) => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, j["e"], j["n"]),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
    }

    fn sign_parts(&self, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = match &self.pair {
            KeyPair::Ec(k) => {
                let s: p256::ecdsa::Signature = k.sign(input.as_bytes());
                s.to_bytes().to_vec()
            }
            KeyPair::Rsa(k) => k.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).unwrap(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// A proof for `srv` as `c` describes it, with a fresh `jti`.
    fn proof(&self, srv: &TestServer, c: &Claims<'_>) -> String {
        let jti = c.jti.map_or_else(|| format!("{:032x}", rand::random::<u128>()), str::to_owned);
        let mut claims = json!({
            "jti": jti,
            "htm": c.htm.unwrap_or("POST"),
            "htu": c.htu.clone().unwrap_or_else(|| srv.url("/o/token/")),
            "iat": now() + c.iat_offset,
        });
        if let Some(n) = c.nonce {
            claims["nonce"] = json!(n);
        }
        if let Some(at) = c.access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(at.as_bytes())));
        }
        let header = json!({"typ": c.typ.unwrap_or("dpop+jwt"), "alg": self.alg(), "jwk": self.public_jwk()});
        self.sign_parts(&header, &claims)
    }

    /// A proof for `GET /o/userinfo/` with `access_token`.
    fn userinfo_proof(&self, srv: &TestServer, access_token: &str) -> String {
        let c = Claims {
            htm: Some("GET"),
            htu: Some(srv.url("/o/userinfo/")),
            access_token: Some(access_token),
            ..Claims::default()
        };
        self.proof(srv, &c)
    }
}

/// `POST /o/token/` with `app`'s credentials, `extra` and, if given, a `DPoP` header.
async fn token_with(srv: &TestServer, app: &App, proof: Option<&str>, extra: &[(&str, &str)]) -> Reply {
    let mut req = srv.http.post(srv.url("/o/token/")).form(&app.form(extra));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    send(req).await
}

/// `GET /o/userinfo/` with `Authorization: {scheme} {token}` and, if given, a proof.
async fn userinfo(srv: &TestServer, scheme: &str, token: &str, proof: Option<&str>) -> Reply {
    let mut req = srv.http.get(srv.url("/o/userinfo/")).header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    send(req).await
}

/// Asserts a refusal at the resource: 401, `code`, and a challenge of `scheme`.
#[track_caller]
fn refused(r: &Reply, scheme: &str, code: &str) {
    assert_eq!((r.status, r.json["error"].as_str()), (401, Some(code)), "{}", r.raw);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with(scheme) && challenge.contains(&format!("error=\"{code}\"")), "{challenge}");
}

async fn tokens_are_bound_to_the_proof_key(backend: Backend) {
    let (srv, confidential, _) = setup(backend).await;
    // A public client (PKCE, no secret) redeems its code with a proof.
    let public = oidc::register_spa(&srv).await;
    let key = Key::ec(3);
    let b = oidc::signed_in(&srv, "alice").await;
    let pkce = [("code_challenge", CHALLENGE), ("code_challenge_method", "S256")];
    let code = oidc::code(&srv, &b, &public, "openid profile", &pkce).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oidc::RP_URI),
        ("code_verifier", VERIFIER),
    ];
    let r = token_with(&srv, &public, Some(&key.proof(&srv, &Claims::default())), &grant).await;
    assert_eq!((r.status, r.json["token_type"].as_str()), (200, Some("DPoP")), "{}", r.raw);
    assert!(r.header("dpop-nonce").is_some_and(|n| !n.is_empty()), "a nonce for the next proof");
    let at = r.field("access_token");
    let rt = r.field("refresh_token");

    // At the resource: DPoP with a proof of the same key and the token's hash.
    let ok = userinfo(&srv, "DPoP", &at, Some(&key.userinfo_proof(&srv, &at))).await;
    assert_eq!((ok.status, ok.json["preferred_username"].as_str()), (200, Some("alice")), "{}", ok.raw);
    // As a bearer token it is worth nothing (§7.2), nor with no proof, another key's, or
    // one that does not name this token.
    refused(&userinfo(&srv, "Bearer", &at, None).await, "Bearer", "invalid_token");
    refused(&userinfo(&srv, "DPoP", &at, None).await, "DPoP", "invalid_dpop_proof");
    let other = Key::ec(4);
    refused(&userinfo(&srv, "DPoP", &at, Some(&other.userinfo_proof(&srv, &at))).await, "DPoP", "invalid_dpop_proof");
    let no_ath = key.proof(&srv, &Claims { htm: Some("GET"), htu: Some(srv.url("/o/userinfo/")), ..Claims::default() });
    let r = userinfo(&srv, "DPoP", &at, Some(&no_ath)).await;
    refused(&r, "DPoP", "invalid_dpop_proof");
    assert!(r.header("www-authenticate").unwrap().contains("algs=\"ES256 RS256\""), "§7.1 algs");
    // A token request's proof is not a resource request's.
    refused(
        &userinfo(&srv, "DPoP", &at, Some(&key.proof(&srv, &Claims::default()))).await,
        "DPoP",
        "invalid_dpop_proof",
    );

    // Introspection says it is bound, and to what (§6.2).
    let i = post(&srv, "/o/introspect/", &confidential.form(&[("token", &at)])).await;
    assert_eq!((i.json["active"].as_bool(), i.json["token_type"].as_str()), (Some(true), Some("DPoP")), "{}", i.raw);
    assert_eq!(i.json["cnf"], json!({"jkt": key.thumbprint()}));

    // A public client's refresh token is bound too (§5): not without the key, not with another.
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", rt.as_str())];
    token_with(&srv, &public, None, &refresh).await.error(400, "invalid_dpop_proof");
    token_with(&srv, &public, Some(&other.proof(&srv, &Claims::default())), &refresh)
        .await
        .error(400, "invalid_dpop_proof");
    let r = token_with(&srv, &public, Some(&key.proof(&srv, &Claims::default())), &refresh).await;
    assert_eq!((r.status, r.json["token_type"].as_str()), (200, Some("DPoP")), "{}", r.raw);
    let next = r.field("access_token");
    assert_eq!(userinfo(&srv, "DPoP", &next, Some(&key.userinfo_proof(&srv, &next))).await.status, 200);
    let rt_info = post(&srv, "/o/introspect/", &confidential.form(&[("token", &r.field("refresh_token"))])).await;
    assert_eq!(rt_info.json["cnf"], json!({"jkt": key.thumbprint()}), "{}", rt_info.raw);

    // A confidential client's refresh token is not bound (§5), its access tokens are.
    let grant = [("grant_type", "password"), ("username", "alice"), ("password", PW)];
    let r = token_with(&srv, &confidential, Some(&key.proof(&srv, &Claims::default())), &grant).await;
    let crt = r.field("refresh_token");
    let r = token_with(&srv, &confidential, None, &[("grant_type", "refresh_token"), ("refresh_token", &crt)]).await;
    assert_eq!((r.status, r.json["token_type"].as_str()), (200, Some("Bearer")), "{}", r.raw);
    let plain = r.field("access_token");
    assert_eq!(userinfo(&srv, "Bearer", &plain, None).await.status, 200);
    // An unbound token is no DPoP token.
    refused(&userinfo(&srv, "DPoP", &plain, Some(&key.userinfo_proof(&srv, &plain))).await, "DPoP", "invalid_token");

    // An RSA key works as well; a JWT access token names its key in cnf (§6.1).
    srv.services
        .set_client_token_policy(
            &confidential.id,
            ClientTokenPolicy { format: "jwt".parse().unwrap(), ..ClientTokenPolicy::default() },
        )
        .await
        .expect("policy");
    let rsa = Key::rsa();
    let r = token_with(
        &srv,
        &confidential,
        Some(&rsa.proof(&srv, &Claims::default())),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let jwt = r.field("access_token");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["cnf"], json!({"jkt": rsa.thumbprint()}), "{claims}");
}

async fn proofs_are_checked_as_rfc_9449_says(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let key = Key::ec(5);
    let cc = [("grant_type", "client_credentials")];
    let with = |c: Claims<'static>| key.proof(&srv, &c);

    // A good proof works once: the replay is refused (§11.1), on the token endpoint.
    let proof = with(Claims::default());
    assert_eq!(token_with(&srv, &app, Some(&proof), &cc).await.status, 200);
    let replay = token_with(&srv, &app, Some(&proof), &cc).await;
    replay.error(400, "invalid_dpop_proof");
    assert!(replay.json["error_description"].as_str().unwrap().contains("used before"), "{}", replay.raw);

    // Each check of §4.3.
    let cases: Vec<(&str, String)> = vec![
        ("wrong htm", with(Claims { htm: Some("GET"), ..Claims::default() })),
        ("another endpoint's htu", with(Claims { htu: Some(srv.url("/o/introspect/")), ..Claims::default() })),
        ("another host's htu", with(Claims { htu: Some("https://evil.example/o/token/".into()), ..Claims::default() })),
        ("stale iat", with(Claims { iat_offset: -600, ..Claims::default() })),
        ("iat in the future", with(Claims { iat_offset: 600, ..Claims::default() })),
        ("typ JWT", with(Claims { typ: Some("JWT"), ..Claims::default() })),
        ("empty jti", with(Claims { jti: Some(""), ..Claims::default() })),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (what, proof) in &cases {
        let r = token_with(&srv, &app, Some(proof), &cc).await;
        assert_eq!((r.status, r.json["error"].as_str()), (400, Some("invalid_dpop_proof")), "{what}: {}", r.raw);
    }
    // Key problems: a private key in the header, a signature by another key, alg none.
    let good = json!({"jti": "k1", "htm": "POST", "htu": srv.url("/o/token/"), "iat": now()});
    let mut private = key.public_jwk();
    private["d"] = json!(URL_SAFE_NO_PAD.encode([5u8; 32]));
    let with_private = key.sign_parts(&json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}), &good);
    let other = Key::ec(6);
    let foreign = other.sign_parts(&json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk()}), &good);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk()}).to_string()),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    for (what, proof) in [("private key", with_private), ("foreign signature", foreign), ("alg none", none)] {
        let r = token_with(&srv, &app, Some(&proof), &cc).await;
        assert_eq!((r.status, r.json["error"].as_str()), (400, Some("invalid_dpop_proof")), "{what}: {}", r.raw);
    }
    // Two DPoP headers (§4.3 check 1).
    let two = srv
        .http
        .post(srv.url("/o/token/"))
        .header("dpop", with(Claims::default()))
        .header("dpop", with(Claims::default()))
        .form(&app.form(&cc));
    send(two).await.error(400, "invalid_dpop_proof");
    // The URL as a client may spell it is the same URL.
    let spelled = srv.url("/o/token/").replace("http://", "HTTP://") + "?ignored=1#frag";
    assert_eq!(
        token_with(&srv, &app, Some(&with(Claims { htu: Some(spelled), ..Claims::default() })), &cc).await.status,
        200
    );
    // A proof that failed a check was not spent: only accepted ones are.
    let p = with(Claims { jti: Some("reusable-after-failure"), htm: Some("GET"), ..Claims::default() });
    token_with(&srv, &app, Some(&p), &cc).await.error(400, "invalid_dpop_proof");
    let p = with(Claims { jti: Some("reusable-after-failure"), ..Claims::default() });
    assert_eq!(token_with(&srv, &app, Some(&p), &cc).await.status, 200);

    // At the resource, a replayed proof is refused too.
    let at = token_with(
        &srv,
        &app,
        Some(&with(Claims::default())),
        &[("grant_type", "password"), ("username", "alice"), ("password", PW)],
    )
    .await
    .field("access_token");
    let p = key.userinfo_proof(&srv, &at);
    assert_eq!(userinfo(&srv, "DPoP", &at, Some(&p)).await.status, 200);
    refused(&userinfo(&srv, "DPoP", &at, Some(&p)).await, "DPoP", "invalid_dpop_proof");

    // Discovery says what proofs may be signed with (§5.1).
    let meta: Value =
        srv.http.get(srv.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(meta["dpop_signing_alg_values_supported"], json!(["ES256", "RS256"]));
}

async fn nonces_and_clients_that_must_use_dpop(backend: Backend) {
    let srv = TestServer::start_with(backend, |s| s.dpop_nonce = true).await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[GrantType::ClientCredentials, GrantType::Password]).await;
    let key = Key::ec(7);
    let cc = [("grant_type", "client_credentials")];

    // Without the server's nonce: use_dpop_nonce, and the nonce to use (§8.1).
    let r = token_with(&srv, &app, Some(&key.proof(&srv, &Claims::default())), &cc).await;
    r.error(400, "use_dpop_nonce");
    let nonce = r.header("dpop-nonce").expect("DPoP-Nonce").to_owned();
    for wrong in ["0.forged", "not-a-nonce", ""] {
        let p = key.proof(&srv, &Claims { nonce: Some(wrong), ..Claims::default() });
        token_with(&srv, &app, Some(&p), &cc).await.error(400, "use_dpop_nonce");
    }
    let p = key.proof(&srv, &Claims { nonce: Some(&nonce), ..Claims::default() });
    let r = token_with(&srv, &app, Some(&p), &cc).await;
    assert_eq!((r.status, r.json["token_type"].as_str()), (200, Some("DPoP")), "{}", r.raw);

    // The resource asks for it the same way (§9).
    let grant = [("grant_type", "password"), ("username", "alice"), ("password", PW)];
    let p = key.proof(&srv, &Claims { nonce: Some(&nonce), ..Claims::default() });
    let at = token_with(&srv, &app, Some(&p), &grant).await.field("access_token");
    let r = userinfo(&srv, "DPoP", &at, Some(&key.userinfo_proof(&srv, &at))).await;
    refused(&r, "DPoP", "use_dpop_nonce");
    let nonce = r.header("dpop-nonce").expect("DPoP-Nonce at the resource").to_owned();
    let c = Claims {
        htm: Some("GET"),
        htu: Some(srv.url("/o/userinfo/")),
        access_token: Some(&at),
        nonce: Some(&nonce),
        ..Claims::default()
    };
    let r = userinfo(&srv, "DPoP", &at, Some(&key.proof(&srv, &c))).await;
    assert_eq!(r.status, 200, "{}", r.raw);

    // A client that must use DPoP gets nothing without a proof; others are unchanged.
    let policy = ClientTokenPolicy { require_dpop: true, ..ClientTokenPolicy::default() };
    srv.services.set_client_token_policy(&app.id, policy).await.expect("policy");
    token_with(&srv, &app, None, &cc).await.error(400, "invalid_dpop_proof");
    let p = key.proof(&srv, &Claims { nonce: Some(&nonce), ..Claims::default() });
    assert_eq!(token_with(&srv, &app, Some(&p), &cc).await.json["token_type"], "DPoP");
    let free = register(&srv, false, &[GrantType::ClientCredentials]).await;
    assert_eq!(token_with(&srv, &free, None, &cc).await.json["token_type"], "Bearer");
}

on_both_backends!(
    tokens_are_bound_to_the_proof_key,
    proofs_are_checked_as_rfc_9449_says,
    nonces_and_clients_that_must_use_dpop,
);
