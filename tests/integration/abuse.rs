//! Abuse resistance, on SQLite and PostgreSQL: the sign-in throttle never locks the owner out
//! and never refuses correct passwords under concurrency, parallel guesses cannot outrun it,
//! every spelling of an account shares its counters, a flood never turns a correct password
//! into a wrong one, and unknown and existing users take the same time.

use std::{net::IpAddr, sync::Arc, time::Instant};

use crate::common::{browser, oauth::*, Backend, TestServer, REQUEST_TIMEOUT};
use yaoshi::{oauth::model::GrantType, service::clients::ClientSpec};

/// An HTTP client sending from the loopback address 127.0.0.`last`.
fn from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

/// A password grant for `user` from 127.0.0.`last`.
async fn grant_from(srv: &TestServer, app: &App, last: u8, user: &str, pw: &str) -> Reply {
    let form = app.form(&[("grant_type", "password"), ("username", user), ("password", pw)]);
    send(from(last).post(srv.url("/o/token/")).form(&form)).await
}

/// Runs `n` copies of `task` at the same moment and collects their answers.
async fn all_at_once<F, Fut>(n: usize, task: F) -> Vec<Reply>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, fut) = (barrier.clone(), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

async fn correct_passwords_at_once_all_succeed(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let srv = Arc::new(srv);
    for i in 0..40 {
        srv.user(&format!("office{i}"), PW).await;
    }
    // 40 people behind one address sign in with their right passwords at the same moment.
    let replies = all_at_once(40, |i| {
        let (srv, app) = (srv.clone(), app.clone());
        async move { grant_from(&srv, &app, 1, &format!("office{i}"), PW).await }
    })
    .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 40, "{:?}", replies.iter().find(|r| r.status != 200).map(|r| &r.raw));
    // One backend signing one user in over 64 connections at once.
    let replies = all_at_once(64, |_| {
        let (srv, app) = (srv.clone(), app.clone());
        async move { grant_from(&srv, &app, 1, "alice", PW).await }
    })
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{:?}", replies.iter().find(|r| r.status != 200).map(|r| &r.raw));
}

async fn parallel_guesses_cannot_outrun_the_budget(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let srv = Arc::new(srv);
    let wrong = grant_from(&srv, &app, 9, "nobody-at-all", "a wrong password").await;
    let before = srv.services.hasher.checks();
    let replies = all_at_once(100, |i| {
        let (srv, app) = (srv.clone(), app.clone());
        async move { grant_from(&srv, &app, 5, "alice", &format!("guess number {i}")).await }
    })
    .await;
    let hashed = srv.services.hasher.checks() - before;
    let budget = srv.services.settings.throttle.account_address as u64;
    assert!(hashed <= budget, "{hashed} guesses reached argon2 (budget {budget})");
    for r in &replies {
        // Throttled or checked, the answer is the one of a wrong password.
        assert_eq!((r.status, r.json["error_description"].as_str()), (400, wrong.json["error_description"].as_str()));
    }
    // The owner, elsewhere, is not locked out...
    assert_eq!(grant_from(&srv, &app, 6, "alice", PW).await.status, 200);
    // ...and from the attacking address signs in once the delay has passed.
    let refused = grant_from(&srv, &app, 5, "alice", PW).await;
    assert_eq!((refused.status, &refused.raw), (400, &wrong.raw), "throttled looks exactly like wrong");
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    assert_eq!(grant_from(&srv, &app, 5, "alice", PW).await.status, 200);
}

async fn every_spelling_of_an_account_shares_its_counter(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    srv.user("bob", PW).await;
    for name in ["bob", "BOB", "bob@example.com", "ｂｏｂ", " Bob "] {
        grant_from(&srv, &app, 7, name, "not the password").await.error(400, "invalid_grant");
    }
    grant_from(&srv, &app, 7, "bob", PW).await.error(400, "invalid_grant");
    assert_eq!(grant_from(&srv, &app, 8, "bob", PW).await.status, 200, "another address is not slowed");
}

async fn a_locked_out_attacker_never_locks_out_the_owner(backend: Backend) {
    let srv = TestServer::start_with(backend, |s| s.throttle.account = 10).await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[GrantType::Password]).await;
    // The owner signed in before: from 127.0.0.9 (a known address), and a browser that got
    // the device cookie.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let device = |last: u8| {
        reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .local_address(IpAddr::from([127, 0, 0, last]))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client")
    };
    srv.sign_in(&device(9), "alice", PW).await;
    // A botnet spends the account's budget, one guess per address.
    for last in 20..30 {
        grant_from(&srv, &app, last, "alice", "not the password").await.error(400, "invalid_grant");
    }
    // A stranger with the right password is refused now; the owner's address and browser not.
    grant_from(&srv, &app, 40, "alice", PW).await.error(400, "invalid_grant");
    assert_eq!(grant_from(&srv, &app, 9, "alice", PW).await.status, 200, "a known address");
    let (_, back) = srv.sign_in_to(&device(41), "/o/login/", "alice", PW, "/").await;
    assert_eq!(back, "/", "the known browser signs in from a new address");
    let (_, back) = srv.sign_in_to(&from_browser(42), "/o/login/", "alice", PW, "/").await;
    assert!(back.contains("error=throttled_"), "{back}");
    let (_, page) = srv.page(&from_browser(42), &back).await;
    assert!(page.contains("Too many attempts. Try again in"), "the page says how long");
}

