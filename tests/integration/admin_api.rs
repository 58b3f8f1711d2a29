//! The admin REST API under `/api/v1/`, driven as another service of the platform drives it:
//! a client_credentials token of an admin client, JSON over HTTP, RFC 9457 problems for every
//! refusal. Each route: success, 401 without or with a bad token, 403 without its scope, 404,
//! 409/412 where they apply, 400 on bad input. And the OpenAPI 3.1 document lists them all.
//! On SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{
    oauth::{send, Reply, PW},
    oidc::*,
    Backend, TestServer,
};
use yaoshi::{
    oauth::{model::GrantType, scope::ADMIN_SCOPES},
    service::clients::ClientSpec,
};

/// A server with an admin client holding every admin scope (`admin`), one holding only
/// `admin:users:read` (`reader`), and their tokens.
struct Api {
    t: TestServer,
    admin: String,
    reader: String,
}

/// Registers a confidential client_credentials client with `admin_scopes` and returns its
/// (client_id, secret).
async fn admin_client(t: &TestServer, id: &str, admin_scopes: &[&str]) -> (String, String) {
    let (id, secret) = t
        .client(ClientSpec {
            name: format!("{id} service"),
            grants: vec![GrantType::ClientCredentials],
            client_id: Some(id.into()),
            ..ClientSpec::default()
        })
        .await;
    let scopes: Vec<String> = admin_scopes.iter().map(|s| (*s).to_owned()).collect();
    t.services.set_client_admin_scopes(&id, &scopes, None).await.expect("admin scopes");
    (id, secret.expect("secret"))
}

/// A client_credentials token for `id`/`secret`, with `scope` if given.
async fn cc_token(t: &TestServer, id: &str, secret: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    form.extend(scope.map(|s| ("scope", s)));
    t.token(&form).await
}

async fn setup(backend: Backend) -> Api {
    let t = TestServer::start(backend).await;
    let (id, secret) = admin_client(&t, "ops", ADMIN_SCOPES).await;
    let (status, body) = cc_token(&t, &id, &secret, None).await;
    assert_eq!(status, 200, "{body}");
    let admin = body["access_token"].as_str().expect("token").to_owned();
    let (id, secret) = admin_client(&t, "reader", &["admin:users:read"]).await;
    let (_, body) = cc_token(&t, &id, &secret, Some("admin:users:read")).await;
    let reader = body["access_token"].as_str().expect("token").to_owned();
    Api { t, admin, reader }
}

impl Api {
    /// `method path` with `token` (if any) and a JSON `body` (if any) and extra headers.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.t.http.request(method, self.t.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        send(req).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(&self.admin), body, &[]).await
    }

    /// The three refusals every protected route gives: no token, a token that is not one,
    /// and the reader's token without the route's scope (`forbidden_too`: for routes the
    /// reader may not use).
    async fn refusals(&self, method: Method, path: &str, body: Option<Value>, forbidden_too: bool) {
        let r = self.call(method.clone(), path, None, body.clone(), &[]).await;
        problem(&r, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"yaoshi\""), "{method} {path}");
        let r = self.call(method.clone(), path, Some("yat_not-a-token"), body.clone(), &[]).await;
        problem(&r, 401);
        assert!(r.header("www-authenticate").is_some_and(|h| h.contains("error=\"invalid_token\"")), "{method} {path}");
        if forbidden_too {
            let r = self.call(method.clone(), path, Some(&self.reader), body, &[]).await;
            problem(&r, 403);
            let challenge = r.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"admin:"),
                "{challenge}"
            );
        }
    }
}

/// Asserts an RFC 9457 problem with `status`.
#[track_caller]
fn problem(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.raw);
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{}", r.raw);
    assert_eq!(r.json["status"], json!(status), "{}", r.raw);
    assert_eq!(r.json["type"], "about:blank", "{}", r.raw);
    assert!(r.json["title"].is_string() && r.json["detail"].is_string(), "{}", r.raw);
}

