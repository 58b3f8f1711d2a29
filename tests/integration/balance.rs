//! Two instances on one PostgreSQL database behind a real load balancer (Debian's nginx on
//! loopback, round robin, `trusted_proxies` set to it on both), as a deployment with several
//! instances runs them: what one instance writes, the other acts on at once. A revocation, a
//! spent code, a rotated refresh token and the sign-in throttle's counts live in the database,
//! never in one instance's memory. SQLite is one machine's database: PostgreSQL only.

use std::{net::IpAddr, sync::Arc};

use crate::common::{
    nginx::{free_port, Nginx},
    oauth::*,
    Backend, TestServer, REQUEST_TIMEOUT,
};
use yaoshi::{
    config::Settings,
    oauth::model::GrantType::{AuthorizationCode, Password, RefreshToken},
};

/// Instances `a` and `b` of one deployment, and `lb`: the same deployment through nginx.
struct Pair {
    a: TestServer,
    b: TestServer,
    lb: TestServer,
    _nginx: Nginx,
}

/// Which instance answered a request sent through the balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Instance {
    A,
    B,
}

impl Pair {
    /// Both instances with the balancer's address as issuer, trusting it as a proxy, with
    /// `adjust` applied to both.
    async fn start(adjust: impl Fn(&mut Settings)) -> Self {
        let port = free_port();
        let configure = |s: &mut Settings| {
            s.issuer = format!("http://127.0.0.1:{port}");
            s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
            adjust(s);
        };
        let a = TestServer::start_with(Backend::Postgres, configure).await;
        let b = a.beside(configure).await;
        let nginx = Nginx::start_on(port, &[&a.base, &b.base]).await;
        let lb = a.through(&nginx.base());
        Self { a, b, lb, _nginx: nginx }
    }

    /// The instance that answered `r`, from the balancer's `X-Upstream`.
    #[track_caller]
    fn answered(&self, r: &Reply) -> Instance {
        let upstream = format!("http://{}", r.header("x-upstream").expect("X-Upstream from nginx"));
        match upstream {
            u if u == self.a.base => Instance::A,
            u if u == self.b.base => Instance::B,
            u => panic!("answered by {u}, neither {} nor {}", self.a.base, self.b.base),
        }
    }

    /// Both instances, for checks that must hold on each.
    fn each(&self) -> [&TestServer; 2] {
        [&self.a, &self.b]
    }

    /// The password checks both instances have run.
    fn hashed(&self) -> u64 {
        self.each().iter().map(|s| s.services.hasher.checks()).sum()
    }
}