fn from_browser(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .local_address(IpAddr::from([127, 0, 0, last]))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

async fn spraying_is_throttled_per_address(backend: Backend) {
    let srv = TestServer::start_with(backend, |s| s.throttle.address = 10).await;
    srv.user("bob", PW).await;
    let app = register(&srv, false, &[GrantType::Password]).await;
    for i in 0..10 {
        grant_from(&srv, &app, 50, &format!("ghost{i}"), "not the password").await.error(400, "invalid_grant");
    }
    grant_from(&srv, &app, 50, "bob", PW).await.error(400, "invalid_grant");
    assert_eq!(grant_from(&srv, &app, 51, "bob", PW).await.status, 200);
}

async fn floods_never_turn_a_correct_password_into_a_wrong_one(backend: Backend) {
    let (srv, app, _) = setup(backend).await;
    let srv = Arc::new(srv);
    let chosen = ClientSpec {
        name: "Legacy".into(),
        grants: vec![GrantType::ClientCredentials],
        secret: Some("an operator-chosen secret".into()),
        client_id: Some("legacy".into()),
        ..ClientSpec::default()
    };
    srv.client(chosen).await;
    let long_name = "x".repeat(300);
    let before = srv.services.hasher.checks();
    let flood = all_at_once(200, |i| {
        let (srv, app, long_name) = (srv.clone(), app.clone(), long_name.clone());
        async move {
            if i % 2 == 0 {
                grant_from(&srv, &app, 60, &long_name, "whatever").await
            } else {
                let form = [("grant_type", "client_credentials"), ("client_id", "legacy"), ("client_secret", "guess")];
                send(from(60).post(srv.url("/o/token/")).form(&form)).await
            }
        }
    });
    let owner = async {
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(grant_from(&srv, &app, 61, "alice", PW).await);
        }
        answers
    };
    let (flood, owner) = tokio::join!(flood, owner);
    for r in &owner {
        assert!(r.status == 200 || r.status == 503, "the owner got {}: {}", r.status, r.raw);
        if r.status == 503 {
            assert!(r.header("retry-after").is_some());
        }
    }
    assert!(flood.iter().all(|r| r.status == 400 || r.status == 401), "only refusals");
    // Over-long names cost no hash; wrong chosen secrets at most the budget.
    let hashed = srv.services.hasher.checks() - before - owner.len() as u64;
    let budget = srv.services.settings.throttle.account_address as u64;
    assert!(hashed <= budget, "{hashed} flood requests reached argon2");
}

async fn unknown_and_existing_users_take_the_same_time(backend: Backend) {
    let srv = TestServer::start_with(backend, |s| {
        s.throttle.account_address = 100_000;
        s.throttle.address = 100_000;
        s.throttle.account = 100_000;
        s.argon2 = yaoshi::config::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 };
    })
    .await;
    srv.user("alice", PW).await;
    let app = register(&srv, false, &[GrantType::Password]).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..500 {
        for (user, times) in [("alice", &mut known), ("nobody-here", &mut unknown)] {
            let started = Instant::now();
            grant_from(&srv, &app, 70, user, &format!("wrong {i}")).await.error(400, "invalid_grant");
            times.push(started.elapsed());
        }
    }
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    eprintln!("password check medians: existing user {k:.6} s, unknown user {u:.6} s");
    assert!((k - u).abs() / k.max(u) < 0.10, "medians {k:.6}s (existing) and {u:.6}s (unknown) differ by 10% or more");
}

async fn signup_does_not_say_which_name_is_taken(backend: Backend) {
    let srv = TestServer::start(backend).await;
    srv.user("alice", PW).await;
    let b = browser();
    let (_, page) = srv.page(&b, "/o/register/").await;
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_owned();
    let attempt = |username: &'static str, email: &'static str| {
        let (b, csrf, url, origin) = (b.clone(), csrf.clone(), srv.url("/api/register"), srv.base.clone());
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("username", username),
                ("email", email),
                ("display_name", ""),
                ("password", "a fine long password"),
                ("next", "/"),
            ];
            let resp = b.post(url).header("origin", origin).form(&form).send().await.expect("register");
            (resp.status().as_u16(), resp.text().await.expect("body"))
        }
    };
    let taken_name = attempt("ALICE", "fresh@example.com").await;
    let taken_email = attempt("fresh-name", "alice@example.com").await;
    let confusable = attempt("ａｌｉｃｅ", "other@example.com").await;
    assert_eq!(taken_name, taken_email, "a taken username and a taken email answer alike");
    assert_eq!(taken_name, confusable, "a fullwidth variant is the same name");
    assert!(taken_name.1.contains("not available") && !taken_name.1.contains("username\""), "{}", taken_name.1);
}

async fn public_clients_get_no_password_grant_and_implicit_tokens_are_short(backend: Backend) {
    let srv = TestServer::start(backend).await;
    let spec = ClientSpec {
        name: "SPA".into(),
        public: true,
        redirect_uris: vec![URI.into()],
        grants: vec![GrantType::Password],
        ..ClientSpec::default()
    };
    let refused = srv.services.create_client(spec).await.map(|_| ()).expect_err("refused");
    assert!(refused.to_string().contains("only for confidential clients"), "{refused}");
    assert_eq!(srv.services.settings.implicit_token_ttl, 600);
}

on_both_backends!(
    correct_passwords_at_once_all_succeed,
    parallel_guesses_cannot_outrun_the_budget,
    every_spelling_of_an_account_shares_its_counter,
    a_locked_out_attacker_never_locks_out_the_owner,
    spraying_is_throttled_per_address,
    floods_never_turn_a_correct_password_into_a_wrong_one,
    unknown_and_existing_users_take_the_same_time,
    signup_does_not_say_which_name_is_taken,
    public_clients_get_no_password_grant_and_implicit_tokens_are_short,
);
