//! The crash ledger: a mixed load (a burst of client_credentials, the code flow, refresh
//! rotation) runs against `yaoshi serve` as a separate process, which is killed with `kill -9`
//! several times and restarted on the same database. The load keeps a ledger of every token
//! it was given; afterwards nothing it received is lost (every token neither expired nor
//! rotated still introspects active: the writer answers only after its batch committed), nothing is duplicated (no code redeemed twice, no refresh family with
//! two live tokens), and superseded refresh tokens are still refused.
//!
//! `YAOSHI_CRASH_ROUNDS` (default 5) kills of `YAOSHI_CRASH_LOAD_MS` (default 1500) ms of load
//! each; the README documents a longer run.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use serde_json::Value;
use yaoshi::{
    oauth::model::GrantType,
    service::{clients::ClientSpec, users::Registration, Services},
};

use crate::common::{
    browser, fresh_database, location,
    oidc::param,
    process::{free_port, ServerProcess},
    sign_in_at, test_settings, Backend,
};

const REDIRECT: &str = "https://rp.example.com/cb";
const PASSWORD: &str = "ledger-password-1";
/// Concurrent client_credentials loops.
const CC_LOOPS: usize = 12;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What the load was given, and what it could not be sure of.
#[derive(Default)]
struct Ledger {
    /// Access tokens that must stay active (client_credentials, and the newest of each family).
    access: Vec<String>,
    /// The current refresh token of each family whose every rotation was answered.
    refresh: HashMap<String, String>,
    /// Refresh tokens rotated away (their rotation was answered).
    superseded: Vec<String>,
    /// Families whose last rotation got no answer (the server died): either state is fine.
    uncertain: usize,
    /// Successful redemptions per code.
    redeemed: HashMap<String, u32>,
    /// Codes whose redemption got no answer, to be tried again after the last restart.
    unanswered: Vec<String>,
    /// Answers that were neither a success nor a lost connection.
    unexpected: Vec<String>,
}

/// The client the load uses for every grant.
struct Client {
    id: String,
    secret: String,
}

impl Client {
    fn form<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![("client_id", self.id.as_str()), ("client_secret", self.secret.as_str())];
        f.extend_from_slice(extra);
        f
    }
}

/// POSTs a form; `None` when the connection failed (the server is down or died mid-answer).
async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> Option<(u16, Value)> {
    let resp = http.post(url).form(form).send().await.ok()?;
    let status = resp.status().as_u16();
    let text = resp.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

struct Load {
    base: String,
    client: Client,
    ledger: Mutex<Ledger>,
    stop: AtomicBool,
    http: reqwest::Client,
}

impl Load {
    fn note(&self, what: String) {
        self.ledger.lock().unwrap().unexpected.push(what);
    }

    async fn client_credentials(&self) {
        while !self.stop.load(Ordering::Relaxed) {
            let form = self.client.form(&[("grant_type", "client_credentials")]);
            match post(&self.http, format!("{}/o/token/", self.base), &form).await {
                Some((200, t)) => self.ledger.lock().unwrap().access.push(t["access_token"].as_str().unwrap().into()),
                Some((status, body)) => self.note(format!("client_credentials: {status} {body}")),
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// The code flow, then three rotations of its refresh token; again and again.
    async fn flows(&self, browser: reqwest::Client) {
        let authorize = format!(
            "{}/o/authorize/?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid&state=s",
            self.base, self.client.id
        );
        while !self.stop.load(Ordering::Relaxed) {
            let Ok(resp) = browser.get(&authorize).send().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let Some(code) = location(&resp).and_then(|to| param(&to, "code")) else {
                self.note(format!("authorize: {} {:?}", resp.status(), location(&resp)));
                continue;
            };
            let Some(mut refresh) = self.redeem(&code).await else { continue };
            for _ in 0..3 {
                let form = self.client.form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
                match post(&self.http, format!("{}/o/token/", self.base), &form).await {
                    Some((200, t)) => {
                        let next = t["refresh_token"].as_str().unwrap().to_owned();
                        let mut l = self.ledger.lock().unwrap();
                        l.superseded.push(std::mem::replace(&mut refresh, next.clone()));
                        l.refresh.insert(code.clone(), next);
                        l.access.push(t["access_token"].as_str().unwrap().into());
                    }
                    Some((status, body)) => {
                        self.note(format!("refresh: {status} {body}"));
                        break;
                    }
                    None => {
                        let mut l = self.ledger.lock().unwrap();
                        l.refresh.remove(&code);
                        l.uncertain += 1;
                        break;
                    }
                }
            }
        }
    }

    /// Whether introspection says `token` is active.
    async fn active(&self, token: &str) -> bool {
        let form = self.client.form(&[("token", token)]);
        let answer = post(&self.http, format!("{}/o/introspect/", self.base), &form).await.expect("introspect");
        answer.1["active"] == Value::Bool(true)
    }

    /// Redeems `code`; the refresh token on success.
    async fn redeem(&self, code: &str) -> Option<String> {
        let form =
            self.client.form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT)]);
        match post(&self.http, format!("{}/o/token/", self.base), &form).await {
            Some((200, t)) => {
                let refresh = t["refresh_token"].as_str().unwrap().to_owned();
                let mut l = self.ledger.lock().unwrap();
                *l.redeemed.entry(code.to_owned()).or_default() += 1;
                l.refresh.insert(code.to_owned(), refresh.clone());
                // The family's access tokens are not checked: a rotation may end them.
                Some(refresh)
            }
            Some((status, body)) => {
                self.note(format!("redeem: {status} {body}"));
                None
            }
            None => {
                self.ledger.lock().unwrap().unanswered.push(code.to_owned());
                None
            }
        }
    }
}

/// Refresh families with more than one live token, read from the database itself.
async fn families_with_two_live_tokens(url: &str) -> i64 {
    use sqlx::Connection as _;
    let sql = "SELECT COUNT(*) FROM (SELECT family_id FROM refresh_tokens \
               WHERE rotated_at IS NULL AND revoked_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1) AS d";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
        sqlx::query_scalar(sql).fetch_one(&mut c).await.expect("count")
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("postgres");
        sqlx::query_scalar(sql).fetch_one(&mut c).await.expect("count")
    }
}

