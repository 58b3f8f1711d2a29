//! The authorization endpoint's validation (RFC 6749 §3.1, §4.1.1, §4.2.1; RFC 7636; OIDC
//! Core §3.1.2.1) and the shape of its answers (§4.1.2, §4.2.2, RFC 9207).
//!
//! Order matters: until the client and its redirect URI are known to be genuine, an error
//! must not redirect anywhere (§4.1.2.1: "the authorization server SHOULD inform the resource
//! owner of the error and MUST NOT automatically redirect the user-agent to the invalid
//! redirection URI"). After that, errors go back to the client.

use crate::oauth::{
    error::{ErrorCode, OAuthError},
    grant,
    model::{Client, GrantType},
    params::Params,
    pkce, redirect,
    request::ResponseType,
    scope::Scope,
};

/// `prompt` (OIDC Core §3.1.2.1): what the user must be asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no page may be shown.
    pub none: bool,
    /// `login`: sign in again even with a session.
    pub login: bool,
    /// `consent`: ask even if consent was given before.
    pub consent: bool,
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
    /// `code` or `token`.
    pub response_type: ResponseType,
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
}

/// Where an answer to the client goes: the query (code flow) or the fragment (implicit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRedirect {
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// Implicit answers travel in the fragment (§4.2.2).
    pub fragment: bool,
    /// The request's `state`.
    pub state: Option<String>,
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
    /// The redirect URI carrying `pairs`, plus `state` and `iss` (RFC 9207 §2).
    pub fn with(&self, pairs: &[(&str, &str)], issuer: &str) -> String {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if let Some(state) = &self.state {
            all.push(("state", state));
        }
        all.push(("iss", issuer));
        if self.fragment {
            redirect::append_fragment(&self.redirect_uri, &all)
        } else {
            redirect::append_query(&self.redirect_uri, &all)
        }
    }

    /// The redirect URI carrying an error (§4.1.2.1, §4.2.2.1).
    pub fn error(&self, e: &OAuthError, issuer: &str) -> String {
        self.with(&[("error", e.code.as_str()), ("error_description", &e.description)], issuer)
    }
}

impl ValidAuthorize {
    /// Where this request's answer goes.
    pub fn target(&self) -> ClientRedirect {
        ClientRedirect {
            redirect_uri: self.redirect_uri.clone(),
            fragment: self.response_type == ResponseType::Token,
            state: self.state.clone(),
        }
    }
}

fn parse_prompt(raw: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    for word in raw.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => {}
            other => return Err(OAuthError::invalid_request(format!("unknown prompt value `{other}`"))),
        }
    }
    // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
    if p.none && (p.login || p.consent) {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(p)
}

