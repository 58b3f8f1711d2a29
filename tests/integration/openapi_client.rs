//! The "Done when": a client generated from the served OpenAPI document by an
//! unmodified generator from the registries (`openapi-python-client`, installed by
//! `.ci/tools.sh system` into the tools' venv) creates a user, creates a group and adds the
//! user to it (`tests/openapi_client/drive.py`); then that user signs in, runs the code flow
//! with `openid groups`, and the ID Token names the group. On SQLite and PostgreSQL.
//!
//! Without the generator the test is skipped with a note, except under CI, where it fails.

use std::{path::PathBuf, process::Command};

use serde_json::{json, Value};

use crate::common::{
    browser,
    oauth::PW,
    oidc::{code, jwks, redeem, register_rp, verified},
    Backend, TestServer,
};
use yaoshi::{
    oauth::{model::GrantType, scope::ADMIN_SCOPES},
    service::clients::ClientSpec,
};

/// The driver the test runs with the venv's Python.
const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi_client/drive.py");

/// The tools' venv Python (where `.ci/tools.sh` puts it) if the generator is installed there.
/// Missing: `None` with a note, or a panic under CI, where a skipped test would pass unseen.
fn generator_python() -> Option<PathBuf> {
    let tools = std::env::var_os("YAOSHI_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/yaoshi-tools")))
        .expect("HOME or YAOSHI_TOOLS_DIR");
    let python = tools.join("py/bin/python");
    let installed = Command::new(&python)
        .args(["-c", "import openapi_python_client, httpx, attrs"])
        .output()
        .is_ok_and(|out| out.status.success());
    if installed {
        return Some(python);
    }
    let note = format!("no openapi-python-client for {} (`bash .ci/tools.sh system` installs it)", python.display());
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "{note}");
    eprintln!("openapi_client skipped: {note}");
    None
}

/// An access token of an admin client holding every admin scope.
async fn admin_token(t: &TestServer) -> String {
    let (id, secret) = t
        .client(ClientSpec {
            name: "Provisioning service".into(),
            grants: vec![GrantType::ClientCredentials],
            client_id: Some("provisioning".into()),
            ..ClientSpec::default()
        })
        .await;
    let scopes: Vec<String> = ADMIN_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    t.services.set_client_admin_scopes(&id, &scopes, None).await.expect("admin scopes");
    let secret = secret.expect("confidential");
    let (status, body) =
        t.token(&[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)]).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("access_token").to_owned()
}

/// Runs the driver against `t` (off the runtime's threads: the server answers it from them)
/// and returns what it printed.
async fn run_driver(python: PathBuf, t: &TestServer, token: String, username: &str, group: &str) -> Value {
    let args = [DRIVER.to_owned(), t.base.clone(), username.to_owned(), group.to_owned()];
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-W", "ignore"])
            .args(args)
            .env("YAOSHI_ADMIN_TOKEN", token)
            .env("YAOSHI_USER_PASSWORD", PW)
            .output()
            .expect("run the driver")
    })
    .await
    .expect("driver thread");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the driver failed ({}):\n{stderr}", out.status);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("driver output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

async fn generated_client_provisions_a_user_into_a_group(backend: Backend) {
    let Some(python) = generator_python() else { return };
    let t = TestServer::start(backend).await;
    let token = admin_token(&t).await;
    let rp = register_rp(&t).await;

    let report = run_driver(python, &t, token, "carol", "billing-team").await;

    // What the generated client parsed from the API's answers.
    let user = &report["user"];
    let id = user["id"].as_i64().unwrap_or_else(|| panic!("a user id: {report}"));
    assert_eq!(user["username"], "carol", "{report}");
    assert_eq!(user["display_name"], "carol (generated client)", "{report}");
    assert_eq!((&user["has_password"], &user["active"], &user["admin"]), (&json!(true), &json!(true), &json!(false)));
    assert_eq!((&report["conflict"]["status"], &report["conflict"]["type"]), (&json!(409), &json!("about:blank")));
    let group = &report["group"];
    assert_eq!(group["name"], "billing-team", "{report}");
    let group_id = group["id"].as_i64().expect("a group id");
    assert_eq!((&report["added"], &report["added_again"]), (&json!(201), &json!(204)), "{report}");
    assert_eq!(report["group_read"]["id"], json!(group_id), "{report}");
    assert_eq!(report["group_read"]["members"], json!([{"id": id, "username": "carol"}]), "{report}");
    let mine: Vec<&Value> = report["user_groups"]["groups"].as_array().expect("groups").iter().collect();
    assert_eq!(mine.iter().map(|g| &g["name"]).collect::<Vec<_>>(), [&json!("billing-team")], "{report}");

    // And the server agrees: carol exists with that password and membership.
    assert_eq!(t.services.groups_of(id).await.expect("groups").iter().map(|g| g.id).collect::<Vec<_>>(), [group_id]);

    // carol signs in with the password the client set and gets an ID Token naming the group.
    let b = browser();
    t.sign_in(&b, "carol", PW).await;
    let c = code(&t, &b, &rp, "openid groups", &[]).await;
    let (status, body) = redeem(&t, &rp, &c).await;
    assert_eq!(status, 200, "{body}");
    let keys = jwks(&t).await;
    let (_, claims) = verified(&t, &keys, body["id_token"].as_str().expect("id_token"), &rp.id, None);
    assert_eq!(claims["sub"], json!(id.to_string()), "{claims}");
    assert_eq!(claims["groups"], json!(["billing-team"]), "{claims}");
}

on_both_backends!(generated_client_provisions_a_user_into_a_group);
