//! Second factors over HTTP, as a browser without JavaScript uses them: TOTP enrolment on the
//! security page (QR code, key, first code, recovery codes shown once), the second step of
//! signing in (no session before it; a code accepted once; a recovery code once), its
//! throttle, removal, an admin's reset (page and command line), `amr`/`acr` and step-up in the code flow, and the
//! password grant refused for accounts with a second factor.

use yaoshi::{
    oauth::{
        model::GrantType,
        totp::{base32_decode, code_at_step, step_at},
    },
    service::users::Registration,
    store::{ClientFactorPolicy, EventFilter},
};

use crate::common::{
    browser,
    oauth::{register, token, PW},
    oidc::{authorize, claims_of, code, param, query, redeem, register_rp, RP_URI},
    Backend, TestServer,
};

const SECURITY: &str = "/account/security";

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    html.split(start).nth(1).and_then(|s| s.split(end).next())
}

/// What enrolling gave: the secret (decoded from the page), the step its first code was
/// accepted at, and the recovery codes the page showed.
struct Enrolled {
    secret: Vec<u8>,
    step: i64,
    recovery: Vec<String>,
}

impl Enrolled {
    /// The app's code of `step`.
    fn code(&self, step: i64) -> String {
        code_at_step(&self.secret, step)
    }
}

/// Enrols TOTP for the browser `b` (signed in, its forms carrying `csrf`) as a person does:
/// start, read the key beside the QR code, type the app's code, read the recovery codes.
async fn enrol(t: &TestServer, b: &reqwest::Client, csrf: &str) -> Enrolled {
    let (status, to) = t.submit(b, "/api/account/security/totp", &[("csrf", csrf)]).await;
    assert_eq!((status, to.as_str()), (303, "/account/security?step=enrol#enrol"));
    let (status, html) = t.page(b, SECURITY).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg"), "the QR code is an inline SVG");
    let key = between(&html, "class=\"totp-secret\">", "<").expect("the key is shown as text");
    assert_eq!(key.len(), 32, "160 bits in base32: {key}");
    let secret = base32_decode(key).expect("base32");
    let step = step_at(t.services.now());
    let first = code_at_step(&secret, step);
    let (status, to) = t.submit(b, "/api/account/security/totp/confirm", &[("csrf", csrf), ("code", &first)]).await;
    assert_eq!((status, to.as_str()), (303, "/account/security?done=factor_added"));
    let (_, html) = t.page(b, SECURITY).await;
    let recovery: Vec<String> =
        html.split("<li><code>").skip(1).filter_map(|s| s.split("</code>").next()).map(str::to_owned).collect();
    assert_eq!(recovery.len(), 10, "ten recovery codes at enrolment");
    let (_, again) = t.page(b, SECURITY).await;
    assert!(!again.contains(&recovery[0]), "recovery codes are shown once");
    assert!(!again.contains(key), "the key is not shown once the factor is confirmed");
    Enrolled { secret, step, recovery }
}

/// Signs `username` in with the password in a new browser: it must be sent to the second
/// step (with `next`), without a session. Returns the browser and the CSRF token.
async fn password_step(t: &TestServer, username: &str, next: &str) -> (reqwest::Client, String) {
    let b = browser();
    let (csrf, to) = t.sign_in_to(&b, "/o/login/", username, PW, next).await;
    assert!(to.starts_with("/o/login/mfa/?next="), "{to}");
    let (status, _) = t.page(&b, "/account").await;
    assert_ne!(status, 200, "no session before the second step");
    (b, csrf)
}

/// Posts the second step's form; returns where it sends the browser.
async fn second_step(t: &TestServer, b: &reqwest::Client, csrf: &str, code: &str, next: &str) -> String {
    let (status, to) = t.submit(b, "/api/login/mfa", &[("csrf", csrf), ("code", code), ("next", next)]).await;
    assert_eq!(status, 303);
    to
}

async fn enrolled_alice(backend: Backend) -> (TestServer, i64, Enrolled) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let e = enrol(&t, &b, &csrf).await;
    (t, alice, e)
}

