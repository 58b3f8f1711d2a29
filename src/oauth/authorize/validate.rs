//! The authorization request's checks, one function per rule, in the order they run. The
//! first two refuse with a page (the client or its redirect URI is not to be trusted); every
//! later one sends its error back to the client.

use super::{prompt::parse_prompt, AuthorizeError, ClientRedirect, Prompt, ResponseMode, ValidAuthorize};
use crate::oauth::{
    error::{quoted, ErrorCode, OAuthError},
    grant,
    model::Client,
    params::Params,
    pkce, redirect,
    request::ResponseType,
    scope::Scope,
};

/// Validates an authorization request against its client (looked up by the caller from
/// `params["client_id"]`; `None` when unknown) and the scopes the server offers.
pub fn validate(params: &Params, client: Option<&Client>, known: &Scope) -> Result<ValidAuthorize, AuthorizeError> {
    let client = check_client(params, client)?;
    let (redirect_uri, explicit) = check_redirect_uri(params, client)?;

    // From here on, errors go back to the client.
    let requested_mode = params.get("response_mode").map(|m| (m, ResponseMode::parse(m)));
    let mut target = error_target(params, &redirect_uri, requested_mode);
    let (response_type, response_mode) = check_response_type_and_mode(params, requested_mode, &target)?;
    target.mode = response_mode;
    check_no_request_object(params, &target)?;
    check_grants(client, response_type, &target)?;
    let scope = check_scope(params, client, known, &target)?;
    let (prompt, max_age) = check_prompt_and_max_age(params, &target)?;
    let nonce = check_nonce(params, response_type, &scope, &target)?;
    let code_challenge = check_pkce(params, client, response_type, &target)?;
    Ok(ValidAuthorize {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_explicit: explicit,
        response_type,
        response_mode,
        scope,
        state: target.state,
        code_challenge,
        nonce,
        prompt,
        max_age,
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        login_hint: params.get("login_hint").map(str::to_owned),
    })
}

/// The refusal of a request whose answer goes to `target`.
fn fail(target: &ClientRedirect, e: OAuthError) -> AuthorizeError {
    AuthorizeError::Redirect(target.clone(), e)
}

/// `client_id` is REQUIRED (RFC 6749 §4.1.1, §4.2.1) and must name a registered client; an
/// unknown one is told to the user, never redirected (§4.1.2.1, §4.2.2.1).
fn check_client<'c>(params: &Params, client: Option<&'c Client>) -> Result<&'c Client, AuthorizeError> {
    let client_id = params.require("client_id").map_err(AuthorizeError::Page)?;
    client
        .filter(|c| c.client_id == client_id)
        .ok_or_else(|| AuthorizeError::Page(OAuthError::new(ErrorCode::InvalidRequest, "unknown client_id")))
}

/// The redirect URI, and whether the request named it: it must be one the client registered
/// (RFC 6749 §3.1.2.2, §3.1.2.3), and a mismatch is told to the user, never redirected to
/// (§4.1.2.1, §4.2.2.1).
fn check_redirect_uri(params: &Params, client: &Client) -> Result<(String, bool), AuthorizeError> {
    redirect::resolve(&client.redirect_uris, params.get("redirect_uri"))
        .map_err(|e| AuthorizeError::Page(OAuthError::invalid_request(e.to_string())))
}

/// Where errors go until the response type and mode are known: by the requested mode when it
/// is one we have, else in the fragment when the request asked for tokens, else in the query
/// (Multiple Response Type Encoding Practices §2.1, §5: tokens, and so their errors, never go
/// in the query).
fn error_target(
    params: &Params,
    redirect_uri: &str,
    requested_mode: Option<(&str, Option<ResponseMode>)>,
) -> ClientRedirect {
    let asks_tokens =
        params.get("response_type").is_some_and(|t| t.split(' ').any(|w| w == "token" || w == "id_token"));
    ClientRedirect {
        redirect_uri: redirect_uri.to_owned(),
        mode: match requested_mode {
            Some((_, Some(mode))) if !(mode == ResponseMode::Query && asks_tokens) => mode,
            _ if asks_tokens => ResponseMode::Fragment,
            _ => ResponseMode::Query,
        },
        state: params.get("state").map(str::to_owned),
    }
}

