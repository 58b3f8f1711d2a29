//! Validation of authorization grants at the token endpoint. Issuing tokens,
//! consuming codes and rotating refresh tokens are the service's job.

use crate::oauth::error::OAuthError;
use crate::oauth::model::{AuthCode, Client, Grant, GrantType, RefreshGrant};
use crate::oauth::pkce;
use crate::oauth::scope::Scope;

/// Whether a client of this type may hold `grant` at all: the one rule that registration
/// (CLI, developer apps, admin switches) and the token endpoint share.
///
/// - RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
///   clients."
/// - The password grant hands a user's password to the client (RFC 6749 §4.3, §10.7) and
///   RFC 9700 §2.4 says it "MUST NOT be used"; where an operator keeps it for a legacy
///   backend, that backend must at least authenticate, or anyone could use the grant as an
///   unthrottled password oracle in its name.
pub fn grant_permitted(confidential: bool, grant: GrantType) -> Result<(), &'static str> {
    match grant {
        GrantType::ClientCredentials if !confidential => Err("client_credentials is only for confidential clients"),
        GrantType::Password if !confidential => Err("the password grant is only for confidential clients"),
        _ => Ok(()),
    }
}

/// The lifetime of an access token issued by `grant`: `front_channel` for the implicit grant,
/// whose token travels in a URL fragment that browser history and scripts on the page can
/// read (RFC 6819 §4.4.2, RFC 9700 §2.1.2), `default` for every other.
pub fn access_token_lifetime(grant: GrantType, default: i64, front_channel: i64) -> i64 {
    match grant {
        GrantType::Implicit => front_channel.min(default),
        _ => default,
    }
}

/// RFC 6749 §5.2 `unauthorized_client`: "The authenticated client is not
/// authorized to use this authorization grant type."
pub fn ensure_grant_allowed(client: &Client, grant: GrantType) -> Result<(), OAuthError> {
    if let Err(why) = grant_permitted(client.confidential, grant) {
        return Err(OAuthError::unauthorized_client(why));
    }
    if client.allows_grant(grant) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!("the client is not authorized to use the `{grant}` grant type")))
    }
}

/// The scope to grant for a request.
///
/// RFC 6749 §3.3: "If the client omits the scope parameter when requesting
/// authorization, the authorization server MUST either process the request
/// using a pre-defined default value or fail"; the default here is every scope
/// the client may use that the server knows. A requested token the server does
/// not know, or the client may not use, is `invalid_scope` ("The requested scope
/// is invalid, unknown, malformed, or exceeds the scope granted").
pub fn resolve_scope(requested: Option<&Scope>, client: &Client, known: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = requested else {
        return Ok(client.scopes.intersection(known));
    };
    if let Some(token) = requested.unknown_in(known) {
        return Err(OAuthError::invalid_scope(format!("unknown scope `{token}`")));
    }
    if let Some(token) = requested.unknown_in(&client.scopes) {
        return Err(OAuthError::invalid_scope(format!("scope `{token}` is not allowed for this client")));
    }
    Ok(requested.clone())
}

/// Validates an authorization code exchange (RFC 6749 §4.1.3, RFC 7636 §4.6)
/// against the stored code, which the caller must consume whatever the outcome.
///
/// §4.1.3: the server MUST "ensure that the authorization code was issued to the
/// authenticated confidential client, or if the client is public, ensure that
/// the code was issued to "`client_id`" in the request, verify that the
/// authorization code is valid, and ensure that the "redirect_uri" parameter is
/// present if the "redirect_uri" parameter was included in the initial
/// authorization request ..., and if included ensure that their values are
/// identical." Every failure is `invalid_grant`.
pub fn validate_code_exchange(
    code: &AuthCode,
    client: &Client,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<Grant, OAuthError> {
    if code.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if now >= code.expires_at {
        return Err(OAuthError::invalid_grant("the authorization code has expired"));
    }
    check_redirect_uri(code, redirect_uri)?;
    check_pkce(code.code_challenge.as_deref(), code_verifier)?;
    Ok(Grant { user_id: Some(code.user_id), scope: code.scope.clone() })
}

/// The `redirect_uri` rule of RFC 6749 §4.1.3 quoted on
/// [`validate_code_exchange`]. A code whose authorization request omitted the
/// parameter still may not be redeemed with a different one.
fn check_redirect_uri(code: &AuthCode, sent: Option<&str>) -> Result<(), OAuthError> {
    match sent {
        Some(uri) if uri == code.redirect_uri => Ok(()),
        Some(_) => {
            Err(OAuthError::invalid_grant("redirect_uri differs from the one used in the authorization request"))
        }
        None if code.redirect_uri_explicit => {
            Err(OAuthError::invalid_grant("redirect_uri is required because the authorization request included it"))
        }
        None => Ok(()),
    }
}

/// PKCE at the token endpoint.
///
/// RFC 7636 §4.6: "If the values are not equal, an error response indicating
/// "invalid_grant" ... MUST be returned." RFC 9700 §2.1.1: "Authorization
/// servers MUST mitigate PKCE Downgrade Attacks by ensuring that a token request
/// containing a code_verifier parameter is accepted only if a code_challenge
/// parameter was present in the authorization request."
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            Err(OAuthError::invalid_grant("code_verifier sent but the authorization request had no code_challenge"))
        }
        (Some(challenge), Some(verifier)) => {
            pkce::validate_verifier(verifier)?;
            if pkce::verify(verifier, challenge) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
            }
        }
    }
}