async fn enrolment_and_replay(backend: Backend) {
    let (t, alice, e) = enrolled_alice(backend).await;
    assert!(t.services.has_second_factor(alice).await.unwrap());
    let sealed = &t.store().factors(alice).await.unwrap()[0].secret_sealed;
    assert!(!sealed.contains(&yaoshi::oauth::totp::base32_encode(&e.secret)), "the secret is stored sealed");

    let (b, csrf) = password_step(&t, "alice", "/account").await;
    // The code that confirmed the enrolment was accepted once: it never works again.
    let to = second_step(&t, &b, &csrf, &e.code(e.step), "/account").await;
    assert!(to.contains("error=code_replayed"), "{to}");
    assert!(second_step(&t, &b, &csrf, "000000", "/account").await.contains("error=wrong_code"));
    // The app's next code works, once.
    assert_eq!(second_step(&t, &b, &csrf, &e.code(e.step + 1), "/account").await, "/account");
    assert_eq!(t.page(&b, "/account").await.0, 200, "signed in after the second step");
    let (b2, csrf2) = password_step(&t, "alice", "/").await;
    assert!(second_step(&t, &b2, &csrf2, &e.code(e.step + 1), "/").await.contains("error=code_replayed"));

    // A recovery code instead of the app's code: once.
    let (b3, csrf3) = password_step(&t, "alice", "/").await;
    assert_eq!(second_step(&t, &b3, &csrf3, &e.recovery[0].to_uppercase(), "/").await, "/");
    let (b4, csrf4) = password_step(&t, "alice", "/").await;
    assert!(second_step(&t, &b4, &csrf4, &e.recovery[0], "/").await.contains("error=wrong_code"));
    assert_eq!(t.services.recovery_codes_left(alice).await.unwrap(), 9);

    // Without the pending sign-in (another browser), the second step is refused.
    let stranger = browser();
    let (csrf5, _) = t.sign_in_to(&stranger, "/o/login/", "nobody", "wrong password", "/").await;
    let to = second_step(&t, &stranger, &csrf5, &e.code(e.step + 2), "/").await;
    assert!(to.starts_with("/o/login/") && to.contains("error=sign_in_expired"), "{to}");
}

async fn guesses_are_throttled(backend: Backend) {
    let (t, alice, e) = enrolled_alice(backend).await;
    let (b, csrf) = password_step(&t, "alice", "/").await;
    let free = t.services.settings.throttle.account_address;
    for _ in 0..free {
        assert!(second_step(&t, &b, &csrf, "000000", "/").await.contains("error=wrong_code"));
    }
    // The budget is spent: even the right code waits its delay, and nothing is signed in.
    let to = second_step(&t, &b, &csrf, &e.code(e.step + 1), "/").await;
    assert!(to.contains("error=throttled"), "{to}");
    assert_ne!(t.page(&b, "/account").await.0, 200);
    let lockouts =
        EventFilter { kind: Some("sign_in.lockout".into()), user_id: Some(alice), limit: 10, ..Default::default() };
    let events = t.store().events(&lockouts).await.unwrap();
    assert!(events.iter().any(|ev| ev.detail == "second_factor"), "{events:?}");
}

async fn removal_asks_password_and_code(backend: Backend) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let e = enrol(&t, &b, &csrf).await;
    let id = t.store().factors(alice).await.unwrap()[0].id.to_string();
    let remove = |password: &'static str, code: String| {
        let (t, b, csrf, id) = (t.clone(), b.clone(), csrf.clone(), id.clone());
        async move {
            let form = [("csrf", csrf.as_str()), ("factor_id", &id), ("password", password), ("code", &code)];
            t.submit(&b, "/api/account/security/remove", &form).await.1
        }
    };
    assert!(remove("wrong password", e.code(e.step + 1)).await.contains("error=password"));
    assert!(remove(PW, "000000".into()).await.contains("error=wrong_code"));
    assert!(t.services.has_second_factor(alice).await.unwrap(), "still on after refused removals");
    assert_eq!(remove(PW, e.code(e.step + 1)).await, "/account/security?done=factor_removed");
    assert!(!t.services.has_second_factor(alice).await.unwrap());
    assert_eq!(t.services.recovery_codes_left(alice).await.unwrap(), 0, "recovery codes go with the last factor");
    let b2 = browser();
    assert_eq!(t.sign_in_to(&b2, "/o/login/", "alice", PW, "/").await.1, "/", "the password alone again");
}

