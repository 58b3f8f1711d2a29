//! The `yaoshi` command line, run as an operator would: a real binary, a temp SQLite file.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("cli.db").display())
    }

    /// Runs `yaoshi ARGS` with `stdin` piped in.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yaoshi"))
            .args(args)
            .env("DATABASE_URL", self.db_url())
            .env_remove("YAOSHI_CONFIG")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn yaoshi");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    fn json(&self, args: &[&str], stdin: &str) -> Value {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_commands() {
    let out = Cli::new().run(&["--help"], "");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "user", "client"] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
    }
}

#[test]
fn users_are_created_listed_and_disabled() {
    let cli = Cli::new();
    let user = cli.json(
        &["user", "create", "Alice", "--email", "alice@example.com", "--password-stdin", "--json"],
        "correct horse\n",
    );
    assert_eq!(user["username"], "Alice");
    assert_eq!(user["active"], true);
    assert!(user.get("password_hash").is_none(), "the hash must never be printed");

    // Usernames are unique case-insensitively.
    let dup = cli.run(&["user", "create", "alice", "--password-stdin"], "another pass\n");
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already registered"), "{}", stderr(&dup));

    let short = cli.run(&["user", "create", "bob", "--password-stdin"], "short\n");
    assert!(!short.status.success());
    assert!(stderr(&short).contains("at least 8"), "{}", stderr(&short));

    assert!(cli.run(&["user", "disable", "ALICE"], "").status.success());
    let list = cli.json(&["user", "list", "--json"], "");
    assert_eq!(list["users"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["users"][0]["active"], false);

    assert!(cli.run(&["user", "set-password", "alice", "--password-stdin"], "a new password\n").status.success());
    let missing = cli.run(&["user", "disable", "nobody"], "");
    assert!(!missing.status.success());
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));
}

#[test]
fn clients_get_a_secret_once_and_can_rotate_it() {
    let cli = Cli::new();
    let created = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
            "--grant",
            "authorization_code",
            "--grant",
            "client_credentials",
            "--json",
        ],
        "",
    );
    let id = created["client_id"].as_str().expect("client_id").to_owned();
    let secret = created["client_secret"].as_str().expect("client_secret").to_owned();
    assert!(secret.starts_with("ycs_") && secret.len() >= 47, "secret too short: {secret}");
    assert_eq!(created["client_type"], "confidential");

    let shown = cli.json(&["client", "show", &id, "--json"], "");
    assert_eq!(shown["name"], "Shop");
    assert!(shown.get("client_secret").is_none(), "show must not reveal the secret");
    assert_eq!(shown["grant_types"], serde_json::json!(["authorization_code", "client_credentials"]));

    let rotated = cli.json(&["client", "rotate-secret", &id, "--json"], "");
    assert_ne!(rotated["client_secret"].as_str(), Some(secret.as_str()));

    // Password and implicit are off unless named; a public client gets no secret.
    let public = cli.json(
        &["client", "create", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1/cb", "--json"],
        "",
    );
    assert_eq!(public["client_secret"], Value::Null);
    assert_eq!(public["grant_types"], serde_json::json!(["authorization_code", "refresh_token"]));

    let bad = cli.run(&["client", "create", "--name", "Evil", "--redirect-uri", "javascript:alert(1)"], "");
    assert!(!bad.status.success());
    let bad_grant = cli.run(&["client", "create", "--name", "X", "--grant", "magic"], "");
    assert!(stderr(&bad_grant).contains("unknown grant"), "{}", stderr(&bad_grant));
    // A public client may not hold the password grant: anyone could use it unauthenticated.
    let public_password = cli.run(&["client", "create", "--name", "P", "--public", "--grant", "password"], "");
    assert!(!public_password.status.success());
    assert!(stderr(&public_password).contains("only for confidential clients"), "{}", stderr(&public_password));

    let list = cli.json(&["client", "list", "--json"], "");
    assert_eq!(list["clients"].as_array().map(Vec::len), Some(2));
    assert!(cli.run(&["client", "delete", &id], "").status.success());
    assert!(!cli.run(&["client", "show", &id], "").status.success());
}

