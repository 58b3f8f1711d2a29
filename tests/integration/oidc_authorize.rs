//! The authorization endpoint as an OpenID Provider, on SQLite and PostgreSQL: `prompt`,
//! `max_age`, `id_token_hint`, `login_hint`, `ui_locales`, the implicit and hybrid response
//! types, and the response modes (`query`, `fragment`, `form_post`). The tests named
//! `oidcc_*` mirror the OpenID conformance suite's modules of the same name.

use crate::common::{
    browser,
    oauth::{send, PW},
    oidc::*,
    Backend, TestServer,
};
use rand::rngs::OsRng;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION};
use serde_json::{json, Value};
use yaoshi::{
    oauth::{
        id_token::TYP,
        jose::{self, left_half_hash, Alg, SigningKey},
        model::GrantType,
    },
    service::clients::ClientSpec,
};

/// A server with alice, bob, the trusted code-flow client `rp`, the trusted client `imp` that
/// may also use the implicit grant, and `app`, which has to ask for consent.
async fn setup(backend: Backend) -> (TestServer, App, i64, i64) {
    let (t, rp, alice, bob, _) = setup_with_imp(backend).await;
    (t, rp, alice, bob)
}

/// [`setup`], and `imp` as a relying party (with its secret).
async fn setup_with_imp(backend: Backend) -> (TestServer, App, i64, i64, App) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    let bob = t.user("bob", PW).await;
    let rp = register_rp(&t).await;
    let mut imp = None;
    for (id, trusted) in [("imp", true), ("app", false)] {
        let (id, secret) = t
            .client(ClientSpec {
                name: format!("Client {id}"),
                redirect_uris: vec![RP_URI.into()],
                grants: vec![GrantType::AuthorizationCode, GrantType::Implicit],
                trusted,
                client_id: Some(id.into()),
                ..ClientSpec::default()
            })
            .await;
        if trusted {
            imp = Some(App { id, secret: Some(secret.expect("confidential")) });
        }
    }
    (t, rp, alice, bob, imp.expect("imp"))
}

/// The string `key` of a JSON object.
fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v}"))
}

/// A GET in browser `b`: status, `Location` (if any), the response.
async fn get(t: &TestServer, b: &reqwest::Client, path: &str) -> (u16, Option<String>, reqwest::Response) {
    let resp = b.get(t.url(path)).header(ACCEPT, "text/html").send().await.expect("request");
    let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    (resp.status().as_u16(), location, resp)
}

/// `/o/authorize/?{pairs}` in browser `b`; asserts a redirect and returns where to.
async fn authorize_with(t: &TestServer, b: &reqwest::Client, pairs: &[(&str, &str)]) -> String {
    authorize(t, b, &query(pairs)).await
}

