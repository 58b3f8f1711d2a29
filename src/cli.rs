//! The command line: `serve`, `migrate`, `cleanup`, `user …`, `client …`, `group …`, `role …`, `keys …`, `import django`. Every command that
//! prints data takes `--json` (one JSON object on stdout); errors are one line on stderr and
//! exit 1.

use std::{io::BufRead, net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use crate::{
    config::{FileSettings, LogFormat, Settings},
    oauth::{jose::Alg, model::GrantType},
    service::{
        client_admin::ClientChanges, clients::ClientSpec, keys::KeyInfo, user_admin::ProfileChanges,
        users::Registration, ServiceError, Services,
    },
    store::{ClientRecord, ClientTokenPolicy, GroupRow, RoleAssignment, RoleHolder, User},
};

/// Yaoshi: an OAuth 2.0 / OpenID Connect authorization server and user system.
#[derive(Debug, Parser)]
#[command(name = "yaoshi", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// TOML file with settings (flags and environment override it).
    #[arg(long, env = "YAOSHI_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://FILE (default sqlite://yaoshi.db) or postgres://…
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Issuer URL, e.g. https://auth.example.com (default: http://<bind address>, with
    /// 127.0.0.1 named localhost).
    #[arg(long, env = "YAOSHI_ISSUER", global = true)]
    issuer: Option<String>,
    /// Access-token lifetime in seconds (default 3600).
    #[arg(long, env = "YAOSHI_ACCESS_TOKEN_TTL", global = true)]
    access_token_ttl: Option<i64>,
    /// Authorization-code lifetime in seconds (default 60, at most 600).
    #[arg(long, env = "YAOSHI_AUTH_CODE_TTL", global = true)]
    auth_code_ttl: Option<i64>,
    /// Seconds in which a just-rotated refresh token may be retried for the same new pair
    /// (default 0: off; at most 60).
    #[arg(long, env = "YAOSHI_REFRESH_GRACE", global = true)]
    refresh_grace: Option<i64>,
    /// Whether people may sign up at /o/register/ (default true).
    #[arg(long, env = "YAOSHI_REGISTRATION", global = true)]
    registration: Option<bool>,
    /// Log format.
    #[arg(long, env = "YAOSHI_LOG_FORMAT", global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// ID Token lifetime in seconds (default 3600).
    #[arg(long, env = "YAOSHI_ID_TOKEN_TTL", global = true)]
    id_token_ttl: Option<i64>,
    /// Algorithm that signs ID Tokens: RS256 (default) or ES256.
    #[arg(long, env = "YAOSHI_SIGNING_ALG", global = true)]
    signing_alg: Option<Alg>,
    /// Rotate the signing key automatically every this many days (default 90; 0: never).
    #[arg(long, env = "YAOSHI_KEY_ROTATION_DAYS", global = true)]
    key_rotation_days: Option<i64>,
    /// Seconds a new signing key is published before it signs (default 300).
    #[arg(long, env = "YAOSHI_KEY_PUBLISH_DELAY", global = true)]
    key_publish_delay: Option<i64>,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose Forwarded or
    /// X-Forwarded-For header names the client (default: none).
    #[arg(long, env = "YAOSHI_TRUSTED_PROXIES", global = true)]
    trusted_proxies: Option<String>,
    /// The header trusted proxies name the client in: x-forwarded-for (default) or forwarded.
    #[arg(long, env = "YAOSHI_FORWARDED_HEADER", global = true, value_enum)]
    forwarded_header: Option<crate::config::ForwardedHeader>,
    /// Address for GET /metrics, e.g. 127.0.0.1:9464 (default: off).
    #[arg(long, env = "YAOSHI_METRICS_BIND", global = true)]
    metrics_bind: Option<SocketAddr>,
    /// Seconds a request waits for the database before it answers 503 (default 2).
    #[arg(long, env = "YAOSHI_DATABASE_TIMEOUT", global = true)]
    database_timeout: Option<u64>,
    /// Seconds `serve` and `migrate` keep retrying a database that is not up yet (default 60).
    #[arg(long, env = "YAOSHI_DATABASE_WAIT", global = true)]
    database_wait: Option<u64>,
    /// SQLite durability: normal (survives a process crash, the default) or full (survives
    /// power loss too).
    #[arg(long, env = "YAOSHI_SQLITE_SYNCHRONOUS", global = true, value_enum)]
    sqlite_synchronous: Option<crate::config::SqliteSync>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on (default 127.0.0.1:9000).
        #[arg(long, env = "YAOSHI_BIND")]
        bind: Option<SocketAddr>,
        /// Create (once) a demo user and a demo client with every grant, and print them.
        #[arg(long)]
        demo: bool,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Delete expired rows once, in small batches (what `serve` does every ten minutes; safe
    /// while servers run), and print how many of each kind went.
    Cleanup {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage groups of users.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Give users or groups roles of a client (released with the `groups` scope).
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage the keys that sign ID Tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy users, applications and tokens from another system.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// From a django-oauth-toolkit database (read-only): users with their ids (the `sub`) and
    /// password hashes, applications with their client_id and secret, live access and refresh
    /// tokens. Safe to run again: only what changed at the source is written.
    Django {
        /// The Django database: sqlite://FILE or postgres://…
        #[arg(long)]
        source: String,
        /// Print what would change, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// A username Yaoshi does not accept, or one taken: skip the row or rename the account.
        #[arg(long, value_enum, default_value_t)]
        on_conflict: crate::service::django_import::OnConflict,
        /// Who becomes an admin: staff (is_staff or is_superuser), superuser, or none.
        #[arg(long, value_enum, default_value_t)]
        admin_from: crate::service::django_import::AdminFrom,
        /// Count Django's email addresses as verified (sign-in names and recovery addresses).
        #[arg(long)]
        emails_verified: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// Create a group (names are unique, case-insensitively).
    Create {
        /// 1-64 letters, digits, dots, underscores or hyphens.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rename a group.
    Rename {
        /// The group's current name.
        name: String,
        /// Its new name.
        new_name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a group with its memberships and role assignments.
    Delete {
        /// The group's name.
        name: String,
    },
    /// List groups.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a group, its members and its roles.
    Show {
        /// The group's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a user to a group.
    AddMember {
        /// The group's name.
        name: String,
        /// Username or email.
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// The group's name.
        name: String,
        /// Username or email.
        user: String,
    },
}

/// Whom a role is given to: one user or one group.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct RoleHolderArgs {
    /// Username or email.
    #[arg(long)]
    user: Option<String>,
    /// Group name.
    #[arg(long)]
    group: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Give a role of a client to a user or group.
    Assign {
        /// The client_id whose role it is.
        #[arg(long)]
        client: String,
        /// The role (1-64 ASCII letters, digits, `.`, `_`, `-`, `:`).
        #[arg(long)]
        role: String,
        #[command(flatten)]
        holder: RoleHolderArgs,
    },
    /// Take a role of a client from a user or group.
    Unassign {
        /// The client_id whose role it is.
        #[arg(long)]
        client: String,
        /// The role.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        holder: RoleHolderArgs,
    },
    /// List role assignments.
    List {
        /// Only this client's.
        #[arg(long)]
        client: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Publish a new signing key now; it signs after the publish delay, and the current key
    /// stays published until every token it signed has expired.
    Rotate {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys (public data only) and where each is in its life.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password comes from a prompt or --password-stdin.
    Create {
        /// The username (unique, case-insensitively).
        username: String,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
        /// The email address is known to be the user's: it signs in and receives resets at
        /// once (otherwise it is a claim until the user opens the link sent to it).
        #[arg(long, requires = "email")]
        email_verified: bool,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (prompt or --password-stdin).
    SetPassword {
        /// Username or email.
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: they can no longer sign in or obtain tokens.
    Disable {
        /// Username or email.
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Username or email.
        username: String,
    },
    /// Change a user's profile: only what is given changes.
    Update {
        /// Username or email.
        username: String,
        /// The email address (an empty value removes it; a new one is unverified until its
        /// owner confirms it).
        #[arg(long)]
        email: Option<String>,
        /// The display name.
        #[arg(long)]
        name: Option<String>,
        /// The phone number (an empty value removes it; a new one is unverified until its
        /// owner confirms it).
        #[arg(long)]
        phone: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every second factor and recovery code of a user who lost them: they sign in
    /// with the password alone again and may enrol anew. Recorded as an admin action.
    ResetFactors {
        /// Username or email.
        username: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Register a client. Prints its client_id and (confidential clients) its secret, once.
    Create {
        /// Name shown on the consent page.
        #[arg(long)]
        name: String,
        /// A public client (no secret: browser or native apps).
        #[arg(long)]
        public: bool,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A grant: authorization_code, refresh_token, client_credentials, password, implicit,
        /// device_code (RFC 8628; also by its URN), wechat_mini_program (`/o/login/wechat-mp/`)
        /// (repeatable; default authorization_code and refresh_token).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// A scope the client may ask for (repeatable; default all).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Skip the consent page for this client.
        #[arg(long)]
        trusted: bool,
        /// Use this client_id instead of a random one.
        #[arg(long)]
        client_id: Option<String>,
        /// Read a chosen secret from standard input instead of generating one.
        #[arg(long)]
        secret_stdin: bool,
        /// Where the browser may be sent after RP-initiated logout (repeatable, exact).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where logout tokens are POSTed when a session the client took part in ends.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// A web origin (scheme://host[:port]) whose pages may call the token, revocation,
        /// introspection and user info endpoints (CORS; repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// How its access tokens are issued and its requests made.
        #[command(flatten)]
        tokens: TokenPolicyArgs,
        /// Make it an admin client holding this admin API scope (repeatable: admin:users:read,
        /// admin:users:write, admin:groups:read, admin:groups:write, admin:clients:read,
        /// admin:clients:write, admin:events:read). Without --grant, its grant is then
        /// client_credentials alone.
        #[arg(long = "admin-scope")]
        admin_scopes: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a client's registration: only what is given changes (a repeatable option
    /// given once or more replaces the whole list).
    Update {
        /// The client_id.
        client_id: String,
        /// Name shown on the consent page.
        #[arg(long)]
        name: Option<String>,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A grant (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// A scope the client may ask for (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Skip the consent page (true or false).
        #[arg(long)]
        trusted: Option<bool>,
        /// Where the browser may be sent after RP-initiated logout (repeatable, exact).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where logout tokens are POSTed (an empty value removes it).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// A web origin for CORS (repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace the admin API scopes of a client (none given: an ordinary client again).
    SetAdmin {
        /// The client_id.
        client_id: String,
        /// An admin API scope (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Replace how a client's access tokens are issued (opaque or JWT, their audiences) and
    /// whether its authorization requests must be pushed.
    SetTokenPolicy {
        /// The client_id.
        client_id: String,
        /// The policy (what is not given is reset to its default).
        #[command(flatten)]
        tokens: TokenPolicyArgs,
    },
    /// Replace a client's web origins (CORS); none given clears them.
    SetOrigins {
        /// The client_id.
        client_id: String,
        /// A web origin (scheme://host[:port]; repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
    },
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one client.
    Show {
        /// The client_id.
        client_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace a confidential client's secret; prints the new one, once.
    RotateSecret {
        /// The client_id.
        client_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client and everything issued to it.
    Delete {
        /// The client_id.
        client_id: String,
    },
}

/// Why a command failed: printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("{0}")]
    Service(#[from] ServiceError),
    #[error("{0}")]
    Usage(String),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Parses the command line and runs it.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yaoshi: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The settings from flags, environment and file, and whether the issuer was guessed from an
/// unspecified bind address (which the caller warns about once logging is up).
fn settings(g: &GlobalArgs, bind: Option<SocketAddr>) -> Result<(Settings, bool), CliError> {
    let file = match &g.config {
        Some(path) => FileSettings::load(path)?,
        None => FileSettings::default(),
    };
    let d = Settings::default();
    let bind = bind.or(file.bind).unwrap_or(d.bind);
    let (issuer, guessed) = match g.issuer.clone().or(file.issuer) {
        Some(issuer) => (issuer, false),
        None => {
            let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
            crate::config::issuer_for_bind(bind, hostname.as_deref())
        }
    };
    let s = Settings {
        bind,
        database_url: g.database_url.clone().or(file.database_url).unwrap_or(d.database_url),
        issuer,
        access_token_ttl: g.access_token_ttl.or(file.access_token_ttl).unwrap_or(d.access_token_ttl),
        refresh_token_ttl: file.refresh_token_ttl.unwrap_or(d.refresh_token_ttl),
        auth_code_ttl: g.auth_code_ttl.or(file.auth_code_ttl).unwrap_or(d.auth_code_ttl),
        refresh_grace: g.refresh_grace.or(file.refresh_grace).unwrap_or(d.refresh_grace),
        scopes: file.scopes.unwrap_or(d.scopes),
        argon2: file.argon2.unwrap_or(d.argon2),
        log_format: g.log_format.or(file.log_format).unwrap_or(d.log_format),
        registration: g.registration.or(file.registration).unwrap_or(d.registration),
        id_token_ttl: g.id_token_ttl.or(file.id_token_ttl).unwrap_or(d.id_token_ttl),
        signing_alg: g.signing_alg.or(file.signing_alg).unwrap_or(d.signing_alg),
        key_rotation_days: g.key_rotation_days.or(file.key_rotation_days).unwrap_or(d.key_rotation_days),
        key_publish_delay: g.key_publish_delay.or(file.key_publish_delay).unwrap_or(d.key_publish_delay),
        providers: crate::config::resolve_providers(file.providers.unwrap_or_default(), &|k| std::env::var(k).ok())?,
        implicit_token_ttl: file.implicit_token_ttl.unwrap_or(d.implicit_token_ttl),
        trusted_proxies: match &g.trusted_proxies {
            Some(list) => crate::config::proxies::parse_list(list)
                .map_err(|e| crate::config::ConfigError::Invalid { key: "trusted_proxies", reason: e.to_string() })?,
            None => file.trusted_proxies.unwrap_or(d.trusted_proxies),
        },
        forwarded_header: g.forwarded_header.or(file.forwarded_header).unwrap_or(d.forwarded_header),
        throttle: file.throttle.unwrap_or(d.throttle),
        event_retention_days: file.event_retention_days.unwrap_or(d.event_retention_days),
        metrics_bind: g.metrics_bind.or(file.metrics_bind),
        limits: file.limits.unwrap_or(d.limits),
        logout_retry_base: file.logout_retry_base.unwrap_or(d.logout_retry_base),
        database: {
            let mut db = file.database.unwrap_or(d.database);
            db.timeout_secs = g.database_timeout.unwrap_or(db.timeout_secs);
            db.startup_wait_secs = g.database_wait.unwrap_or(db.startup_wait_secs);
            db.sqlite_synchronous = g.sqlite_synchronous.unwrap_or(db.sqlite_synchronous);
            db
        },
        contacts: file.contacts.unwrap_or(d.contacts),
        // The secrets only from the file or the environment: flags would show in `ps`.
        notify: crate::config::NotifySettings::resolve(file.mail, file.sms, &|k| std::env::var(k).ok()),
        captcha: crate::config::CaptchaSettings::resolve(file.captcha, &|k| std::env::var(k).ok()),
        second_factors: crate::config::FactorSettings::resolve(file.second_factors, &|k| std::env::var(k).ok()),
        dpop_nonce: file.dpop_nonce.unwrap_or(d.dpop_nonce),
    };
    s.validate()?;
    Ok((s, guessed))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("YAOSHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only for a person at a terminal: a log file or collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Pause between two attempts to reach the database at startup.
const STARTUP_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the database. With `wait` (the server and `migrate`, which an orchestrator may start
/// before the database is up), a PostgreSQL database that does not answer is tried again every two
/// seconds for up to `database.startup_wait_secs`, with one log line per attempt; a schema
/// that cannot be migrated is not retried. Other commands fail at once.
async fn open(s: Settings, wait: bool) -> Result<Services, CliError> {
    let url = crate::config::redact_url(&s.database_url);
    // An SQLite file that cannot be opened will not appear by waiting: only a server is waited for.
    let wait = wait && !s.database_url.starts_with("sqlite:");
    let deadline = tokio::time::Instant::now() + if wait { s.database.startup_wait() } else { Default::default() };
    let mut attempt = 1u32;
    let store = loop {
        match crate::store::connect(&s.database_url, &s.database).await {
            Ok(store) => break store,
            Err(crate::store::StoreError::Unavailable(reason))
                if tokio::time::Instant::now() + STARTUP_RETRY < deadline =>
            {
                tracing::warn!(attempt, %url, %reason, "the database is not reachable yet; trying again in 2 s");
                tokio::time::sleep(STARTUP_RETRY).await;
                attempt += 1;
            }
            Err(e) => return Err(CliError::Database { url, reason: e.to_string() }),
        }
    };
    if attempt > 1 {
        tracing::info!(attempt, "the database is reachable");
    }
    Ok(Services::new(store, s)?)
}

async fn execute(cli: Cli) -> Result<(), CliError> {
    let bind = match &cli.command {
        Command::Serve { bind, .. } => *bind,
        _ => None,
    };
    let (s, issuer_guessed) = settings(&cli.global, bind)?;
    init_logging(s.log_format);
    if issuer_guessed && matches!(cli.command, Command::Serve { .. }) {
        tracing::warn!(issuer = %s.issuer, "listening on every interface: set --issuer (YAOSHI_ISSUER) to the URL clients use");
    }
    let addr = s.bind;
    let wait = matches!(cli.command, Command::Serve { .. } | Command::Migrate);
    let services = open(s, wait).await?;
    match cli.command {
        Command::Serve { demo, .. } => {
            if demo {
                crate::service::demo::ensure(&services).await?.print();
            }
            crate::server::serve(services, addr).await?;
        }
        Command::Migrate => println!("database is up to date ({})", services.store.backend()),
        Command::Cleanup { json } => {
            let c = services.purge_expired().await.map_err(ServiceError::from)?;
            let kinds: serde_json::Map<String, Value> =
                c.kinds.iter().map(|k| (k.kind.to_owned(), json!(k.rows))).collect();
            emit(json, json!({"deleted": kinds, "total": c.total()}), || {
                let mut lines: Vec<String> = c.kinds.iter().map(|k| format!("{}\t{}", k.kind, k.rows)).collect();
                lines.push(format!("total\t{}", c.total()));
                lines.join("\n")
            });
        }
        Command::User(cmd) => user_command(&services, cmd).await?,
        Command::Client(cmd) => client_command(&services, cmd).await?,
        Command::Group(cmd) => group_command(&services, cmd).await?,
        Command::Role(cmd) => role_command(&services, cmd).await?,
        Command::Keys(cmd) => keys_command(&services, cmd).await?,
        Command::Import(cmd) => import_command(&services, cmd).await?,
    }
    Ok(())
}

async fn import_command(s: &Services, cmd: ImportCommand) -> Result<(), CliError> {
    let ImportCommand::Django { source, dry_run, on_conflict, admin_from, emails_verified, json } = cmd;
    let options = crate::service::django_import::ImportOptions { dry_run, on_conflict, admin_from, emails_verified };
    let report = s.import_django(&source, options).await?;
    let value = serde_json::to_value(&report).map_err(|e| CliError::Usage(e.to_string()))?;
    emit(json, value, || {
        let mut lines = vec![format!("{}{} changes", if report.dry_run { "dry run: " } else { "" }, report.changes)];
        for (kind, t) in [
            ("users", &report.users),
            ("applications", &report.applications),
            ("access_tokens", &report.access_tokens),
            ("refresh_tokens", &report.refresh_tokens),
        ] {
            lines.push(format!(
                "{kind}\tcreated {}\tupdated {}\tunchanged {}\tskipped {}\texpired {}",
                t.created, t.updated, t.unchanged, t.skipped, t.expired
            ));
        }
        for (algorithm, n) in &report.password_hashes {
            lines.push(format!("password hashes\t{algorithm}\t{n}"));
        }
        if report.unexpired_grants_skipped > 0 {
            lines.push(format!(
                "authorization codes not imported\t{} (their clients restart the sign-in)",
                report.unexpired_grants_skipped
            ));
        }
        for i in &report.issues {
            lines.push(format!("{} {}: {}: {}", i.kind, i.source_id, i.problem, i.resolution));
        }
        lines.join("\n")
    });
    Ok(())
}

/// Reads a secret from the first line of stdin, or from a prompt on the terminal.
fn read_secret(from_stdin: bool, prompt: &str) -> Result<String, CliError> {
    let line = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    } else {
        rpassword::prompt_password(prompt).map_err(|e| CliError::Usage(format!("cannot read a password: {e}")))?
    };
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(CliError::Usage("empty password".into()));
    }
    Ok(secret)
}

fn emit(json: bool, value: Value, text: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "username": u.username, "email": u.email, "email_verified": u.email_verified,
           "phone_number": u.phone_number, "phone_number_verified": u.phone_verified, "display_name": u.display_name,
           "active": u.active, "admin": u.admin, "created_at": u.created_at})
}

fn client_json(r: &ClientRecord, allowed_origins: &[String], tokens: &ClientTokenPolicy, admin: &[String]) -> Value {
    let c = &r.client;
    json!({"client_id": c.client_id, "name": c.name, "allowed_origins": allowed_origins, "admin_scopes": admin,
           "access_token_format": tokens.format.as_str(), "resources": tokens.resources,
           "require_par": tokens.require_par, "require_dpop": tokens.require_dpop,
           "client_type": if c.confidential { "confidential" } else { "public" },
           "redirect_uris": c.redirect_uris, "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
           "scope": c.scopes.to_string(), "trusted": c.trusted, "owner_id": r.owner_id, "created_at": r.created_at})
}

async fn user_command(s: &Services, cmd: UserCommand) -> Result<(), CliError> {
    match cmd {
        UserCommand::Create { username, email, email_verified, name, admin, password_stdin, json } => {
            let password = read_secret(password_stdin, "Password: ")?;
            let registration = Registration {
                username,
                email,
                email_verified,
                display_name: name,
                password: Some(password),
                admin,
                locale: None,
            };
            let user = s.create_user(registration).await?;
            let event = crate::service::events::Event::new(crate::service::events::kind::ACCOUNT_CREATED);
            s.record(event.user(user.id).detail("operator"), &Default::default()).await;
            emit(json, user_json(&user), || format!("created user {} (id {})", user.username, user.id));
        }
        UserCommand::SetPassword { username, password_stdin } => {
            let password = read_secret(password_stdin, "New password: ")?;
            s.set_password(&username, &password).await?;
            println!("password changed for {username}");
        }
        UserCommand::List { json } => {
            let users = s.store.list_users().await.map_err(ServiceError::from)?;
            emit(json, json!({"users": users.iter().map(user_json).collect::<Vec<_>>()}), || {
                users
                    .iter()
                    .map(|u| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            u.id,
                            u.username,
                            u.email.as_deref().unwrap_or("-"),
                            if u.active { "active" } else { "disabled" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        UserCommand::Disable { username } => {
            let u = s.set_active(&username, false).await?;
            println!("disabled {}", u.username);
        }
        UserCommand::Enable { username } => {
            let u = s.set_active(&username, true).await?;
            println!("enabled {}", u.username);
        }
        UserCommand::Update { username, email, name, phone, json } => {
            let user = s.find_user(&username).await?;
            let changes = ProfileChanges { display_name: name, email, phone_number: phone };
            let user = s.change_profile(user.id, &changes).await?;
            emit(json, user_json(&user), || format!("updated {}", user.username));
        }
        UserCommand::ResetFactors { username, json } => {
            let (u, removed) = s.operator_reset_factors(&username).await?;
            emit(json, json!({"id": u.id, "username": u.username, "factors_removed": removed}), || {
                format!("removed {removed} second factor(s) and every recovery code of {}", u.username)
            });
        }
    }
    Ok(())
}

/// A client's token policy on the command line.
#[derive(clap::Args, Debug)]
struct TokenPolicyArgs {
    /// `opaque` (default) or `jwt` (RFC 9068: resource servers verify them offline).
    #[arg(long, default_value = "opaque")]
    access_token_format: String,
    /// A resource server its tokens are for (RFC 8707; an absolute URI, the `aud` of JWT
    /// access tokens; repeatable).
    #[arg(long = "resource")]
    resources: Vec<String>,
    /// Its authorization requests must be pushed to `/o/par/` first (RFC 9126).
    #[arg(long)]
    require_par: bool,
    /// Its token requests must carry a DPoP proof (RFC 9449): every token it gets is bound to
    /// the client's key.
    #[arg(long)]
    require_dpop: bool,
}

impl TokenPolicyArgs {
    fn policy(self) -> Result<ClientTokenPolicy, CliError> {
        Ok(ClientTokenPolicy {
            format: self.access_token_format.parse().map_err(CliError::Usage)?,
            resources: self.resources,
            require_par: self.require_par,
            require_dpop: self.require_dpop,
        })
    }
}

async fn client_command(s: &Services, cmd: ClientCommand) -> Result<(), CliError> {
    match cmd {
        ClientCommand::Create {
            name,
            public,
            redirect_uris,
            grants,
            scopes,
            trusted,
            client_id,
            secret_stdin,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            allowed_origins,
            tokens,
            admin_scopes,
            json,
        } => {
            let policy = crate::service::clients::checked_token_policy(tokens.policy()?)?;
            let grants = if grants.is_empty() && !admin_scopes.is_empty() {
                vec!["client_credentials".to_owned()]
            } else {
                grants
            };
            let logout = crate::store::LogoutSettings { post_logout_redirect_uris, backchannel_logout_uri };
            let grants = parse_grants(&grants)?;
            let secret = if secret_stdin { Some(read_secret(true, "")?) } else { None };
            let created = s
                .create_client(ClientSpec {
                    name,
                    public,
                    redirect_uris,
                    grants,
                    scopes,
                    trusted,
                    client_id,
                    secret,
                    owner_id: None,
                    logout,
                    allowed_origins,
                })
                .await?;
            let client_id = &created.record.client.client_id;
            s.set_client_token_policy(client_id, policy).await?;
            if !admin_scopes.is_empty() {
                s.set_client_admin_scopes(client_id, &admin_scopes, None).await?;
            }
            let mut value = client_value(s, &created.record).await?;
            value["client_secret"] = json!(created.secret);
            emit(json, value, || {
                let mut out = format!("client_id: {}", created.record.client.client_id);
                if let Some(secret) = &created.secret {
                    out.push_str(&format!("\nclient_secret: {secret}\n(shown once: store it now)"));
                }
                out
            });
        }
        ClientCommand::List { json } => {
            let clients = s.store.list_clients().await.map_err(ServiceError::from)?;
            let mut listed = Vec::new();
            for r in &clients {
                listed.push(client_value(s, r).await?);
            }
            emit(json, json!({"clients": listed}), || {
                clients
                    .iter()
                    .map(|r| format!("{}\t{}", r.client.client_id, r.client.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ClientCommand::Show { client_id, json } => {
            let r = s.find_client(&client_id).await?;
            let value = client_value(s, &r).await?;
            emit(json, value.clone(), || serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        ClientCommand::Update {
            client_id,
            name,
            redirect_uris,
            grants,
            scopes,
            trusted,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            allowed_origins,
            json,
        } => {
            let given = |v: Vec<String>| (!v.is_empty()).then_some(v);
            let changes = ClientChanges {
                name,
                redirect_uris: given(redirect_uris),
                grants: given(grants).map(|g| parse_grants(&g)).transpose()?,
                scopes: given(scopes),
                trusted,
                post_logout_redirect_uris: given(post_logout_redirect_uris),
                backchannel_logout_uri: backchannel_logout_uri.map(|u| Some(u).filter(|u| !u.is_empty())),
                allowed_origins: given(allowed_origins),
            };
            let r = s.update_client(&client_id, &changes, None).await?;
            let value = client_value(s, &r).await?;
            emit(json, value, || format!("updated {client_id}"));
        }
        ClientCommand::SetAdmin { client_id, scopes } => {
            let set = s.set_client_admin_scopes(&client_id, &scopes, None).await?;
            println!("admin scopes of {client_id}: {}", if set.is_empty() { "none".into() } else { set.join(" ") });
        }
        ClientCommand::SetOrigins { client_id, allowed_origins } => {
            s.find_client(&client_id).await?;
            s.set_client_origins(&client_id, &allowed_origins).await?;
            let origins = s.client_origins(&client_id).await?;
            println!(
                "allowed origins of {client_id}: {}",
                if origins.is_empty() { "none".into() } else { origins.join(" ") }
            );
        }
        ClientCommand::SetTokenPolicy { client_id, tokens } => {
            s.set_client_token_policy(&client_id, tokens.policy()?).await?;
            let p = s.client_token_policy(&client_id).await?;
            println!(
                "{client_id}: {} access tokens, resources: {}, pushed requests {}, DPoP {}",
                p.format,
                if p.resources.is_empty() { "none".into() } else { p.resources.join(" ") },
                if p.require_par { "required" } else { "optional" },
                if p.require_dpop { "required" } else { "optional" }
            );
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let secret = s.rotate_client_secret(&client_id).await?;
            emit(json, json!({"client_id": client_id, "client_secret": secret}), || {
                format!("client_secret: {secret}\n(shown once: store it now)")
            });
        }
        ClientCommand::Delete { client_id } => {
            s.delete_client(&client_id).await?;
            println!("deleted {client_id}");
        }
    }
    Ok(())
}

/// Grant names as the command line takes them (`device_code` short for its URN).
fn parse_grants(grants: &[String]) -> Result<Vec<GrantType>, CliError> {
    Ok(grants.iter().map(|g| crate::service::client_admin::parse_grant(g)).collect::<Result<_, _>>()?)
}

/// A client as `--json` prints it, with its origins, token policy and admin scopes.
async fn client_value(s: &Services, r: &ClientRecord) -> Result<Value, CliError> {
    let id = &r.client.client_id;
    let origins = s.client_origins(id).await?;
    let policy = s.client_token_policy(id).await?;
    Ok(client_json(r, &origins, &policy, &s.client_admin_scopes(id).await?))
}

fn group_json(g: &GroupRow) -> Value {
    json!({"id": g.id, "name": g.name, "created_at": g.created_at, "updated_at": g.updated_at})
}

fn role_json(r: &RoleAssignment) -> Value {
    json!({"client_id": r.client_id, "role": r.role, "user_id": r.user_id, "group_id": r.group_id,
           "created_at": r.created_at})
}

async fn group_command(s: &Services, cmd: GroupCommand) -> Result<(), CliError> {
    match cmd {
        GroupCommand::Create { name, json } => {
            let g = s.create_group(&name, None).await?;
            emit(json, group_json(&g), || format!("created group {} (id {})", g.name, g.id));
        }
        GroupCommand::Rename { name, new_name, json } => {
            let g = s.group_named(&name).await?;
            let g = s.rename_group(g.id, &new_name, None).await?;
            emit(json, group_json(&g), || format!("renamed {name} to {}", g.name));
        }
        GroupCommand::Delete { name } => {
            let g = s.group_named(&name).await?;
            s.delete_group(g.id, None).await?;
            println!("deleted group {}", g.name);
        }
        GroupCommand::List { json } => {
            let mut groups: Vec<GroupRow> = Vec::new();
            // Every page: bounded by the number of groups, each page moving past the last id.
            loop {
                let page = s.list_groups(groups.last().map_or(0, |g| g.id), 1000).await?;
                let full = page.len() == 1000;
                groups.extend(page);
                if !full {
                    break;
                }
            }
            emit(json, json!({"groups": groups.iter().map(group_json).collect::<Vec<_>>()}), || {
                groups.iter().map(|g| format!("{}\t{}", g.id, g.name)).collect::<Vec<_>>().join("\n")
            });
        }
        GroupCommand::Show { name, json } => {
            let g = s.group_named(&name).await?;
            let members = s.group_members(g.id).await?;
            let roles: Vec<RoleAssignment> =
                s.role_assignments(None).await?.into_iter().filter(|r| r.group_id == Some(g.id)).collect();
            let mut value = group_json(&g);
            value["members"] = json!(members.iter().map(user_json).collect::<Vec<_>>());
            value["roles"] = json!(roles.iter().map(role_json).collect::<Vec<_>>());
            emit(json, value, || {
                let mut lines = vec![format!("group {} (id {})", g.name, g.id)];
                lines.extend(members.iter().map(|u| format!("member\t{}\t{}", u.id, u.username)));
                lines.extend(roles.iter().map(|r| format!("role\t{}\t{}", r.client_id, r.role)));
                lines.join("\n")
            });
        }
        GroupCommand::AddMember { name, user } => {
            let g = s.group_named(&name).await?;
            let u = s.find_user(&user).await?;
            let added = s.add_group_member(g.id, u.id, None).await?;
            println!("{} {} {}", u.username, if added { "added to" } else { "was already in" }, g.name);
        }
        GroupCommand::RemoveMember { name, user } => {
            let g = s.group_named(&name).await?;
            let u = s.find_user(&user).await?;
            let removed = s.remove_group_member(g.id, u.id, None).await?;
            println!("{} {} {}", u.username, if removed { "removed from" } else { "was not in" }, g.name);
        }
    }
    Ok(())
}

async fn role_holder(s: &Services, h: RoleHolderArgs) -> Result<(RoleHolder, String), CliError> {
    match (h.user, h.group) {
        (Some(user), None) => {
            let u = s.find_user(&user).await?;
            Ok((RoleHolder::User(u.id), format!("user {}", u.username)))
        }
        (None, Some(group)) => {
            let g = s.group_named(&group).await?;
            Ok((RoleHolder::Group(g.id), format!("group {}", g.name)))
        }
        _ => Err(CliError::Usage("name exactly one of --user and --group".into())),
    }
}

async fn role_command(s: &Services, cmd: RoleCommand) -> Result<(), CliError> {
    match cmd {
        RoleCommand::Assign { client, role, holder } => {
            let (holder, who) = role_holder(s, holder).await?;
            let added = s.assign_role(&client, &role, holder, None).await?;
            println!("{who} {} {role} of {client}", if added { "now holds" } else { "already held" });
        }
        RoleCommand::Unassign { client, role, holder } => {
            let (holder, who) = role_holder(s, holder).await?;
            let removed = s.unassign_role(&client, &role, holder, None).await?;
            println!("{who} {} {role} of {client}", if removed { "no longer holds" } else { "did not hold" });
        }
        RoleCommand::List { client, json } => {
            let roles = s.role_assignments(client.as_deref()).await?;
            emit(json, json!({"roles": roles.iter().map(role_json).collect::<Vec<_>>()}), || {
                roles
                    .iter()
                    .map(|r| {
                        let holder = match (r.user_id, r.group_id) {
                            (Some(u), _) => format!("user {u}"),
                            (_, Some(g)) => format!("group {g}"),
                            _ => "-".into(),
                        };
                        format!("{}\t{}\t{holder}", r.client_id, r.role)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn key_json(k: &KeyInfo) -> Value {
    json!({"kid": k.kid, "alg": k.alg, "state": k.state.as_str(), "created_at": k.created_at,
           "active_from": k.active_from, "retired_at": k.retired_at, "published_until": k.published_until})
}

async fn keys_command(s: &Services, cmd: KeysCommand) -> Result<(), CliError> {
    match cmd {
        KeysCommand::Rotate { json } => {
            let r = s.rotate_signing_key().await?;
            let value = json!({"kid": r.new.kid, "alg": r.new.alg, "active_from": r.new.active_from,
                               "retired_kid": r.retired.as_ref().map(|k| &k.kid),
                               "retired_published_until": r.retired.as_ref().and_then(|k| k.published_until)});
            emit(json, value, || match &r.retired {
                Some(old) => format!(
                    "new key {} ({}) signs from {}; key {} stops signing then and stays published until {}",
                    r.new.kid,
                    r.new.alg,
                    r.new.active_from,
                    old.kid,
                    old.published_until.unwrap_or_default()
                ),
                None => format!("created the first signing key {} ({})", r.new.kid, r.new.alg),
            });
        }
        KeysCommand::List { json } => {
            let keys = s.signing_keys().await?;
            emit(json, json!({"keys": keys.iter().map(key_json).collect::<Vec<_>>()}), || {
                if keys.is_empty() {
                    return "no signing keys yet (the server makes one at start)".to_owned();
                }
                keys.iter()
                    .map(|k| {
                        format!(
                            "{}\t{}\t{}\tactive_from={}\tpublished_until={}",
                            k.kid,
                            k.alg,
                            k.state.as_str(),
                            k.active_from,
                            k.published_until.map_or_else(|| "-".to_owned(), |t| t.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}
