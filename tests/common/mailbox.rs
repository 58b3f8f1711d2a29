//! The mail a real SMTP server accepted: `.ci/mailbox.sh` runs aiosmtpd on loopback
//! (`YAOSHI_TEST_SMTP`), storing each message in the Maildir `YAOSHI_TEST_MAILDIR`, with the
//! envelope recipients in an `X-RcptTo` header. The tests wait for the mail to one address and
//! read it decoded: RFC 2047 headers, quoted-printable or base64 bodies, the charset.

use std::{path::PathBuf, time::Duration};

/// Longest wait for a mail to arrive.
pub const MAIL_WAIT: Duration = Duration::from_secs(20);

/// One delivered mail, decoded.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The envelope recipients (aiosmtpd's `X-RcptTo`).
    pub rcpt_to: String,
    /// The `From` header, decoded.
    pub from: String,
    /// The `To` header, decoded.
    pub to: String,
    /// The `Subject` header, decoded.
    pub subject: String,
    /// The `Content-Type` of the text part.
    pub content_type: String,
    /// The text body, decoded to a string (line ends as sent, CRLF).
    pub text: String,
    /// The message as stored.
    pub raw: Vec<u8>,
}

/// The mailbox's SMTP address (`127.0.0.1:PORT`), or `None` with a note on stderr when the test
/// command has not started it: the caller then skips its test.
pub fn smtp_or_skip(test: &str) -> Option<(String, u16)> {
    let Ok(addr) = std::env::var("YAOSHI_TEST_SMTP") else {
        eprintln!("{test}: skipped, YAOSHI_TEST_SMTP is not set (`source .ci/mailbox.sh && start_mailbox`)");
        return None;
    };
    let (host, port) = addr.rsplit_once(':').expect("YAOSHI_TEST_SMTP is HOST:PORT");
    Some((host.to_owned(), port.parse().expect("YAOSHI_TEST_SMTP's port")))
}

/// The AUTH user the mailbox accepts, from `.ci/mailbox.sh`.
pub fn smtp_user() -> (String, String) {
    let get = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: start the mailbox"));
    (get("YAOSHI_TEST_SMTP_USER"), get("YAOSHI_TEST_SMTP_PASSWORD"))
}

fn maildir() -> PathBuf {
    PathBuf::from(std::env::var("YAOSHI_TEST_MAILDIR").expect("YAOSHI_TEST_MAILDIR is not set: start the mailbox"))
}

/// Waits (at most [`MAIL_WAIT`]) for a mail to `address` and takes it out of the Maildir, so a
/// second call waits for the next one.
pub async fn wait_for(address: &str) -> Mail {
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    let new = maildir().join("new");
    loop {
        for entry in std::fs::read_dir(&new).into_iter().flatten().flatten() {
            let Ok(raw) = std::fs::read(entry.path()) else { continue };
            let mail = decode(raw);
            if mail.rcpt_to.split(',').any(|r| r.trim().eq_ignore_ascii_case(address)) {
                let _ = std::fs::remove_file(entry.path());
                return mail;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no mail to {address} within {MAIL_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether a mail to `address` is waiting now.
pub fn has_mail_for(address: &str) -> bool {
    std::fs::read_dir(maildir().join("new"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .any(|raw| decode(raw).rcpt_to.split(',').any(|r| r.trim().eq_ignore_ascii_case(address)))
}

/// Parses a stored message; the text is the first `text/plain` part.
pub fn decode(raw: Vec<u8>) -> Mail {
    use mailparse::MailHeaderMap as _;
    let parsed = mailparse::parse_mail(&raw).expect("a MIME message");
    let header = |name: &str| parsed.headers.get_first_value(name).unwrap_or_default();
    let part = std::iter::once(&parsed)
        .chain(parsed.subparts.iter())
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap_or(&parsed);
    let content_type = format!("{}; charset={}", part.ctype.mimetype, part.ctype.charset);
    let text = part.get_body().expect("a decodable body");
    let mail = Mail {
        rcpt_to: header("X-RcptTo"),
        from: header("From"),
        to: header("To"),
        subject: header("Subject"),
        content_type,
        text,
        raw: Vec::new(),
    };
    Mail { raw, ..mail }
}
