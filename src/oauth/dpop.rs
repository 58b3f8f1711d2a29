//! DPoP proofs (RFC 9449 §4): checking one against the request it came with, and what a
//! DPoP-bound token carries (`cnf.jkt`, §6.1; `ath`, §4.2).
//!
//! What stays outside, in the service: the nonce a server may demand (§8, it needs a key and
//! the clock's window), the replay check on `jti` (§11.1, it needs the database) and comparing
//! the key with the one a token is bound to.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    error::{ErrorCode, OAuthError},
    jose::{self, Alg, JoseError},
};

/// The `typ` header of a proof (RFC 9449 §4.2).
pub const TYP: &str = "dpop+jwt";

/// The algorithms a proof may be signed with, as discovery lists them
/// (`dpop_signing_alg_values_supported`, RFC 9449 §5.1).
pub const ALGS: [Alg; 2] = [Alg::ES256, Alg::RS256];

/// How old a proof's `iat` may be (RFC 9449 §11.1: "a relatively brief period"). Its `jti` is
/// remembered this long, plus [`FUTURE_SKEW`].
pub const MAX_AGE: i64 = 300;

/// How far ahead of our clock a client's `iat` may be.
pub const FUTURE_SKEW: i64 = 30;

/// The longest `jti` accepted: enough for any random identifier, bounded so that a proof
/// cannot make the replay cache store an arbitrary amount.
const MAX_JTI: usize = 256;

/// What the request a proof came with looks like.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// The request's method (`htm`, RFC 9449 §4.3 check 8).
    pub method: &'a str,
    /// The endpoint's public URL (`htu`, check 9), without query or fragment.
    pub uri: &'a str,
    /// The access token presented with it at a resource (`ath`, check 12), if any.
    pub access_token: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// A proof that passed every check of RFC 9449 §4.3 this module can make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The JWK SHA-256 thumbprint of its key (RFC 7638): what tokens are bound to.
    pub jkt: String,
    /// Its unique identifier, for the replay check.
    pub jti: String,
    /// When the client made it.
    pub iat: i64,
    /// The server-provided nonce it carries (§8), if any.
    pub nonce: Option<String>,
}

/// Why a proof was refused (RFC 9449 §4.3): each answers `invalid_dpop_proof` (§5, §7.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a JWS signed by the key in its header, or the key or `alg` is unusable.
    #[error("the DPoP proof is not a JWT signed with the key in its header ({0})")]
    Signature(JoseError),
    /// `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ must be dpop+jwt")]
    Type,
    /// A required claim is missing or of the wrong type.
    #[error("the DPoP proof has no valid {0} claim")]
    Claim(&'static str),
    /// `htm` is not the request's method.
    #[error("the DPoP proof's htm does not match the request method")]
    Method,
    /// `htu` is not this endpoint.
    #[error("the DPoP proof's htu does not match the request URI")]
    Uri,
    /// `iat` is too old or too far in the future.
    #[error("the DPoP proof's iat is outside the accepted window")]
    Stale,
    /// Presented with an access token, but without its hash, or with another's.
    #[error("the DPoP proof's ath does not match the access token")]
    AccessTokenHash,
}

impl From<ProofError> for OAuthError {
    fn from(e: ProofError) -> Self {
        OAuthError::new(ErrorCode::InvalidDpopProof, e.to_string())
    }
}