async fn recovery_codes_regenerate(backend: Backend) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let e = enrol(&t, &b, &csrf).await;
    let form = [("csrf", csrf.as_str()), ("code", e.recovery[1].as_str())];
    assert_eq!(
        t.submit(&b, "/api/account/security/recovery", &form).await.1,
        "/account/security?done=codes_regenerated"
    );
    let (_, html) = t.page(&b, SECURITY).await;
    let fresh: Vec<&str> = html.split("<li><code>").skip(1).filter_map(|s| s.split("</code>").next()).collect();
    assert_eq!(fresh.len(), 10);
    assert_eq!(t.services.recovery_codes_left(alice).await.unwrap(), 10);
    let (b2, csrf2) = password_step(&t, "alice", "/").await;
    assert!(second_step(&t, &b2, &csrf2, &e.recovery[2], "/").await.contains("error=wrong_code"), "old codes are gone");
    assert_eq!(second_step(&t, &b2, &csrf2, fresh[0], "/").await, "/");
}

async fn admins_reset_factors(backend: Backend) {
    let (t, alice, _) = enrolled_alice(backend).await;
    let root = Registration { username: "root".into(), password: Some(PW.into()), admin: true, ..Default::default() };
    let root = t.services.create_user(root).await.expect("admin").id;
    let b = browser();
    let csrf = t.sign_in(&b, "root", PW).await;
    let (_, html) = t.page(&b, "/admin/users").await;
    let row = between(&html, "data-username=\"alice\"", "</li>").expect("alice's row");
    assert!(row.contains("second-factor"), "the users page shows the second factor");
    let form = [("csrf", csrf.as_str()), ("user_id", &alice.to_string())];
    assert_eq!(t.submit(&b, "/api/admin/users/factors", &form).await.1, "/admin/users?done=factors_reset");
    assert!(!t.services.has_second_factor(alice).await.unwrap());
    let filter =
        EventFilter { kind: Some("admin.action".into()), user_id: Some(alice), limit: 10, ..Default::default() };
    let events = t.store().events(&filter).await.unwrap();
    assert!(events.iter().any(|ev| ev.detail == "reset_second_factors" && ev.actor_id == Some(root)), "{events:?}");
    let b2 = browser();
    assert_eq!(t.sign_in_to(&b2, "/o/login/", "alice", PW, "/").await.1, "/", "the password alone again");
    // Someone else's reset is not a user's to make.
    let b3 = browser();
    let csrf3 = t.sign_in(&b3, "alice", PW).await;
    let form = [("csrf", csrf3.as_str()), ("user_id", &root.to_string())];
    assert!(t.submit(&b3, "/api/admin/users/factors", &form).await.1.contains("error=forbidden"));
}