#[track_caller]
fn ok(r: &Reply, status: u16) -> &Value {
    assert_eq!(r.status, status, "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    &r.json
}

/// Admin scopes go only to the clients an operator marked, through client_credentials only,
/// and taking one away closes the door to tokens already issued.
async fn admin_scopes_only_for_marked_clients(backend: Backend) {
    let api = setup(backend).await;
    let t = &api.t;
    let (id, secret) = t
        .client(ClientSpec {
            name: "Plain".into(),
            grants: vec![GrantType::ClientCredentials, GrantType::Password],
            client_id: Some("plain".into()),
            ..ClientSpec::default()
        })
        .await;
    let secret = secret.unwrap();
    let (status, body) = cc_token(t, &id, &secret, Some("admin:users:read")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    let (_, body) = cc_token(t, &id, &secret, None).await;
    assert!(!body["scope"].as_str().unwrap().contains("admin:"), "{body}");
    let plain = body["access_token"].as_str().unwrap().to_owned();
    problem(&api.call(Method::GET, "/api/v1/users", Some(&plain), None, &[]).await, 403);
    // A user's token never carries them, even from an admin client.
    t.user("alice", PW).await;
    let (id, secret) = admin_client(t, "ops2", &["admin:users:read"]).await;
    let c = t.services.find_client(&id).await.unwrap().client;
    let grants = vec![GrantType::ClientCredentials, GrantType::Password];
    let changes = yaoshi::service::client_admin::ClientChanges { grants: Some(grants), ..Default::default() };
    t.services.update_client(&c.client_id, &changes, None).await.unwrap();
    let (status, body) = t
        .token(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PW),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "admin:users:read"),
        ])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    // The admin client asks for less and gets less.
    let (_, body) = cc_token(t, "ops2", &secret, Some("admin:users:read")).await;
    let narrow = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(body["scope"], "admin:users:read");
    assert_eq!(api.call(Method::GET, "/api/v1/users", Some(&narrow), None, &[]).await.status, 200);
    // The operator takes the scope away: the token still live stops opening the route.
    t.services.set_client_admin_scopes("ops2", &[], None).await.unwrap();
    problem(&api.call(Method::GET, "/api/v1/users", Some(&narrow), None, &[]).await, 403);
    // A public client or one without client_credentials cannot become an admin client.
    let err = t.services.set_client_admin_scopes("plain", &["admin:nope".into()], None).await.unwrap_err();
    assert!(err.to_string().contains("not an admin scope"), "{err}");
    let unknown = api.admin(Method::GET, "/api/v1/no-such-route", None).await;
    problem(&unknown, 404);
}

