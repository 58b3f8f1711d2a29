//! What OIDC Core §3.1.2.1's `prompt`, `max_age` and `id_token_hint` ask of the signed-in
//! session: whether it may answer a request as it is, and, when the user had to sign in, the
//! request to come back to afterwards.
//!
//! Pure: the caller reads the session and the clock, verifies the `id_token_hint` (that needs
//! the keys) and hands in what they said.

use super::ValidAuthorize;
use crate::oauth::error::{quoted, OAuthError};

/// `prompt` (OIDC Core §3.1.2.1): what the user must be asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page may be shown.
    pub none: bool,
    /// `login`: sign in again even with a session.
    pub login: bool,
    /// `consent`: ask even if consent was given before.
    pub consent: bool,
    /// `select_account`: let the user pick the account. There is no account chooser here, so
    /// this is a sign-in, where any account can be named.
    pub select_account: bool,
}

impl Prompt {
    /// Whether a session, however fresh, must not be used as it is.
    pub fn forces_login(&self) -> bool {
        self.login || self.select_account
    }
}

/// `prompt` (OIDC Core §3.1.2.1): space-separated words, each known, `none` alone.
pub(super) fn parse_prompt(raw: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    for word in raw.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => p.select_account = true,
            other => return Err(OAuthError::invalid_request(format!("unknown prompt value `{}`", quoted(other)))),
        }
    }
    // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
    if p.none && (p.login || p.consent || p.select_account) {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(p)
}

/// The signed-in session, as much of it as the decision needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedIn<'a> {
    /// When the user signed in (unix seconds): the ID Token's `auth_time` (OIDC Core §2).
    pub auth_time: i64,
    /// The user's subject identifier, as an ID Token's `sub` names them.
    pub subject: &'a str,
}

/// Why the signed-in session (if any) cannot answer a request as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoSession {
    /// Nobody is signed in.
    SignedOut,
    /// `prompt=login` or `prompt=select_account`: a new sign-in is asked for.
    LoginAsked,
    /// The sign-in is older than `max_age` allows.
    TooOld,
    /// `id_token_hint` names someone else.
    OtherUser,
}

impl NoSession {
    /// The `error_description` of the `login_required` answer to a `prompt=none` request.
    pub fn describe(&self) -> &'static str {
        match self {
            NoSession::SignedOut => "the user is not signed in",
            NoSession::LoginAsked => "the user must sign in again",
            NoSession::TooOld => "the user signed in longer ago than max_age allows",
            NoSession::OtherUser => "the signed-in user is not the one id_token_hint names",
        }
    }
}

/// Whether `session` may answer `v` at `now` (OIDC Core §3.1.2.1): not when the client asks
/// for a new sign-in (`prompt=login`, `select_account`), when it is older than `max_age`, or
/// when it is not the user whose subject the verified `id_token_hint` gives (`hinted`). The
/// first reason that applies, in that order, is the answer.
pub fn check_session(
    v: &ValidAuthorize,
    session: Option<SignedIn<'_>>,
    hinted: Option<&str>,
    now: i64,
) -> Result<(), NoSession> {
    let session = session.ok_or(NoSession::SignedOut)?;
    if v.prompt.forces_login() {
        return Err(NoSession::LoginAsked);
    }
    if v.session_too_old(session.auth_time, now) {
        return Err(NoSession::TooOld);
    }
    if hinted.is_some_and(|sub| sub != session.subject) {
        return Err(NoSession::OtherUser);
    }
    Ok(())
}

/// `query` with the `prompt` words in `drop` removed and the parameters in `drop_params` left
/// out. Untouched parameters keep their exact encoding, so a request that loses nothing comes
/// back byte for byte (`next=/o/authorize/%3F…` as the client wrote it).
pub fn without(query: &str, drop: &[&str], drop_params: &[&str]) -> String {
    let kept = query.split('&').filter(|raw| !raw.is_empty()).filter_map(|raw| {
        let (k, v) = url::form_urlencoded::parse(raw.as_bytes()).next()?;
        if drop_params.contains(&k.as_ref()) {
            return None;
        }
        if k != "prompt" {
            return Some(raw.to_owned());
        }
        let words: Vec<&str> = v.split(' ').filter(|w| !w.is_empty()).collect();
        let rest: Vec<&str> = words.iter().copied().filter(|w| !drop.contains(w)).collect();
        if rest.len() == words.len() {
            return Some(raw.to_owned());
        }
        (!rest.is_empty()).then(|| {
            url::form_urlencoded::Serializer::new(String::new()).append_pair("prompt", &rest.join(" ")).finish()
        })
    });
    kept.collect::<Vec<_>>().join("&")
}

/// The request to come back to after a sign-in. The sign-in itself satisfies what sent the user
/// there (`prompt=login`, `prompt=select_account`, `max_age`, an `id_token_hint` naming someone
/// else), so those are dropped: returning must not send the user to sign in again, in a loop.
pub fn after_login(query: &str) -> String {
    without(query, &["login", "select_account"], &["max_age", "id_token_hint"])
}