/// A parameter of the fragment of `url`.
fn fragment_param(url: &str, name: &str) -> Option<String> {
    let (_, fragment) = url.split_once('#')?;
    url::form_urlencoded::parse(fragment.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A query parameter of a relative URL such as `/o/login/?next=…`.
fn relative_param(url: &str, name: &str) -> Option<String> {
    param(&format!("http://x{url}"), name)
}

/// Moves the sign-in of every session back by `seconds`, as if it had happened that long ago.
async fn age_sessions(t: &TestServer, seconds: i64) {
    use sqlx::Connection as _;
    let url = t.database_url();
    let sql = "UPDATE sessions SET auth_time = auth_time - $1";
    let changed = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(sql).bind(seconds).execute(&mut c).await.expect("update").rows_affected()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(sql).bind(seconds).execute(&mut c).await.expect("update").rows_affected()
    };
    assert!(changed >= 1, "no session to age");
}

/// Follows a redirect to the login page: signs in there as `username` (as a browser without
/// JavaScript does, with the page's own `next`) and returns where the sign-in sends it back.
async fn sign_in_at(t: &TestServer, b: &reqwest::Client, login: &str, username: &str) -> String {
    assert!(login.starts_with("/o/login/?"), "{login}");
    let next = relative_param(login, "next").expect("next");
    let (_, back) = t.sign_in_to(b, login, username, PW, &next).await;
    assert_eq!(back, next, "the sign-in returns to the authorization request");
    back
}

/// The code flow's token response for `code`, with its ID Token verified; returns its claims.
async fn redeemed_claims(t: &TestServer, rp: &App, location: &str, nonce: Option<&str>) -> Value {
    assert!(location.starts_with(RP_URI), "{location}");
    let code = param(location, "code").unwrap_or_else(|| panic!("no code in {location}"));
    let (status, body) = redeem(t, rp, &code).await;
    assert_eq!(status, 200, "{body}");
    verified(t, &jwks(t).await, s(&body, "id_token"), "rp", nonce).1
}

/// The server's current signing key, as the server itself holds it, so that tests can make
/// tokens "of this server" with any claims.
async fn server_key(t: &TestServer) -> SigningKey {
    t.services.ensure_signing_key().await.expect("key");
    let records = t.store().signing_keys().await.expect("keys");
    let r = records.iter().find(|r| r.retired_at.is_none()).expect("current key");
    SigningKey::from_pkcs8_der_b64(r.alg.parse().expect("alg"), r.kid.clone(), &r.private_der).expect("decode")
}

// ---------------------------------------------------------------------------------------------
// prompt
// ---------------------------------------------------------------------------------------------

/// oidcc-prompt-none-not-logged-in: no page, `login_required` back to the client, whatever
/// the response type and mode.
async fn oidcc_prompt_none_not_logged_in(backend: Backend) {
    let (t, _, _, _) = setup(backend).await;
    let b = browser();
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("prompt", "none"), ("state", "s1")],
    )
    .await;
    assert!(to.starts_with(RP_URI), "never the login page: {to}");
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&to, "state").as_deref(), Some("s1"));
    assert_eq!(param(&to, "iss").as_deref(), Some(t.base.as_str()));
    let implicit = [
        ("response_type", "id_token"),
        ("client_id", "imp"),
        ("scope", "openid"),
        ("nonce", "n"),
        ("prompt", "none"),
        ("state", "s2"),
    ];
    let to = authorize_with(&t, &b, &implicit).await;
    assert_eq!(fragment_param(&to, "error").as_deref(), Some("login_required"), "in the fragment: {to}");
    assert_eq!(fragment_param(&to, "state").as_deref(), Some("s2"));
    // Without prompt=none the same request goes to the login page.
    let to = authorize_with(&t, &b, &implicit[..4]).await;
    assert!(to.starts_with("/o/login/?next="), "{to}");
}

/// oidcc-prompt-none-logged-in: a signed-in user with consent (or a trusted client) gets the
/// answer at once; without consent, `consent_required`.
async fn oidcc_prompt_none_logged_in(backend: Backend) {
    let (t, rp, alice, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("prompt", "none"), ("nonce", "pn")],
    )
    .await;
    let claims = redeemed_claims(&t, &rp, &to, Some("pn")).await;
    assert_eq!(claims["sub"], json!(alice.to_string()));
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "app"), ("scope", "openid"), ("prompt", "none"), ("state", "c")],
    )
    .await;
    assert_eq!(param(&to, "error").as_deref(), Some("consent_required"), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("c"));
    // none with anything else is malformed (OIDC Core §3.1.2.1).
    for combined in ["none login", "none consent", "none select_account", "select_account none"] {
        let to = authorize_with(
            &t,
            &b,
            &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("prompt", combined)],
        )
        .await;
        assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "{combined}: {to}");
    }
}

