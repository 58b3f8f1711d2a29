//! Test harness: a real Yaoshi server on a loopback port over a fresh database, on SQLite (a
//! temp file) or PostgreSQL (a fresh database in the cluster named by `YAOSHI_TEST_POSTGRES`,
//! which the README's test command starts).
#![allow(dead_code)]

pub mod capture;
pub mod cluster;
pub mod fake_sms;
pub mod mailbox;
pub mod nginx;
pub mod oauth;
pub mod oidc;
pub mod process;
pub mod raw;

use std::sync::Arc;

use serde_json::Value;
use yaoshi::{
    config::{Argon2Params, Settings},
    service::{clients::ClientSpec, users::Registration, Services},
    store::Store,
};

/// No test request may take longer: a hang fails with the request that hung.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The `Location` header of a response, if any.
pub fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A browser-like client: keeps cookies, follows no redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

/// Which back end a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    /// A temp SQLite file.
    Sqlite,
    /// A fresh database in the test PostgreSQL cluster.
    Postgres,
}

/// Generates one `#[tokio::test]` per back end for each listed async test body
/// `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { super::$name($crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { super::$name($crate::common::Backend::Postgres).await } )*
        }
    };
}

/// A database for one test; dropping it removes the SQLite file's directory.
pub struct TestDb {
    /// The URL to connect with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database that lives elsewhere (another server's, or a private cluster's).
    pub fn at(url: &str) -> Self {
        Self { url: url.to_owned(), _dir: None }
    }
}

/// Creates an empty database on `backend`.
pub async fn fresh_database(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            TestDb { url, _dir: Some(dir) }
        }
        Backend::Postgres => {
            let admin = std::env::var("YAOSHI_TEST_POSTGRES").expect(
                "YAOSHI_TEST_POSTGRES is not set: run the tests with the README's test command, which starts PostgreSQL",
            );
            let name = format!("t_{}", yaoshi::crypto::random_id());
            let mut conn =
                <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect to test PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
            TestDb { url: format!("{base}/{name}"), _dir: None }
        }
    }
}

/// Settings for tests: cheap argon2 so that hundreds of hashes stay fast.
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        argon2: Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 },
        ..Settings::default()
    }
}

/// A running server (or, from [`TestServer::through`], the same server reached through a proxy):
/// its accept loop and its back-channel logout delivery, as `serve` runs them.
#[derive(Clone)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The services behind it, for setting up users and clients.
    pub services: Services,
    /// An HTTP client that follows no redirects.
    pub http: reqwest::Client,
    /// The mail and SMS the server sent.
    pub sent: Arc<capture::Captured>,
    _db: Arc<TestDb>,
    tasks: Arc<Tasks>,
}

/// A server's background tasks, shared by its clones: they end with the last clone, or at
/// [`TestServer::stop`].
struct Tasks {
    accept: tokio::task::JoinHandle<()>,
    delivery: std::sync::Mutex<Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
    messages: std::sync::Mutex<Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.accept.abort();
        if let Some((_, worker)) = self.delivery.get_mut().ok().and_then(|d| d.take()) {
            worker.abort();
        }
        if let Some((_, worker)) = self.messages.get_mut().ok().and_then(|d| d.take()) {
            worker.abort();
        }
    }
}