/// The request to come back to after the user approved it: `prompt=consent` was just
/// satisfied, so returning must not ask again.
pub fn after_consent(query: &str) -> String {
    without(query, &["consent"], &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{
        authorize::{ResponseMode, ValidAuthorize},
        error::ErrorCode,
        request::ResponseType,
        scope::Scope,
    };

    #[test]
    fn prompt_values() {
        let p = |raw| parse_prompt(Some(raw));
        assert_eq!(p("login consent").unwrap(), Prompt { login: true, consent: true, ..Prompt::default() });
        assert!(p("select_account").unwrap().forces_login(), "no account chooser: a sign-in picks the account");
        assert!(p("login").unwrap().forces_login());
        assert!(!p("consent").unwrap().forces_login() && !p("none").unwrap().forces_login());
        for bad in ["none login", "none consent", "none select_account", "select_account none", "nope", "none nope"] {
            assert_eq!(p(bad).unwrap_err().code, ErrorCode::InvalidRequest, "{bad}");
        }
        assert_eq!(parse_prompt(None).unwrap(), Prompt::default());
    }

    #[test]
    fn coming_back_from_a_sign_in_asks_for_none() {
        let q = "response_type=code&client_id=app&prompt=login%20consent&max_age=0&id_token_hint=a.b.c&state=s";
        assert_eq!(after_login(q), "response_type=code&client_id=app&prompt=consent&state=s");
        assert_eq!(after_login("client_id=app&prompt=select_account&max_age=10"), "client_id=app");
        // Nothing else changes: a plain request comes back as it was.
        assert_eq!(
            after_login("response_type=code&client_id=app&ui_locales=zh"),
            "response_type=code&client_id=app&ui_locales=zh"
        );
        assert_eq!(without("prompt=consent&scope=openid+profile", &["consent"], &[]), "scope=openid+profile");
        // Untouched parameters keep the client's encoding exactly.
        assert_eq!(
            after_login("client_id=demo&scope=read%20profile&state=a%2Bb"),
            "client_id=demo&scope=read%20profile&state=a%2Bb"
        );
        assert_eq!(after_login("scope=read%20profile&prompt=none%20login"), "scope=read%20profile&prompt=none");
    }

    #[test]
    fn coming_back_from_a_consent_drops_only_prompt_consent() {
        for (q, want) in [
            ("client_id=app&prompt=consent&state=s", "client_id=app&state=s"),
            ("client_id=app&prompt=login%20consent&max_age=0", "client_id=app&prompt=login&max_age=0"),
            (
                "client_id=app&scope=read%20profile&id_token_hint=a.b.c",
                "client_id=app&scope=read%20profile&id_token_hint=a.b.c",
            ),
        ] {
            assert_eq!(after_consent(q), want, "{q}");
        }
    }

    /// A valid request with this `prompt` and `max_age`.
    fn request(prompt: &str, max_age: Option<i64>) -> ValidAuthorize {
        ValidAuthorize {
            client_id: "app".into(),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_explicit: false,
            response_type: ResponseType::CODE,
            response_mode: ResponseMode::Query,
            scope: Scope::parse("openid").unwrap(),
            state: None,
            code_challenge: None,
            nonce: None,
            prompt: parse_prompt(Some(prompt)).unwrap(),
            max_age,
            id_token_hint: None,
            login_hint: None,
        }
    }

    #[test]
    fn which_sessions_may_answer() {
        const NOW: i64 = 10_000;
        let alice = |auth_time| Some(SignedIn { auth_time, subject: "alice" });
        let cases = [
            ("signed in", "", None, alice(0), None, Ok(())),
            ("signed out", "", None, None, None, Err(NoSession::SignedOut)),
            ("signed out, prompt=login", "login", Some(0), None, Some("bob"), Err(NoSession::SignedOut)),
            ("signed out, prompt=none", "none", None, None, None, Err(NoSession::SignedOut)),
            ("prompt=login", "login", None, alice(NOW), None, Err(NoSession::LoginAsked)),
            ("prompt=select_account", "select_account", None, alice(NOW), None, Err(NoSession::LoginAsked)),
            ("prompt=login, checked first", "login", Some(0), alice(0), Some("bob"), Err(NoSession::LoginAsked)),
            ("prompt=consent", "consent", None, alice(0), None, Ok(())),
            ("prompt=none", "none", None, alice(0), None, Ok(())),
            ("max_age not exceeded", "", Some(60), alice(NOW - 60), None, Ok(())),
            ("max_age exceeded", "", Some(60), alice(NOW - 61), None, Err(NoSession::TooOld)),
            ("max_age=0", "", Some(0), alice(NOW), None, Err(NoSession::TooOld)),
            ("too old before other user", "none", Some(60), alice(0), Some("bob"), Err(NoSession::TooOld)),
            ("id_token_hint names the user", "", Some(60), alice(NOW), Some("alice"), Ok(())),
            ("id_token_hint names another", "", None, alice(NOW), Some("bob"), Err(NoSession::OtherUser)),
        ];
        for (why, prompt, max_age, session, hinted, want) in cases {
            assert_eq!(check_session(&request(prompt, max_age), session, hinted, NOW), want, "{why}");
        }
    }

    #[test]
    fn each_reason_says_why_to_the_client() {
        let all = [NoSession::SignedOut, NoSession::LoginAsked, NoSession::TooOld, NoSession::OtherUser];
        assert_eq!(
            all.map(|n| n.describe()),
            [
                "the user is not signed in",
                "the user must sign in again",
                "the user signed in longer ago than max_age allows",
                "the signed-in user is not the one id_token_hint names",
            ]
        );
    }
}