/// Validates an authorization request against its client (looked up by the caller from
/// `params["client_id"]`; `None` when unknown) and the scopes the server offers.
pub fn validate(params: &Params, client: Option<&Client>, known: &Scope) -> Result<ValidAuthorize, AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = params.require("client_id").map_err(page)?;
    let Some(client) = client.filter(|c| c.client_id == client_id) else {
        return Err(page(OAuthError::new(ErrorCode::InvalidRequest, "unknown client_id")));
    };
    let (redirect_uri, explicit) = redirect::resolve(&client.redirect_uris, params.get("redirect_uri"))
        .map_err(|e| page(OAuthError::invalid_request(e.to_string())))?;

    // From here on, errors go back to the client; implicit requests get them in the fragment.
    let raw_type = params.get("response_type");
    let mut target = ClientRedirect {
        redirect_uri: redirect_uri.clone(),
        fragment: raw_type == Some("token"),
        state: params.get("state").map(str::to_owned),
    };
    let fail = |t: &ClientRedirect, e: OAuthError| AuthorizeError::Redirect(t.clone(), e);
    let response_type: ResponseType = match raw_type {
        None => return Err(fail(&target, OAuthError::invalid_request("missing parameter `response_type`"))),
        Some(raw) => raw.parse().map_err(|e| fail(&target, e))?,
    };
    target.fragment = response_type == ResponseType::Token;
    let grant = match response_type {
        ResponseType::Code => GrantType::AuthorizationCode,
        ResponseType::Token => GrantType::Implicit,
    };
    grant::ensure_grant_allowed(client, grant).map_err(|e| fail(&target, e))?;
    let requested = params.get("scope").map(Scope::parse).transpose().map_err(|e| fail(&target, e))?;
    let scope = grant::resolve_scope(requested.as_ref(), client, known).map_err(|e| fail(&target, e))?;
    let prompt = parse_prompt(params.get("prompt")).map_err(|e| fail(&target, e))?;

    let challenge = params.get("code_challenge");
    let code_challenge = match (response_type, challenge) {
        (ResponseType::Code, Some(c)) => {
            pkce::validate_challenge(c, params.get("code_challenge_method")).map_err(|e| fail(&target, e))?;
            Some(c.to_owned())
        }
        // RFC 9700 §2.1.1: public clients MUST use PKCE.
        (ResponseType::Code, None) if !client.confidential => {
            return Err(fail(&target, OAuthError::invalid_request("public clients must send a PKCE code_challenge (S256)")));
        }
        _ => None,
    };
    Ok(ValidAuthorize {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_explicit: explicit,
        response_type,
        scope,
        state: target.state,
        code_challenge,
        nonce: params.get("nonce").map(str::to_owned),
        prompt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(confidential: bool, grants: &[GrantType]) -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            confidential,
            redirect_uris: vec!["https://app.example/cb".into()],
            grant_types: grants.to_vec(),
            scopes: Scope::parse("read write").unwrap(),
            trusted: false,
        }
    }

    fn params(q: &str) -> Params {
        Params::from_pairs(url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))).unwrap()
    }

    fn known() -> Scope {
        Scope::parse("openid read write").unwrap()
    }

    const VERIFIER_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_seeds_request_is_valid_with_defaults() {
        let c = client(true, &[GrantType::AuthorizationCode]);
        let v = validate(&params("response_type=code&client_id=app"), Some(&c), &known()).unwrap();
        assert_eq!(v.redirect_uri, "https://app.example/cb");
        assert!(!v.redirect_uri_explicit);
        assert_eq!(v.scope.to_string(), "read write");
        assert_eq!(v.code_challenge, None);
    }

    #[test]
    fn untrusted_client_or_redirect_never_redirects() {
        let c = client(true, &[GrantType::AuthorizationCode]);
        for q in [
            "response_type=code",
            "response_type=code&client_id=other",
            "response_type=code&client_id=app&redirect_uri=https://evil.example/cb",
            "response_type=code&client_id=app&redirect_uri=https://app.example/cb/",
            "response_type=code&client_id=app&redirect_uri=https://APP.example/cb",
        ] {
            assert!(matches!(validate(&params(q), Some(&c), &known()), Err(AuthorizeError::Page(_))), "{q}");
        }
        assert!(matches!(validate(&params("response_type=code&client_id=app"), None, &known()), Err(AuthorizeError::Page(_))));
    }

    #[test]
    fn later_errors_go_back_to_the_client_with_state() {
        let c = client(false, &[GrantType::AuthorizationCode]);
        let cases = [
            ("client_id=app&state=s", ErrorCode::InvalidRequest),
            ("client_id=app&state=s&response_type=magic", ErrorCode::UnsupportedResponseType),
            ("client_id=app&state=s&response_type=token", ErrorCode::UnauthorizedClient),
            ("client_id=app&state=s&response_type=code&scope=admin", ErrorCode::InvalidScope),
            ("client_id=app&state=s&response_type=code", ErrorCode::InvalidRequest),
            ("client_id=app&state=s&response_type=code&code_challenge=abc&code_challenge_method=plain", ErrorCode::InvalidRequest),
            ("client_id=app&state=s&response_type=code&prompt=none%20login", ErrorCode::InvalidRequest),
        ];
        for (q, code) in cases {
            match validate(&params(q), Some(&c), &known()) {
                Err(AuthorizeError::Redirect(t, e)) => {
                    assert_eq!(e.code, code, "{q}");
                    assert_eq!(t.state.as_deref(), Some("s"));
                }
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    #[test]
    fn public_clients_need_s256_and_implicit_answers_in_the_fragment() {
        let c = client(false, &[GrantType::AuthorizationCode, GrantType::Implicit]);
        let q = format!("client_id=app&response_type=code&code_challenge={VERIFIER_CHALLENGE}&code_challenge_method=S256");
        assert_eq!(validate(&params(&q), Some(&c), &known()).unwrap().code_challenge.as_deref(), Some(VERIFIER_CHALLENGE));
        let v = validate(&params("client_id=app&response_type=token&state=x"), Some(&c), &known()).unwrap();
        let url = v.target().with(&[("access_token", "t")], "https://id.example");
        assert_eq!(url, "https://app.example/cb#access_token=t&state=x&iss=https%3A%2F%2Fid.example");
    }

    #[test]
    fn error_redirects_carry_code_description_state_and_issuer() {
        let t = ClientRedirect { redirect_uri: "https://app.example/cb?x=1".into(), fragment: false, state: Some("s t".into()) };
        let url = t.error(&OAuthError::new(ErrorCode::AccessDenied, "the user said no"), "http://localhost:9000");
        assert_eq!(
            url,
            "https://app.example/cb?x=1&error=access_denied&error_description=the+user+said+no&state=s+t&iss=http%3A%2F%2Flocalhost%3A9000"
        );
    }
}
