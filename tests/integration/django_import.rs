//! `yaoshi import django` against a real django-oauth-toolkit database, on SQLite and
//! PostgreSQL. `.ci/test.sh` builds that database with Django and DOT from PyPI
//! (`tests/django/build_fixture.py`: users made by Django's `create_user`, applications of
//! every grant type with hashed and plain secrets, tokens from DOT's own token endpoint) and
//! names its directory in `YAOSHI_TEST_DJANGO`; the test imports it with the real binary and
//! checks over HTTP that people, applications and tokens carry on as if nothing happened.

use std::process::Command;

use serde_json::{json, Value};

use crate::common::{oauth::*, Backend, TestServer};

/// The fixture `build_fixture.py` wrote into the directory `var` names, or `None` (with a
/// note) when it was not built.
fn fixture(var: &str) -> Option<Value> {
    let Ok(dir) = std::env::var(var) else {
        eprintln!(
            "django_import skipped: {var} is not set (.ci/test.sh builds the Django database with \
             tests/django/build_fixture.py and sets it)"
        );
        return None;
    };
    let text = std::fs::read_to_string(format!("{dir}/fixture.json")).expect("fixture.json in YAOSHI_TEST_DJANGO");
    Some(serde_json::from_str(&text).expect("fixture JSON"))
}

/// Runs `yaoshi import django --source <the Django database> --json ARGS` on the server's
/// database and returns its report.
fn import(srv: &TestServer, fx: &Value, args: &[&str]) -> Value {
    let source = fx["source"].as_str().expect("source");
    let out = Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["--database-url", srv.database_url(), "import", "django", "--source", source, "--json"])
        .args(args)
        .env_remove("YAOSHI_CONFIG")
        .output()
        .expect("run yaoshi");
    assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn app(fx: &Value, client_id: &str) -> App {
    let a = fx["apps"].as_array().expect("apps").iter().find(|a| a["client_id"] == client_id).expect(client_id);
    App {
        id: client_id.into(),
        secret: a["confidential"].as_bool().unwrap().then(|| a["secret"].as_str().unwrap().into()),
    }
}

fn dot_token<'a>(fx: &'a Value, which: &str, kind: &str) -> &'a str {
    fx["tokens"][which][kind].as_str().unwrap_or_else(|| panic!("no {which}.{kind} in the fixture"))
}

fn has_issue(report: &Value, kind: &str, source_id: i64, problem: &str) -> bool {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["kind"] == kind && i["source_id"] == source_id && i["problem"].as_str().unwrap().contains(problem))
}

/// DOT on SQLite, into Yaoshi on either back end.
async fn imports_a_dot_database(backend: Backend) {
    if let Some(fx) = fixture("YAOSHI_TEST_DJANGO") {
        import_and_carry_on(backend, &fx).await;
    }
}

/// DOT on PostgreSQL (Django's own PostgreSQL schema: `integer` keys, `timestamptz` times).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn imports_a_dot_database_on_postgres() {
    if let Some(fx) = fixture("YAOSHI_TEST_DJANGO_POSTGRES") {
        import_and_carry_on(Backend::Postgres, &fx).await;
    }
}

