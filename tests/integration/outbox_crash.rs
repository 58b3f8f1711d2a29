//! The message outbox under `kill -9`: `yaoshi serve` as a separate process, mailing through
//! SMTP. Three sign-ups each queue a verification mail while the mail server is a tarpit (it
//! accepts the connection and never answers), so the first mail is in flight, claimed, and
//! the others wait; the server is killed. Restarted with a real SMTP server (the test command's
//! aiosmtpd), it sends each mail exactly once: the queued ones at once, the one in flight once
//! its claim ran out.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::common::{
    browser, fresh_database,
    mailbox::{self, has_mail_for, smtp_or_skip},
    oauth::PW,
    process::{free_port, ServerProcess},
    Backend,
};

/// The SMTP timeout the servers run with: a claim lasts 2 × 2 × 1 s + 10 s.
const SMTP_TIMEOUT_SECS: u64 = 1;

/// The `[mail]` table of a server mailing through `host:port`.
fn mail_config(port: u16) -> String {
    format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"Yaoshi <no-reply@yaoshi.test>\"\nsmtp_host = \"127.0.0.1\"\n\
         smtp_port = {port}\nsmtp_security = \"none\"\ntimeout_secs = {SMTP_TIMEOUT_SECS}\n"
    )
}

/// A mail server that accepts connections and never says a word; counts the connections.
async fn tarpit() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the tarpit");
    let port = listener.local_addr().expect("port").port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (port, seen)
}

/// Starts `yaoshi serve` on `db` with `config` as its settings file.
async fn serve(db: &str, port: u16, dir: &std::path::Path, config: &str) -> ServerProcess {
    let path = dir.join(format!("yaoshi-{}.toml", free_port()));
    std::fs::write(&path, config).expect("settings file");
    let mut server = ServerProcess::spawn(db, port, &["--config", path.to_str().expect("path")]);
    server.ready(Duration::from_secs(30)).await;
    server
}

/// Signs up `username` with `email` through the form, as a browser without JavaScript;
/// returns the answer's status.
async fn sign_up(base: &str, username: &str, email: &str) -> u16 {
    let b = browser();
    let page = b.get(format!("{base}/o/register/")).header("Accept", "text/html").send().await.expect("page");
    let html = page.text().await.expect("html");
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
    let form = [
        ("csrf", csrf),
        ("username", username),
        ("email", email),
        ("display_name", ""),
        ("password", PW),
        ("next", "/account"),
    ];
    let resp =
        b.post(format!("{base}/api/register")).header("Accept", "text/html").form(&form).send().await.expect("sign-up");
    resp.status().as_u16()
}

async fn the_outbox_sends_once_after_kill_9(backend: Backend) {
    let Some((_, smtp_port)) = smtp_or_skip("the_outbox_sends_once_after_kill_9") else { return };
    let db = fresh_database(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let (stuck, connections) = tarpit().await;
    let port = free_port();
    let mut server = serve(&db.url, port, dir.path(), &mail_config(stuck)).await;

    let run = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos();
    let addresses: Vec<String> = (0..3).map(|i| format!("crash-{i}-{run}@yaoshi.test")).collect();
    let signups = addresses.iter().enumerate().map(|(i, a)| {
        let (base, name) = (server.base.clone(), format!("crash{i}"));
        async move { sign_up(&base, &name, a).await }
    });
    let answers = futures_util::future::join_all(signups).await;
    assert_eq!(answers, [303; 3], "the sign-ups: {}", server.log());
    for _ in 0..100 {
        if connections.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(connections.load(Ordering::SeqCst) > 0, "a mail is being handed over: {}", server.log());
    server.kill9();
    assert!(addresses.iter().all(|a| !has_mail_for(a)), "nothing reached the mailbox before the kill");

    let server = serve(&db.url, port, dir.path(), &mail_config(smtp_port)).await;
    for address in &addresses {
        // The mail in flight waits for its claim to run out (14 s), then a round (2 s).
        for _ in 0..300 {
            if has_mail_for(address) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mail = mailbox::wait_for(address).await;
        assert!(mail.subject.to_lowercase().contains("confirm"), "{}", mail.subject);
    }
    // Long enough for a second copy to arrive if one were coming.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for address in &addresses {
        assert!(!has_mail_for(address), "{address} got a second copy: {}", server.log());
    }
}

on_both_backends!(the_outbox_sends_once_after_kill_9);
