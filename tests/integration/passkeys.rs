//! Passkeys over HTTP, with a software authenticator in the test playing the browser's part
//! (WebAuthn §6: "none" attestation, a P-256 key, user verification): registering one from
//! the security page, refusing a replayed or forged answer, signing in with it alone
//! (discoverable), using it as the second step after the password (the ID Token's `amr` then
//! says `hwk` and `mfa`), its last-used time, and removing it (the password first). A server
//! whose issuer is an IP address offers no passkeys.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{
    browser,
    oauth::PW,
    oidc::{claims_of, code, redeem, register_rp},
    Backend, TestServer,
};

const SECURITY: &str = "/account/security";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).expect("base64url")
}

/// CBOR (RFC 8949) heads: major type `major` with argument `n`.
fn cbor_head(out: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=255 => out.extend([m | 24, n as u8]),
        _ => out.extend([m | 25, (n >> 8) as u8, n as u8]),
    }
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len());
    out.extend(s.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len());
    out.extend(b);
}

/// A platform authenticator holding one discoverable credential.
struct SoftKey {
    key: SigningKey,
    id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    origin: String,
}

impl SoftKey {
    fn new(origin: &str, seed: u8) -> Self {
        Self {
            key: SigningKey::from_slice(&[seed; 32]).expect("scalar"),
            id: vec![seed; 16],
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// Authenticator data (WebAuthn §6.1): RP ID hash, flags UP|UV (and AT with `attested`),
    /// the signature counter, then the attested credential data.
    fn auth_data(&self, rp_id: &str, attested: bool) -> Vec<u8> {
        let mut d = Sha256::digest(rp_id.as_bytes()).to_vec();
        d.push(if attested { 0x45 } else { 0x05 });
        d.extend(self.counter.to_be_bytes());
        if attested {
            d.extend([0u8; 16]);
            d.extend((self.id.len() as u16).to_be_bytes());
            d.extend(&self.id);
            let point = self.key.verifying_key().to_encoded_point(false);
            // COSE_Key (RFC 9053 §7.1.1): kty EC2, alg ES256, crv P-256, x, y.
            let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01];
            cose.push(0x21);
            cbor_bytes(&mut cose, point.x().expect("x"));
            cose.push(0x22);
            cbor_bytes(&mut cose, point.y().expect("y"));
            d.extend(cose);
        }
        d
    }

    /// The answer to `navigator.credentials.create(options)`.
    fn create(&mut self, options: &Value) -> String {
        let pk = &options["publicKey"];
        assert_eq!(pk["authenticatorSelection"]["residentKey"], "required", "a discoverable credential: {pk}");
        self.user_handle = unb64(pk["user"]["id"].as_str().expect("user.id"));
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id");
        let client_data = self.client_data("webauthn.create", pk["challenge"].as_str().expect("challenge"));
        let mut att = vec![0xa3];
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        att.push(0xa0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &self.auth_data(rp_id, true));
        json!({"id": b64(&self.id), "rawId": b64(&self.id), "type": "public-key",
               "response": {"attestationObject": b64(&att), "clientDataJSON": b64(&client_data)},
               "clientExtensionResults": {}})
        .to_string()
    }

    /// The answer to `navigator.credentials.get(options)`, signed over `challenge` (the
    /// options' own unless a test forges another).
    fn get_with(&mut self, options: &Value, challenge: &str) -> String {
        let pk = &options["publicKey"];
        if let Some(allowed) = pk["allowCredentials"].as_array().filter(|a| !a.is_empty()) {
            assert!(allowed.iter().any(|c| c["id"] == json!(b64(&self.id))), "not offered: {pk}");
        }
        self.counter += 1;
        let rp_id = pk["rpId"].as_str().expect("rpId");
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(rp_id, false);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let sig: Signature = self.key.sign(&signed);
        json!({"id": b64(&self.id), "rawId": b64(&self.id), "type": "public-key",
               "response": {"authenticatorData": b64(&auth_data), "clientDataJSON": b64(&client_data),
                            "signature": b64(sig.to_der().as_bytes()), "userHandle": b64(&self.user_handle)},
               "clientExtensionResults": {}})
        .to_string()
    }

    fn get(&mut self, options: &Value) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().expect("challenge").to_owned();
        self.get_with(options, &challenge)
    }
}