/// Checks `jwt` as a DPoP proof for `expect` (RFC 9449 §4.3 checks 2–9, 11 and 12; check 1,
/// one `DPoP` header, is the HTTP layer's; check 10, the nonce, the caller's).
pub fn check_proof(jwt: &str, expect: &Expect<'_>) -> Result<Proof, ProofError> {
    let (header, jwk, claims) = jose::verify_embedded(jwt, &ALGS).map_err(ProofError::Signature)?;
    if header.typ.as_deref() != Some(TYP) {
        return Err(ProofError::Type);
    }
    let text = |name: &'static str| claims.get(name).and_then(Value::as_str).ok_or(ProofError::Claim(name));
    let jti = text("jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Err(ProofError::Claim("jti"));
    }
    if text("htm")? != expect.method {
        return Err(ProofError::Method);
    }
    if !same_uri(text("htu")?, expect.uri) {
        return Err(ProofError::Uri);
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(ProofError::Claim("iat"))?;
    if iat < expect.now - MAX_AGE || iat > expect.now + FUTURE_SKEW {
        return Err(ProofError::Stale);
    }
    if let Some(token) = expect.access_token {
        let ath = claims.get("ath").and_then(Value::as_str).ok_or(ProofError::AccessTokenHash)?;
        let same: bool = ath.as_bytes().ct_eq(access_token_hash(token).as_bytes()).into();
        if !same {
            return Err(ProofError::AccessTokenHash);
        }
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(ProofError::Claim("nonce")),
    };
    let jkt = jwk.thumbprint().map_err(ProofError::Signature)?;
    Ok(Proof { jkt, jti: jti.to_owned(), iat, nonce })
}

/// `ath` (RFC 9449 §4.2): the base64url SHA-256 of the access token's ASCII value.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// `htu` against the endpoint's URL, "ignoring any query and fragment parts" (RFC 9449 §4.3
/// check 9) after the normalisation of RFC 3986 §6.2.2 and §6.2.3 that URL parsing does
/// (case of scheme and host, default port, dot segments).
fn same_uri(htu: &str, endpoint: &str) -> bool {
    let base = |s: &str| {
        let mut u = url::Url::parse(s).ok()?;
        u.set_query(None);
        u.set_fragment(None);
        Some(u)
    };
    matches!((base(htu), base(endpoint)), (Some(a), Some(b)) if a == b)
}

/// The confirmation claim of a bound token (RFC 9449 §6.1, RFC 7800 §3.1).
pub fn confirmation(jkt: &str) -> Value {
    serde_json::json!({ "jkt": jkt })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Signer, SigningKey};
    use serde_json::json;

    const URI: &str = "https://id.example.com/o/token/";
    const NOW: i64 = 1_700_000_000;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn public(k: &SigningKey) -> Value {
        let p = k.verifying_key().to_encoded_point(false);
        json!({"kty": "EC", "crv": "P-256",
               "x": URL_SAFE_NO_PAD.encode(p.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(p.y().unwrap())})
    }

    fn sign(header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig: p256::ecdsa::Signature = key().sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn header() -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": public(&key())})
    }

    fn claims() -> Value {
        json!({"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": URI, "iat": NOW})
    }

    fn expect() -> Expect<'static> {
        Expect { method: "POST", uri: URI, access_token: None, now: NOW }
    }

    #[test]
    fn a_good_proof_gives_its_key_thumbprint() {
        let proof = check_proof(&sign(&header(), &claims()), &expect()).unwrap();
        let jwk: jose::Jwk = serde_json::from_value(public(&key())).unwrap();
        assert_eq!(proof.jkt, jwk.thumbprint().unwrap());
        assert_eq!((proof.jti.as_str(), proof.iat, proof.nonce), ("e1j3V_bKic8-LAEB", NOW, None));
        // The URL as the client spelled it: case, default port, query and fragment.
        let mut c = claims();
        c["htu"] = json!("HTTPS://ID.example.com:443/o/token/?x=1#f");
        c["nonce"] = json!("n-1");
        let proof = check_proof(&sign(&header(), &c), &expect()).unwrap();
        assert_eq!(proof.nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn each_check_refuses() {
        let with = |f: &dyn Fn(&mut Value, &mut Value)| {
            let (mut h, mut c) = (header(), claims());
            f(&mut h, &mut c);
            check_proof(&sign(&h, &c), &expect()).unwrap_err()
        };
        assert_eq!(with(&|h, _| h["typ"] = json!("JWT")), ProofError::Type);
        assert_eq!(with(&|h, _| _ = h.as_object_mut().unwrap().remove("typ")), ProofError::Type);
        assert_eq!(with(&|_, c| c["htm"] = json!("GET")), ProofError::Method);
        assert_eq!(with(&|_, c| c["htu"] = json!("https://id.example.com/o/userinfo/")), ProofError::Uri);
        assert_eq!(with(&|_, c| c["htu"] = json!("https://evil.example/o/token/")), ProofError::Uri);
        assert_eq!(with(&|_, c| c["htu"] = json!("not a url")), ProofError::Uri);
        assert_eq!(with(&|_, c| c["iat"] = json!(NOW - MAX_AGE - 1)), ProofError::Stale);
        assert_eq!(with(&|_, c| c["iat"] = json!(NOW + FUTURE_SKEW + 1)), ProofError::Stale);
        assert_eq!(with(&|_, c| c["iat"] = json!("now")), ProofError::Claim("iat"));
        assert_eq!(with(&|_, c| _ = c.as_object_mut().unwrap().remove("jti")), ProofError::Claim("jti"));
        assert_eq!(with(&|_, c| c["jti"] = json!("x".repeat(300))), ProofError::Claim("jti"));
        assert_eq!(with(&|_, c| c["nonce"] = json!(5)), ProofError::Claim("nonce"));
        // Key problems: none, a private one, one of another key, alg none or symmetric.
        assert!(matches!(with(&|h, _| _ = h.as_object_mut().unwrap().remove("jwk")), ProofError::Signature(_)));
        assert!(matches!(with(&|h, _| h["jwk"]["d"] = json!("AAAA")), ProofError::Signature(JoseError::BadKey)));
        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        assert!(matches!(with(&|h, _| h["jwk"] = public(&other)), ProofError::Signature(JoseError::BadSignature)));
        assert!(matches!(with(&|h, _| h["alg"] = json!("HS256")), ProofError::Signature(_)));
        assert!(matches!(with(&|h, _| h["alg"] = json!("none")), ProofError::Signature(JoseError::AlgNone)));
    }

    #[test]
    fn at_a_resource_the_access_token_hash_is_checked() {
        let at = Expect { access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), ..expect() };
        assert_eq!(check_proof(&sign(&header(), &claims()), &at), Err(ProofError::AccessTokenHash));
        let mut c = claims();
        // RFC 9449 §7.1's example token and its ath.
        c["ath"] = json!("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert!(check_proof(&sign(&header(), &c), &at).is_ok());
        c["ath"] = json!(access_token_hash("another token"));
        assert_eq!(check_proof(&sign(&header(), &c), &at), Err(ProofError::AccessTokenHash));
    }

    #[test]
    fn refusals_are_invalid_dpop_proof() {
        let e = OAuthError::from(ProofError::Stale);
        assert_eq!(e.code, ErrorCode::InvalidDpopProof);
        assert_eq!(confirmation("abc"), json!({"jkt": "abc"}));
    }
}
