//! Browser sign-in: sessions behind an HttpOnly cookie (random id, stored hashed, rotated at
//! login, idle and absolute lifetimes) and the `next` parameter that must never leave the origin.

use std::net::IpAddr;

use super::{users::SignInError, Services};
use crate::{
    crypto::{prefix, random_token, sha256_hex},
    store::{NewSession, User},
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yaoshi_session";
/// A session ends after this long without activity.
pub const IDLE_LIFETIME: i64 = 24 * 3600;
/// A session ends this long after sign-in, active or not.
pub const ABSOLUTE_LIFETIME: i64 = 14 * 24 * 3600;
/// Activity is written back at most this often, to spare the database a write per request.
const TOUCH_EVERY: i64 = 60;

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub hash: String,
    /// Who is signed in.
    pub user: User,
    /// When they signed in.
    pub auth_time: i64,
}

/// Where to go after signing in: `next` if it is a path on this origin, else `/`.
///
/// Only a single leading `/` followed by something other than `/` or `\` is accepted, and no
/// backslash or control character anywhere, so `//evil`, `/\evil`, `https:evil` and their
/// variants (browsers treat `\` as `/`) cannot send the user to another site.
pub fn safe_next(next: &str) -> &str {
    let bytes = next.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !next.chars().any(|c| c == '\\' || c.is_control());
    if ok { next } else { "/" }
}

/// A `Set-Cookie` value for an HttpOnly cookie, Secure under https; `max_age` 0 removes it.
pub fn http_only_cookie(name: &str, value: &str, path: &str, same_site: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value for a session (HttpOnly, SameSite=Lax, Secure under https).
pub fn session_cookie(token: &str, secure: bool) -> String {
    http_only_cookie(SESSION_COOKIE, token, "/", "Lax", ABSOLUTE_LIFETIME, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    http_only_cookie(SESSION_COOKIE, "", "/", "Lax", 0, secure)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

impl Services {
    /// Whether cookies must be `Secure` (the issuer is https).
    pub fn secure_cookies(&self) -> bool {
        self.settings.issuer.starts_with("https://")
    }

    /// Checks the credentials and opens a new session; the previous one (if any) ends, so a
    /// session id is never carried across a sign-in. Returns the new cookie value.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        ip: Option<IpAddr>,
        user_agent: &str,
        previous: Option<&str>,
    ) -> Result<(String, User), SignInError> {
        let user = self.sign_in(login, password, ip).await?;
        let token = self.start_session(&user, ip, user_agent, previous).await?;
        Ok((token, user))
    }

    /// Opens a session for `user` (ending `previous`, so a session id never survives a
    /// sign-in) and returns the cookie value.
    pub async fn start_session(&self, user: &User, ip: Option<IpAddr>, user_agent: &str, previous: Option<&str>) -> Result<String, SignInError> {
        if let Some(old) = previous {
            let _ = self.store.delete_session(&sha256_hex(old)).await;
        }
        let token = random_token(prefix::SESSION);
        let now = self.now();
        let session = NewSession {
            session_hash: sha256_hex(&token),
            user_id: user.id,
            auth_time: now,
            expires_at: now + ABSOLUTE_LIFETIME,
            user_agent: user_agent.chars().take(300).collect(),
            ip: ip.map(|i| i.to_string()).unwrap_or_default(),
        };
        self.store.insert_session(&session).await.map_err(|e| {
            tracing::error!(error = %e, "cannot store a session");
            SignInError::Unavailable
        })?;
        Ok(token)
    }

    /// The live session behind a cookie value, if any. Storage errors count as signed out.
    pub async fn session(&self, token: &str) -> Option<Session> {
        let now = self.now();
        let hash = sha256_hex(token);
        let (record, user) = match self.store.session(&hash, now, now - IDLE_LIFETIME).await {
            Ok(found) => found?,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return None;
            }
        };
        if now - record.last_seen_at >= TOUCH_EVERY {
            let _ = self.store.touch_session(&hash, now).await;
        }
        Some(Session { hash, user, auth_time: record.auth_time })
    }

    /// Deletes expired codes, tokens, sessions, throttle windows and provider sign-in flows.
    pub async fn purge_expired(&self) -> Result<u64, crate::store::StoreError> {
        let now = self.now();
        let gone = self.store.purge_expired(now, now - IDLE_LIFETIME, now - super::users::FAILURE_WINDOW).await?;
        Ok(gone + self.purge_upstream().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_origin() {
        for good in ["/o/authorize/?response_type=code&client_id=1", "/", "/account", "/%2F%2Fevil"] {
            assert_eq!(safe_next(good), good);
        }
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "https:evil", "evil", "", "/\t/evil", "/a\\b", "\\\\evil"] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_http_only_and_lax() {
        let c = session_cookie("abc", true);
        assert!(c.starts_with("yaoshi_session=abc;") && c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(!session_cookie("abc", false).contains("Secure"));
        assert_eq!(cookie_value("a=1; yaoshi_session=xyz; b=2", SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value("a=1", SESSION_COOKIE), None);
    }
}