async fn crash_ledger(backend: Backend) {
    let (rounds, load_ms) = (setting("YAOSHI_CRASH_ROUNDS", 5), setting("YAOSHI_CRASH_LOAD_MS", 1500));
    let db = fresh_database(backend).await;
    // The fixtures, written to the database before any server runs.
    let services = Services::new(
        yaoshi::store::connect(&db.url, &Default::default()).await.expect("store"),
        test_settings(&db.url),
    )
    .expect("services");
    services
        .create_user(Registration {
            username: "ledger".into(),
            password: Some(PASSWORD.into()),
            ..Registration::default()
        })
        .await
        .expect("user");
    let made = services
        .create_client(ClientSpec {
            name: "Ledger".into(),
            redirect_uris: vec![REDIRECT.into()],
            grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
            trusted: true,
            ..ClientSpec::default()
        })
        .await
        .expect("client");
    let client = Client { id: made.record.client.client_id, secret: made.secret.expect("confidential") };
    drop(services);

    let port = free_port();
    let mut server = ServerProcess::spawn(&db.url, port, &[]);
    server.ready(Duration::from_secs(30)).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let load = Arc::new(Load {
        base: server.base.clone(),
        client,
        ledger: Mutex::default(),
        stop: AtomicBool::new(false),
        http,
    });
    let mut workers = Vec::new();
    // Client_credentials in a burst of concurrent loops, so that the server's writer commits
    // them in batches and a kill lands while a batch is in flight.
    for _ in 0..CC_LOOPS {
        let l = load.clone();
        workers.push(tokio::spawn(async move { l.client_credentials().await }));
    }
    for _ in 0..2 {
        let b = browser();
        let (_, back) = sign_in_at(&load.base, &b, "/o/login/", "ledger", PASSWORD, "/").await;
        assert_eq!(back, "/");
        let l = load.clone();
        workers.push(tokio::spawn(async move { l.flows(b).await }));
    }
    for round in 0..rounds {
        // Kill at a different point of the load each round.
        let jitter = (round * 7919 % 1000) * load_ms / 1000;
        tokio::time::sleep(Duration::from_millis(load_ms / 2 + jitter)).await;
        server.kill9();
        server = ServerProcess::spawn(&db.url, port, &[]);
        server.ready(Duration::from_secs(30)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    load.stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }

    let mut l = std::mem::take(&mut *load.ledger.lock().unwrap());
    assert!(l.unexpected.is_empty(), "answers that were neither success nor a lost connection: {:?}", l.unexpected);
    // Lost = 0: every token the load holds is active.
    let live: Vec<String> = l.access.iter().chain(l.refresh.values()).cloned().collect();
    let mut lost = 0;
    for t in &live {
        if !load.active(t).await {
            lost += 1;
        }
    }
    // Duplicates = 0: a code whose answer was lost is redeemed now, or was redeemed then.
    for code in std::mem::take(&mut l.unanswered) {
        let form = load.client.form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ]);
        match post(&load.http, format!("{}/o/token/", load.base), &form).await {
            Some((200, _)) => *l.redeemed.entry(code).or_default() += 1,
            Some((400, e)) if e["error"] == "invalid_grant" => {}
            other => panic!("retrying an unanswered redemption: {other:?}"),
        }
    }
    let twice = l.redeemed.values().filter(|n| **n > 1).count();
    let two_live = families_with_two_live_tokens(&db.url).await;
    eprintln!(
        "crash ledger on {backend:?}: {rounds} kills; {} access and {} refresh tokens held, {} superseded, {} codes \
         redeemed, {} families uncertain; lost {lost}, codes redeemed twice {twice}, families with two live tokens \
         {two_live}",
        l.access.len(),
        l.refresh.len(),
        l.superseded.len(),
        l.redeemed.len(),
        l.uncertain
    );
    assert_eq!(lost, 0, "tokens the load was given are no longer active");
    assert_eq!(twice, 0, "a code was redeemed twice");
    assert_eq!(two_live, 0, "a refresh family has two live tokens");
    assert!(l.access.len() > 20 && l.redeemed.len() > 3 && !l.superseded.is_empty(), "the load did too little");
    // Superseded refresh tokens stay refused after the restarts (replaying one ends its
    // family, which is why this comes last), and so do redeemed codes.
    for old in l.superseded.iter().take(30) {
        let form = load.client.form(&[("grant_type", "refresh_token"), ("refresh_token", old.as_str())]);
        let answer = post(&load.http, format!("{}/o/token/", load.base), &form).await.expect("answer");
        assert_eq!((answer.0, answer.1["error"].as_str()), (400, Some("invalid_grant")), "a superseded refresh token");
    }
    for code in l.redeemed.keys().take(30) {
        let form = load.client.form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ]);
        let answer = post(&load.http, format!("{}/o/token/", load.base), &form).await.expect("answer");
        assert_eq!((answer.0, answer.1["error"].as_str()), (400, Some("invalid_grant")), "a redeemed code");
    }
}

on_both_backends!(crash_ledger);