/// oidcc-prompt-login: a signed-in user signs in again, once; the ID Token's auth_time is the
/// new sign-in. prompt=select_account does the same (there is no account chooser).
async fn oidcc_prompt_login(backend: Backend) {
    let (t, rp, _, bob) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let first = redeemed_claims(
        &t,
        &rp,
        &authorize_with(&t, &b, &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid")]).await,
        None,
    )
    .await;
    age_sessions(&t, 100).await;
    let pairs =
        [("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("prompt", "login"), ("state", "pl")];
    let login = authorize_with(&t, &b, &pairs).await;
    let next = relative_param(&login, "next").expect("next");
    assert!(!next.contains("prompt"), "returning must not ask again: {next}");
    let back = sign_in_at(&t, &b, &login, "alice").await;
    let (status, to, _) = get(&t, &b, &back).await;
    assert_eq!(status, 302);
    let again = redeemed_claims(&t, &rp, to.as_deref().expect("redirect"), None).await;
    assert_eq!(param(to.as_deref().unwrap(), "state").as_deref(), Some("pl"));
    let (old, new) = (first["auth_time"].as_i64().unwrap(), again["auth_time"].as_i64().unwrap());
    assert!(new >= old, "auth_time is the new sign-in, not the aged session's: {old} then {new}");
    // select_account: sign in, as anyone.
    let login = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("prompt", "select_account")],
    )
    .await;
    let back = sign_in_at(&t, &b, &login, "bob").await;
    assert!(!back.contains("select_account"), "{back}");
    let (_, to, _) = get(&t, &b, &back).await;
    let claims = redeemed_claims(&t, &rp, to.as_deref().expect("redirect"), None).await;
    assert_eq!(claims["sub"], json!(bob.to_string()));
}

// ---------------------------------------------------------------------------------------------
// max_age
// ---------------------------------------------------------------------------------------------

/// oidcc-max-age-1: a sign-in older than max_age is not used: the user signs in again (once)
/// and the ID Token carries the new auth_time; with prompt=none, `login_required`. max_age=0
/// forces one sign-in and then answers.
async fn oidcc_max_age_1(backend: Backend) {
    let (t, rp, _, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    age_sessions(&t, 10).await;
    let aged = t.services.now() - 10;
    let base = [("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("max_age", "1"), ("state", "m")];
    let none = authorize_with(&t, &b, &[&base[..], &[("prompt", "none")]].concat()).await;
    assert_eq!(param(&none, "error").as_deref(), Some("login_required"), "{none}");
    let login = authorize_with(&t, &b, &base).await;
    assert!(login.starts_with("/o/login/"), "{login}");
    let back = sign_in_at(&t, &b, &login, "alice").await;
    let (status, to, _) = get(&t, &b, &back).await;
    assert_eq!(status, 302, "no second sign-in");
    let claims = redeemed_claims(&t, &rp, to.as_deref().expect("redirect"), None).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time is present when max_age was asked");
    assert!(auth_time > aged + 5, "the new sign-in: {auth_time} vs {aged}");

    // max_age=0: always a new sign-in, but only once.
    let zero = [("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("max_age", "0")];
    let login = authorize_with(&t, &b, &zero).await;
    assert!(login.starts_with("/o/login/"), "a fresh session is not fresh enough for max_age=0: {login}");
    let back = sign_in_at(&t, &b, &login, "alice").await;
    let (status, to, _) = get(&t, &b, &back).await;
    assert_eq!(status, 302);
    assert!(to.as_deref().is_some_and(|l| l.starts_with(RP_URI)), "answered after one sign-in: {to:?}");

    // A max_age that is not a number is refused.
    for bad in ["abc", "-1", "1.5"] {
        let to = authorize_with(
            &t,
            &b,
            &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("max_age", bad)],
        )
        .await;
        assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "{bad}: {to}");
    }
}

/// oidcc-max-age-10000: a sign-in younger than max_age is used as it is; its auth_time is in
/// the ID Token.
async fn oidcc_max_age_10000(backend: Backend) {
    let (t, rp, _, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let login_time = t.services.now();
    age_sessions(&t, 300).await;
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("max_age", "10000")],
    )
    .await;
    let claims = redeemed_claims(&t, &rp, &to, None).await;
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!((login_time - 301..=login_time - 299).contains(&auth_time), "the session's own sign-in: {auth_time}");
    // The same session is too old for max_age=299.
    let login = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("max_age", "299")],
    )
    .await;
    assert!(login.starts_with("/o/login/"), "{login}");
}

// ---------------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------------

/// oidcc-id-token-hint: our own ID Token (even expired) names the user; a session of someone
/// else means a sign-in (or `login_required` with prompt=none); a token we did not sign, or
/// with another issuer, is refused.
async fn oidcc_id_token_hint(backend: Backend) {
    let (t, rp, alice, bob) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let first = tokens(&t, &rp, "openid", &[]).await;
    let hint = s(&first, "id_token").to_owned();
    let with_hint = |h: String, prompt: Option<&'static str>| {
        let mut pairs = vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".into(), "rp".into()),
            ("scope".into(), "openid".into()),
            ("id_token_hint".into(), h),
        ];
        pairs.extend(prompt.map(|p| ("prompt".to_owned(), p.to_owned())));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    };
    let to = authorize(&t, &b, &with_hint(hint.clone(), Some("none"))).await;
    assert_eq!(redeemed_claims(&t, &rp, &to, None).await["sub"], json!(alice.to_string()));

    // Expired, but ours: still a good hint.
    let key = server_key(&t).await;
    let now = t.services.now();
    let mut expired = claims_of(&hint);
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let expired = key.sign(TYP, &expired, &mut OsRng);
    let to = authorize(&t, &b, &with_hint(expired, Some("none"))).await;
    assert!(param(&to, "code").is_some(), "{to}");

    // Bob's hint while alice is signed in.
    let mut bobs = claims_of(&hint);
    bobs["sub"] = json!(bob.to_string());
    let bobs = key.sign(TYP, &bobs, &mut OsRng);
    let to = authorize(&t, &b, &with_hint(bobs.clone(), Some("none"))).await;
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"), "{to}");
    let login = authorize(&t, &b, &with_hint(bobs, None)).await;
    assert!(login.starts_with("/o/login/"), "{login}");
    let back = sign_in_at(&t, &b, &login, "bob").await;
    assert!(!back.contains("id_token_hint"), "{back}");
    let (_, to, _) = get(&t, &b, &back).await;
    assert_eq!(redeemed_claims(&t, &rp, to.as_deref().expect("redirect"), None).await["sub"], json!(bob.to_string()));

    // Not ours: another issuer, a changed claim, a foreign key, not a JWS at all.
    let mut other_iss = claims_of(&hint);
    other_iss["iss"] = json!("https://other.example");
    let foreign = SigningKey::generate(Alg::RS256, "foreign", &mut OsRng).sign(TYP, &claims_of(&hint), &mut OsRng);
    let parts: Vec<&str> = hint.split('.').collect();
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let mut forged = claims_of(&hint);
    forged["sub"] = json!(bob.to_string());
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged.to_string()), parts[2]);
    for bad in [key.sign(TYP, &other_iss, &mut OsRng), foreign, tampered, "not-a-token".to_owned()] {
        for prompt in [None, Some("none")] {
            let to = authorize(&t, &b, &with_hint(bad.clone(), prompt)).await;
            assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
        }
    }
    assert!(jose::verify(&hint, &jwks(&t).await, &[Alg::RS256]).is_ok());
}

