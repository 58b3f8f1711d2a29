//! OpenID Connect logout, the protocol rules: RP-Initiated Logout 1.0 (which client is asking,
//! where the browser may go afterwards) and Back-Channel Logout 1.0 (the logout token).

use serde_json::{json, Map, Value};

use super::jose::{self, Alg, JwkSet};

/// The `typ` of a logout token (Back-Channel Logout §2.4: "explicitly typed ... logout+jwt").
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// The event a logout token carries (§2.4 `events`).
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a logout token is good for: it is delivered at once, so a replay window is all
/// `exp` can add.
pub const LOGOUT_TOKEN_LIFETIME: i64 = 120;

/// Why an RP-initiated logout request cannot send the browser back to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    /// `id_token_hint` is not an ID Token this server issued.
    #[error("the id_token_hint is not an ID Token issued here")]
    BadHint,
    /// `client_id` and the hint's audience name different clients.
    #[error("client_id does not match the id_token_hint")]
    ClientMismatch,
    /// A `post_logout_redirect_uri` without anything that says which client asks.
    #[error("post_logout_redirect_uri needs client_id or id_token_hint")]
    NoClient,
    /// The client did not register this `post_logout_redirect_uri`.
    #[error("post_logout_redirect_uri is not registered for this client")]
    UnregisteredUri,
}

/// What the hint says (RP-Initiated Logout §2: "ID Token previously issued by the OP").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The client it was issued to.
    pub client_id: String,
    /// The user (`sub`).
    pub subject: String,
    /// The session (`sid`), if it had one.
    pub sid: Option<String>,
}

/// Checks `id_token_hint` against our own published keys and issuer. An expired hint is
/// fine (§2: the OP "SHOULD accept ID Tokens ... even if expired"): only the signature, the
/// issuer and the audience matter.
pub fn read_hint(token: &str, keys: &JwkSet, issuer: &str) -> Result<Hint, LogoutError> {
    let (_, claims) = jose::verify(token, keys, &[Alg::RS256, Alg::ES256]).map_err(|_| LogoutError::BadHint)?;
    if claims["iss"].as_str() != Some(issuer) {
        return Err(LogoutError::BadHint);
    }
    let client_id = match &claims["aud"] {
        Value::String(aud) => aud.clone(),
        Value::Array(auds) if auds.len() == 1 => auds[0].as_str().ok_or(LogoutError::BadHint)?.to_owned(),
        _ => claims["azp"].as_str().ok_or(LogoutError::BadHint)?.to_owned(),
    };
    let subject = claims["sub"].as_str().ok_or(LogoutError::BadHint)?.to_owned();
    Ok(Hint { client_id, subject, sid: claims["sid"].as_str().map(str::to_owned) })
}