impl TestServer {
    /// Starts a server on `backend` with default test settings.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server on `backend`, letting the test adjust the settings first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start_on(Arc::new(fresh_database(backend).await), adjust).await
    }

    /// Starts another server on this one's database, as a second instance of one deployment
    /// (PostgreSQL: SQLite is one machine's), letting the test adjust its settings.
    pub async fn beside(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::start_on(self._db.clone(), adjust).await
    }

    /// This server as reached through a proxy at `base` (e.g. [`nginx::Nginx::base`]): the
    /// helpers that take a `TestServer` then send their requests there.
    pub fn through(&self, base: &str) -> Self {
        Self { base: base.to_owned(), ..self.clone() }
    }

    /// Starts a server on the database `db` (another server's, or a private cluster's).
    pub async fn start_on(db: Arc<TestDb>, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db.url);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        settings.issuer = format!("http://{addr}");
        adjust(&mut settings);
        let store = yaoshi::store::connect(&db.url, &settings.database).await.expect("open store");
        let mut services = Services::new(store, settings).expect("services");
        let sent = Arc::new(capture::Captured::default());
        services.notify = sent.transports();
        let app = yaoshi::server::app(services.clone(), yaoshi::server::leptos_options(addr));
        // The server's own accept loop, so every test goes through the request limits.
        let accept = tokio::spawn(yaoshi::server::listen::serve(
            listener,
            app,
            services.settings.limits,
            std::future::pending(),
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(services.clone().deliver_logout_notices(async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client");
        let (stop_messages, messages_stopped) = tokio::sync::oneshot::channel::<()>();
        let messages = tokio::spawn(services.clone().deliver_messages(async move {
            let _ = messages_stopped.await;
        }));
        let tasks = Arc::new(Tasks {
            accept,
            delivery: std::sync::Mutex::new(Some((stop, worker))),
            messages: std::sync::Mutex::new(Some((stop_messages, messages))),
        });
        Self { base: format!("http://{addr}"), services, http, sent, _db: db, tasks }
    }

    /// Stops the server as a shutdown does (the delivery worker finishes its round first) and
    /// hands back its database, for a restart.
    pub async fn stop(self) -> Arc<TestDb> {
        self.tasks.accept.abort();
        let delivery = self.tasks.delivery.lock().ok().and_then(|mut d| d.take());
        if let Some((stop, worker)) = delivery {
            let _ = stop.send(());
            let _ = worker.await;
        }
        let messages = self.tasks.messages.lock().ok().and_then(|mut d| d.take());
        if let Some((stop, worker)) = messages {
            let _ = stop.send(());
            let _ = worker.await;
        }
        self._db.clone()
    }

    /// The store, for assertions on what was persisted.
    pub fn store(&self) -> Arc<dyn Store> {
        self.services.store.clone()
    }

    /// The URL of this server's database, for tests that tamper with it behind the server's back.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Runs `sql` on this server's database over a connection of its own, behind the server's
    /// back (as an operator, a clock or a crash would); returns the number of rows it changed.
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        use sqlx::Connection as _;
        let url = self.database_url();
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect(sql).rows_affected()
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect(sql).rows_affected()
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Creates a user with a password; returns its id.
    pub async fn user(&self, username: &str, password: &str) -> i64 {
        self.services
            .create_user(Registration {
                username: username.into(),
                email: Some(format!("{username}@example.com")),
                display_name: Some(format!("{username} display")),
                password: Some(password.into()),
                // Made by the operator, who vouches for the address.
                email_verified: true,
                ..Registration::default()
            })
            .await
            .expect("create user")
            .id
    }

    /// Signs `b` in as `username` through the login form (no JavaScript); returns the CSRF
    /// token its forms must carry.
    pub async fn sign_in(&self, b: &reqwest::Client, username: &str, password: &str) -> String {
        let (csrf, back) = self.sign_in_to(b, "/o/login/", username, password, "/").await;
        assert_eq!(back, "/", "sign-in as {username} failed");
        csrf
    }

    /// Opens `login_page` in `b` as a browser without JavaScript does, posts its form for
    /// `username` with `next`, and returns the CSRF token and where the sign-in sends `b`.
    pub async fn sign_in_to(
        &self,
        b: &reqwest::Client,
        login_page: &str,
        username: &str,
        password: &str,
        next: &str,
    ) -> (String, String) {
        sign_in_at(&self.base, b, login_page, username, password, next).await
    }

    /// Posts a form as a browser without JavaScript; returns status and `Location`.
    pub async fn submit(&self, b: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let resp = b
            .post(self.url(path))
            .header(reqwest::header::ACCEPT, "text/html")
            .form(form)
            .send()
            .await
            .expect("form post");
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (resp.status().as_u16(), location)
    }

    /// GETs a page as a browser; returns status and body.
    pub async fn page(&self, b: &reqwest::Client, path: &str) -> (u16, String) {
        let resp = b.get(self.url(path)).header(reqwest::header::ACCEPT, "text/html").send().await.expect("page");
        (resp.status().as_u16(), resp.text().await.expect("html"))
    }

    /// Registers a client; returns (client_id, secret).
    pub async fn client(&self, spec: ClientSpec) -> (String, Option<String>) {
        let c = self.services.create_client(spec).await.expect("create client");
        (c.record.client.client_id, c.secret)
    }

    /// POSTs a form to `path` with optional HTTP Basic credentials.
    pub async fn post_form(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, headers, json)
    }

    /// POSTs to `/o/token/` with the client credentials in the body.
    pub async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let (status, _, json) = self.post_form("/o/token/", None, form).await;
        (status, json)
    }
}

/// [`TestServer::sign_in_to`] for any server at `base` (e.g. a separate process).
pub async fn sign_in_at(
    base: &str,
    b: &reqwest::Client,
    login_page: &str,
    username: &str,
    password: &str,
    next: &str,
) -> (String, String) {
    use reqwest::header::{ACCEPT, ORIGIN};
    let page = b.get(format!("{base}{login_page}")).header(ACCEPT, "text/html").send().await.expect("login page");
    assert_eq!(page.status(), 200, "{login_page}");
    let html = page.text().await.expect("html");
    let csrf =
        html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf field").to_owned();
    let resp = b
        .post(format!("{base}/api/login"))
        .header(ACCEPT, "text/html")
        .header(ORIGIN, base)
        .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password), ("next", next)])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 303);
    (csrf, location(&resp).unwrap_or_default())
}