/// A server whose issuer is `http://localhost:PORT` (a host name, as WebAuthn needs), reached
/// by that name.
async fn localhost(backend: Backend) -> TestServer {
    let t = TestServer::start_with(backend, |s| s.issuer = s.issuer.replace("127.0.0.1", "localhost")).await;
    let issuer = t.services.settings.issuer.clone();
    t.through(&issuer)
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_owned()
}

/// What `public/passkey.js` does first: POSTs the CSRF token to an options endpoint and reads
/// the ceremony id and options from the JSON text answered.
async fn options(t: &TestServer, b: &reqwest::Client, path: &str, csrf: &str) -> (String, Value) {
    let resp = b
        .post(t.url(path))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("options");
    assert_eq!(resp.status(), 200, "{path}");
    let text: String = resp.json().await.expect("a JSON string");
    let start: Value = serde_json::from_str(&text).expect("JSON options");
    (start["ceremony"].as_str().expect("ceremony").to_owned(), start["options"].clone())
}

/// Registers a passkey named `name` for the signed-in browser `b`; returns where the form
/// post sent it.
async fn register(t: &TestServer, b: &reqwest::Client, csrf: &str, key: &mut SoftKey, name: &str) -> String {
    let (ceremony, opts) = options(t, b, "/api/account/security/passkey/options", csrf).await;
    let answer = key.create(&opts);
    let form = [("csrf", csrf), ("ceremony", &ceremony), ("name", name), ("credential", &answer)];
    t.submit(b, "/api/account/security/passkey", &form).await.1
}

async fn registration_and_refusals(backend: Backend) {
    let t = localhost(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let (_, html) = t.page(&b, SECURITY).await;
    assert!(html.contains("id=\"passkey-add\"") && html.contains("data-passkey-unsupported"), "the passkey form");
    let mut key = SoftKey::new(&t.services.settings.issuer, 7);
    assert_eq!(register(&t, &b, &csrf, &mut key, "  Laptop  ").await, "/account/security?done=passkey_added");
    let (_, html) = t.page(&b, SECURITY).await;
    assert!(html.contains("<strong class=\"passkey-name\">Laptop</strong>"), "listed by its name");
    assert!(t.services.has_second_factor(alice).await.unwrap(), "a passkey is a second factor");

    // The answer cannot be posted twice: the ceremony is taken by the first.
    let (ceremony, opts) = options(&t, &b, "/api/account/security/passkey/options", &csrf).await;
    let mut other = SoftKey::new(&t.services.settings.issuer, 9);
    let answer = other.create(&opts);
    let form = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("name", "Phone"), ("credential", &answer)];
    assert_eq!(t.submit(&b, "/api/account/security/passkey", &form).await.1, "/account/security?done=passkey_added");
    let again = t.submit(&b, "/api/account/security/passkey", &form).await.1;
    assert!(again.contains("error=passkey_expired"), "{again}");
    // An answer made for another origin does not verify; an unknown ceremony is refused.
    let (ceremony, opts) = options(&t, &b, "/api/account/security/passkey/options", &csrf).await;
    let mut phishing = SoftKey::new("http://localhost.evil.example", 11);
    let answer = phishing.create(&opts);
    let form = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("name", "Evil"), ("credential", &answer)];
    assert!(t.submit(&b, "/api/account/security/passkey", &form).await.1.contains("error=passkey_refused"));
    let form = [("csrf", csrf.as_str()), ("ceremony", "made-up"), ("name", "X"), ("credential", "{}")];
    assert!(t.submit(&b, "/api/account/security/passkey", &form).await.1.contains("error=passkey_expired"));
    // An empty name is refused before anything is stored.
    let (ceremony, opts) = options(&t, &b, "/api/account/security/passkey/options", &csrf).await;
    let answer = SoftKey::new(&t.services.settings.issuer, 13).create(&opts);
    let form = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("name", " "), ("credential", &answer)];
    assert!(t.submit(&b, "/api/account/security/passkey", &form).await.1.contains("error=passkey_name"));
    let names: Vec<String> = t.store().passkeys(alice).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    // Another account's ceremony is not this account's.
    t.user("bob", PW).await;
    let bob = browser();
    let bob_csrf = t.sign_in(&bob, "bob", PW).await;
    let (ceremony, opts) = options(&t, &bob, "/api/account/security/passkey/options", &bob_csrf).await;
    let answer = SoftKey::new(&t.services.settings.issuer, 15).create(&opts);
    let form = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("name", "Stolen"), ("credential", &answer)];
    assert!(t.submit(&b, "/api/account/security/passkey", &form).await.1.contains("error=passkey_expired"));
}