async fn users_routes(backend: Backend) {
    let api = setup(backend).await;
    // Create: 201 with Location and ETag; never the hash.
    let body = json!({"username": "alice", "email": "alice@example.com", "email_verified": true, "password": PW});
    api.refusals(Method::POST, "/api/v1/users", Some(body.clone()), true).await;
    let r = api.admin(Method::POST, "/api/v1/users", Some(body.clone())).await;
    let alice = ok(&r, 201).clone();
    let id = alice["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/users/{id}").as_str()));
    assert!(r.header("etag").is_some_and(|e| e.starts_with('"')));
    assert_eq!((alice["has_password"].as_bool(), alice["email_verified"].as_bool()), (Some(true), Some(true)));
    assert!(alice.get("password_hash").is_none());
    problem(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "ALICE"}))).await, 409);
    let bad = api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "no spaces"}))).await;
    problem(&bad, 400);
    assert_eq!(bad.json["field"], "username");
    problem(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "x", "pasword": "typo"}))).await, 400);
    problem(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "x", "password": "short"}))).await, 400);
    problem(&api.admin(Method::POST, "/api/v1/users", Some(json!([1, 2]))).await, 400);
    let text = api.call(Method::POST, "/api/v1/users", Some(&api.admin), None, &[("content-type", "text/plain")]).await;
    problem(&text, 415);
    // Without a password (an account for a provider sign-in, or a password set later).
    let bob = ok(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "bob"}))).await, 201).clone();
    assert_eq!(bob["has_password"], false);
    for name in ["carol", "dave"] {
        ok(
            &api.admin(Method::POST, "/api/v1/users", Some(json!({"username": name, "display_name": "Team"}))).await,
            201,
        );
    }

    // Read and list: paging by id, search.
    let path = format!("/api/v1/users/{id}");
    api.refusals(Method::GET, &path, None, false).await;
    let r = api.call(Method::GET, &path, Some(&api.reader), None, &[]).await;
    assert_eq!(ok(&r, 200)["username"], "alice");
    let etag = r.header("etag").unwrap().to_owned();
    problem(&api.admin(Method::GET, "/api/v1/users/999999", None).await, 404);
    problem(&api.admin(Method::GET, "/api/v1/users/abc", None).await, 400);
    api.refusals(Method::GET, "/api/v1/users", None, false).await;
    let page = ok(&api.admin(Method::GET, "/api/v1/users?limit=3", None).await, 200).clone();
    assert_eq!(page["users"].as_array().unwrap().len(), 3);
    let after = page["next_after"].as_i64().expect("a next page");
    let rest = ok(&api.admin(Method::GET, &format!("/api/v1/users?limit=3&after={after}"), None).await, 200).clone();
    assert_eq!(
        rest["users"].as_array().unwrap().iter().map(|u| u["username"].clone()).collect::<Vec<_>>(),
        vec![json!("dave")]
    );
    assert!(rest["next_after"].is_null());
    let found = ok(&api.admin(Method::GET, "/api/v1/users?search=TEAM", None).await, 200).clone();
    assert_eq!(found["users"].as_array().unwrap().len(), 2, "{found}");
    problem(&api.admin(Method::GET, "/api/v1/users?limit=0", None).await, 400);
    problem(&api.admin(Method::GET, "/api/v1/users?limit=many", None).await, 400);
    problem(&api.admin(Method::GET, "/api/v1/users?sort=name", None).await, 400);

    // PATCH and PUT with If-Match.
    let patch = json!({"display_name": "Alice A."});
    api.refusals(Method::PATCH, &path, Some(patch.clone()), true).await;
    let r = api.call(Method::PATCH, &path, Some(&api.admin), Some(patch.clone()), &[("if-match", &etag)]).await;
    assert_eq!(ok(&r, 200)["display_name"], "Alice A.");
    assert_eq!(r.json["email"], "alice@example.com", "absent fields stay");
    let newer = r.header("etag").unwrap().to_owned();
    assert_ne!(newer, etag);
    let stale = api
        .call(Method::PATCH, &path, Some(&api.admin), Some(json!({"display_name": "Z"})), &[("if-match", &etag)])
        .await;
    problem(&stale, 412);
    let stale = api
        .call(Method::PUT, &path, Some(&api.admin), Some(json!({"display_name": "Z"})), &[("if-match", &etag)])
        .await;
    problem(&stale, 412);
    let put = json!({"display_name": "Alice", "email": "alice@new.example"});
    let r = api.call(Method::PUT, &path, Some(&api.admin), Some(put), &[("if-match", &newer)]).await;
    assert_eq!(
        (ok(&r, 200)["email"].as_str(), r.json["email_verified"].as_bool()),
        (Some("alice@new.example"), Some(false))
    );
    let r = api.admin(Method::PUT, &path, Some(json!({"display_name": "Alice"}))).await;
    assert!(ok(&r, 200)["email"].is_null(), "PUT replaces: no email, no address");
    problem(&api.admin(Method::PATCH, &path, Some(json!({"display_name": ""}))).await, 400);
    problem(&api.admin(Method::PATCH, &path, Some(json!({"email": "nope"}))).await, 400);
    let r = api.admin(Method::PATCH, &path, Some(json!({"phone_number": "13800138000"}))).await;
    assert_eq!(
        (ok(&r, 200)["phone_number"].as_str(), r.json["phone_number_verified"].as_bool()),
        (Some("+8613800138000"), Some(false)),
        "national numbers are read in the server's region, and a new one is a claim"
    );
    let bad = api.admin(Method::PATCH, &path, Some(json!({"phone_number": "call me"}))).await;
    problem(&bad, 400);
    assert_eq!(bad.json["field"], "phone_number");
    assert!(
        ok(&api.admin(Method::PATCH, &path, Some(json!({"phone_number": ""}))).await, 200)["phone_number"].is_null()
    );
    problem(&api.admin(Method::PATCH, "/api/v1/users/999999", Some(patch)).await, 404);
    let carol_email = json!({"email": "carol@example.com"});
    let carol = found["users"][0]["id"].as_i64().unwrap();
    ok(&api.admin(Method::PATCH, &format!("/api/v1/users/{carol}"), Some(carol_email)).await, 200);

    // Password: sessions end, tokens revoked; the new one signs in.
    let pw = format!("{path}/password");
    api.refusals(Method::PUT, &pw, Some(json!({"password": "another good one"})), true).await;
    assert_eq!(api.admin(Method::PUT, &pw, Some(json!({"password": "another good one"}))).await.status, 204);
    let origin = yaoshi::service::events::Origin::default();
    assert!(api.t.services.sign_in("alice", "another good one", &origin).await.is_ok());
    problem(&api.admin(Method::PUT, &pw, Some(json!({"password": "password"}))).await, 400);
    problem(
        &api.admin(Method::PUT, "/api/v1/users/999999/password", Some(json!({"password": "another good one"}))).await,
        404,
    );

    // Disable and enable.
    let disable = format!("{path}/disable");
    api.refusals(Method::POST, &disable, None, true).await;
    assert_eq!(ok(&api.admin(Method::POST, &disable, None).await, 200)["active"], false);
    assert!(api.t.services.sign_in("alice", "another good one", &origin).await.is_err());
    assert_eq!(ok(&api.admin(Method::POST, &format!("{path}/enable"), None).await, 200)["active"], true);
    problem(&api.admin(Method::POST, "/api/v1/users/999999/disable", None).await, 404);

    // Groups of a user.
    let g = ok(&api.admin(Method::POST, "/api/v1/groups", Some(json!({"name": "staff"}))).await, 201).clone();
    assert_eq!(api.admin(Method::PUT, &format!("/api/v1/groups/{}/members/{id}", g["id"]), None).await.status, 201);
    let mine = ok(&api.call(Method::GET, &format!("{path}/groups"), Some(&api.reader), None, &[]).await, 200).clone();
    assert_eq!(mine["groups"][0]["name"], "staff");
    problem(&api.admin(Method::GET, "/api/v1/users/999999/groups", None).await, 404);

    // Delete, twice.
    api.refusals(Method::DELETE, &path, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &path, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &path, None).await.status, 204, "idempotent");
    problem(&api.admin(Method::GET, &path, None).await, 404);
    let gone = ok(&api.admin(Method::GET, &format!("/api/v1/groups/{}", g["id"]), None).await, 200).clone();
    assert_eq!(gone["members"], json!([]), "memberships go with the user");
    assert_eq!(bob["id"].as_i64().map(|b| b > id), Some(true));
}