async fn import_and_carry_on(backend: Backend, fx: &Value) {
    let srv = TestServer::start(backend).await;
    let store = srv.store();

    // A dry run plans everything and writes nothing.
    let plan = import(&srv, fx, &["--dry-run"]);
    assert_eq!(plan["dry_run"], json!(true));
    assert!(plan["changes"].as_u64().unwrap() > 10, "{plan}");
    assert!(store.user_by_id(101).await.unwrap().is_none());

    let report = import(&srv, fx, &[]);
    assert_eq!(report["changes"], plan["changes"], "{report}");
    // Carol and carol are one name to Yaoshi, and `ann+news@example.com` is no Yaoshi
    // username: both reported, neither fatal.
    assert_eq!(report["users"], json!({"created": 8, "updated": 0, "unchanged": 0, "skipped": 2, "expired": 0}));
    assert!(has_issue(&report, "user", 107, "is taken"), "{report}");
    assert!(has_issue(&report, "user", 108, "breaks Yaoshi's rules"), "{report}");
    assert!(has_issue(&report, "application", 6, "HS256"), "{report}");
    assert_eq!(report["applications"]["created"], json!(6));
    assert_eq!(report["access_tokens"]["created"], json!(4), "{report}");
    assert_eq!(report["refresh_tokens"]["created"], json!(3), "{report}");
    for algorithm in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "scrypt", "unusable"] {
        assert!(report["password_hashes"][algorithm].as_u64().unwrap() >= 1, "{algorithm}: {report}");
    }

    // The applications as DOT had them.
    let web = store.client("web-code").await.unwrap().expect("web-code");
    assert!(web.client.trusted && web.client.confidential);
    assert_eq!(web.client.redirect_uris, vec!["https://rp.example/cb", "https://rp.example/cb2"]);
    assert_eq!(web.owner_id, Some(101));
    assert_eq!(store.client_origins("web-code").await.unwrap(), vec!["https://rp.example"]);
    assert_eq!(
        store.client_logout("web-code").await.unwrap().unwrap().post_logout_redirect_uris,
        vec!["https://rp.example/bye"]
    );
    assert!(!store.client("spa-implicit").await.unwrap().unwrap().client.confidential);

    // Every user with a password signs in with the old one through the password grant; the
    // `sub` is the Django id; the stored hash is argon2id afterwards.
    let pw_app = app(fx, "pw-hashed");
    for u in fx["users"].as_array().unwrap() {
        let (id, name) = (u["id"].as_i64().unwrap(), u["username"].as_str().unwrap());
        let Some(password) = u["password"].as_str() else { continue };
        if id == 107 || id == 108 {
            continue;
        }
        let stored = store.user_by_id(id).await.unwrap().expect(name).password_hash.expect("a password");
        assert!(stored.starts_with(&format!("{}$", u["algorithm"].as_str().unwrap())), "{name}: {stored}");
        let wrong =
            token(&srv, &pw_app, &[("grant_type", "password"), ("username", name), ("password", "not-it")]).await;
        wrong.error(400, "invalid_grant");
        let ok = token(
            &srv,
            &pw_app,
            &[("grant_type", "password"), ("username", name), ("password", password), ("scope", "openid read")],
        )
        .await;
        let access = ok.field("access_token");
        let me = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access)).await;
        assert_eq!(me.json["sub"], json!(id.to_string()), "{name}: {}", me.raw);
        let rehashed = store.user_by_id(id).await.unwrap().unwrap().password_hash.unwrap();
        assert!(rehashed.starts_with("$argon2id$"), "{name}: {rehashed}");
        // And the new hash verifies the same password.
        token(&srv, &pw_app, &[("grant_type", "password"), ("username", name), ("password", password)])
            .await
            .field("access_token");
    }
    let nopass = token(&srv, &pw_app, &[("grant_type", "password"), ("username", "nopass"), ("password", "")]).await;
    assert_eq!(nopass.status, 400, "{}", nopass.raw);

    // Each application's old secret gets client_credentials tokens; a Django-hashed one costs
    // one PBKDF2 check the first time and none afterwards (it became the SHA-256 record).
    for (client_id, first_cost) in [("cc-hashed", 1), ("cc-plain", 0)] {
        let a = app(fx, client_id);
        let before = srv.services.hasher.checks();
        token(&srv, &a, &[("grant_type", "client_credentials")]).await.field("access_token");
        let after_first = srv.services.hasher.checks();
        assert_eq!(after_first - before, first_cost, "{client_id}");
        token(&srv, &a, &[("grant_type", "client_credentials"), ("scope", "read")]).await.field("access_token");
        assert_eq!(srv.services.hasher.checks(), after_first, "{client_id}: the second call hashed");
        let record = store.client(client_id).await.unwrap().unwrap().secret_hash.unwrap();
        assert!(record.starts_with("sha256:"), "{client_id}: {record}");
        let wrong = App { id: client_id.into(), secret: Some("wrong-secret".into()) };
        token(&srv, &wrong, &[("grant_type", "client_credentials")]).await.error(401, "invalid_client");
    }

    // DOT's tokens: its access tokens introspect active, as alice (sub 101) where they have a
    // user; its live refresh token refreshes; the one DOT rotated away stays dead.
    let r = post(&srv, "/o/introspect/", &pw_app.form(&[("token", dot_token(fx, "password", "access_token"))])).await;
    assert_eq!(
        (&r.json["active"], &r.json["sub"], &r.json["client_id"]),
        (&json!(true), &json!("101"), &json!("pw-hashed")),
        "{}",
        r.raw
    );
    assert_eq!(r.json["scope"], json!("read write"));
    let r = post(&srv, "/o/introspect/", &pw_app.form(&[("token", dot_token(fx, "cc_hashed", "access_token"))])).await;
    assert_eq!((&r.json["active"], &r.json["client_id"]), (&json!(true), &json!("cc-hashed")), "{}", r.raw);
    let fresh = refresh(&srv, &pw_app, dot_token(fx, "password", "refresh_token")).await;
    let new_access = fresh.field("access_token");
    let r = post(&srv, "/o/introspect/", &pw_app.form(&[("token", &new_access)])).await;
    assert_eq!((&r.json["active"], &r.json["sub"]), (&json!(true), &json!("101")), "{}", r.raw);
    refresh(&srv, &pw_app, dot_token(fx, "password_root", "refresh_token")).await.error(400, "invalid_grant");
    refresh(&srv, &pw_app, dot_token(fx, "rotated", "refresh_token")).await.field("access_token");

    // A re-run changes nothing: no user, secret or token is put back as it was at the source.
    let again = import(&srv, fx, &[]);
    assert_eq!(again["changes"], json!(0), "{again}");
    assert_eq!(again["users"]["unchanged"], json!(8));
    assert!(has_issue(&again, "user", 107, "is taken"), "{again}");
    assert!(store.user_by_id(101).await.unwrap().unwrap().password_hash.unwrap().starts_with("$argon2id$"));
    assert!(store.client("cc-hashed").await.unwrap().unwrap().secret_hash.unwrap().starts_with("sha256:"));

    // The other resolution: the two refused accounts come in renamed, with their ids.
    let renamed = import(&srv, fx, &["--on-conflict", "rename"]);
    assert_eq!(renamed["users"]["created"], json!(2), "{renamed}");
    let carol = store.user_by_id(107).await.unwrap().expect("carol renamed");
    assert_eq!(carol.username, "carol-107");
    assert_eq!(store.user_by_id(108).await.unwrap().unwrap().username, "ann_news_example.com");
    token(
        &srv,
        &pw_app,
        &[("grant_type", "password"), ("username", "carol-107"), ("password", "carol-lower-django-pw")],
    )
    .await
    .field("access_token");
    assert_eq!(import(&srv, fx, &["--on-conflict", "rename"])["changes"], json!(0));

    // An account and a client deleted in Yaoshi since stay deleted, with their tokens.
    assert!(srv.services.store.delete_user(105, 0).await.unwrap());
    assert!(store.delete_client("cc-plain").await.unwrap());
    let after_deletion = import(&srv, fx, &["--on-conflict", "rename"]);
    assert_eq!(after_deletion["changes"], json!(0), "{after_deletion}");
    assert!(has_issue(&after_deletion, "user", 105, "deleted in Yaoshi"), "{after_deletion}");
    assert!(has_issue(&after_deletion, "application", 5, "deleted in Yaoshi"), "{after_deletion}");
    assert!(store.user_by_id(105).await.unwrap().is_none());

    // DOT's URLs: the discovery document with its trailing slash, and its management pages.
    let r = send(srv.http.get(srv.url("/o/.well-known/openid-configuration/"))).await;
    assert_eq!(r.status, 200);
    assert!(r.json["token_endpoint"].as_str().unwrap().ends_with("/o/token/"), "{}", r.raw);
    for (path, to) in [
        ("/o/applications/", "/account/apps"),
        ("/o/applications/3/update/", "/account/apps"),
        ("/o/authorized_tokens/", "/account"),
        ("/o/authorized_tokens/7/delete/", "/account"),
    ] {
        let r = send(srv.http.get(srv.url(path))).await;
        assert_eq!((r.status, r.header("location")), (303, Some(to)), "{path}");
    }
}

on_both_backends!(imports_a_dot_database);

/// A source that is not a Django database is one clear line and exit 1, and writes nothing.
#[test]
fn a_source_that_is_not_a_django_database_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
    let empty = dir.path().join("empty.sqlite3");
    std::fs::File::create(&empty).expect("an empty file");
    let empty = format!("sqlite://{}", empty.display());
    for (source, says) in
        [("mysql://django@db/site", "must be a sqlite:// or postgres:// URL"), (empty.as_str(), "no table auth_user")]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_yaoshi"))
            .args(["--database-url", &db, "import", "django", "--source", source])
            .env_remove("YAOSHI_CONFIG")
            .output()
            .expect("run yaoshi");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{source}");
        assert!(stderr.contains(says), "{source}: {stderr}");
        assert!(!stderr.contains("panicked"), "{source}: {stderr}");
    }
}
