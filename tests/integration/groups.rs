//! Groups and per-client roles in tokens: with the `groups` scope, the ID Token, `/o/userinfo/`
//! and introspection carry the user's `groups` and their `roles` in the requesting client
//! (held directly or through a group); without it, none of them does. On SQLite and
//! PostgreSQL.

use serde_json::{json, Value};

use crate::common::{
    oauth::{post, send, PW},
    oidc::*,
    Backend, TestServer,
};
use yaoshi::{service::clients::ClientSpec, store::RoleHolder};

/// alice in `staff` (which holds rp's `editor`), holding rp's `viewer` herself and `root` of
/// another client; bob in no group.
async fn setup(backend: Backend) -> (TestServer, App, i64) {
    let t = TestServer::start(backend).await;
    let alice = t.user("alice", PW).await;
    t.user("bob", PW).await;
    let rp = register_rp(&t).await;
    let other = ClientSpec {
        name: "Other".into(),
        client_id: Some("other".into()),
        grants: vec![yaoshi::oauth::model::GrantType::ClientCredentials],
        ..ClientSpec::default()
    };
    t.client(other).await;
    let s = &t.services;
    let staff = s.create_group("staff", None).await.expect("group");
    s.create_group("unrelated", None).await.expect("group");
    assert!(s.add_group_member(staff.id, alice, None).await.expect("member"));
    assert!(!s.add_group_member(staff.id, alice, None).await.expect("member again"), "a member once");
    assert!(s.assign_role("rp", "editor", RoleHolder::Group(staff.id), None).await.expect("role"));
    assert!(s.assign_role("rp", "viewer", RoleHolder::User(alice), None).await.expect("role"));
    assert!(s.assign_role("rp", "editor", RoleHolder::User(alice), None).await.expect("role"));
    assert!(s.assign_role("other", "root", RoleHolder::User(alice), None).await.expect("role"));
    (t, rp, alice)
}

async fn userinfo(t: &TestServer, access: &str) -> Value {
    let r = send(t.http.get(t.url("/o/userinfo/")).bearer_auth(access)).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.json
}

async fn introspect(t: &TestServer, rp: &App, token: &str) -> Value {
    let r = post(t, "/o/introspect/", &rp.form(&[("token", token)])).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.json
}

/// Granted `groups`: every view of the grant names alice's groups and her roles in `rp`
/// (through `staff` and directly, each once), never `other`'s.
async fn groups_scope_puts_groups_and_roles_in_every_token_view(backend: Backend) {
    let (t, rp, alice) = setup(backend).await;
    let body = tokens(&t, &rp, "openid groups", &[]).await;
    let keys = jwks(&t).await;
    let (_, claims) = verified(&t, &keys, body["id_token"].as_str().expect("id_token"), "rp", None);
    assert_eq!(claims["groups"], json!(["staff"]), "{claims}");
    assert_eq!(claims["roles"], json!(["editor", "viewer"]), "{claims}");
    let access = body["access_token"].as_str().expect("access");
    let info = userinfo(&t, access).await;
    assert_eq!((&info["groups"], &info["roles"]), (&json!(["staff"]), &json!(["editor", "viewer"])), "{info}");
    let seen = introspect(&t, &rp, access).await;
    assert_eq!(seen["active"], json!(true));
    assert_eq!((&seen["groups"], &seen["roles"]), (&json!(["staff"]), &json!(["editor", "viewer"])), "{seen}");
    // The refreshed ID Token says the same, and follows a change made since.
    let staff = t.services.group_named("STAFF").await.expect("case-insensitive");
    t.services.rename_group(staff.id, "crew", None).await.expect("rename");
    let refreshed = t
        .token(&rp.form(&[("grant_type", "refresh_token"), ("refresh_token", body["refresh_token"].as_str().unwrap())]))
        .await;
    assert_eq!(refreshed.0, 200, "{}", refreshed.1);
    let claims = claims_of(refreshed.1["id_token"].as_str().expect("refreshed id_token"));
    assert_eq!(claims["groups"], json!(["crew"]), "{claims}");
    // Removing alice from the group takes the role it gave away, not the one she holds herself.
    assert!(t.services.remove_group_member(staff.id, alice, None).await.unwrap());
    let info = userinfo(&t, access).await;
    assert_eq!((&info["groups"], &info["roles"]), (&json!([]), &json!(["editor", "viewer"])), "{info}");
    assert!(t.services.unassign_role("rp", "editor", RoleHolder::User(alice), None).await.unwrap());
    assert!(!t.services.unassign_role("rp", "editor", RoleHolder::User(alice), None).await.unwrap(), "once");
    assert_eq!(userinfo(&t, access).await["roles"], json!(["viewer"]));
    assert_eq!(t.services.role_assignments(Some("rp")).await.unwrap().len(), 2, "staff's editor and alice's viewer");
}