/// A user's sessions, consents, linked identities and factors: listed, then ended, revoked
/// and reset, each `DELETE` idempotent; the browser whose session ended is signed out.
async fn user_access_routes(backend: Backend) {
    let api = setup(backend).await;
    let alice = api.t.user("alice", PW).await;
    let rp = register_rp(&api.t).await;
    let first = signed_in(&api.t, "alice").await;
    let second = signed_in(&api.t, "alice").await;
    let scope = yaoshi::oauth::scope::Scope::parse("openid profile").expect("scope");
    api.t.services.store.save_consent(alice, &rp.id, &scope, api.t.services.now()).await.expect("consent");
    let path = format!("/api/v1/users/{alice}");

    // Sessions: both browsers, by digest; ending one signs that browser out only.
    let sessions = format!("{path}/sessions");
    api.refusals(Method::GET, &sessions, None, false).await;
    let listed = ok(&api.call(Method::GET, &sessions, Some(&api.reader), None, &[]).await, 200).clone();
    let ids: Vec<String> =
        listed["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(listed["sessions"][0]["last_seen_at"].is_i64());
    let one = format!("{sessions}/{}", ids[0]);
    api.refusals(Method::DELETE, &one, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &one, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &one, None).await.status, 204, "idempotent");
    let left = ok(&api.admin(Method::GET, &sessions, None).await, 200).clone();
    assert_eq!(left["sessions"].as_array().unwrap().len(), 1, "{left}");
    let account = |b: reqwest::Client| {
        let url = api.t.url("/account");
        async move { b.get(url).send().await.expect("account").status().as_u16() }
    };
    let statuses = [account(first.clone()).await, account(second.clone()).await];
    assert!(statuses.contains(&200) && statuses.iter().any(|s| *s != 200), "one signed out: {statuses:?}");
    api.refusals(Method::DELETE, &sessions, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &sessions, None).await.status, 204);
    assert_eq!(ok(&api.admin(Method::GET, &sessions, None).await, 200)["sessions"], json!([]));
    assert_ne!(account(first).await, 200);
    assert_ne!(account(second).await, 200);
    problem(&api.admin(Method::GET, "/api/v1/users/999999/sessions", None).await, 404);
    problem(&api.admin(Method::DELETE, "/api/v1/users/999999/sessions/x", None).await, 404);

    // Consents: listed with their scope, revoked (twice).
    let consents = format!("{path}/consents");
    api.refusals(Method::GET, &consents, None, false).await;
    let listed = ok(&api.call(Method::GET, &consents, Some(&api.reader), None, &[]).await, 200).clone();
    assert_eq!(listed["consents"][0]["client_id"], "rp", "{listed}");
    assert_eq!(listed["consents"][0]["scope"], "openid profile");
    let revoke = format!("{consents}/rp");
    api.refusals(Method::DELETE, &revoke, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &revoke, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &revoke, None).await.status, 204, "idempotent");
    assert_eq!(ok(&api.admin(Method::GET, &consents, None).await, 200)["consents"], json!([]));
    problem(&api.admin(Method::DELETE, "/api/v1/users/999999/consents/rp", None).await, 404);

    // Identities and factors: none yet; a TOTP factor shows and is reset.
    let identities = format!("{path}/identities");
    api.refusals(Method::GET, &identities, None, false).await;
    assert_eq!(ok(&api.admin(Method::GET, &identities, None).await, 200)["identities"], json!([]));
    problem(&api.admin(Method::GET, "/api/v1/users/999999/identities", None).await, 404);
    let b = crate::common::browser();
    let csrf = api.t.sign_in(&b, "alice", PW).await;
    assert_eq!(api.t.submit(&b, "/api/account/security/totp", &[("csrf", &csrf)]).await.0, 303);
    let (_, html) = api.t.page(&b, "/account/security").await;
    let key = html.split("class=\"totp-secret\">").nth(1).and_then(|s| s.split('<').next()).expect("key");
    let secret = yaoshi::oauth::totp::base32_decode(key).expect("base32");
    let code = yaoshi::oauth::totp::code_at(&secret, api.t.services.now());
    let confirm = [("csrf", csrf.as_str()), ("code", code.as_str())];
    assert_eq!(api.t.submit(&b, "/api/account/security/totp/confirm", &confirm).await.0, 303);
    let factors = format!("{path}/factors");
    api.refusals(Method::GET, &factors, None, false).await;
    let listed = ok(&api.admin(Method::GET, &factors, None).await, 200).clone();
    assert_eq!(listed["factors"][0]["kind"], "totp", "{listed}");
    assert!(listed["recovery_codes_left"].as_i64().is_some_and(|n| n > 0), "{listed}");
    api.refusals(Method::DELETE, &factors, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &factors, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &factors, None).await.status, 204, "idempotent");
    let after = ok(&api.admin(Method::GET, &factors, None).await, 200).clone();
    assert_eq!((after["factors"].clone(), after["recovery_codes_left"].clone()), (json!([]), json!(0)));
    problem(&api.admin(Method::DELETE, "/api/v1/users/999999/factors", None).await, 404);
}