#[test]
fn migrate_creates_the_sqlite_file() {
    let cli = Cli::new();
    let out = cli.run(&["migrate"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(cli.dir.path().join("cli.db").exists());
}

/// `yaoshi cleanup` deletes the expired rows once and says how many of each kind went.
#[test]
fn cleanup_reports_what_it_deleted() {
    let cli = Cli::new();
    assert!(cli.run(&["migrate"], "").status.success());
    let url = cli.db_url();
    tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        for (key, start) in [("old-1", 0), ("old-2", 0), ("old-3", 0), ("live", i64::MAX / 2)] {
            let sql = "INSERT INTO throttle (key, failures, window_start) VALUES ($1, 1, $2)";
            sqlx::query(sql).bind(key).bind(start).execute(&mut c).await.expect("insert");
        }
    });
    let report = cli.json(&["cleanup", "--json"], "");
    assert_eq!(report["deleted"]["throttle_windows"], 3, "{report}");
    assert_eq!(report["deleted"]["events"], 0, "{report}");
    assert_eq!(report["total"], 3, "{report}");
    let out = cli.run(&["cleanup"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("throttle_windows\t0") && text.contains("total\t0"), "{text}");
}

/// Bad configuration gives one readable line and a non-zero exit, never a panic.
#[test]
fn bad_configuration_fails_with_one_line() {
    let cli = Cli::new();
    let cfg = cli.dir.path().join("bad.toml");
    std::fs::write(&cfg, "auth_code_ttl = 3600\n").expect("write config");
    let typo = cli.dir.path().join("typo.toml");
    std::fs::write(&typo, "acces_token_ttl = 5\n").expect("write config");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--database-url", "mysql://x/y", "migrate"], "database_url"),
        (vec!["--database-url", "postgres://127.0.0.1:1/nothing", "--database-wait", "0", "migrate"], "refused"),
        (vec!["--database-url", "sqlite:///nonexistent-dir/x/y.db", "migrate"], "cannot open the database"),
        (vec!["--config", cfg.to_str().unwrap_or_default(), "migrate"], "auth_code_ttl"),
        (vec!["--config", typo.to_str().unwrap_or_default(), "migrate"], "config file"),
        (vec!["--issuer", "not a url", "migrate"], "issuer"),
    ];
    for (args, expected) in cases {
        let started = Instant::now();
        let out = cli.run(&args, "");
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: more than one line: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?} took too long");
    }
}

#[test]
fn serve_with_a_taken_port_fails_cleanly() {
    let cli = Cli::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let out = cli.run(&["serve", "--bind", &addr], "");
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim().lines().filter(|l| l.starts_with("yaoshi:")).count(), 1, "{}", stderr(&out));
}