/// oidcc-login-hint: the sign-in form is pre-filled with the hint.
async fn oidcc_login_hint(backend: Backend) {
    let (t, _, _, _) = setup(backend).await;
    let b = browser();
    let login = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("login_hint", "alice")],
    )
    .await;
    assert_eq!(relative_param(&login, "login_hint").as_deref(), Some("alice"), "{login}");
    let (status, _, resp) = get(&t, &b, &login).await;
    assert_eq!(status, 200);
    let html = resp.text().await.expect("html");
    let input =
        html.split("id=\"username\"").nth(1).and_then(|s| s.split('>').next()).expect("username field").to_owned();
    assert!(input.contains("value=\"alice\""), "{input}");
    // Escaped like any attribute, and absent when not sent.
    let login =
        authorize_with(&t, &b, &[("response_type", "code"), ("client_id", "rp"), ("login_hint", "\"><b>x")]).await;
    let html = get(&t, &b, &login).await.2.text().await.expect("html");
    assert!(!html.contains("\"><b>x"), "unescaped hint");
    let login = authorize_with(&t, &b, &[("response_type", "code"), ("client_id", "rp")]).await;
    let html = get(&t, &b, &login).await.2.text().await.expect("html");
    assert!(!html.contains("value=\"alice\""));
    // The sign-in it leads to works as usual.
    let back = sign_in_at(&t, &b, &login, "alice").await;
    assert!(back.starts_with("/o/authorize/?"));
}