/// An account created without a password, with `invite`: its owner gets a link, chooses a
/// password on the reset page, and the address is verified by it. The invitation route
/// sends another; without an email address it is a 400.
async fn invitations(backend: Backend) {
    let api = setup(backend).await;
    let new = json!({"username": "ivy", "email": "Ivy@Example.com", "invite": true});
    let ivy = ok(&api.admin(Method::POST, "/api/v1/users", Some(new)).await, 201).clone();
    assert_eq!((ivy["has_password"].clone(), ivy["email_verified"].clone()), (json!(false), json!(false)));
    let mail = api.t.sent.mail("ivy@example.com", 1).await;
    assert!(mail.subject.contains("account is ready"), "{}", mail.subject);
    let link = crate::common::capture::link_in(&mail);
    let path = link.strip_prefix(&api.t.base).expect("a link to this server").to_owned();
    assert!(path.starts_with("/o/password/reset/?token="), "{path}");
    let b = crate::common::browser();
    let (status, html) = api.t.page(&b, &path).await;
    assert_eq!(status, 200);
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
    let token = path.split("token=").nth(1).unwrap();
    let form = [("csrf", csrf), ("token", token), ("password", "ivy's own password")];
    assert_eq!(api.t.submit(&b, "/api/password/reset", &form).await.1, "/o/login/?done=reset");
    let origin = yaoshi::service::events::Origin::default();
    assert!(api.t.services.sign_in("ivy", "ivy's own password", &origin).await.is_ok());
    let id = ivy["id"].as_i64().unwrap();
    let now = ok(&api.admin(Method::GET, &format!("/api/v1/users/{id}"), None).await, 200).clone();
    assert_eq!((now["has_password"].clone(), now["email_verified"].clone()), (json!(true), json!(true)));
    assert_ne!(api.t.submit(&b, "/api/password/reset", &form).await.1, "/o/login/?done=reset", "once");

    problem(&api.admin(Method::POST, &format!("/api/v1/users/{id}/invitation"), None).await, 400);
    let new = json!({"username": "jo", "email": "jo@example.com"});
    let jo = ok(&api.admin(Method::POST, "/api/v1/users", Some(new)).await, 201)["id"].clone();
    let invite = format!("/api/v1/users/{jo}/invitation");
    api.refusals(Method::POST, &invite, None, true).await;
    assert_eq!(api.admin(Method::POST, &invite, None).await.status, 202);
    assert!(api.t.sent.mail("jo@example.com", 1).await.subject.contains("account is ready"));
    let again = api.admin(Method::POST, &invite, None).await;
    problem(&again, 400);
    assert!(again.json["detail"].as_str().is_some_and(|d| d.contains("try again")), "{}", again.raw);
    let bare = ok(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "nomail"}))).await, 201).clone();
    problem(&api.admin(Method::POST, &format!("/api/v1/users/{}/invitation", bare["id"]), None).await, 400);
    problem(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "x", "invite": true}))).await, 400);
    problem(&api.admin(Method::POST, "/api/v1/users/999999/invitation", None).await, 404);
}