/// Without `--issuer`, the server names itself by the address it listens on: a newcomer who
/// picks another port gets metadata that points back at that port.
#[test]
fn serve_without_an_issuer_advertises_its_own_port() {
    use std::io::Read;
    let cli = Cli::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", cli.db_url())
        .env_remove("YAOSHI_ISSUER")
        .env_remove("YAOSHI_CONFIG")
        .current_dir(cli.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn yaoshi serve");
    let get = || -> Option<String> {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            conn,
            "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer).ok()?;
        Some(answer)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        if let Some(answer) = get() {
            break answer;
        }
        assert!(Instant::now() < deadline, "the server did not answer on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let doc: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("discovery is not JSON ({e}): {answer}"));
    assert_eq!(doc["issuer"], format!("http://localhost:{port}"));
    assert_eq!(doc["token_endpoint"], format!("http://localhost:{port}/o/token/"));
    assert!(
        stderr(&out).contains(&format!("issuer=http://localhost:{port}")),
        "the start-up log names the issuer: {}",
        stderr(&out)
    );
}

#[test]
fn clients_get_origins_the_device_grant_and_a_token_policy() {
    let cli = Cli::new();
    let created = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Console",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:8001/cb",
            "--allowed-origin",
            "HTTP://127.0.0.1:8001",
            "--grant",
            "authorization_code",
            "--grant",
            "device_code",
            "--access-token-format",
            "jwt",
            "--resource",
            "https://api.example/",
            "--require-par",
            "--require-dpop",
            "--json",
        ],
        "",
    );
    let id = created["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(created["allowed_origins"], serde_json::json!(["http://127.0.0.1:8001"]), "normalised");
    assert_eq!(
        created["grant_types"],
        serde_json::json!(["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])
    );
    assert_eq!(
        (&created["access_token_format"], &created["resources"], &created["require_par"]),
        (&serde_json::json!("jwt"), &serde_json::json!(["https://api.example/"]), &serde_json::json!(true))
    );
    assert_eq!(created["require_dpop"], true);

    assert!(cli.run(&["client", "set-origins", &id, "--allowed-origin", "https://app.example"], "").status.success());
    assert!(cli.run(&["client", "set-token-policy", &id], "").status.success(), "back to the defaults");
    let shown = cli.json(&["client", "show", &id, "--json"], "");
    assert_eq!(shown["allowed_origins"], serde_json::json!(["https://app.example"]));
    assert_eq!(
        (&shown["access_token_format"], &shown["resources"], &shown["require_par"]),
        (&serde_json::json!("opaque"), &serde_json::json!([]), &serde_json::json!(false))
    );
    assert_eq!(shown["require_dpop"], false);

    for (bad, says) in [
        (vec!["--access-token-format", "paseto"], "unknown access token format"),
        (vec!["--resource", "https://api.example/#frag"], "fragment"),
        (vec!["--resource", "relative/path"], "absolute URI"),
    ] {
        let mut args = vec!["client", "set-token-policy", id.as_str()];
        args.extend(bad);
        let out = cli.run(&args, "");
        assert!(!out.status.success() && stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let bad_origin = cli.run(&["client", "set-origins", &id, "--allowed-origin", "https://app.example/path"], "");
    assert!(!bad_origin.status.success());
    let unknown = cli.run(&["client", "set-token-policy", "nobody"], "");
    assert!(!unknown.status.success());
}

/// `group`, `role`, `user update` and `client update`/`set-admin`: what the admin API does,
/// from the command line, with the same JSON shapes.
#[test]
fn groups_roles_and_updates_from_the_command_line() {
    let cli = Cli::new();
    let alice = cli.json(&["user", "create", "alice", "--password-stdin", "--json"], "correct horse\n");
    let app = cli.json(
        &[
            "client",
            "create",
            "--name",
            "Billing",
            "--client-id",
            "billing",
            "--redirect-uri",
            "https://b.example/cb",
            "--json",
        ],
        "",
    );
    assert_eq!(app["admin_scopes"], serde_json::json!([]));

    let staff = cli.json(&["group", "create", "staff", "--json"], "");
    assert_eq!(staff["name"], "staff");
    let taken = cli.run(&["group", "create", "STAFF"], "");
    assert!(!taken.status.success() && stderr(&taken).contains("exists already"), "{}", stderr(&taken));
    assert!(cli.run(&["group", "add-member", "staff", "alice"], "").status.success());
    let out = cli.run(&["role", "assign", "--client", "billing", "--role", "admin", "--group", "staff"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli.run(&["role", "assign", "--client", "billing", "--role", "viewer", "--user", "alice"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let both =
        cli.run(&["role", "assign", "--client", "billing", "--role", "x", "--user", "alice", "--group", "staff"], "");
    assert!(!both.status.success(), "one holder only");
    let unknown = cli.run(&["role", "assign", "--client", "nope", "--role", "x", "--user", "alice"], "");
    assert!(!unknown.status.success() && stderr(&unknown).contains("no client"), "{}", stderr(&unknown));

    let shown = cli.json(&["group", "show", "staff", "--json"], "");
    assert_eq!(shown["members"][0]["id"], alice["id"]);
    assert_eq!(shown["roles"][0]["role"], "admin");
    let roles = cli.json(&["role", "list", "--client", "billing", "--json"], "");
    assert_eq!(roles["roles"].as_array().map(Vec::len), Some(2), "{roles}");

    let renamed = cli.json(&["group", "rename", "staff", "crew", "--json"], "");
    assert_eq!((renamed["id"].clone(), renamed["name"].clone()), (staff["id"].clone(), "crew".into()));
    assert!(cli.run(&["group", "remove-member", "crew", "alice"], "").status.success());
    assert_eq!(cli.json(&["group", "show", "crew", "--json"], "")["members"], serde_json::json!([]));
    assert!(cli
        .run(&["role", "unassign", "--client", "billing", "--role", "admin", "--group", "crew"], "")
        .status
        .success());
    assert!(cli.run(&["group", "delete", "crew"], "").status.success());
    assert_eq!(cli.json(&["group", "list", "--json"], "")["groups"], serde_json::json!([]));
    assert_eq!(cli.json(&["role", "list", "--json"], "")["roles"].as_array().map(Vec::len), Some(1));

    let updated =
        cli.json(&["user", "update", "alice", "--name", "Alice A.", "--email", "a@example.com", "--json"], "");
    assert_eq!(
        (updated["display_name"].as_str(), updated["email"].as_str()),
        (Some("Alice A."), Some("a@example.com"))
    );
    assert_eq!(updated["email_verified"], false, "a new address is a claim");
    let bad = cli.run(&["user", "update", "alice", "--email", "not-an-address"], "");
    assert!(!bad.status.success());

    let changed = cli.json(
        &[
            "client",
            "update",
            "billing",
            "--name",
            "Billing 2",
            "--redirect-uri",
            "https://b.example/new",
            "--grant",
            "authorization_code",
            "--grant",
            "client_credentials",
            "--scope",
            "openid",
            "--scope",
            "groups",
            "--trusted",
            "true",
            "--json",
        ],
        "",
    );
    assert_eq!(changed["name"], "Billing 2");
    assert_eq!(changed["redirect_uris"], serde_json::json!(["https://b.example/new"]));
    assert_eq!(changed["scope"], "groups openid");
    assert_eq!(changed["trusted"], true);
    let kept = cli.json(&["client", "update", "billing", "--trusted", "false", "--json"], "");
    assert_eq!(
        (kept["name"].as_str(), kept["trusted"].as_bool()),
        (Some("Billing 2"), Some(false)),
        "only what is given"
    );
    let refused = cli.run(&["client", "update", "billing", "--redirect-uri", "javascript:x"], "");
    assert!(!refused.status.success());

    assert!(cli.run(&["client", "set-admin", "billing", "--scope", "admin:users:read"], "").status.success());
    assert_eq!(
        cli.json(&["client", "show", "billing", "--json"], "")["admin_scopes"],
        serde_json::json!(["admin:users:read"])
    );
    let wrong = cli.run(&["client", "set-admin", "billing", "--scope", "openid"], "");
    assert!(!wrong.status.success() && stderr(&wrong).contains("not an admin scope"), "{}", stderr(&wrong));
    let admin = cli.json(&["client", "create", "--name", "Ops", "--admin-scope", "admin:groups:write", "--json"], "");
    assert_eq!(admin["grant_types"], serde_json::json!(["client_credentials"]));
    assert_eq!(admin["admin_scopes"], serde_json::json!(["admin:groups:write"]));
    let public = cli.run(&["client", "create", "--name", "P", "--public", "--admin-scope", "admin:users:read"], "");
    assert!(!public.status.success(), "public clients have no client_credentials grant");
}