/// `response_mode` must be one we offer (Multiple Response Type Encoding Practices §2.1, Form
/// Post Response Mode §2); `response_type` is REQUIRED and must be understood (RFC 6749
/// §3.1.1); and tokens never travel in the query (Multiple Response Type Encoding Practices
/// §5). With no `response_mode`, the response type's default applies.
fn check_response_type_and_mode(
    params: &Params,
    requested_mode: Option<(&str, Option<ResponseMode>)>,
    target: &ClientRedirect,
) -> Result<(ResponseType, ResponseMode), AuthorizeError> {
    if let Some((raw, None)) = requested_mode {
        return Err(fail(target, OAuthError::invalid_request(format!("unknown response_mode `{}`", quoted(raw)))));
    }
    let response_type: ResponseType = match params.get("response_type") {
        None => return Err(fail(target, OAuthError::invalid_request("missing parameter `response_type`"))),
        Some(raw) => raw.parse().map_err(|e| fail(target, e))?,
    };
    let response_mode = match requested_mode {
        Some((_, Some(ResponseMode::Query))) if response_type.returns_tokens() => {
            return Err(fail(target, OAuthError::invalid_request("response_mode=query cannot carry tokens")));
        }
        Some((_, Some(mode))) => mode,
        _ => ResponseMode::default_for(response_type),
    };
    Ok((response_type, response_mode))
}

/// Request objects, by value or by reference, are refused with their own codes (OIDC Core
/// §6.1, §6.2, §3.1.2.6): they are not offered, and discovery says so.
fn check_no_request_object(params: &Params, target: &ClientRedirect) -> Result<(), AuthorizeError> {
    if params.get("request").is_some() {
        return Err(fail(target, OAuthError::new(ErrorCode::RequestNotSupported, "request objects are not supported")));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(target, OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported")));
    }
    Ok(())
}

/// The client must hold every grant the response type uses: the authorization code grant for
/// `code`, the implicit grant for a token from this endpoint (RFC 6749 §4.1.2.1, §4.2.2.1
/// `unauthorized_client`).
fn check_grants(client: &Client, response_type: ResponseType, target: &ClientRedirect) -> Result<(), AuthorizeError> {
    for g in response_type.grants() {
        grant::ensure_grant_allowed(client, g).map_err(|e| fail(target, e))?;
    }
    Ok(())
}

/// The scope to grant: the requested one, well-formed and within what the client may ask and
/// the server knows, or the client's default when none is requested (RFC 6749 §3.3).
fn check_scope(
    params: &Params,
    client: &Client,
    known: &Scope,
    target: &ClientRedirect,
) -> Result<Scope, AuthorizeError> {
    let requested = params.get("scope").map(Scope::parse).transpose().map_err(|e| fail(target, e))?;
    grant::resolve_scope(requested.as_ref(), client, known).map_err(|e| fail(target, e))
}

/// `prompt` and `max_age` (OIDC Core §3.1.2.1) must be well-formed.
fn check_prompt_and_max_age(params: &Params, target: &ClientRedirect) -> Result<(Prompt, Option<i64>), AuthorizeError> {
    let prompt = parse_prompt(params.get("prompt")).map_err(|e| fail(target, e))?;
    let max_age = parse_max_age(params.get("max_age")).map_err(|e| fail(target, e))?;
    Ok((prompt, max_age))
}

/// `max_age` (OIDC Core §3.1.2.1): a number of seconds, written as a non-negative integer.
fn parse_max_age(raw: Option<&str>) -> Result<Option<i64>, OAuthError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OAuthError::invalid_request("max_age must be a whole number of seconds"));
    }
    // Longer than any session lives: the same as a very large number.
    Ok(Some(raw.parse::<i64>().unwrap_or(i64::MAX)))
}