async fn groups_routes(backend: Backend) {
    let api = setup(backend).await;
    let alice = api.t.user("alice", PW).await;
    let body = json!({"name": "staff"});
    api.refusals(Method::POST, "/api/v1/groups", Some(body.clone()), true).await;
    let r = api.admin(Method::POST, "/api/v1/groups", Some(body.clone())).await;
    let g = ok(&r, 201).clone();
    let id = g["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/groups/{id}").as_str()));
    problem(&api.admin(Method::POST, "/api/v1/groups", Some(json!({"name": "STAFF"}))).await, 409);
    let bad = api.admin(Method::POST, "/api/v1/groups", Some(json!({"name": "a/b"}))).await;
    problem(&bad, 400);
    assert_eq!(bad.json["field"], "name");
    problem(&api.admin(Method::POST, "/api/v1/groups", Some(json!({}))).await, 400);
    ok(&api.admin(Method::POST, "/api/v1/groups", Some(json!({"name": "ops"}))).await, 201);

    // Members.
    let member = format!("/api/v1/groups/{id}/members/{alice}");
    api.refusals(Method::PUT, &member, None, true).await;
    assert_eq!(api.admin(Method::PUT, &member, None).await.status, 201);
    assert_eq!(api.admin(Method::PUT, &member, None).await.status, 204, "idempotent");
    problem(&api.admin(Method::PUT, &format!("/api/v1/groups/{id}/members/999999"), None).await, 404);
    problem(&api.admin(Method::PUT, &format!("/api/v1/groups/999999/members/{alice}"), None).await, 404);
    problem(&api.admin(Method::PUT, &format!("/api/v1/groups/{id}/members/x"), None).await, 400);

    // Read, list.
    let path = format!("/api/v1/groups/{id}");
    api.refusals(Method::GET, &path, None, true).await;
    let r = api.admin(Method::GET, &path, None).await;
    assert_eq!(ok(&r, 200)["members"], json!([{"id": alice, "username": "alice"}]));
    let etag = r.header("etag").unwrap().to_owned();
    problem(&api.admin(Method::GET, "/api/v1/groups/999999", None).await, 404);
    api.refusals(Method::GET, "/api/v1/groups", None, true).await;
    let page = ok(&api.admin(Method::GET, "/api/v1/groups?limit=1", None).await, 200).clone();
    assert_eq!(page["groups"][0]["name"], "staff");
    let after = page["next_after"].as_i64().unwrap();
    let next = ok(&api.admin(Method::GET, &format!("/api/v1/groups?after={after}"), None).await, 200).clone();
    assert_eq!(next["groups"][0]["name"], "ops");
    problem(&api.admin(Method::GET, "/api/v1/groups?limit=1000", None).await, 400);

    // Rename with If-Match.
    api.refusals(Method::PATCH, &path, Some(json!({"name": "crew"})), true).await;
    let r =
        api.call(Method::PATCH, &path, Some(&api.admin), Some(json!({"name": "crew"})), &[("if-match", &etag)]).await;
    assert_eq!(ok(&r, 200)["name"], "crew");
    let stale =
        api.call(Method::PATCH, &path, Some(&api.admin), Some(json!({"name": "team"})), &[("if-match", &etag)]).await;
    problem(&stale, 412);
    problem(&api.admin(Method::PATCH, &path, Some(json!({"name": "ops"}))).await, 409);
    problem(&api.admin(Method::PATCH, "/api/v1/groups/999999", Some(json!({"name": "x"}))).await, 404);

    // Leave, delete.
    api.refusals(Method::DELETE, &member, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &member, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &member, None).await.status, 204, "idempotent");
    problem(&api.admin(Method::DELETE, &format!("/api/v1/groups/999999/members/{alice}"), None).await, 404);
    api.refusals(Method::DELETE, &path, None, true).await;
    assert_eq!(api.admin(Method::DELETE, &path, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, &path, None).await.status, 204, "idempotent");
    problem(&api.admin(Method::GET, &path, None).await, 404);
}

/// Roles through the API, and the story a platform service tells: a user and a group made
/// through the API appear in that user's ID Token.
async fn roles_routes_reach_the_id_token(backend: Backend) {
    let api = setup(backend).await;
    let rp = register_rp(&api.t).await;
    let alice =
        ok(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "alice", "password": PW}))).await, 201)
            ["id"]
            .as_i64()
            .unwrap();
    let staff = ok(&api.admin(Method::POST, "/api/v1/groups", Some(json!({"name": "staff"}))).await, 201)["id"]
        .as_i64()
        .unwrap();
    assert_eq!(api.admin(Method::PUT, &format!("/api/v1/groups/{staff}/members/{alice}"), None).await.status, 201);
    let to_group = format!("/api/v1/clients/rp/roles/editor/groups/{staff}");
    let to_user = format!("/api/v1/clients/rp/roles/billing:admin/users/{alice}");
    for path in [&to_group, &to_user] {
        api.refusals(Method::PUT, path, None, true).await;
        assert_eq!(api.admin(Method::PUT, path, None).await.status, 201, "{path}");
        assert_eq!(api.admin(Method::PUT, path, None).await.status, 204, "{path} idempotent");
    }
    problem(&api.admin(Method::PUT, &format!("/api/v1/clients/rp/roles/bad%20role/users/{alice}"), None).await, 400);
    problem(&api.admin(Method::PUT, &format!("/api/v1/clients/nope/roles/x/users/{alice}"), None).await, 404);
    problem(&api.admin(Method::PUT, "/api/v1/clients/rp/roles/x/users/999999", None).await, 404);
    problem(&api.admin(Method::PUT, "/api/v1/clients/rp/roles/x/groups/999999", None).await, 404);
    api.refusals(Method::GET, "/api/v1/roles", None, true).await;
    let list = ok(&api.admin(Method::GET, "/api/v1/roles?client_id=rp", None).await, 200).clone();
    assert_eq!(list["roles"].as_array().unwrap().len(), 2, "{list}");
    problem(&api.admin(Method::GET, "/api/v1/roles?client=rp", None).await, 400);

    let body = tokens(&api.t, &rp, "openid groups", &[]).await;
    let claims = claims_of(body["id_token"].as_str().unwrap());
    assert_eq!(
        (&claims["groups"], &claims["roles"]),
        (&json!(["staff"]), &json!(["billing:admin", "editor"])),
        "{claims}"
    );

    for path in [&to_group, &to_user] {
        api.refusals(Method::DELETE, path, None, true).await;
        assert_eq!(api.admin(Method::DELETE, path, None).await.status, 204);
        assert_eq!(api.admin(Method::DELETE, path, None).await.status, 204, "idempotent");
    }
    assert_eq!(ok(&api.admin(Method::GET, "/api/v1/roles", None).await, 200)["roles"], json!([]));
}