/// Not granted `groups`: no `groups` or `roles` anywhere, even for a member with roles.
async fn without_the_scope_nothing_is_released(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let body = tokens(&t, &rp, "openid profile", &[]).await;
    let claims = claims_of(body["id_token"].as_str().expect("id_token"));
    assert!(claims.get("groups").is_none() && claims.get("roles").is_none(), "{claims}");
    let access = body["access_token"].as_str().expect("access");
    let info = userinfo(&t, access).await;
    assert!(info.get("groups").is_none() && info.get("roles").is_none(), "{info}");
    let seen = introspect(&t, &rp, access).await;
    assert!(seen.get("groups").is_none() && seen.get("roles").is_none(), "{seen}");
    // Discovery offers the scope and its claims.
    let m = send(t.http.get(t.url("/.well-known/openid-configuration"))).await.json;
    assert!(m["scopes_supported"].as_array().unwrap().contains(&json!("groups")), "{m}");
    assert!(m["claims_supported"].as_array().unwrap().contains(&json!("roles")), "{m}");
}

/// A user in no group with no role gets empty arrays: granted, but nothing to say.
async fn granted_but_empty_is_empty_arrays(backend: Backend) {
    let (t, rp, _) = setup(backend).await;
    let b = signed_in(&t, "bob").await;
    let c = code(&t, &b, &rp, "openid groups", &[]).await;
    let (status, body) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["id_token"].as_str().expect("id_token"));
    assert_eq!((&claims["groups"], &claims["roles"]), (&json!([]), &json!([])), "{claims}");
}

/// Group names are unique case-insensitively, checked, and deleting a group takes its
/// memberships and role assignments with it.
async fn group_rules(backend: Backend) {
    let (t, _, alice) = setup(backend).await;
    let s = &t.services;
    let err = s.create_group("Staff", None).await.unwrap_err();
    assert!(matches!(err, yaoshi::service::ServiceError::Conflict(_)), "{err:?}");
    assert!(matches!(s.create_group("a b", None).await, Err(yaoshi::service::ServiceError::InvalidField("name", _))));
    let other = s.group_named("unrelated").await.unwrap();
    assert!(matches!(s.rename_group(other.id, "staff", None).await, Err(yaoshi::service::ServiceError::Conflict(_))));
    let staff = s.group_named("staff").await.unwrap();
    assert_eq!(s.group_members(staff.id).await.unwrap().iter().map(|u| u.id).collect::<Vec<_>>(), vec![alice]);
    assert!(s.delete_group(staff.id, None).await.unwrap());
    assert!(!s.delete_group(staff.id, None).await.unwrap(), "gone already");
    assert!(s.groups_of(alice).await.unwrap().is_empty());
    assert_eq!(s.user_roles(alice, "rp").await.unwrap(), vec!["editor", "viewer"], "her own roles stay");
    assert!(matches!(
        s.assign_role("nope", "x", RoleHolder::User(alice), None).await,
        Err(yaoshi::service::ServiceError::NotFound(_))
    ));
    assert!(matches!(
        s.assign_role("rp", "x", RoleHolder::Group(staff.id), None).await,
        Err(yaoshi::service::ServiceError::NotFound(_))
    ));
}

on_both_backends!(
    groups_scope_puts_groups_and_roles_in_every_token_view,
    without_the_scope_nothing_is_released,
    granted_but_empty_is_empty_arrays,
    group_rules,
);