/// oidcc-ui-locales: the login and consent pages speak the language the relying party asks
/// for, over the browser's, without remembering it; the user's own choice wins.
async fn oidcc_ui_locales(backend: Backend) {
    let (t, _, _, _) = setup(backend).await;
    let b = browser();
    let page = |path: String, lang: &'static str| {
        let (b, t) = (&b, &t);
        async move {
            let resp = b
                .get(t.url(&path))
                .header(ACCEPT, "text/html")
                .header(ACCEPT_LANGUAGE, lang)
                .send()
                .await
                .expect("page");
            assert!(
                resp.headers()
                    .get_all("set-cookie")
                    .iter()
                    .all(|c| !c.to_str().unwrap_or_default().starts_with("yaoshi_lang")),
                "nothing is remembered"
            );
            resp.text().await.expect("html")
        }
    };
    let zh = [("response_type", "code"), ("client_id", "app"), ("scope", "openid"), ("ui_locales", "fr-CA zh-CN en")];
    let login = authorize_with(&t, &b, &zh).await;
    let html = page(login.clone(), "en").await;
    assert!(html.contains("<html lang=\"zh-CN\"") && html.contains("登录"), "{html}");
    let en = authorize_with(&t, &b, &[("response_type", "code"), ("client_id", "app"), ("scope", "openid")]).await;
    let html = page(en.clone(), "en").await;
    assert!(html.contains("<html lang=\"en\"") && !html.contains("登录"), "without ui_locales, the browser's language");
    let html = page(authorize_with(&t, &b, &[&zh[..3], &[("ui_locales", "en")]].concat()).await, "zh-CN").await;
    assert!(html.contains("<html lang=\"en\""), "ui_locales over Accept-Language");

    // The consent page too.
    let back = sign_in_at(&t, &b, &login, "alice").await;
    let html = page(back.clone(), "en").await;
    assert!(html.contains("<html lang=\"zh-CN\"") && html.contains("授权"), "{html}");
    // The switcher's cookie (the user's choice) beats the relying party's wish.
    let switched = b.get(t.url("/o/lang/?to=en&next=/")).send().await.expect("switch");
    assert_eq!(switched.status(), 303);
    let html = page(back, "zh-CN").await;
    assert!(html.contains("<html lang=\"en\""), "the user's choice wins");
}

// ---------------------------------------------------------------------------------------------
// Implicit and hybrid
// ---------------------------------------------------------------------------------------------