/// The client a logout request speaks for: the hint's audience, or `client_id`; both must agree.
pub fn requesting_client<'a>(
    hint: Option<&'a Hint>,
    client_id: Option<&'a str>,
) -> Result<Option<&'a str>, LogoutError> {
    match (hint.map(|h| h.client_id.as_str()), client_id) {
        (Some(a), Some(b)) if a != b => Err(LogoutError::ClientMismatch),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

/// Where to send the browser after logout (§3: "MUST NOT perform post-logout redirection
/// unless ... the post_logout_redirect_uri ... has been previously registered", exact match),
/// with `state` added to its query.
pub fn post_logout_target(
    requested: Option<&str>,
    client: Option<&str>,
    registered: &[String],
    state: Option<&str>,
) -> Result<Option<String>, LogoutError> {
    let Some(uri) = requested.filter(|u| !u.is_empty()) else { return Ok(None) };
    if client.is_none() {
        return Err(LogoutError::NoClient);
    }
    if !registered.iter().any(|r| r == uri) {
        return Err(LogoutError::UnregisteredUri);
    }
    let Some(state) = state.filter(|s| !s.is_empty()) else { return Ok(Some(uri.to_owned())) };
    let mut url = url::Url::parse(uri).map_err(|_| LogoutError::UnregisteredUri)?;
    url.query_pairs_mut().append_pair("state", state);
    Ok(Some(url.into()))
}

/// The claims of a logout token (Back-Channel Logout §2.4): `iss`, `aud`, `iat`, `exp`, `jti`,
/// `events`, and `sub` and `sid`; never a `nonce` (§2.4: "MUST NOT contain a nonce Claim", so
/// it cannot pass for an ID Token).
///
/// A notice may be delivered more than once (retries): `jti` and `iat` (`issued_at`, when the
/// session ended) are the same in every copy, so the receiver can recognise a repeat, while
/// `exp` counts from `signed_at`, so a copy retried hours later is still valid on arrival.
pub fn logout_token_claims(
    issuer: &str,
    client_id: &str,
    subject: &str,
    sid: Option<&str>,
    jti: &str,
    issued_at: i64,
    signed_at: i64,
) -> Value {
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("aud".into(), client_id.into());
    claims.insert("iat".into(), json!(issued_at));
    claims.insert("exp".into(), json!(signed_at.max(issued_at) + LOGOUT_TOKEN_LIFETIME));
    claims.insert("jti".into(), jti.into());
    claims.insert("sub".into(), subject.into());
    if let Some(sid) = sid {
        claims.insert("sid".into(), sid.into());
    }
    claims.insert("events".into(), json!({ BACKCHANNEL_EVENT: {} }));
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::jose::SigningKey;

    fn key() -> SigningKey {
        SigningKey::generate(Alg::ES256, "k1", &mut rand::rngs::OsRng)
    }

    fn token(key: &SigningKey, claims: Value) -> String {
        key.sign("JWT", &claims, &mut rand::rngs::OsRng)
    }

    #[test]
    fn a_hint_must_be_ours_but_may_have_expired() {
        let k = key();
        let keys = JwkSet { keys: vec![k.public_jwk()] };
        let expired =
            token(&k, json!({"iss": "https://id.example", "aud": "rp", "sub": "7", "sid": "s1", "exp": 1, "iat": 0}));
        assert_eq!(
            read_hint(&expired, &keys, "https://id.example"),
            Ok(Hint { client_id: "rp".into(), subject: "7".into(), sid: Some("s1".into()) })
        );
        assert_eq!(read_hint(&expired, &keys, "https://other.example"), Err(LogoutError::BadHint));
        let stranger = key();
        let forged = token(&stranger, json!({"iss": "https://id.example", "aud": "rp", "sub": "7"}));
        assert_eq!(read_hint(&forged, &keys, "https://id.example"), Err(LogoutError::BadHint));
        assert_eq!(read_hint("not.a.jwt", &keys, "https://id.example"), Err(LogoutError::BadHint));
        let no_sub = token(&k, json!({"iss": "https://id.example", "aud": ["rp"]}));
        assert_eq!(read_hint(&no_sub, &keys, "https://id.example"), Err(LogoutError::BadHint));
    }

    #[test]
    fn the_client_comes_from_the_hint_or_client_id_and_both_must_agree() {
        let hint = Hint { client_id: "rp".into(), subject: "1".into(), sid: None };
        assert_eq!(requesting_client(Some(&hint), None), Ok(Some("rp")));
        assert_eq!(requesting_client(Some(&hint), Some("rp")), Ok(Some("rp")));
        assert_eq!(requesting_client(Some(&hint), Some("other")), Err(LogoutError::ClientMismatch));
        assert_eq!(requesting_client(None, Some("rp")), Ok(Some("rp")));
        assert_eq!(requesting_client(None, None), Ok(None));
    }

    #[test]
    fn only_registered_uris_receive_the_browser_with_state() {
        let registered = vec!["https://rp.example/bye".to_owned(), "https://rp.example/out?x=1".to_owned()];
        let target = |uri, client, state| post_logout_target(uri, client, &registered, state);
        assert_eq!(target(None, Some("rp"), Some("s")), Ok(None));
        assert_eq!(target(Some("https://rp.example/bye"), Some("rp"), None), Ok(Some("https://rp.example/bye".into())));
        assert_eq!(
            target(Some("https://rp.example/bye"), Some("rp"), Some("a b")),
            Ok(Some("https://rp.example/bye?state=a+b".into()))
        );
        assert_eq!(
            target(Some("https://rp.example/out?x=1"), Some("rp"), Some("z")),
            Ok(Some("https://rp.example/out?x=1&state=z".into()))
        );
        assert_eq!(target(Some("https://rp.example/bye/"), Some("rp"), None), Err(LogoutError::UnregisteredUri));
        assert_eq!(target(Some("https://evil.example/"), Some("rp"), None), Err(LogoutError::UnregisteredUri));
        assert_eq!(target(Some("https://rp.example/bye"), None, None), Err(LogoutError::NoClient));
    }

    #[test]
    fn a_logout_token_has_the_required_claims_and_no_nonce() {
        let c = logout_token_claims("https://id.example", "rp", "7", Some("s1"), "j1", 100, 100);
        assert_eq!(c["iss"], "https://id.example");
        assert_eq!(c["aud"], "rp");
        assert_eq!((c["iat"].as_i64(), c["exp"].as_i64()), (Some(100), Some(100 + LOGOUT_TOKEN_LIFETIME)));
        assert_eq!((c["jti"].as_str(), c["sub"].as_str(), c["sid"].as_str()), (Some("j1"), Some("7"), Some("s1")));
        assert_eq!(c["events"], json!({ BACKCHANNEL_EVENT: {} }));
        assert!(c.get("nonce").is_none());
        assert!(logout_token_claims("i", "rp", "7", None, "j", 0, 0).get("sid").is_none());
        let retried = logout_token_claims("i", "rp", "7", None, "j", 100, 5_000);
        assert_eq!(
            (retried["iat"].as_i64(), retried["exp"].as_i64()),
            (Some(100), Some(5_000 + LOGOUT_TOKEN_LIFETIME))
        );
    }
}