/// `yaoshi user reset-factors` against the server's database, as an operator runs it for a
/// user who lost their phone: the factors and recovery codes go, an event says so.
async fn operators_reset_factors_from_the_cli(backend: Backend) {
    let (t, alice, _) = enrolled_alice(backend).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
            .args(args)
            .env("DATABASE_URL", t.database_url())
            .env_remove("YAOSHI_CONFIG")
            .output()
            .expect("run yaoshi")
    };
    let out = run(&["user", "reset-factors", "ALICE", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(printed, serde_json::json!({"id": alice, "username": "alice", "factors_removed": 1}));
    assert!(!t.services.has_second_factor(alice).await.unwrap());
    assert_eq!(t.services.recovery_codes_left(alice).await.unwrap(), 0, "the recovery codes go too");
    let filter =
        EventFilter { kind: Some("admin.action".into()), user_id: Some(alice), limit: 10, ..Default::default() };
    let events = t.store().events(&filter).await.unwrap();
    assert!(events.iter().any(|ev| ev.detail == "reset_second_factors" && ev.actor_id.is_none()), "{events:?}");
    let b = browser();
    assert_eq!(t.sign_in_to(&b, "/o/login/", "alice", PW, "/").await.1, "/", "the password alone again");
    // Nothing left to remove is not an error; an unknown user is, on one line.
    let again = run(&["user", "reset-factors", "alice"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("removed 0"), "{again:?}");
    let missing = run(&["user", "reset-factors", "nobody"]);
    assert!(!missing.status.success());
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1, "{missing:?}");
}

async fn password_grant_is_refused_with_a_second_factor(backend: Backend) {
    let (t, _, _) = enrolled_alice(backend).await;
    let app = register(&t, false, &[GrantType::Password]).await;
    let grant = [("grant_type", "password"), ("username", "alice"), ("password", PW)];
    let r = token(&t, &app, &grant).await;
    r.error(400, "invalid_grant");
    assert!(r.json["error_description"].as_str().is_some_and(|d| d.contains("two-step")), "{}", r.raw);
    // The operator may allow it for this client.
    let allow = ClientFactorPolicy { require_mfa: false, mfa_password_grant: true };
    assert!(t.store().set_client_factor_policy(&app.id, allow).await.unwrap());
    let r = token(&t, &app, &grant).await;
    assert!(!r.field("access_token").is_empty());
}

async fn id_tokens_state_amr_and_step_up(backend: Backend) {
    let (t, alice, e) = enrolled_alice(backend).await;
    let rp = register_rp(&t).await;
    // Signed in with the password and the app's code: amr says so.
    let next = "/account";
    let (b, csrf) = password_step(&t, "alice", next).await;
    assert_eq!(second_step(&t, &b, &csrf, &e.code(e.step + 1), next).await, next);
    let c = code(&t, &b, &rp, "openid", &[("nonce", "n1")]).await;
    let (status, body) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:yaoshi:acr:mfa");

    // Bob has no second factor: one factor, and acr_values asking for more is voluntary.
    t.user("bob", PW).await;
    let bob = browser();
    t.sign_in(&bob, "bob", PW).await;
    let c = code(&t, &bob, &rp, "openid", &[("acr_values", "urn:yaoshi:acr:mfa")]).await;
    let claims = claims_of(redeem(&t, &rp, &c).await.1["id_token"].as_str().expect("id_token"));
    assert_eq!(
        (claims["amr"].clone(), claims["acr"].clone()),
        (serde_json::json!(["pwd"]), "urn:yaoshi:acr:1fa".into())
    );

    // The client requires a second factor: bob is refused, alice's one-factor session steps up.
    let require = ClientFactorPolicy { require_mfa: true, mfa_password_grant: false };
    assert!(t.store().set_client_factor_policy(&rp.id, require).await.unwrap());
    let pairs =
        [("response_type", "code"), ("client_id", rp.id.as_str()), ("redirect_uri", RP_URI), ("scope", "openid")];
    let refused = authorize(&t, &bob, &query(&pairs)).await;
    assert_eq!(param(&refused, "error").as_deref(), Some("access_denied"), "{refused}");
    let remembered = ClientFactorPolicy { require_mfa: false, mfa_password_grant: false };
    assert!(t.store().set_client_factor_policy(&rp.id, remembered).await.unwrap());
    // A session opened by the password alone (before enrolling again) steps up for a request
    // whose acr_values ask for a second factor.
    assert_eq!(t.store().delete_all_factors(alice).await.unwrap(), 1);
    let alice_one = browser();
    let csrf = t.sign_in(&alice_one, "alice", PW).await;
    let again = enrol(&t, &alice_one, &csrf).await;
    let mut with_acr = pairs.to_vec();
    with_acr.push(("acr_values", "urn:yaoshi:acr:mfa"));
    let step_up = authorize(&t, &alice_one, &query(&with_acr)).await;
    assert!(step_up.starts_with("/o/login/mfa/?next=/o/authorize/"), "{step_up}");
    let (_, html) = t.page(&alice_one, "/o/login/mfa/").await;
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"").expect("csrf").to_owned();
    let back = format!("/o/authorize/?{}", query(&with_acr));
    assert_eq!(second_step(&t, &alice_one, &csrf, &again.code(again.step + 1), &back).await, back);
    let c = code(&t, &alice_one, &rp, "openid", &[("acr_values", "urn:yaoshi:acr:mfa")]).await;
    let claims = claims_of(redeem(&t, &rp, &c).await.1["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["acr"], "urn:yaoshi:acr:mfa", "{claims}");
}

on_both_backends!(
    enrolment_and_replay,
    guesses_are_throttled,
    removal_asks_password_and_code,
    recovery_codes_regenerate,
    admins_reset_factors,
    operators_reset_factors_from_the_cli,
    password_grant_is_refused_with_a_second_factor,
    id_tokens_state_amr_and_step_up,
);