/// oidcc-implicit (response_type=id_token): the ID Token in the fragment, verified against the
/// JWKS, with the nonce, auth_time, sid and the scope's claims (there is no access token to
/// fetch them with), and no at_hash.
async fn oidcc_implicit_id_token(backend: Backend) {
    let (t, _, alice, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let to = authorize_with(
        &t,
        &b,
        &[
            ("response_type", "id_token"),
            ("client_id", "imp"),
            ("scope", "openid profile"),
            ("nonce", "imp-n"),
            ("state", "is"),
        ],
    )
    .await;
    assert!(to.starts_with(&format!("{RP_URI}#")), "{to}");
    assert!(!to.contains('?'), "nothing in the query: {to}");
    for absent in ["access_token", "code", "token_type"] {
        assert_eq!(fragment_param(&to, absent), None, "{absent}");
    }
    assert_eq!(
        (fragment_param(&to, "state").as_deref(), fragment_param(&to, "iss")),
        (Some("is"), Some(t.base.clone()))
    );
    let id_token = fragment_param(&to, "id_token").expect("id_token");
    let (header, claims) = verified(&t, &jwks(&t).await, &id_token, "imp", Some("imp-n"));
    assert_eq!(header.alg, Alg::RS256);
    assert_eq!(claims["sub"], json!(alice.to_string()));
    assert!(claims["auth_time"].is_i64() && claims["sid"].is_string(), "{claims}");
    assert_eq!((&claims["preferred_username"], &claims["name"]), (&json!("alice"), &json!("alice display")));
    assert_eq!((claims.get("at_hash"), claims.get("c_hash")), (None, None));
}

/// oidcc-implicit (response_type=id_token token, in either order): an access token that works
/// at UserInfo, and the ID Token's at_hash is its hash.
async fn oidcc_implicit_id_token_token(backend: Backend) {
    let (t, _, alice, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    for rt in ["id_token token", "token id_token"] {
        let to = authorize_with(
            &t,
            &b,
            &[("response_type", rt), ("client_id", "imp"), ("scope", "openid email"), ("nonce", "itt")],
        )
        .await;
        let access = fragment_param(&to, "access_token").unwrap_or_else(|| panic!("{rt}: {to}"));
        assert_eq!(fragment_param(&to, "token_type").as_deref(), Some("Bearer"));
        assert_eq!(fragment_param(&to, "refresh_token"), None, "never a refresh token in the front channel");
        let (header, claims) =
            verified(&t, &jwks(&t).await, &fragment_param(&to, "id_token").expect("id_token"), "imp", Some("itt"));
        assert_eq!(claims["at_hash"], json!(left_half_hash(header.alg, &access)), "{rt}");
        assert_eq!(claims["email"], json!("alice@example.com"));
        let info = send(t.http.get(t.url("/o/userinfo/")).bearer_auth(&access)).await;
        assert_eq!((info.status, &info.json["sub"]), (200, &json!(alice.to_string())), "{}", info.raw);
    }
}

/// oidcc-ensure-request-without-nonce-fails (implicit and hybrid): no nonce, no token; and an
/// ID Token needs the openid scope, and the implicit grant switched on for the client.
async fn oidcc_implicit_nonce_required(backend: Backend) {
    let (t, _, _, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    for rt in ["id_token", "id_token token", "code id_token", "code token", "code id_token token"] {
        let to = authorize_with(
            &t,
            &b,
            &[("response_type", rt), ("client_id", "imp"), ("scope", "openid"), ("state", "nn")],
        )
        .await;
        assert_eq!(fragment_param(&to, "error").as_deref(), Some("invalid_request"), "{rt}: {to}");
        assert_eq!(fragment_param(&to, "state").as_deref(), Some("nn"));
        for leaked in ["id_token", "access_token", "code"] {
            assert_eq!(fragment_param(&to, leaked), None, "{rt}: {leaked}");
        }
    }
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "id_token"), ("client_id", "imp"), ("scope", "profile"), ("nonce", "n")],
    )
    .await;
    assert_eq!(fragment_param(&to, "error").as_deref(), Some("invalid_request"), "no openid: {to}");
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "id_token"), ("client_id", "rp"), ("scope", "openid"), ("nonce", "n")],
    )
    .await;
    assert_eq!(fragment_param(&to, "error").as_deref(), Some("unauthorized_client"), "rp has no implicit grant: {to}");
}