/// Validates a refresh token request (RFC 6749 §6) and returns the scope to
/// issue.
///
/// §6: the server MUST "ensure that the refresh token was issued to the
/// authenticated client, and validate the refresh token" (`invalid_grant`).
/// "The requested scope MUST NOT include any scope not originally granted by
/// the resource owner, and if omitted is treated as equal to the scope
/// originally granted by the resource owner" (`invalid_scope`).
pub fn validate_refresh(
    stored: &RefreshGrant,
    client: &Client,
    requested: Option<&Scope>,
    now: i64,
) -> Result<Scope, OAuthError> {
    if stored.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
    }
    if stored.expires_at.is_some_and(|expires_at| now >= expires_at) {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    let Some(requested) = requested else {
        return Ok(stored.scope.clone());
    };
    match requested.unknown_in(&stored.scope) {
        Some(token) => Err(OAuthError::invalid_scope(format!("scope `{token}` was not originally granted"))),
        None => Ok(requested.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const URI: &str = "https://app.example.com/cb";

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    fn client(id: &str) -> Client {
        Client {
            client_id: id.into(),
            name: "App".into(),
            confidential: false,
            redirect_uris: vec![URI.into()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: scope("openid profile email"),
            trusted: false,
        }
    }

    fn code(explicit: bool, challenge: Option<&str>) -> AuthCode {
        AuthCode {
            client_id: "app".into(),
            user_id: 7,
            redirect_uri: URI.into(),
            redirect_uri_explicit: explicit,
            scope: scope("openid profile"),
            code_challenge: challenge.map(str::to_owned),
            nonce: None,
            auth_time: 900,
            session_hash: None,
            expires_at: 1_000,
        }
    }

    #[test]
    fn grant_type_must_be_registered() {
        let c = client("app");
        assert_eq!(ensure_grant_allowed(&c, GrantType::AuthorizationCode), Ok(()));
        for grant in [GrantType::Password, GrantType::ClientCredentials, GrantType::Implicit, GrantType::DeviceCode] {
            let err = ensure_grant_allowed(&c, grant).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnauthorizedClient, "{grant}");
        }
        // A public client never gets client_credentials, even if registered for it.
        let public = Client { grant_types: vec![GrantType::ClientCredentials], ..client("app") };
        assert_eq!(
            ensure_grant_allowed(&public, GrantType::ClientCredentials).unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
        let confidential = Client { confidential: true, ..public };
        assert_eq!(ensure_grant_allowed(&confidential, GrantType::ClientCredentials), Ok(()));
    }

    #[test]
    fn scope_resolution() {
        let c = client("app");
        let known = scope("openid profile phone");
        let cases: [(Option<&str>, Result<&str, &str>); 6] = [
            (None, Ok("openid profile")),
            (Some("openid"), Ok("openid")),
            (Some("profile openid"), Ok("openid profile")),
            (Some("openid admin"), Err("unknown scope `admin`")),
            (Some("openid email"), Err("unknown scope `email`")),
            (Some("phone"), Err("scope `phone` is not allowed for this client")),
        ];
        for (requested, expected) in cases {
            let requested = requested.map(scope);
            let got = resolve_scope(requested.as_ref(), &c, &known);
            match expected {
                Ok(s) => assert_eq!(got, Ok(scope(s)), "{requested:?}"),
                Err(d) => assert_eq!(got, Err(OAuthError::invalid_scope(d)), "{requested:?}"),
            }
        }
    }

    #[test]
    fn code_exchange_succeeds() {
        let expected = Grant { user_id: Some(7), scope: scope("openid profile") };
        let cases = [
            (code(true, None), Some(URI), None),
            (code(false, None), None, None),
            (code(false, None), Some(URI), None),
            (code(false, Some(CHALLENGE)), None, Some(VERIFIER)),
        ];
        for (stored, uri, verifier) in cases {
            let got = validate_code_exchange(&stored, &client("app"), uri, verifier, 999);
            assert_eq!(got, Ok(expected.clone()), "{uri:?} {verifier:?}");
        }
    }

    #[test]
    fn public_clients_cannot_hold_the_password_or_client_credentials_grant() {
        for g in [GrantType::Password, GrantType::ClientCredentials] {
            assert!(grant_permitted(false, g).is_err(), "{g}");
            assert!(grant_permitted(true, g).is_ok(), "{g}");
        }
        for g in [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::Implicit] {
            assert!(grant_permitted(false, g).is_ok(), "{g}");
        }
        assert_eq!(access_token_lifetime(GrantType::Implicit, 3600, 600), 600);
        assert_eq!(access_token_lifetime(GrantType::Password, 3600, 600), 600 * 6);
        assert_eq!(access_token_lifetime(GrantType::Implicit, 300, 600), 300, "never longer than the default");
    }

    #[test]
    fn code_exchange_failures() {
        let wrong = "a".repeat(43);
        let (c, pkce) = (code(false, None), code(false, Some(CHALLENGE)));
        let slash = Some("https://app.example.com/cb/");
        let cases = [
            (&c, "other", None, None, 999, "issued to another client"),
            (&c, "app", None, None, 1_000, "expired"),
            (&c, "app", None, None, 5_000, "expired"),
            (&code(true, None), "app", None, None, 999, "redirect_uri is required"),
            (&code(true, None), "app", slash, None, 999, "redirect_uri differs"),
            (&c, "app", slash, None, 999, "redirect_uri differs"),
            (&c, "app", Some("https://evil.example/cb"), None, 999, "redirect_uri differs"),
            (&pkce, "app", None, None, 999, "code_verifier is required"),
            (&c, "app", None, Some(VERIFIER), 999, "no code_challenge"),
            (&pkce, "app", None, Some(wrong.as_str()), 999, "does not match"),
            (&pkce, "app", None, Some("short"), 999, "43 to 128"),
            (&pkce, "app", None, Some(CHALLENGE), 999, "does not match"),
        ];
        for (stored, client_id, uri, verifier, now, reason) in cases {
            let got = validate_code_exchange(stored, &client(client_id), uri, verifier, now);
            let err = got.unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidGrant, "{err}");
            assert!(err.description.contains(reason), "{err} / {reason}");
        }
    }

    fn refresh(expires_at: Option<i64>) -> RefreshGrant {
        RefreshGrant { client_id: "app".into(), user_id: Some(7), scope: scope("openid profile"), expires_at }
    }

    #[test]
    fn refresh_scope_rules() {
        let cases: [(Option<&str>, Result<&str, ErrorCode>); 6] = [
            (None, Ok("openid profile")),
            (Some("openid profile"), Ok("openid profile")),
            (Some("openid"), Ok("openid")),
            (Some("profile"), Ok("profile")),
            (Some("openid email"), Err(ErrorCode::InvalidScope)),
            (Some("admin"), Err(ErrorCode::InvalidScope)),
        ];
        for (requested, expected) in cases {
            let requested = requested.map(scope);
            let got = validate_refresh(&refresh(None), &client("app"), requested.as_ref(), 10);
            match expected {
                Ok(s) => assert_eq!(got, Ok(scope(s)), "{requested:?}"),
                Err(code) => assert_eq!(got.unwrap_err().code, code, "{requested:?}"),
            }
        }
    }

    #[test]
    fn refresh_token_validity() {
        let cases = [
            (refresh(None), "app", i64::MAX, true),
            (refresh(Some(100)), "app", 99, true),
            (refresh(Some(100)), "app", 100, false),
            (refresh(Some(100)), "app", 101, false),
            (refresh(None), "other", 0, false),
        ];
        for (stored, client_id, now, ok) in cases {
            let got = validate_refresh(&stored, &client(client_id), None, now);
            match ok {
                true => assert_eq!(got, Ok(scope("openid profile"))),
                false => assert_eq!(got.unwrap_err().code, ErrorCode::InvalidGrant, "{client_id} {now}"),
            }
        }
    }
}