async fn passwordless_and_second_step(backend: Backend) {
    let t = localhost(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let mut key = SoftKey::new(&t.services.settings.issuer, 21);
    assert_eq!(register(&t, &b, &csrf, &mut key, "Laptop").await, "/account/security?done=passkey_added");
    assert_eq!(t.store().passkeys(alice).await.unwrap()[0].last_used_at, None);

    // Signing in with the passkey alone: no username, the credential names the account.
    let stranger = browser();
    let (_, html) = t.page(&stranger, "/o/login/").await;
    assert!(html.contains("id=\"passkey-sign-in\""), "the login page offers it");
    let csrf2 = csrf_of(&html);
    let (ceremony, opts) = options(&t, &stranger, "/api/login/passkey/options", &csrf2).await;
    assert!(opts["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty), "discoverable: {opts}");
    let answer = key.get(&opts);
    let form = [("csrf", csrf2.as_str()), ("ceremony", &ceremony), ("credential", &answer), ("next", "/account")];
    assert_eq!(t.submit(&stranger, "/api/login/passkey", &form).await.1, "/account");
    assert_eq!(t.page(&stranger, "/account").await.0, 200, "signed in");
    assert!(t.store().passkeys(alice).await.unwrap()[0].last_used_at.is_some(), "last use recorded");
    // The same answer again (a replay) opens nothing.
    let replayer = browser();
    let csrf3 = csrf_of(&t.page(&replayer, "/o/login/").await.1);
    let form = [("csrf", csrf3.as_str()), ("ceremony", &ceremony), ("credential", &answer), ("next", "/account")];
    assert!(t.submit(&replayer, "/api/login/passkey", &form).await.1.contains("error=passkey_expired"));
    // A signature over another challenge does not verify.
    let (ceremony, opts) = options(&t, &replayer, "/api/login/passkey/options", &csrf3).await;
    let forged = key.get_with(&opts, &b64(b"not the server's challenge"));
    let form = [("csrf", csrf3.as_str()), ("ceremony", &ceremony), ("credential", &forged), ("next", "/account")];
    assert!(t.submit(&replayer, "/api/login/passkey", &form).await.1.contains("error=passkey_refused"));
    assert_ne!(t.page(&replayer, "/account").await.0, 200);

    // The password now leads to the second step, where the passkey is offered.
    let rp = register_rp(&t).await;
    let second = browser();
    let (csrf4, to) = t.sign_in_to(&second, "/o/login/", "alice", PW, "/account").await;
    assert!(to.starts_with("/o/login/mfa/?next="), "{to}");
    let (_, html) = t.page(&second, "/o/login/mfa/?next=/account").await;
    assert!(html.contains("id=\"passkey-second-step\""), "the second step offers the passkey");
    let (ceremony, opts) = options(&t, &second, "/api/login/mfa/passkey/options", &csrf4).await;
    let answer = key.get(&opts);
    let form = [("csrf", csrf4.as_str()), ("ceremony", &ceremony), ("credential", &answer), ("next", "/account")];
    assert_eq!(t.submit(&second, "/api/login/mfa/passkey", &form).await.1, "/account");
    let c = code(&t, &second, &rp, "openid", &[("acr_values", "urn:yaoshi:acr:mfa")]).await;
    let (status, body) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:yaoshi:acr:mfa");
    // Its answer cannot finish another pending sign-in.
    let third = browser();
    let (csrf5, _) = t.sign_in_to(&third, "/o/login/", "alice", PW, "/account").await;
    let form = [("csrf", csrf5.as_str()), ("ceremony", &ceremony), ("credential", &answer), ("next", "/account")];
    assert!(t.submit(&third, "/api/login/mfa/passkey", &form).await.1.contains("error=passkey_expired"));
    // Without a pending sign-in there is no second step to start.
    let nobody = browser();
    let csrf6 = csrf_of(&t.page(&nobody, "/o/login/").await.1);
    let resp = nobody
        .post(t.url("/api/login/mfa/passkey/options"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("csrf", csrf6.as_str())])
        .send()
        .await
        .expect("options");
    assert_eq!(resp.status(), 400);
}

async fn removal_asks_the_password(backend: Backend) {
    let t = localhost(backend).await;
    let alice = t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let mut key = SoftKey::new(&t.services.settings.issuer, 31);
    register(&t, &b, &csrf, &mut key, "Laptop").await;
    let id = t.store().passkeys(alice).await.unwrap()[0].id.to_string();
    let remove = |password: &'static str| {
        let (t, b, csrf, id) = (t.clone(), b.clone(), csrf.clone(), id.clone());
        async move {
            let form = [("csrf", csrf.as_str()), ("passkey_id", id.as_str()), ("password", password)];
            t.submit(&b, "/api/account/security/passkey/remove", &form).await.1
        }
    };
    assert!(remove("wrong password").await.contains("error=password"));
    assert_eq!(t.store().passkeys(alice).await.unwrap().len(), 1, "still there");
    assert_eq!(remove(PW).await, "/account/security?done=passkey_removed");
    assert!(!t.services.has_second_factor(alice).await.unwrap());
    assert!(remove(PW).await.contains("error=no_such_factor"), "gone");
    let b2 = browser();
    assert_eq!(t.sign_in_to(&b2, "/o/login/", "alice", PW, "/").await.1, "/", "the password alone again");
    // An admin's reset takes passkeys too.
    register(&t, &b, &csrf, &mut SoftKey::new(&t.services.settings.issuer, 33), "Phone").await;
    assert_eq!(t.services.operator_reset_factors("alice").await.unwrap().1, 1);
    assert!(t.store().passkeys(alice).await.unwrap().is_empty());
}

/// With an issuer that is an IP address (browsers refuse it as an RP ID) nothing is offered.
async fn not_offered_on_an_ip_issuer(backend: Backend) {
    let t = TestServer::start(backend).await;
    t.user("alice", PW).await;
    let b = browser();
    let csrf = t.sign_in(&b, "alice", PW).await;
    let (_, html) = t.page(&b, SECURITY).await;
    assert!(!html.contains("passkey-add"), "no passkey form");
    assert!(!t.page(&b, "/o/login/").await.1.contains("passkey-sign-in"));
    let form = [("csrf", csrf.as_str())];
    let to = t.submit(&b, "/api/account/security/passkey/options", &form).await.1;
    assert!(to.contains("error=passkeys_off"), "{to}");
}

on_both_backends!(
    registration_and_refusals,
    passwordless_and_second_step,
    removal_asks_the_password,
    not_offered_on_an_ip_issuer,
);