/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow(backend: Backend) {
    let (t, rp, _, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    let to = authorize_with(&t, &b, &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid")]).await;
    let claims = redeemed_claims(&t, &rp, &to, None).await;
    assert_eq!(claims.get("nonce"), None);
}

/// Hybrid flows (oidcc-codereuse for hybrid aside): `code id_token` returns a code and an ID
/// Token whose c_hash is the code's; the code then redeems for the same user.
async fn oidcc_hybrid_code_id_token(backend: Backend) {
    let (t, _, alice, _, imp) = setup_with_imp(backend).await;
    let b = signed_in(&t, "alice").await;
    for rt in ["code id_token", "code id_token token", "code token"] {
        let to = authorize_with(
            &t,
            &b,
            &[
                ("response_type", rt),
                ("client_id", "imp"),
                ("scope", "openid"),
                ("nonce", "hy"),
                ("redirect_uri", RP_URI),
            ],
        )
        .await;
        let code = fragment_param(&to, "code").unwrap_or_else(|| panic!("{rt}: {to}"));
        let access = fragment_param(&to, "access_token");
        assert_eq!(access.is_some(), rt.contains(" token"), "{rt}");
        let id_token = fragment_param(&to, "id_token");
        assert_eq!(id_token.is_some(), rt.contains("id_token"), "{rt}");
        if let Some(id_token) = id_token {
            let (header, claims) = verified(&t, &jwks(&t).await, &id_token, "imp", Some("hy"));
            assert_eq!(claims["c_hash"], json!(left_half_hash(header.alg, &code)), "{rt}");
            assert_eq!(claims.get("at_hash").is_some(), access.is_some(), "{rt}");
        }
        let (status, body) = redeem(&t, &imp, &code).await;
        assert_eq!(status, 200, "{rt}: {body}");
        let (_, claims) = verified(&t, &jwks(&t).await, s(&body, "id_token"), "imp", Some("hy"));
        assert_eq!(claims["sub"], json!(alice.to_string()));
    }
}

// ---------------------------------------------------------------------------------------------
// Response types and modes
// ---------------------------------------------------------------------------------------------

/// oidcc-response-type-missing / unsupported response types and modes: refused back to the
/// client, never with a token in the query.
async fn oidcc_unsupported_response_type(backend: Backend) {
    let (t, _, _, _) = setup(backend).await;
    let b = signed_in(&t, "alice").await;
    for rt in ["magic", "code none", "code code", "none"] {
        let to =
            authorize_with(&t, &b, &[("response_type", rt), ("client_id", "rp"), ("scope", "openid"), ("state", "u")])
                .await;
        assert_eq!(param(&to, "error").as_deref(), Some("unsupported_response_type"), "{rt}: {to}");
        assert_eq!(param(&to, "state").as_deref(), Some("u"));
    }
    let to = authorize_with(&t, &b, &[("client_id", "rp"), ("scope", "openid")]).await;
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "missing response_type: {to}");
    // Tokens in the query are refused, in the fragment.
    let to = authorize_with(
        &t,
        &b,
        &[
            ("response_type", "id_token token"),
            ("client_id", "imp"),
            ("scope", "openid"),
            ("nonce", "n"),
            ("response_mode", "query"),
        ],
    )
    .await;
    assert!(to.starts_with(&format!("{RP_URI}#error=invalid_request")), "{to}");
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("response_mode", "jwt")],
    )
    .await;
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "unknown mode: {to}");
    // Explicit query and fragment for a code.
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("response_mode", "query")],
    )
    .await;
    assert!(param(&to, "code").is_some(), "{to}");
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("response_mode", "fragment")],
    )
    .await;
    assert!(fragment_param(&to, "code").is_some() && param(&to, "code").is_none(), "{to}");
    // Request objects are not supported, and say so (OIDC Core §6).
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("request", "eyJhbGciOiJub25lIn0.e30.")],
    )
    .await;
    assert_eq!(param(&to, "error").as_deref(), Some("request_not_supported"), "{to}");
    let to = authorize_with(
        &t,
        &b,
        &[("response_type", "code"), ("client_id", "rp"), ("scope", "openid"), ("request_uri", "https://rp.example/r")],
    )
    .await;
    assert_eq!(param(&to, "error").as_deref(), Some("request_uri_not_supported"), "{to}");
}

/// The form a form_post page holds: its action, its fields, the nonce of its script.
fn posted_form(html: &str) -> (String, Vec<(String, String)>, String) {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
    };
    let attr =
        |tag: &str, name: &str| tag.split(&format!("{name}=\"")).nth(1).and_then(|s| s.split('"').next()).map(unescape);
    let form = html.split("<form").nth(1).and_then(|s| s.split('>').next()).expect("a form");
    assert!(form.contains("method=\"post\""), "{form}");
    let fields = html
        .split("<input")
        .skip(1)
        .map(|tag| (attr(tag, "name").expect("name"), attr(tag, "value").expect("value")))
        .collect();
    let nonce =
        html.split("<script nonce=\"").nth(1).and_then(|s| s.split('"').next()).expect("script nonce").to_owned();
    (attr(form, "action").expect("action"), fields, nonce)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// GETs `path` and checks it is a form_post page; returns its fields.