/// An HTTP client sending from the loopback address 127.0.0.`last`.
fn from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_instance_holds_on_both_at_once() {
    let pair = Pair::start(|_| {}).await;
    pair.a.user("alice", PW).await;
    let app = register(&pair.a, false, &[Password, RefreshToken]).await;
    let (access, refresh_token) = password(&pair.a, &app, "openid profile").await;
    for srv in pair.each() {
        assert!(active(srv, &app, &access).await, "{} sees the token issued by the other", srv.base);
    }

    let revoked = post(&pair.b, "/o/revoke_token/", &app.form(&[("token", &access)])).await;
    assert_eq!((revoked.status, revoked.raw.as_str()), (200, ""));
    for srv in pair.each() {
        assert!(!active(srv, &app, &access).await, "{} still calls the revoked token active", srv.base);
        let me = send(srv.http.get(srv.url("/o/userinfo/")).bearer_auth(&access)).await;
        assert_eq!(me.status, 401, "{}: {}", srv.base, me.raw);
    }
    // Through the balancer, two introspections in a row are answered by both instances.
    let mut answered = Vec::new();
    for _ in 0..2 {
        let r = post(&pair.lb, "/o/introspect/", &app.form(&[("token", &access)])).await;
        assert_eq!((r.status, &r.json), (200, &serde_json::json!({"active": false})), "{}", r.raw);
        answered.push(pair.answered(&r));
    }
    assert_ne!(answered[0], answered[1], "round robin");

    // The refresh token revoked on A cannot be used on B.
    let revoked = post(&pair.a, "/o/revoke_token/", &app.form(&[("token", &refresh_token)])).await;
    assert_eq!(revoked.status, 200, "{}", revoked.raw);
    refresh(&pair.b, &app, &refresh_token).await.error(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_redemptions_of_one_code_across_both_instances_have_one_winner() {
    const N: usize = 50;
    let pair = Pair::start(|_| {}).await;
    let alice = pair.a.user("alice", PW).await;
    let app = register(&pair.a, false, &[AuthorizationCode, RefreshToken]).await;
    let code = insert_code(&pair.a, &code_for(&pair.a, &app.id, alice)).await;
    let form = app.form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", URI)]);

    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let req = pair.lb.http.post(pair.lb.url("/o/token/")).form(&form);
        let barrier = barrier.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            send(req).await
        });
    }
    let (mut winners, mut served) = (Vec::new(), [0; 2]);
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("task");
        served[pair.answered(&r) as usize] += 1;
        if r.status == 200 {
            winners.push(r.field("access_token"));
        } else {
            r.error(400, "invalid_grant");
        }
    }
    eprintln!("{N} redemptions: {} on A, {} on B", served[0], served[1]);
    assert!(served.iter().all(|&n| n >= N / 5), "both instances served a share: {served:?}");
    assert_eq!(winners.len(), 1, "exactly one redemption wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sign_in_throttle_counts_across_both_instances() {
    // A long delay once the budget is spent, so that a slow machine cannot outwait it here.
    let pair = Pair::start(|s| {
        s.throttle.base_delay = 120;
        s.throttle.max_delay = 120;
    })
    .await;
    pair.a.user("alice", PW).await;
    let app = register(&pair.a, false, &[Password]).await;
    let budget = pair.a.services.settings.throttle.account_address as u64;
    let grant = |last: u8, pw: &str| {
        let form = app.form(&[("grant_type", "password"), ("username", "alice"), ("password", pw)]);
        send(from(last).post(pair.lb.url("/o/token/")).form(&form))
    };

    // The attacker at .77 spends the budget with guesses the balancer spreads over both
    // instances: each reaches argon2, as on one instance.
    let before = pair.hashed();
    let mut served = Vec::new();
    for i in 0..budget {
        let r = grant(77, &format!("guess {i}")).await;
        r.error(400, "invalid_grant");
        served.push(pair.answered(&r));
        assert_eq!(pair.hashed() - before, i + 1, "guess {} of {budget} was checked", i + 1);
    }
    assert!(served.contains(&Instance::A) && served.contains(&Instance::B), "{served:?}");
    // Spent on both: the next attempts, even with the right password, are refused by either
    // instance without a hash, exactly as after the same count on one instance.
    let mut refused_by = Vec::new();
    for _ in 0..2 {
        let r = grant(77, PW).await;
        r.error(400, "invalid_grant");
        refused_by.push(pair.answered(&r));
    }
    assert_ne!(refused_by[0], refused_by[1], "both instances refused");
    assert_eq!(pair.hashed() - before, budget, "no attempt past the budget reached argon2");

    // Parallel guesses from .79, split across both, cannot outrun the shared budget either.
    let before = pair.hashed();
    let guesses: Vec<_> = (0..40).map(|i| grant(79, &format!("parallel guess {i}"))).collect();
    let replies = futures_util::future::join_all(guesses).await;
    let mut served = [0; 2];
    for r in &replies {
        r.error(400, "invalid_grant");
        served[pair.answered(r) as usize] += 1;
    }
    assert!(served.iter().all(|&n| n > 0), "both instances served: {served:?}");
    let hashed = pair.hashed() - before;
    assert!(hashed <= budget, "{hashed} parallel guesses reached argon2 (budget {budget})");

    // The owner, at another address, is not slowed.
    assert_eq!(grant(78, PW).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_rotated_on_one_instance_is_refused_on_the_other() {
    let pair = Pair::start(|_| {}).await;
    pair.a.user("alice", PW).await;
    let app = register(&pair.a, false, &[Password, RefreshToken]).await;
    let (_, r1) = password(&pair.a, &app, "openid").await;
    let rotated = refresh(&pair.a, &app, &r1).await;
    let (a2, r2) = (rotated.field("access_token"), rotated.field("refresh_token"));
    // The replay on B is reuse: refused, and the whole family is revoked on both instances.
    refresh(&pair.b, &app, &r1).await.error(400, "invalid_grant");
    for srv in pair.each() {
        assert!(!active(srv, &app, &a2).await, "{}", srv.base);
        assert!(!active(srv, &app, &r2).await, "{}", srv.base);
    }
    refresh(&pair.a, &app, &r2).await.error(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_grace_retry_on_the_other_instance_gets_the_same_pair() {
    let pair = Pair::start(|s| s.refresh_grace = 30).await;
    pair.a.user("alice", PW).await;
    let app = register(&pair.a, false, &[Password, RefreshToken]).await;
    let (_, r1) = password(&pair.a, &app, "openid").await;
    let first = refresh(&pair.a, &app, &r1).await;
    let (a2, r2) = (first.field("access_token"), first.field("refresh_token"));
    // B derives the successors with the key both instances share, so a client whose answer
    // was lost gets the same pair from whichever instance it reaches.
    let retry = refresh(&pair.b, &app, &r1).await;
    assert_eq!((retry.field("access_token"), retry.field("refresh_token")), (a2, r2.clone()));
    // Once the successor is used (on B), a retry of r1 on A is reuse and revokes the family.
    let a3 = refresh(&pair.b, &app, &r2).await.field("access_token");
    refresh(&pair.a, &app, &r1).await.error(400, "invalid_grant");
    for srv in pair.each() {
        assert!(!active(srv, &app, &a3).await, "{}", srv.base);
    }
}
