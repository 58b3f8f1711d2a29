//! One story through the storage contract, on SQLite and on PostgreSQL.

use crate::common::{fresh_database, Backend};
use yaoshi::{
    oauth::{
        model::{AuthCode, Client, GrantType},
        scope::Scope,
    },
    store::{
        connect, ClientRecord, Expired, LogoutSettings, NewRefresh, NewSession, NewTokens, NewUser, NoticeSeed,
        Redemption, Rotation, StoreError,
    },
};

fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("scope")
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        username_normalized: name.to_lowercase(),
        email: Some(format!("{name}@example.com")),
        email_normalized: Some(format!("{}@example.com", name.to_lowercase())),
        display_name: name.into(),
        password_hash: Some("$argon2id$fake".into()),
        admin: false,
        email_verified: true,
        phone_number: None,
        locale: None,
        now: 1_000,
    }
}

fn tokens(client_id: &str, user: i64, family: &str, access: &str, refresh: Option<&str>) -> NewTokens {
    NewTokens {
        family_id: Some(family.into()),
        client_id: client_id.into(),
        user_id: Some(user),
        scope: scope("read write"),
        access_hash: access.into(),
        access_expires_at: 5_000,
        refresh: refresh.map(|h| NewRefresh {
            hash: h.into(),
            expires_at: 90_000,
            scope: scope("read write"),
            jkt: None,
        }),
        access_jkt: None,
        now: 1_000,
    }
}