async fn form_post(t: &TestServer, b: &reqwest::Client, path: &str) -> Vec<(String, String)> {
    let (status, location, resp) = get(t, b, path).await;
    assert_eq!((status, location), (200, None), "{path}");
    let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (csp, cache) = (header(CONTENT_SECURITY_POLICY), header(CACHE_CONTROL));
    assert!(header(reqwest::header::CONTENT_TYPE).starts_with("text/html"));
    let html = resp.text().await.expect("html");
    let (action, fields, nonce) = posted_form(&html);
    assert_eq!(action, RP_URI);
    assert_eq!(cache, "no-store", "tokens are never cached");
    assert!(csp.contains(&format!("script-src 'nonce-{nonce}'")), "the auto-submit script may run: {csp}");
    assert!(csp.contains("form-action https://rp.example;"), "the form may go to the client: {csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(nonce.len() >= 32, "a fresh random nonce: {nonce}");
    assert!(html.contains("<noscript><button type=\"submit\">"), "works without JavaScript");
    fields
}

/// oidcc-response-mode-form-post: the answer (code, tokens, or an error) as a form the browser
/// posts to the redirect URI, including after a consent decision.
async fn oidcc_response_mode_form_post(backend: Backend) {
    let (t, rp, alice, _) = setup(backend).await;
    let anonymous = browser();
    let q = query(&[
        ("response_type", "code"),
        ("client_id", "rp"),
        ("scope", "openid"),
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("state", "fp"),
    ]);
    let fields = form_post(&t, &anonymous, &format!("/o/authorize/?{q}")).await;
    assert_eq!((field(&fields, "error"), field(&fields, "state")), (Some("login_required"), Some("fp")));
    assert_eq!(field(&fields, "iss"), Some(t.base.as_str()));

    let b = signed_in(&t, "alice").await;
    let fields = form_post(&t, &b, &format!("/o/authorize/?{q}")).await;
    let code = field(&fields, "code").expect("code").to_owned();
    let (status, body) = redeem(&t, &rp, &code).await;
    assert_eq!(status, 200, "{body}");
    let q = query(&[
        ("response_type", "id_token token"),
        ("client_id", "imp"),
        ("scope", "openid"),
        ("nonce", "fpn"),
        ("response_mode", "form_post"),
    ]);
    let fields = form_post(&t, &b, &format!("/o/authorize/?{q}")).await;
    let (header, claims) =
        verified(&t, &jwks(&t).await, field(&fields, "id_token").expect("id_token"), "imp", Some("fpn"));
    assert_eq!(claims["sub"], json!(alice.to_string()));
    assert_eq!(
        claims["at_hash"],
        json!(left_half_hash(header.alg, field(&fields, "access_token").expect("access_token")))
    );

    // Through the consent page: the decision leads to a GET that posts the answer.
    let csrf = t.sign_in(&b, "alice", PW).await;
    let q = query(&[
        ("response_type", "code"),
        ("client_id", "app"),
        ("scope", "openid"),
        ("response_mode", "form_post"),
        ("state", "dn"),
        ("prompt", "consent"),
    ]);
    let (status, _, _) = get(&t, &b, &format!("/o/authorize/?{q}")).await;
    assert_eq!(status, 200, "the consent page");
    let (status, to) = t.submit(&b, "/api/consent", &[("csrf", &csrf), ("query", &q), ("decision", "deny")]).await;
    assert_eq!(status, 303);
    let fields = form_post(&t, &b, &to).await;
    assert_eq!(
        (field(&fields, "error"), field(&fields, "state"), field(&fields, "code")),
        (Some("access_denied"), Some("dn"), None)
    );
    let (status, to) = t.submit(&b, "/api/consent", &[("csrf", &csrf), ("query", &q), ("decision", "approve")]).await;
    assert_eq!(status, 303);
    assert!(to.starts_with("/o/authorize/?") && !to.contains("consent"), "approved, asked no more: {to}");
    let fields = form_post(&t, &b, &to).await;
    assert_eq!(field(&fields, "state"), Some("dn"));
    assert!(field(&fields, "code").is_some_and(|c| c.starts_with("yac_")), "{fields:?}");
    // The denial page cannot be used without a session.
    let (status, location, _) = get(&t, &anonymous, &format!("/o/authorize/denied/?{q}")).await;
    assert_eq!(status, 302);
    assert!(location.is_some_and(|l| l.starts_with("/o/login/")));
}

on_both_backends!(
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_prompt_login,
    oidcc_max_age_1,
    oidcc_max_age_10000,
    oidcc_id_token_hint,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_implicit_id_token,
    oidcc_implicit_id_token_token,
    oidcc_implicit_nonce_required,
    oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
    oidcc_hybrid_code_id_token,
    oidcc_unsupported_response_type,
    oidcc_response_mode_form_post,
);