async fn clients_routes(backend: Backend) {
    let api = setup(backend).await;
    let body = json!({"name": "Shop", "redirect_uris": ["https://shop.example/cb"], "grant_types": ["authorization_code", "client_credentials"], "client_id": "shop"});
    api.refusals(Method::POST, "/api/v1/clients", Some(body.clone()), true).await;
    let r = api.admin(Method::POST, "/api/v1/clients", Some(body.clone())).await;
    let created = ok(&r, 201).clone();
    let secret = created["client_secret"].as_str().expect("secret once").to_owned();
    assert_eq!(r.header("location"), Some("/api/v1/clients/shop"));
    assert_eq!(created["admin_scopes"], json!([]));
    problem(&api.admin(Method::POST, "/api/v1/clients", Some(body)).await, 409);
    let evil = json!({"name": "Evil", "redirect_uris": ["javascript:alert(1)"]});
    problem(&api.admin(Method::POST, "/api/v1/clients", Some(evil)).await, 400);
    problem(
        &api.admin(Method::POST, "/api/v1/clients", Some(json!({"name": "X", "grant_types": ["magic"]}))).await,
        400,
    );
    let sneaky = json!({"name": "X", "grant_types": ["client_credentials"], "admin_scopes": ["admin:users:write"]});
    problem(&api.admin(Method::POST, "/api/v1/clients", Some(sneaky)).await, 400);

    let path = "/api/v1/clients/shop";
    api.refusals(Method::GET, path, None, true).await;
    let r = api.admin(Method::GET, path, None).await;
    assert!(ok(&r, 200).get("client_secret").is_none(), "never again");
    let etag = r.header("etag").unwrap().to_owned();
    problem(&api.admin(Method::GET, "/api/v1/clients/nope", None).await, 404);
    api.refusals(Method::GET, "/api/v1/clients", None, true).await;
    let list = ok(&api.admin(Method::GET, "/api/v1/clients", None).await, 200).clone();
    let ids: Vec<&str> = list["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"shop") && ids.contains(&"ops"), "{ids:?}");

    let patch = json!({"name": "Shop 2", "trusted": true, "allowed_origins": ["https://shop.example"]});
    api.refusals(Method::PATCH, path, Some(patch.clone()), true).await;
    let r = api.call(Method::PATCH, path, Some(&api.admin), Some(patch.clone()), &[("if-match", &etag)]).await;
    let changed = ok(&r, 200).clone();
    assert_eq!((changed["name"].as_str(), changed["trusted"].as_bool()), (Some("Shop 2"), Some(true)));
    assert_eq!(changed["redirect_uris"], json!(["https://shop.example/cb"]), "absent fields stay");
    assert_eq!(changed["allowed_origins"], json!(["https://shop.example"]));
    problem(&api.call(Method::PATCH, path, Some(&api.admin), Some(patch), &[("if-match", &etag)]).await, 412);
    problem(&api.admin(Method::PATCH, path, Some(json!({"redirect_uris": ["http://shop.example/cb"]}))).await, 400);
    problem(&api.admin(Method::PATCH, "/api/v1/clients/nope", Some(json!({"name": "x"}))).await, 404);

    // Rotation: the new secret works at the token endpoint, the old one no more.
    let rotate = "/api/v1/clients/shop/secret";
    api.refusals(Method::POST, rotate, None, true).await;
    let new = ok(&api.admin(Method::POST, rotate, None).await, 200)["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(cc_token(&api.t, "shop", &new, None).await.0, 200);
    assert_eq!(cc_token(&api.t, "shop", &secret, None).await.0, 401);
    problem(&api.admin(Method::POST, "/api/v1/clients/nope/secret", None).await, 404);
    let public =
        json!({"name": "SPA", "public": true, "redirect_uris": ["https://spa.example/cb"], "client_id": "spa"});
    assert!(ok(&api.admin(Method::POST, "/api/v1/clients", Some(public)).await, 201)["client_secret"].is_null());
    problem(&api.admin(Method::POST, "/api/v1/clients/spa/secret", None).await, 400);

    api.refusals(Method::DELETE, path, None, true).await;
    assert_eq!(api.admin(Method::DELETE, path, None).await.status, 204);
    assert_eq!(api.admin(Method::DELETE, path, None).await.status, 204, "idempotent");
    problem(&api.admin(Method::GET, path, None).await, 404);
    problem(&api.admin(Method::DELETE, "/api/v1/clients/ops", None).await, 409);
}

async fn events_route(backend: Backend) {
    let api = setup(backend).await;
    ok(&api.admin(Method::POST, "/api/v1/users", Some(json!({"username": "alice"}))).await, 201);
    api.refusals(Method::GET, "/api/v1/events", None, true).await;
    let page = ok(&api.admin(Method::GET, "/api/v1/events?kind=account&limit=5", None).await, 200).clone();
    let first = &page["events"][0];
    assert_eq!((first["kind"].as_str(), first["client_id"].as_str()), (Some("account.created"), Some("ops")), "{page}");
    problem(&api.admin(Method::GET, "/api/v1/events?limit=0", None).await, 400);
    problem(&api.admin(Method::GET, "/api/v1/events?before=x", None).await, 400);
}

/// Every route of the router, as the OpenAPI document must list it.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("put", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("delete", "/api/v1/users/{id}"),
    ("put", "/api/v1/users/{id}/password"),
    ("post", "/api/v1/users/{id}/disable"),
    ("post", "/api/v1/users/{id}/enable"),
    ("get", "/api/v1/users/{id}/groups"),
    ("post", "/api/v1/users/{id}/invitation"),
    ("get", "/api/v1/users/{id}/sessions"),
    ("delete", "/api/v1/users/{id}/sessions"),
    ("delete", "/api/v1/users/{id}/sessions/{session_id}"),
    ("get", "/api/v1/users/{id}/consents"),
    ("delete", "/api/v1/users/{id}/consents/{client_id}"),
    ("get", "/api/v1/users/{id}/identities"),
    ("get", "/api/v1/users/{id}/factors"),
    ("delete", "/api/v1/users/{id}/factors"),
    ("get", "/api/v1/groups"),
    ("post", "/api/v1/groups"),
    ("get", "/api/v1/groups/{id}"),
    ("patch", "/api/v1/groups/{id}"),
    ("delete", "/api/v1/groups/{id}"),
    ("put", "/api/v1/groups/{id}/members/{user_id}"),
    ("delete", "/api/v1/groups/{id}/members/{user_id}"),
    ("get", "/api/v1/roles"),
    ("put", "/api/v1/clients/{client_id}/roles/{role}/users/{user_id}"),
    ("delete", "/api/v1/clients/{client_id}/roles/{role}/users/{user_id}"),
    ("put", "/api/v1/clients/{client_id}/roles/{role}/groups/{group_id}"),
    ("delete", "/api/v1/clients/{client_id}/roles/{role}/groups/{group_id}"),
    ("get", "/api/v1/clients"),
    ("post", "/api/v1/clients"),
    ("get", "/api/v1/clients/{client_id}"),
    ("patch", "/api/v1/clients/{client_id}"),
    ("delete", "/api/v1/clients/{client_id}"),
    ("post", "/api/v1/clients/{client_id}/secret"),
    ("get", "/api/v1/events"),
];

/// The served document parses as OpenAPI 3.1, lists every route (and nothing else) with its
/// bearer scope, and every route listed answers (no 404 or 405 for a documented method).
async fn openapi_document_lists_every_route(backend: Backend) {
    let api = setup(backend).await;
    let r = send(api.t.http.get(api.t.url("/api/v1/openapi.json"))).await;
    assert_eq!(r.status, 200);
    let spec: oas3::OpenApiV3Spec = oas3::from_json(&r.raw).expect("an OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let paths = spec.paths.as_ref().expect("paths");
    let mut listed = Vec::new();
    for (path, item) in paths {
        for (method, op) in [
            ("get", &item.get),
            ("put", &item.put),
            ("post", &item.post),
            ("delete", &item.delete),
            ("patch", &item.patch),
        ] {
            if let Some(op) = op {
                listed.push((method.to_owned(), path.clone()));
                let security = serde_json::to_value(&op.security).unwrap();
                assert!(security.to_string().contains("admin:"), "{method} {path} names its scope: {security}");
            }
        }
    }
    let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    let doc: Value = r.json;
    assert!(doc["components"]["schemas"]["Problem"].is_object(), "the problem schema");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Each documented route is routed: without a token it is a 401 problem, never 404/405.
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{id}", "1")
            .replace("{user_id}", "1")
            .replace("{group_id}", "1")
            .replace("{session_id}", "s")
            .replace("{client_id}", "ops")
            .replace("{role}", "r");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = api.call(method.clone(), &concrete, None, Some(json!({})), &[]).await;
        assert_eq!(r.status, 401, "{method} {concrete}: {}", r.raw);
    }
}

on_both_backends!(
    admin_scopes_only_for_marked_clients,
    users_routes,
    user_access_routes,
    invitations,
    groups_routes,
    roles_routes_reach_the_id_token,
    clients_routes,
    events_route,
    openapi_document_lists_every_route,
);