/// The `nonce`: an ID Token from this endpoint needs the `openid` scope (OIDC Core §3.2.2.1,
/// §3.3.2.1), and a front-channel OIDC answer needs a nonce (§3.2.2.1 implicit, §3.3.2.11
/// hybrid: "REQUIRED").
fn check_nonce(
    params: &Params,
    response_type: ResponseType,
    scope: &Scope,
    target: &ClientRedirect,
) -> Result<Option<String>, AuthorizeError> {
    let nonce = params.get("nonce").map(str::to_owned);
    let openid = scope.contains("openid");
    if response_type.id_token && !openid {
        return Err(fail(target, OAuthError::invalid_request("response_type id_token needs the openid scope")));
    }
    let oidc_front_channel = response_type.id_token || (openid && response_type.code && response_type.token);
    if oidc_front_channel && nonce.is_none() {
        return Err(fail(
            target,
            OAuthError::invalid_request(format!("response_type={response_type} requires a nonce")),
        ));
    }
    Ok(nonce)
}

/// The PKCE challenge of a code request: when sent, S256 and well-formed (RFC 7636 §4.2,
/// §4.3, §4.4.1); when missing, refused for public clients, which MUST use PKCE (RFC 9700
/// §2.1.1).
fn check_pkce(
    params: &Params,
    client: &Client,
    response_type: ResponseType,
    target: &ClientRedirect,
) -> Result<Option<String>, AuthorizeError> {
    match (response_type.code, params.get("code_challenge")) {
        (true, Some(c)) => {
            pkce::validate_challenge(c, params.get("code_challenge_method")).map_err(|e| fail(target, e))?;
            Ok(Some(c.to_owned()))
        }
        (true, None) if !client.confidential => {
            Err(fail(target, OAuthError::invalid_request("public clients must send a PKCE code_challenge (S256)")))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{authorize::ClientAnswer, model::GrantType};

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
        Params::from_pairs(url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())))
            .unwrap()
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
        assert!(matches!(
            validate(&params("response_type=code&client_id=app"), None, &known()),
            Err(AuthorizeError::Page(_))
        ));
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
            (
                "client_id=app&state=s&response_type=code&code_challenge=abc&code_challenge_method=plain",
                ErrorCode::InvalidRequest,
            ),
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
        let q =
            format!("client_id=app&response_type=code&code_challenge={VERIFIER_CHALLENGE}&code_challenge_method=S256");
        assert_eq!(
            validate(&params(&q), Some(&c), &known()).unwrap().code_challenge.as_deref(),
            Some(VERIFIER_CHALLENGE)
        );
        let v = validate(&params("client_id=app&response_type=token&state=x"), Some(&c), &known()).unwrap();
        let url = v.target().with(&[("access_token", "t")], "https://id.example");
        assert_eq!(
            url,
            ClientAnswer::Redirect("https://app.example/cb#access_token=t&state=x&iss=https%3A%2F%2Fid.example".into())
        );
    }

    fn oidc_client(grants: &[GrantType]) -> Client {
        Client { scopes: Scope::parse("openid profile read").unwrap(), ..client(true, grants) }
    }

    /// The error `q` is answered with, and how it travels.
    fn refusal(q: &str, c: &Client) -> (ErrorCode, ResponseMode) {
        match validate(&params(q), Some(c), &known()) {
            Err(AuthorizeError::Redirect(t, e)) => (e.code, t.mode),
            other => panic!("{q}: {other:?}"),
        }
    }

    /// Found by fuzzing: the unknown `response_mode` or `prompt` was quoted as sent, control
    /// characters and all, in a description that RFC 6749 §5.2 limits to printable ASCII.
    #[test]
    fn unknown_values_are_quoted_within_the_description_character_set() {
        let c = client(true, &[GrantType::AuthorizationCode]);
        let allowed = |b: u8| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E);
        for extra in ["response_mode=%00q%22%5C%E9%0A", "prompt=login%0B%00%22x%E9"] {
            let q = format!("client_id=app&response_type=code&{extra}");
            match validate(&params(&q), Some(&c), &known()) {
                Err(AuthorizeError::Redirect(_, e)) => {
                    assert_eq!(e.code, ErrorCode::InvalidRequest);
                    assert!(e.description.bytes().all(allowed), "{q}: {:?}", e.description);
                }
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    #[test]
    fn max_age_is_a_whole_number_of_seconds() {
        let c = oidc_client(&[GrantType::AuthorizationCode]);
        let max_age = |v: &str| {
            validate(&params(&format!("client_id=app&response_type=code&max_age={v}")), Some(&c), &known())
                .map(|v| v.max_age)
        };
        assert_eq!(max_age("0"), Ok(Some(0)));
        assert_eq!(max_age("10000"), Ok(Some(10000)));
        assert_eq!(max_age("99999999999999999999999"), Ok(Some(i64::MAX)));
        for bad in ["abc", "-1", "1.5", "+5", "%205", "1e3", "0x10"] {
            assert_eq!(
                refusal(&format!("client_id=app&response_type=code&max_age={bad}"), &c).0,
                ErrorCode::InvalidRequest,
                "{bad}"
            );
        }
        let v = validate(&params("client_id=app&response_type=code&max_age=1"), Some(&c), &known()).unwrap();
        assert!(!v.session_too_old(1000, 1000) && !v.session_too_old(1000, 1001));
        assert!(v.session_too_old(1000, 1002), "more than max_age seconds ago");
        let zero = ValidAuthorize { max_age: Some(0), ..v.clone() };
        assert!(zero.session_too_old(1000, 1000), "max_age=0 is prompt=login");
        let unset = ValidAuthorize { max_age: None, ..v };
        assert!(!unset.session_too_old(0, i64::MAX));
    }

    #[test]
    fn id_token_response_types_need_implicit_openid_and_a_nonce() {
        let both = oidc_client(&[GrantType::AuthorizationCode, GrantType::Implicit]);
        for (rt, want) in [
            ("id_token", ResponseType::ID_TOKEN),
            ("id_token%20token", ResponseType::ID_TOKEN_TOKEN),
            ("token%20id_token", ResponseType::ID_TOKEN_TOKEN),
            ("code%20id_token", ResponseType::CODE_ID_TOKEN),
            ("code%20token", ResponseType::CODE_TOKEN),
            ("code%20id_token%20token", ResponseType::CODE_ID_TOKEN_TOKEN),
        ] {
            let v = validate(
                &params(&format!("client_id=app&response_type={rt}&scope=openid&nonce=n")),
                Some(&both),
                &known(),
            )
            .unwrap();
            assert_eq!((v.response_type, v.response_mode), (want, ResponseMode::Fragment), "{rt}");
            assert_eq!(v.nonce.as_deref(), Some("n"));
            let (code, mode) = refusal(&format!("client_id=app&response_type={rt}&scope=openid"), &both);
            assert_eq!((code, mode), (ErrorCode::InvalidRequest, ResponseMode::Fragment), "{rt} without a nonce");
        }
        // Plain OAuth flows need no nonce, with or without openid.
        for q in [
            "response_type=code&scope=openid",
            "response_type=token&scope=openid",
            "response_type=code%20token&scope=read",
        ] {
            assert!(validate(&params(&format!("client_id=app&{q}")), Some(&both), &known()).is_ok(), "{q}");
        }
        assert_eq!(
            refusal("client_id=app&response_type=id_token&scope=read&nonce=n", &both).0,
            ErrorCode::InvalidRequest,
            "id_token without openid"
        );
        let code_only = oidc_client(&[GrantType::AuthorizationCode]);
        for rt in ["id_token", "code%20id_token", "id_token%20token"] {
            let q = format!("client_id=app&response_type={rt}&scope=openid&nonce=n");
            assert_eq!(refusal(&q, &code_only), (ErrorCode::UnauthorizedClient, ResponseMode::Fragment), "{rt}");
        }
        let implicit_only = oidc_client(&[GrantType::Implicit]);
        assert_eq!(
            refusal("client_id=app&response_type=code%20id_token&scope=openid&nonce=n", &implicit_only).0,
            ErrorCode::UnauthorizedClient
        );
        assert!(validate(
            &params("client_id=app&response_type=id_token&scope=openid&nonce=n"),
            Some(&implicit_only),
            &known()
        )
        .is_ok());
        assert_eq!(
            refusal("client_id=app&response_type=id_token%20none&nonce=n", &both).0,
            ErrorCode::UnsupportedResponseType
        );
    }

    #[test]
    fn response_modes() {
        let c = oidc_client(&[GrantType::AuthorizationCode, GrantType::Implicit]);
        let mode = |q: &str| {
            validate(&params(&format!("client_id=app&scope=openid&nonce=n&{q}")), Some(&c), &known())
                .map(|v| v.response_mode)
        };
        assert_eq!(mode("response_type=code"), Ok(ResponseMode::Query));
        assert_eq!(mode("response_type=token"), Ok(ResponseMode::Fragment));
        assert_eq!(mode("response_type=code&response_mode=query"), Ok(ResponseMode::Query));
        assert_eq!(mode("response_type=code&response_mode=fragment"), Ok(ResponseMode::Fragment));
        assert_eq!(mode("response_type=code&response_mode=form_post"), Ok(ResponseMode::FormPost));
        assert_eq!(mode("response_type=id_token&response_mode=form_post"), Ok(ResponseMode::FormPost));
        assert_eq!(mode("response_type=id_token%20token&response_mode=fragment"), Ok(ResponseMode::Fragment));
        // Tokens never travel in the query: refused, and the refusal itself goes in the fragment.
        for rt in ["token", "id_token", "code%20id_token"] {
            let q = format!("client_id=app&scope=openid&nonce=n&response_type={rt}&response_mode=query");
            assert_eq!(refusal(&q, &c), (ErrorCode::InvalidRequest, ResponseMode::Fragment), "{rt}");
        }
        // An unknown mode is refused in the response type's default mode.
        assert_eq!(
            refusal("client_id=app&response_type=code&response_mode=web_message", &c),
            (ErrorCode::InvalidRequest, ResponseMode::Query)
        );
        assert_eq!(
            refusal("client_id=app&response_type=token&response_mode=jwt", &c),
            (ErrorCode::InvalidRequest, ResponseMode::Fragment)
        );
        // Later errors travel by the requested mode.
        assert_eq!(
            refusal("client_id=app&response_type=code&response_mode=form_post&scope=admin", &c),
            (ErrorCode::InvalidScope, ResponseMode::FormPost)
        );
        assert_eq!(
            refusal("client_id=app&response_type=magic&response_mode=form_post", &c),
            (ErrorCode::UnsupportedResponseType, ResponseMode::FormPost)
        );
    }

    #[test]
    fn request_objects_are_refused_with_their_own_codes() {
        let c = oidc_client(&[GrantType::AuthorizationCode]);
        assert_eq!(refusal("client_id=app&response_type=code&request=eyJ.e30.", &c).0, ErrorCode::RequestNotSupported);
        assert_eq!(
            refusal("client_id=app&response_type=code&request_uri=https%3A%2F%2Fapp.example%2Fr", &c).0,
            ErrorCode::RequestUriNotSupported
        );
    }

    #[test]
    fn hints_are_carried() {
        let c = oidc_client(&[GrantType::AuthorizationCode]);
        let v = validate(
            &params("client_id=app&response_type=code&login_hint=alice%40example.com&id_token_hint=a.b.c"),
            Some(&c),
            &known(),
        )
        .unwrap();
        assert_eq!((v.login_hint.as_deref(), v.id_token_hint.as_deref()), (Some("alice@example.com"), Some("a.b.c")));
    }
}
