//! The authorization code flow towards an upstream provider, from the client's side: the
//! authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1), the callback
//! (RFC 6749 §4.1.2, RFC 9207 §2.4), the token response (RFC 6749 §5.1, §5.2) and the ID Token
//! (OIDC Core §3.1.3.7).

use std::{collections::HashSet, fmt};

use serde_json::Value;
use subtle::ConstantTimeEq;
use url::Url;

use super::{ProviderConfig, UpstreamError};
use crate::oauth::jose::{self, Alg, Expect, JoseError, JwkSet};

/// Seconds of clock skew tolerated between us and the provider on `exp` and `iat`.
pub const CLOCK_LEEWAY: i64 = 60;
/// Longest code accepted from a callback.
const MAX_CODE_LEN: usize = 2048;

/// The URL the browser is sent to at the provider.
///
/// RFC 6749 §4.1.1 (`response_type`, `client_id`, `redirect_uri`, `scope`, `state`), RFC 7636
/// §4.3 (`code_challenge`, `code_challenge_method=S256`) and OIDC Core §3.1.2.1 (`nonce`). The
/// endpoint's own query parameters are kept (RFC 6749 §3.1: "MAY include an
/// application/x-www-form-urlencoded formatted ... query component, which MUST be retained").
pub fn authorization_url(
    p: &ProviderConfig,
    endpoint: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: Option<&str>,
    nonce: Option<&str>,
) -> Result<String, UpstreamError> {
    let mut url =
        Url::parse(endpoint).map_err(|e| UpstreamError::Unavailable(format!("authorization endpoint: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair(&p.quirks.client_id_param, &p.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &p.scopes.join(" "))
            .append_pair("state", state);
        if let Some(challenge) = code_challenge {
            q.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
        }
        if let Some(nonce) = nonce {
            q.append_pair("nonce", nonce);
        }
    }
    url.set_fragment(p.quirks.authorize_fragment.as_deref());
    Ok(url.into())
}

/// What a callback must match.
#[derive(Clone, Copy, Debug)]
pub struct CallbackExpect<'a> {
    /// The `state` sent with the authorization request.
    pub state: &'a str,
    /// The provider's issuer identifier, when it has one (OIDC).
    pub issuer: Option<&'a str>,
    /// The provider advertises `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
    /// The parameters that may carry the code, the first present one used (`code`;
    /// DingTalk's `authCode`, Alipay's `auth_code`).
    pub code_params: &'a [&'a str],
}

/// Checks an authorization response and returns its `code`.
///
/// In this order: no parameter twice; `state` equal (constant time) to the one sent (RFC 6749
/// §10.12: the client "MUST implement CSRF protection"); `iss` per RFC 9207 §2.4 ("compare the
/// result to the issuer identifier of the authorization server where the authorization request
/// was sent to ... If the value does not match ..., clients MUST reject the authorization
/// response", and "MUST reject authorization responses without the iss parameter from
/// authorization servers that do support the parameter"); then `error` (§4.1.2.1) or `code`.
pub fn validate_callback(params: &[(String, String)], expect: &CallbackExpect) -> Result<String, UpstreamError> {
    let mut seen = HashSet::new();
    if let Some((k, _)) = params.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(UpstreamError::Rejected(format!("parameter {k:?} repeated in the callback")));
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let state_ok = get("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(expect.state.as_bytes())));
    if !state_ok {
        return Err(UpstreamError::BadState);
    }
    match (get("iss"), expect.issuer) {
        (Some(iss), Some(issuer)) if iss != issuer => {
            return Err(UpstreamError::Rejected(format!("callback iss {iss:?} is not the provider's issuer")));
        }
        (None, _) if expect.iss_required => {
            return Err(UpstreamError::Rejected("the provider sends iss but this callback has none".into()));
        }
        _ => {}
    }
    if let Some(error) = get("error") {
        let error: String = error.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
        return Err(UpstreamError::Denied { error });
    }
    match expect.code_params.iter().find_map(|name| get(name)) {
        Some(code) if !code.is_empty() && code.len() <= MAX_CODE_LEN => Ok(code.to_owned()),
        _ => Err(UpstreamError::Rejected("the callback has no usable code".into())),
    }
}

/// A successful token response (RFC 6749 §5.1). `Debug` leaves the tokens out.
#[derive(Clone)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: String,
    /// OIDC Core §3.1.3.3 `id_token`.
    pub id_token: Option<String>,
    /// The whole response, for provider-specific members (WeChat's `openid`).
    pub raw: serde_json::Map<String, Value>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse").field("id_token", &self.id_token.is_some()).finish_non_exhaustive()
    }
}