async fn story(backend: Backend) {
    let db = fresh_database(backend).await;
    let store = connect(&db.url, &Default::default()).await.expect("connect and migrate");
    // Opening again must find the schema current.
    connect(&db.url, &Default::default()).await.expect("second open");
    store.ping().await.expect("ping");

    // Users: unique by normalised username and email; looked up by either.
    let alice = store.create_user(&new_user("Alice")).await.expect("create");
    assert!(matches!(store.create_user(&new_user("ALICE")).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.user_by_login("alice").await.expect("by name").map(|u| u.id), Some(alice.id));
    assert_eq!(store.user_by_login("alice@example.com").await.expect("by email").map(|u| u.id), Some(alice.id));
    assert!(store.user_by_login("nobody").await.expect("lookup").is_none());
    assert!(store.set_user_active(alice.id, false, 2_000).await.expect("disable"));
    assert!(!store.user_by_id(alice.id).await.expect("get").expect("exists").active);
    store.set_user_active(alice.id, true, 2_000).await.expect("enable");
    assert!(!store.set_password_hash(9_999, Some("x"), 2_000).await.expect("no such user"));

    // Clients round-trip every field.
    let client = Client {
        client_id: "shop".into(),
        name: "Shop".into(),
        confidential: true,
        redirect_uris: vec!["https://shop.example/cb".into(), "http://127.0.0.1/cb".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: scope("openid read write"),
        trusted: false,
    };
    let record = ClientRecord {
        client: client.clone(),
        secret_hash: Some("sha256:ab".into()),
        owner_id: Some(alice.id),
        created_at: 1_000,
    };
    store.create_client(&record).await.expect("create client");
    assert!(matches!(store.create_client(&record).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.client("shop").await.expect("get client"), Some(record.clone()));
    assert!(store.set_client_secret("shop", "sha256:cd").await.expect("rotate"));

    // A code is consumed exactly once; the second attempt is told it was reused.
    let code = AuthCode {
        client_id: "shop".into(),
        user_id: alice.id,
        redirect_uri: "https://shop.example/cb".into(),
        redirect_uri_explicit: false,
        scope: scope("read"),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: None,
        auth_time: 1_000,
        session_hash: Some("session-hash".into()),
        expires_at: 1_060,
    };
    store.insert_auth_code("code-hash", &code, 1_000).await.expect("insert code");
    let issue = |c: &AuthCode| Ok(tokens(&c.client_id, c.user_id, "code-hash", "code-access", Some("code-refresh")));
    match store.redeem_auth_code("code-hash", 1_001, &issue).await.expect("redeem") {
        Redemption::Issued(got) => assert_eq!(got, code),
        other => panic!("expected a fresh code, got {other:?}"),
    }
    assert!(store.access_token("code-access").await.expect("lookup").is_some(), "issued with the redemption");
    assert!(matches!(store.redeem_auth_code("code-hash", 1_002, &issue).await.expect("again"), Redemption::Reused));
    assert!(matches!(store.redeem_auth_code("other", 1_002, &issue).await.expect("unknown"), Redemption::Unknown));
    // A code that fails the check is burnt and issues nothing.
    store.insert_auth_code("bad-code", &code, 1_000).await.expect("insert code");
    let refuse = |_: &AuthCode| Err(yaoshi::oauth::error::OAuthError::invalid_grant("no"));
    assert!(matches!(
        store.redeem_auth_code("bad-code", 1_001, &refuse).await.expect("refused"),
        Redemption::Refused(_)
    ));
    assert!(matches!(store.redeem_auth_code("bad-code", 1_002, &issue).await.expect("burnt"), Redemption::Reused));

    // Tokens: rotation supersedes once; the family is revoked as one.
    store.insert_tokens(&tokens("shop", alice.id, "fam", "a1", Some("r1"))).await.expect("issue");
    assert_eq!(
        store.rotate_refresh("r1", &tokens("shop", alice.id, "fam", "a2", Some("r2")), 1_500).await.expect("rotate"),
        Rotation::Rotated
    );
    assert_eq!(
        store
            .rotate_refresh("r1", &tokens("shop", alice.id, "fam", "a3", Some("r3")), 1_501)
            .await
            .expect("rotate again"),
        Rotation::Lost
    );
    assert!(store.access_token("a3").await.expect("lookup").is_none(), "a lost rotation stores nothing");
    let r1 = store.refresh_token("r1").await.expect("r1").expect("exists");
    assert_eq!((r1.rotated_at, r1.successor.as_deref()), (Some(1_500), Some("r2")));
    store.revoke_family("fam", 1_600).await.expect("revoke family");
    for hash in ["a1", "a2"] {
        assert_eq!(store.access_token(hash).await.expect("access").and_then(|a| a.revoked_at), Some(1_600));
    }
    assert_eq!(store.refresh_token("r2").await.expect("r2").and_then(|r| r.revoked_at), Some(1_600));

    // The throttle: attempts are counted while pending, so a budget of 3 lets 3 start at once
    // and no fourth; failures keep their place, a forgiven success gives it back.
    use yaoshi::store::Reservation::{Blocked, Busy, Granted};
    let (key, since) = ("pw:7|10.0.0.1", 10_000 - 900);
    for _ in 0..3 {
        assert_eq!(store.reserve_attempt(key, since, 10_000, 3).await.expect("reserve"), Granted);
    }
    assert_eq!(store.reserve_attempt(key, since, 10_000, 3).await.expect("reserve"), Busy, "three are pending");
    let row = store.settle_attempt(key, true, false, 3).await.expect("settle").expect("row");
    assert_eq!(row.failures, 1);
    store.settle_attempt(key, false, true, 3).await.expect("a success forgives");
    store.settle_attempt(key, true, false, 3).await.expect("settle");
    assert_eq!(store.reserve_attempt(key, since, 10_001, 3).await.expect("reserve"), Granted);
    assert_eq!(store.reserve_attempt(key, since, 10_001, 3).await.expect("reserve"), Granted);
    store.settle_attempt(key, true, false, 3).await.expect("settle");
    let spent = store.settle_attempt(key, true, false, 3).await.expect("settle").expect("row");
    assert_eq!(spent.failures, 3);
    // The budget is spent and no delay is set yet: wait, never go ahead.
    assert_eq!(store.reserve_attempt(key, since, 10_002, 3).await.expect("reserve"), Busy);
    store.block_attempts(key, 10_010).await.expect("block");
    assert_eq!(store.reserve_attempt(key, since, 10_005, 3).await.expect("reserve"), Blocked { until: 10_010 });
    // After the delay one attempt at a time; a new window starts afresh.
    assert_eq!(store.reserve_attempt(key, since, 10_010, 3).await.expect("reserve"), Granted);
    assert_eq!(store.reserve_attempt(key, since, 10_010, 3).await.expect("reserve"), Busy);
    assert_eq!(store.reserve_attempt(key, 20_000 - 900, 20_000, 3).await.expect("reserve"), Granted);
    let fresh = store.settle_attempt(key, true, false, 3).await.expect("settle").expect("row");
    assert_eq!((fresh.failures, fresh.window_start), (1, 20_000));

    // Housekeeping removes expired rows and keeps live ones.
    store
        .insert_tokens(&NewTokens { access_expires_at: 500, ..tokens("shop", alice.id, "old", "expired-access", None) })
        .await
        .expect("expired");
    let gone = store.purge_batch(Expired::AccessTokens(1_000), 500).await.expect("purge");
    assert!(gone >= 1, "{gone}");
    assert!(store.access_token("expired-access").await.expect("lookup").is_none());
    assert!(store.access_token("a1").await.expect("lookup").is_some(), "a1 expires at 5000");

    // Deleting a client removes what was issued to it.
    assert!(store.delete_client("shop").await.expect("delete"));
    assert!(store.access_token("a1").await.expect("lookup").is_none());
    assert!(!store.delete_client("shop").await.expect("delete twice"));
}

/// Ending one session from several requests at once: none fails (each transaction writes
/// first, so on SQLite they queue on the write lock instead of failing to upgrade a read) and
/// its back-channel client is handed out exactly once.
async fn concurrent_ends_of_a_session_tell_its_client_once(backend: Backend) {
    let db = fresh_database(backend).await;
    let store = connect(&db.url, &Default::default()).await.expect("connect and migrate");
    let alice = store.create_user(&new_user("Alice")).await.expect("create");
    let client = Client {
        client_id: "rp".into(),
        name: "RP".into(),
        confidential: true,
        redirect_uris: vec!["https://rp.example/cb".into()],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: scope("openid"),
        trusted: false,
    };
    let record = ClientRecord { client, secret_hash: Some("sha256:ab".into()), owner_id: None, created_at: 1_000 };
    store.create_client(&record).await.expect("create client");
    let logout = LogoutSettings {
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: Some("https://rp.example/logout".into()),
    };
    assert!(store.set_client_logout("rp", &logout).await.expect("logout settings"));
    let session = NewSession {
        session_hash: "session-hash".into(),
        user_id: alice.id,
        auth_time: 1_000,
        expires_at: 90_000,
        user_agent: "test".into(),
        ip: "127.0.0.1".into(),
        amr: "pwd".into(),
    };
    store.insert_session(&session).await.expect("session");
    store.record_session_client("session-hash", "rp", alice.id, 1_000).await.expect("session client");

    let ends: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let seed = NoticeSeed { sid: "sid".into(), jti_prefix: yaoshi::crypto::random_id(), now: 1_000 };
            tokio::spawn(async move { store.end_session("session-hash", &seed).await })
        })
        .collect();
    let mut told = 0;
    for end in ends {
        told += end.await.expect("task").expect("end_session").len();
    }
    assert_eq!(told, 1, "the client is told once");
    assert_eq!(store.pending_logout_notices().await.expect("outbox"), 1, "one notice queued");
    assert!(store.session("session-hash", 1_000, 0).await.expect("lookup").is_none(), "the session ended");
}

on_both_backends!(story, concurrent_ends_of_a_session_tell_its_client_once);
