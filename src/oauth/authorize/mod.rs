//! The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1; RFC 7636; OIDC Core §3.1.2.1,
//! §3.2.2.1, §3.3.2.1; OAuth 2.0 Multiple Response Type Encoding Practices; OAuth 2.0 Form Post
//! Response Mode): the shape of its answers (§4.1.2, §4.2.2, RFC 9207) here, the request's
//! checks in `validate.rs`, and in `prompt.rs` what `prompt`, `max_age` and `id_token_hint`
//! ask of the signed-in session.
//!
//! Order matters: until the client and its redirect URI are known to be genuine, an error
//! must not redirect anywhere (§4.1.2.1: "the authorization server SHOULD inform the resource
//! owner of the error and MUST NOT automatically redirect the user-agent to the invalid
//! redirection URI"). After that, errors go back to the client.

mod prompt;
mod validate;

pub use prompt::{after_consent, after_login, check_session, without, NoSession, Prompt, SignedIn};
pub use validate::validate;

use crate::oauth::{error::OAuthError, redirect, request::ResponseType, scope::Scope};

/// How the answer travels back to the client (Multiple Response Type Encoding Practices §2.1,
/// Form Post Response Mode §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query: the default for `code`.
    Query,
    /// In the redirect URI's fragment: the default when tokens are returned.
    Fragment,
    /// As an HTML form the browser POSTs to the redirect URI.
    FormPost,
}

impl ResponseMode {
    /// Every mode, in the order discovery lists them.
    pub const ALL: [ResponseMode; 3] = [ResponseMode::Query, ResponseMode::Fragment, ResponseMode::FormPost];

    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }

    /// The mode a response type has when the request names none.
    pub fn default_for(t: ResponseType) -> ResponseMode {
        if t.returns_tokens() {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }

    fn parse(raw: &str) -> Option<ResponseMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

/// A request that passed every check: what the endpoint may act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidAuthorize {
    /// The client.
    pub client_id: String,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (the token request must then repeat it).
    pub redirect_uri_explicit: bool,
    /// What to return: a code, an access token, an ID Token, or several.
    pub response_type: ResponseType,
    /// How to return it.
    pub response_mode: ResponseMode,
    /// The granted scope if the user approves.
    pub scope: Scope,
    /// Echoed to the client.
    pub state: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// OIDC prompt.
    pub prompt: Prompt,
    /// OIDC `max_age`: the longest time since the user last signed in that is acceptable.
    pub max_age: Option<i64>,
    /// OIDC `id_token_hint`, not yet verified (that needs the keys: see the service).
    pub id_token_hint: Option<String>,
    /// OIDC `login_hint`: what to pre-fill on the sign-in form.
    pub login_hint: Option<String>,
}

/// Where and how an answer to the client goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRedirect {
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// Query, fragment or form post.
    pub mode: ResponseMode,
    /// The request's `state`.
    pub state: Option<String>,
}

/// An answer for the client, as the browser must carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAnswer {
    /// Redirect the browser here (parameters in the query or the fragment).
    Redirect(String),
    /// Have the browser POST these fields to `action` (Form Post Response Mode §2).
    FormPost {
        /// The redirect URI.
        action: String,
        /// The response parameters.
        fields: Vec<(String, String)>,
    },
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI could not be trusted: show this to the user, redirect nowhere.
    Page(OAuthError),
    /// Send this error back to the client.
    Redirect(ClientRedirect, OAuthError),
}

impl ClientRedirect {
    /// The answer carrying `pairs`, plus `state` and `iss` (RFC 9207 §2).
    pub fn with(&self, pairs: &[(&str, &str)], issuer: &str) -> ClientAnswer {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if let Some(state) = &self.state {
            all.push(("state", state));
        }
        all.push(("iss", issuer));
        match self.mode {
            ResponseMode::Query => ClientAnswer::Redirect(redirect::append_query(&self.redirect_uri, &all)),
            ResponseMode::Fragment => ClientAnswer::Redirect(redirect::append_fragment(&self.redirect_uri, &all)),
            ResponseMode::FormPost => ClientAnswer::FormPost {
                action: self.redirect_uri.clone(),
                fields: all.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            },
        }
    }

    /// The answer carrying an error (§4.1.2.1, §4.2.2.1).
    pub fn error(&self, e: &OAuthError, issuer: &str) -> ClientAnswer {
        self.with(&[("error", e.code.as_str()), ("error_description", &e.description)], issuer)
    }
}

impl ValidAuthorize {
    /// Where this request's answer goes.
    pub fn target(&self) -> ClientRedirect {
        ClientRedirect { redirect_uri: self.redirect_uri.clone(), mode: self.response_mode, state: self.state.clone() }
    }

    /// Whether a session that signed in at `auth_time` is too old for `max_age` at `now` (OIDC
    /// Core §3.1.2.1: "If the elapsed time is greater than this value, the OP MUST attempt to
    /// actively re-authenticate"; `max_age=0` is equivalent to `prompt=login`).
    pub fn session_too_old(&self, auth_time: i64, now: i64) -> bool {
        self.max_age.is_some_and(|max| max == 0 || now.saturating_sub(auth_time) > max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn error_redirects_carry_code_description_state_and_issuer() {
        let t = ClientRedirect {
            redirect_uri: "https://app.example/cb?x=1".into(),
            mode: ResponseMode::Query,
            state: Some("s t".into()),
        };
        let url = t.error(&OAuthError::new(ErrorCode::AccessDenied, "the user said no"), "http://localhost:9000");
        assert_eq!(
            url,
            ClientAnswer::Redirect(
                "https://app.example/cb?x=1&error=access_denied&error_description=the+user+said+no&state=s+t&iss=http%3A%2F%2Flocalhost%3A9000"
                    .into()
            )
        );
        // Form post: the same parameters as fields, the redirect URI untouched as the action.
        let t = ClientRedirect { mode: ResponseMode::FormPost, ..t };
        let posted = t.with(&[("id_token", "a.b.c")], "http://localhost:9000");
        let fields = |f: &[(&str, &str)]| f.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(
            posted,
            ClientAnswer::FormPost {
                action: "https://app.example/cb?x=1".into(),
                fields: fields(&[("id_token", "a.b.c"), ("state", "s t"), ("iss", "http://localhost:9000")]),
            }
        );
    }
}