/// Reads a token endpoint's JSON answer: an RFC 6749 §5.2 error (or WeChat's `errcode`) is a
/// refusal; a success needs `access_token` and, if it names one, the `Bearer` token type.
pub fn parse_token_response(body: &Value) -> Result<TokenResponse, UpstreamError> {
    let Value::Object(map) = body else {
        return Err(UpstreamError::Unavailable("the token response is not a JSON object".into()));
    };
    if let Some(error) = map.get("error") {
        return Err(UpstreamError::Rejected(format!("the token endpoint answered {error}")));
    }
    if let Some(e) = super::profile::errcode_error(body) {
        return Err(e);
    }
    let access_token = match map.get("access_token").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => return Err(UpstreamError::Unavailable("the token response has no access_token".into())),
    };
    if let Some(tt) = map.get("token_type") {
        if !tt.as_str().is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
            return Err(UpstreamError::Rejected(format!("unsupported token_type {tt}")));
        }
    }
    let id_token = map.get("id_token").and_then(Value::as_str).map(str::to_owned);
    Ok(TokenResponse { access_token, id_token, raw: map.clone() })
}

/// OIDC Core §3.1.3.7: verifies the ID Token's signature with the provider's keys (RS256 or
/// ES256; `alg: none` and HMAC are refused by [`jose::verify`]), then `iss` (exactly the
/// provider's issuer), `aud` (our client id; `azp` when there are several), `exp`, `iat`
/// and `nonce` (the one sent), and that `sub` is a non-empty string. Returns the claims.
///
/// [`JoseError::UnknownKey`] means the token names a key the set lacks: the caller may fetch
/// the provider's JWKS again once (keys rotate) and retry.
pub fn validate_id_token(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<Value, JoseError> {
    let (_, claims) = jose::verify(token, keys, &[Alg::RS256, Alg::ES256])?;
    let expect = Expect { issuer, audience: client_id, nonce: Some(nonce), leeway: CLOCK_LEEWAY };
    jose::check_claims(&claims, &expect, now)?;
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(claims),
        _ => Err(JoseError::MissingClaim("sub")),
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;
    use serde_json::json;

    use super::*;
    use crate::oauth::{
        jose::SigningKey,
        upstream::{presets::Preset, Secret},
    };

    const ISSUER: &str = "https://op.example";

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn expect(iss_required: bool) -> CallbackExpect<'static> {
        CallbackExpect { state: "the-state", issuer: Some(ISSUER), iss_required, code_params: &["code"] }
    }

    #[test]
    fn the_authorization_url_carries_state_pkce_and_nonce() {
        let mut p = Preset::Google.config("google", "cid", Secret::new("s"));
        p.scopes = vec!["openid".into(), "email".into()];
        let url = authorization_url(
            &p,
            "https://op.example/auth?hd=example.com",
            "https://id.example/o/login/callback/google",
            "st",
            Some("ch"),
            Some("n1"),
        )
        .unwrap();
        let parsed = Url::parse(&url).unwrap();
        let q: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("hd"), Some("example.com"), "the endpoint's own query stays");
        assert_eq!(get("client_id"), Some("cid"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("redirect_uri"), Some("https://id.example/o/login/callback/google"));
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!((get("state"), get("nonce")), (Some("st"), Some("n1")));
        assert_eq!((get("code_challenge"), get("code_challenge_method")), (Some("ch"), Some("S256")));
        assert!(parsed.fragment().is_none());
        let plain = authorization_url(&p, "https://op.example/auth", "https://x.example/cb", "st", None, None).unwrap();
        assert!(!plain.contains("code_challenge") && !plain.contains("nonce"), "{plain}");
    }

    #[test]
    fn callbacks_need_the_same_state() {
        let ok = pairs(&[("code", "c1"), ("state", "the-state"), ("iss", ISSUER)]);
        assert_eq!(validate_callback(&ok, &expect(true)), Ok("c1".into()));
        for bad in [
            pairs(&[("code", "c1"), ("iss", ISSUER)]),
            pairs(&[("code", "c1"), ("state", "other"), ("iss", ISSUER)]),
            pairs(&[("code", "c1"), ("state", "the-stat"), ("iss", ISSUER)]),
            pairs(&[("code", "c1"), ("state", ""), ("iss", ISSUER)]),
        ] {
            assert_eq!(validate_callback(&bad, &expect(true)), Err(UpstreamError::BadState), "{bad:?}");
        }
    }

    #[test]
    fn callbacks_from_another_issuer_are_refused() {
        let wrong = pairs(&[("code", "c1"), ("state", "the-state"), ("iss", "https://evil.example")]);
        assert!(matches!(validate_callback(&wrong, &expect(false)), Err(UpstreamError::Rejected(_))));
        let missing = pairs(&[("code", "c1"), ("state", "the-state")]);
        assert!(matches!(validate_callback(&missing, &expect(true)), Err(UpstreamError::Rejected(_))));
        assert_eq!(
            validate_callback(&missing, &expect(false)),
            Ok("c1".into()),
            "iss is optional where not advertised"
        );
        let oauth2 = CallbackExpect { state: "the-state", issuer: None, iss_required: false, code_params: &["code"] };
        let dingtalk = CallbackExpect { code_params: &["authCode", "code"], ..oauth2 };
        let ding = pairs(&[("authCode", "a1"), ("state", "the-state")]);
        assert_eq!(validate_callback(&ding, &dingtalk), Ok("a1".into()));
        assert!(validate_callback(&ding, &oauth2).is_err(), "only the provider's own parameter names");
        assert_eq!(validate_callback(&wrong, &oauth2), Ok("c1".into()), "no issuer to compare with");
        let twice = pairs(&[("code", "c1"), ("state", "the-state"), ("code", "c2")]);
        assert!(matches!(validate_callback(&twice, &expect(false)), Err(UpstreamError::Rejected(_))));
    }

    #[test]
    fn errors_from_the_provider_are_refusals() {
        let denied =
            pairs(&[("error", "access_denied"), ("error_description", "no"), ("state", "the-state"), ("iss", ISSUER)]);
        assert_eq!(
            validate_callback(&denied, &expect(true)),
            Err(UpstreamError::Denied { error: "access_denied".into() })
        );
        let forged = pairs(&[("error", "access_denied"), ("state", "nope")]);
        assert_eq!(validate_callback(&forged, &expect(true)), Err(UpstreamError::BadState), "state is checked first");
        let no_code = pairs(&[("state", "the-state"), ("iss", ISSUER)]);
        assert!(matches!(validate_callback(&no_code, &expect(true)), Err(UpstreamError::Rejected(_))));
    }

    #[test]
    fn token_responses() {
        let ok =
            parse_token_response(&json!({"access_token": "at", "token_type": "bearer", "id_token": "x.y.z"})).unwrap();
        assert_eq!((ok.access_token.as_str(), ok.id_token.as_deref()), ("at", Some("x.y.z")));
        assert!(!format!("{ok:?}").contains("at\""), "tokens stay out of Debug");
        let wechat = parse_token_response(&json!({"access_token": "at", "openid": "o1", "expires_in": 7200})).unwrap();
        assert_eq!(wechat.raw["openid"], "o1");
        assert!(matches!(parse_token_response(&json!({"error": "invalid_grant"})), Err(UpstreamError::Rejected(_))));
        assert_eq!(
            parse_token_response(&json!({"errcode": 40029, "errmsg": "invalid code"})).unwrap_err(),
            UpstreamError::Provider { code: "40029".into(), message: "invalid code".into() }
        );
        assert!(matches!(
            parse_token_response(&json!({"access_token": "at", "token_type": "mac"})),
            Err(UpstreamError::Rejected(_))
        ));
        assert!(matches!(parse_token_response(&json!({"token_type": "Bearer"})), Err(UpstreamError::Unavailable(_))));
        assert!(matches!(parse_token_response(&json!(["x"])), Err(UpstreamError::Unavailable(_))));
    }

    fn signed(key: &SigningKey, claims: Value) -> String {
        key.sign("JWT", &claims, &mut OsRng)
    }

    #[test]
    fn id_tokens_are_verified() {
        let key = SigningKey::generate(Alg::ES256, "k1", &mut OsRng);
        let keys = JwkSet { keys: vec![key.public_jwk()] };
        let now = 1_800_000_000;
        let claims = |iss: &str, aud: &str, nonce: &str, exp: i64| json!({"iss": iss, "sub": "u1", "aud": aud, "nonce": nonce, "iat": now, "exp": exp});
        let good = signed(&key, claims(ISSUER, "cid", "n1", now + 300));
        assert_eq!(validate_id_token(&good, &keys, ISSUER, "cid", "n1", now).unwrap()["sub"], "u1");
        let cases = [
            (signed(&key, claims("https://evil.example", "cid", "n1", now + 300)), JoseError::WrongIssuer),
            (signed(&key, claims(ISSUER, "other", "n1", now + 300)), JoseError::WrongAudience),
            (signed(&key, claims(ISSUER, "cid", "n2", now + 300)), JoseError::NonceMismatch),
            (signed(&key, claims(ISSUER, "cid", "n1", now - 61)), JoseError::Expired),
            (
                signed(&key, json!({"iss": ISSUER, "aud": "cid", "nonce": "n1", "iat": now, "exp": now + 300})),
                JoseError::MissingClaim("sub"),
            ),
        ];
        for (token, want) in cases {
            assert_eq!(validate_id_token(&token, &keys, ISSUER, "cid", "n1", now), Err(want.clone()), "{want:?}");
        }
        // alg none: the same claims, unsigned.
        let b64 = |v: &Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
        let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims(ISSUER, "cid", "n1", now + 300)));
        assert_eq!(validate_id_token(&unsigned, &keys, ISSUER, "cid", "n1", now), Err(JoseError::AlgNone));
        let other = SigningKey::generate(Alg::ES256, "k1", &mut OsRng);
        let forged = signed(&other, claims(ISSUER, "cid", "n1", now + 300));
        assert_eq!(validate_id_token(&forged, &keys, ISSUER, "cid", "n1", now), Err(JoseError::BadSignature));
    }
}
