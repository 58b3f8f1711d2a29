//! JSON Web Signatures and keys: what the ID Token issuer, the JWKS endpoint,
//! `id_token_hint` / logout token parsing and upstream ID Token verification
//! need, and nothing more.
//!
//! Only two algorithms exist here: RS256 (RFC 7518 §3.1 "Recommended", and the
//! one OIDC Core §15.1 makes mandatory for OPs) and ES256. No HMAC (it would
//! make every client secret a signing key), no `none`, no key material taken
//! from the token itself (`jwk`, `jku`, `x5u`, `x5c` headers are ignored): the
//! verifier only trusts the [`JwkSet`] it is given.
//!
//! Like the rest of [`crate::oauth`] this is pure: callers pass `now` and an
//! RNG.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::elliptic_curve::sec1::Coordinates;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these
/// algorithms." Applies to our own keys and to upstream ones.
const MIN_RSA_BITS: usize = 2048;

/// The size of the RSA keys [`SigningKey::generate`] makes.
const RSA_BITS: usize = 2048;

/// Why a token, key or claim set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS: wrong number of parts, bad base64url (padding
    /// included), header or claims not JSON objects, unsupported `crit`.
    #[error("malformed token")]
    Malformed,
    /// An `alg` that is not RS256/ES256, or not in the caller's allowed list.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlg(String),
    /// `alg: none` (RFC 7518 §3.6): an unsecured JWS is never accepted.
    #[error("unsecured token (alg none)")]
    AlgNone,
    /// No key in the set has the token's `kid` (or, without a `kid`, no key
    /// fits the algorithm). Callers verifying upstream tokens may refetch the
    /// JWKS once on this error, as keys rotate.
    #[error("no key for this token")]
    UnknownKey,
    /// The signature does not verify with any candidate key.
    #[error("bad signature")]
    BadSignature,
    /// A key was found but cannot be used for this token: its `kty`, `alg` or
    /// `use` does not fit, its material is invalid or too small, or stored
    /// private key material does not decode.
    #[error("unusable key")]
    BadKey,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the expected audience, or `azp` is wrong for a
    /// multi-audience token.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp` has passed (leeway included).
    #[error("token expired")]
    Expired,
    /// `iat` is further in the future than the leeway allows.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `nonce` differs from the one sent in the authentication request.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// A required claim is absent or has the wrong JSON type.
    #[error("missing or invalid claim {0}")]
    MissingClaim(&'static str),
}

/// A JWS algorithm this module implements (RFC 7518 §3.1 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl Alg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
        }
    }

    /// The JWK `kty` of keys for this algorithm (RFC 7518 §6.1).
    fn kty(self) -> &'static str {
        match self {
            Alg::RS256 => "RSA",
            Alg::ES256 => "EC",
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = JoseError;

    /// Case-sensitive, as JOSE names are (RFC 7515 §4.1.1 refers to RFC 7518,
    /// whose registry values are exact strings).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(Alg::RS256),
            "ES256" => Ok(Alg::ES256),
            "none" => Err(JoseError::AlgNone),
            other => Err(JoseError::UnsupportedAlg(other.to_owned())),
        }
    }
}

/// A public JSON Web Key (RFC 7517 §4, RFC 7518 §6).
///
/// Members this server does not use (`x5c`, `x5t`, `key_ops`, ...) are
/// dropped when parsing rather than refused, since upstream JWKS documents
/// carry them. `alg` is a string, not an [`Alg`], so that sets listing other
/// algorithms (RS384, EdDSA, ...) still parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: "RSA" or "EC" for keys usable here.
    pub kty: String,
    /// Public key use; only absent or "sig" is accepted for verification.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Key id, matched against the JWS `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm the key is meant for; if present it must equal the
    /// token's `alg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve name; only "P-256" is usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate, base64url, 32 bytes for P-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url, 32 bytes for P-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JWK Set document (RFC 7517 §5), as served at the `jwks_uri`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys; order carries no meaning.
    pub keys: Vec<Jwk>,
}

/// The JOSE header of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The signing algorithm (one of the caller's allowed ones).
    pub alg: Alg,
    /// The key id, if the token named one.
    pub kid: Option<String>,
    /// The media type, e.g. "JWT" or "logout+jwt"; callers that care check it.
    pub typ: Option<String>,
}

/// The header as found on the wire, before `alg` is judged.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    /// RFC 7515 §4.1.11: a recipient that does not understand every listed
    /// extension MUST reject the JWS. We understand none.
    #[serde(default)]
    crit: Option<Value>,
}

/// The header we emit. Field order gives `{"alg","kid","typ"}`.
#[derive(Serialize)]
struct OutHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

enum PrivateKey {
    Rsa(Box<RsaPrivateKey>),
    Ec(p256::ecdsa::SigningKey),
}

/// One of this server's private signing keys.
///
/// Debug shows only `kid` and `alg`, so keys never end up in logs.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Makes a new key: RSA-2048 with e = 65537 for RS256, P-256 for ES256.
    ///
    /// # Panics
    ///
    /// Never in practice: the rsa crate only fails for degenerate sizes or
    /// exponents, and both are fixed here.
    pub fn generate(alg: Alg, kid: impl Into<String>, rng: &mut impl CryptoRngCore) -> Self {
        let key = match alg {
            Alg::RS256 => PrivateKey::Rsa(Box::new(
                RsaPrivateKey::new(rng, RSA_BITS).expect("RSA-2048 key generation cannot fail"),
            )),
            Alg::ES256 => PrivateKey::Ec(p256::ecdsa::SigningKey::random(rng)),
        };
        SigningKey {
            kid: kid.into(),
            alg,
            key,
        }
    }

    /// The key id published in the JWK and put in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Storage form: standard base64 of the PKCS#8 DER private key.
    ///
    /// # Panics
    ///
    /// Never in practice: encoding fails only for multi-prime RSA keys, which
    /// this type cannot hold.
    pub fn to_pkcs8_der_b64(&self) -> String {
        let der = match &self.key {
            PrivateKey::Rsa(k) => k.to_pkcs8_der(),
            PrivateKey::Ec(k) => p256::SecretKey::from(k).to_pkcs8_der(),
        }
        .expect("PKCS#8 encoding of a two-prime RSA or P-256 key cannot fail");
        STANDARD.encode(der.as_bytes())
    }

    /// Reads a key written by [`Self::to_pkcs8_der_b64`].
    ///
    /// The key must be of the type `alg` needs, and RSA keys must have at
    /// least 2048 bits; anything else is [`JoseError::BadKey`]. The rsa crate
    /// validates the key's consistency while decoding.
    pub fn from_pkcs8_der_b64(
        alg: Alg,
        kid: impl Into<String>,
        b64: &str,
    ) -> Result<Self, JoseError> {
        let der = STANDARD.decode(b64.trim()).map_err(|_| JoseError::BadKey)?;
        let key = match alg {
            Alg::RS256 => {
                let k = RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| JoseError::BadKey)?;
                if k.n().bits() < MIN_RSA_BITS {
                    return Err(JoseError::BadKey);
                }
                PrivateKey::Rsa(Box::new(k))
            }
            Alg::ES256 => PrivateKey::Ec(
                p256::ecdsa::SigningKey::from_pkcs8_der(&der).map_err(|_| JoseError::BadKey)?,
            ),
        };
        Ok(SigningKey {
            kid: kid.into(),
            alg,
            key,
        })
    }

    /// The public half, as published in the JWKS.
    ///
    /// # Panics
    ///
    /// Never: the uncompressed SEC1 encoding of a valid P-256 public key
    /// always has both coordinates.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = Jwk {
            kty: self.alg.kty().to_owned(),
            use_: Some("sig".to_owned()),
            kid: Some(self.kid.clone()),
            alg: Some(self.alg.as_str().to_owned()),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match &self.key {
            PrivateKey::Rsa(k) => {
                // RFC 7518 §6.3.1.1: unsigned big-endian, minimal length;
                // BigUint::to_bytes_be has no leading zeros.
                jwk.n = Some(URL_SAFE_NO_PAD.encode(k.n().to_bytes_be()));
                jwk.e = Some(URL_SAFE_NO_PAD.encode(k.e().to_bytes_be()));
            }
            PrivateKey::Ec(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                let Coordinates::Uncompressed { x, y } = point.coordinates() else {
                    panic!("uncompressed encoding of a P-256 public key has coordinates");
                };
                // RFC 7518 §6.2.1.2: full 32-byte coordinates, zeros kept.
                jwk.crv = Some("P-256".to_owned());
                jwk.x = Some(URL_SAFE_NO_PAD.encode(x));
                jwk.y = Some(URL_SAFE_NO_PAD.encode(y));
            }
        }
        jwk
    }

    /// Signs `claims` into a compact JWS with header `{"alg","kid","typ"}`.
    ///
    /// `rng` blinds the RSA private-key operation, which hides its timing
    /// from anyone who can request tokens (the rsa crate skips blinding when
    /// signing without one). ES256 signatures are deterministic (RFC 6979)
    /// and do not use it.
    ///
    /// # Panics
    ///
    /// Never in practice: signing only fails for RSA keys too small for the
    /// padding or inconsistent ones, and keys are checked when made or read.
    pub fn sign(&self, typ: &str, claims: &Value, rng: &mut impl CryptoRngCore) -> String {
        let header = OutHeader {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        };
        let header = serde_json::to_vec(&header).expect("a struct of strings serializes");
        let payload = serde_json::to_vec(claims).expect("a Value serializes");
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = self.sign_input(input.as_bytes(), rng);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The raw JWS signature over the signing input (RFC 7515 §5.1 step 5).
    fn sign_input(&self, input: &[u8], rng: &mut impl CryptoRngCore) -> Vec<u8> {
        match &self.key {
            PrivateKey::Rsa(k) => k
                .sign_with_rng(rng, Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                .expect("RS256 signing with a valid key of at least 2048 bits cannot fail"),
            PrivateKey::Ec(k) => {
                // RFC 7518 §3.4: the JWS signature is R || S, 32 bytes each,
                // not the DER encoding.
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
        }
    }
}

/// Verifies a compact JWS against `keys` and returns its header and claims.
///
/// Refuses `alg: none` and every algorithm not in `allowed`, so a caller
/// that knows what its issuer uses cannot be steered to another algorithm.
/// The key is picked by `kid`; a token without `kid` is tried against every
/// key that fits the algorithm. A key's `alg` and `use`, when present, must
/// fit. Claims are not checked here: see [`check_claims`].
pub fn verify(token: &str, keys: &JwkSet, allowed: &[Alg]) -> Result<(Header, Value), JoseError> {
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    // URL_SAFE_NO_PAD refuses '=' and non-canonical trailing bits.
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| JoseError::Malformed);
    let header_json = decode(h64)?;
    let payload = decode(p64)?;
    let sig = decode(s64)?;

    // RFC 7515 §4: the header is a JSON object. Serde would also accept an
    // array for a struct, so check; parsing straight into the struct (not via
    // Value) keeps serde's refusal of duplicate members (§4: "MUST either
    // reject JWSs with duplicate Header Parameter names or ...").
    if !header_json.trim_ascii_start().starts_with(b"{") {
        return Err(JoseError::Malformed);
    }
    let raw: RawHeader = serde_json::from_slice(&header_json).map_err(|_| JoseError::Malformed)?;
    let alg: Alg = raw.alg.parse()?;
    if !allowed.contains(&alg) {
        return Err(JoseError::UnsupportedAlg(raw.alg));
    }
    if raw.crit.is_some() {
        return Err(JoseError::Malformed);
    }

    let candidates: Vec<&Jwk> = match &raw.kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if named.is_empty() {
                return Err(JoseError::UnknownKey);
            }
            let usable: Vec<&Jwk> = named.into_iter().filter(|k| fits(k, alg)).collect();
            if usable.is_empty() {
                return Err(JoseError::BadKey);
            }
            usable
        }
        None => keys.keys.iter().filter(|k| fits(k, alg)).collect(),
    };
    if candidates.is_empty() {
        return Err(JoseError::UnknownKey);
    }

    let input_len = h64.len() + 1 + p64.len();
    let input = token
        .as_bytes()
        .get(..input_len)
        .ok_or(JoseError::Malformed)?;
    let mut any_good_key = false;
    let mut verified = false;
    for jwk in candidates {
        match verify_with(jwk, alg, input, &sig) {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(JoseError::BadKey) => {}
            Err(_) => any_good_key = true,
        }
    }
    if !verified {
        return Err(if any_good_key {
            JoseError::BadSignature
        } else {
            JoseError::BadKey
        });
    }

    let claims: Value = serde_json::from_slice(&payload).map_err(|_| JoseError::Malformed)?;
    if !claims.is_object() {
        return Err(JoseError::Malformed);
    }
    Ok((
        Header {
            alg,
            kid: raw.kid,
            typ: raw.typ,
        },
        claims,
    ))
}

/// Whether `jwk` may verify a token signed with `alg` (RFC 7517 §4.2, §4.4).
fn fits(jwk: &Jwk, alg: Alg) -> bool {
    jwk.kty == alg.kty()
        && jwk.alg.as_deref().is_none_or(|a| a == alg.as_str())
        && jwk.use_.as_deref().is_none_or(|u| u == "sig")
}

/// Checks one signature with one key: [`JoseError::BadKey`] if the key
/// material is unusable, [`JoseError::BadSignature`] if it does not verify.
fn verify_with(jwk: &Jwk, alg: Alg, input: &[u8], sig: &[u8]) -> Result<(), JoseError> {
    let field = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(JoseError::BadKey)
    };
    match alg {
        Alg::RS256 => {
            let n = BigUint::from_bytes_be(&field(&jwk.n)?);
            let e = BigUint::from_bytes_be(&field(&jwk.e)?);
            if n.bits() < MIN_RSA_BITS {
                return Err(JoseError::BadKey);
            }
            let key = RsaPublicKey::new(n, e).map_err(|_| JoseError::BadKey)?;
            key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input), sig)
                .map_err(|_| JoseError::BadSignature)
        }
        Alg::ES256 => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err(JoseError::BadKey);
            }
            let (x, y) = (field(&jwk.x)?, field(&jwk.y)?);
            if x.len() != 32 || y.len() != 32 {
                return Err(JoseError::BadKey);
            }
            let point = p256::EncodedPoint::from_affine_coordinates(
                p256::FieldBytes::from_slice(&x),
                p256::FieldBytes::from_slice(&y),
                false,
            );
            let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                .map_err(|_| JoseError::BadKey)?;
            let sig =
                p256::ecdsa::Signature::from_slice(sig).map_err(|_| JoseError::BadSignature)?;
            key.verify(input, &sig).map_err(|_| JoseError::BadSignature)
        }
    }
}

/// What [`check_claims`] expects of a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect<'a> {
    /// Required `iss`.
    pub issuer: &'a str,
    /// Required member of `aud` (our client id, or our issuer for tokens
    /// addressed to us).
    pub audience: &'a str,
    /// Required `nonce`, when the request carried one.
    pub nonce: Option<&'a str>,
    /// Seconds of clock skew tolerated on `exp` and `iat`.
    pub leeway: i64,
}

/// The ID Token checks of OIDC Core §3.1.3.7 that need no key: `iss`, `aud`
/// (and `azp` when there are several audiences), `exp`, `iat`, `nonce`.
///
/// `now` is unix seconds. Checked in that order; the first failure wins.
pub fn check_claims(claims: &Value, expect: &Expect, now: i64) -> Result<(), JoseError> {
    let iss = claims
        .get("iss")
        .ok_or(JoseError::MissingClaim("iss"))?
        .as_str()
        .ok_or(JoseError::MissingClaim("iss"))?;
    if iss != expect.issuer {
        return Err(JoseError::WrongIssuer);
    }

    match claims.get("aud").ok_or(JoseError::MissingClaim("aud"))? {
        Value::String(aud) if aud == expect.audience => {}
        Value::String(_) => return Err(JoseError::WrongAudience),
        Value::Array(auds) => {
            if !auds.iter().any(|a| a.as_str() == Some(expect.audience)) {
                return Err(JoseError::WrongAudience);
            }
            // OIDC Core §3.1.3.7 items 4 and 5: with several audiences the
            // party the token was issued to must be named in `azp`.
            if auds.len() > 1 {
                let azp = claims
                    .get("azp")
                    .and_then(Value::as_str)
                    .ok_or(JoseError::MissingClaim("azp"))?;
                if azp != expect.audience {
                    return Err(JoseError::WrongAudience);
                }
            }
        }
        _ => return Err(JoseError::MissingClaim("aud")),
    }

    let exp = numeric_date(claims, "exp")?;
    if now >= exp.saturating_add(expect.leeway) {
        return Err(JoseError::Expired);
    }
    let iat = numeric_date(claims, "iat")?;
    if iat > now.saturating_add(expect.leeway) {
        return Err(JoseError::IssuedInFuture);
    }

    if let Some(nonce) = expect.nonce {
        let got = claims
            .get("nonce")
            .and_then(Value::as_str)
            .ok_or(JoseError::MissingClaim("nonce"))?;
        if got != nonce {
            return Err(JoseError::NonceMismatch);
        }
    }
    Ok(())
}

/// RFC 7519 §2 NumericDate: a JSON number of seconds, possibly fractional
/// (truncated here) or out of i64 range (saturated).
fn numeric_date(claims: &Value, name: &'static str) -> Result<i64, JoseError> {
    let v = claims.get(name).ok_or(JoseError::MissingClaim(name))?;
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        // `as` saturates for out-of-range floats.
        Some(f) if f.is_finite() => Ok(f.floor() as i64),
        _ => Err(JoseError::MissingClaim(name)),
    }
}

/// OIDC Core §3.1.3.6 `at_hash` / §3.3.2.11 `c_hash`: base64url of the left
/// half of the hash of the ASCII value, the hash being the one of the JWS
/// `alg` (SHA-256 for both RS256 and ES256).
pub fn left_half_hash(alg: Alg, value: &str) -> String {
    let digest = match alg {
        Alg::RS256 | Alg::ES256 => Sha256::digest(value.as_bytes()),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use serde_json::json;
    use std::sync::OnceLock;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    /// One RSA key per test binary: generation is the slow part.
    fn rsa_key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate(Alg::RS256, "rsa-1", &mut rng()))
    }

    fn ec_key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate(Alg::ES256, "ec-1", &mut rng()))
    }

    fn both() -> JwkSet {
        JwkSet {
            keys: vec![rsa_key().public_jwk(), ec_key().public_jwk()],
        }
    }

    const ALL: &[Alg] = &[Alg::RS256, Alg::ES256];

    fn claims() -> Value {
        json!({"iss": "https://op.example", "sub": "u1", "aud": "c1", "exp": 2000, "iat": 1000})
    }

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    /// A token with an arbitrary header, signed by `key`.
    fn token_with_header(key: &SigningKey, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = key.sign_input(input.as_bytes(), &mut rng());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn split(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn alg_names() {
        for alg in [Alg::RS256, Alg::ES256] {
            assert_eq!(alg.as_str().parse::<Alg>(), Ok(alg));
            assert_eq!(serde_json::to_value(alg).unwrap(), json!(alg.as_str()));
            assert_eq!(
                serde_json::from_value::<Alg>(json!(alg.as_str())).unwrap(),
                alg
            );
        }
        assert_eq!("none".parse::<Alg>(), Err(JoseError::AlgNone));
        for bad in ["rs256", "HS256", "RS384", ""] {
            assert_eq!(
                bad.parse::<Alg>(),
                Err(JoseError::UnsupportedAlg(bad.into()))
            );
        }
    }

    #[test]
    fn round_trip_both_algs() {
        for key in [rsa_key(), ec_key()] {
            let token = key.sign("JWT", &claims(), &mut rng());
            let only_own = JwkSet {
                keys: vec![key.public_jwk()],
            };
            for set in [only_own, both()] {
                let (header, got) = verify(&token, &set, ALL).unwrap();
                assert_eq!(
                    header,
                    Header {
                        alg: key.alg(),
                        kid: Some(key.kid().into()),
                        typ: Some("JWT".into())
                    }
                );
                assert_eq!(got, claims());
            }
            let raw_header = URL_SAFE_NO_PAD.decode(&split(&token)[0]).unwrap();
            assert_eq!(
                String::from_utf8(raw_header).unwrap(),
                format!(
                    r#"{{"alg":"{}","kid":"{}","typ":"JWT"}}"#,
                    key.alg(),
                    key.kid()
                )
            );
        }
        let logout = rsa_key().sign("logout+jwt", &claims(), &mut rng());
        let (header, _) = verify(&logout, &both(), &[Alg::RS256]).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    }

    #[test]
    fn public_jwk_shape() {
        let rsa = rsa_key().public_jwk();
        assert_eq!(
            (
                rsa.kty.as_str(),
                rsa.use_.as_deref(),
                rsa.kid.as_deref(),
                rsa.alg.as_deref()
            ),
            ("RSA", Some("sig"), Some("rsa-1"), Some("RS256"))
        );
        assert_eq!(rsa.e.as_deref(), Some("AQAB"));
        let n = URL_SAFE_NO_PAD.decode(rsa.n.as_deref().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0);
        assert!(rsa.crv.is_none() && rsa.x.is_none());

        let ec = ec_key().public_jwk();
        assert_eq!(
            (
                ec.kty.as_str(),
                ec.crv.as_deref(),
                ec.alg.as_deref(),
                ec.use_.as_deref()
            ),
            ("EC", Some("P-256"), Some("ES256"), Some("sig"))
        );
        for c in [&ec.x, &ec.y] {
            assert_eq!(
                URL_SAFE_NO_PAD.decode(c.as_deref().unwrap()).unwrap().len(),
                32
            );
        }
        assert!(ec.n.is_none());

        // Absent members are left out, `use` keeps its name.
        let v = serde_json::to_value(&ec).unwrap();
        let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    }

    #[test]
    fn es256_signature_is_raw_r_s() {
        let token = ec_key().sign("JWT", &claims(), &mut rng());
        let sig = URL_SAFE_NO_PAD.decode(&split(&token)[2]).unwrap();
        assert_eq!(sig.len(), 64);
        // The DER form of the same signature is refused.
        let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
        let parts = split(&token);
        let der_token = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(der));
        assert_eq!(
            verify(&der_token, &both(), ALL),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn debug_hides_key_material() {
        for key in [rsa_key(), ec_key()] {
            let s = format!("{key:?}");
            assert!(
                s.contains(key.kid()) && s.contains(key.alg().as_str()),
                "{s}"
            );
            assert!(s.len() < 60, "{s}");
        }
    }

    #[test]
    fn storage_round_trip() {
        for key in [rsa_key(), ec_key()] {
            let stored = key.to_pkcs8_der_b64();
            assert!(STANDARD.decode(&stored).is_ok());
            let back = SigningKey::from_pkcs8_der_b64(key.alg(), key.kid(), &stored).unwrap();
            assert_eq!(back.public_jwk(), key.public_jwk());
            let token = back.sign("JWT", &claims(), &mut rng());
            let set = JwkSet {
                keys: vec![key.public_jwk()],
            };
            assert!(verify(&token, &set, ALL).is_ok());
        }
        let rsa = rsa_key().to_pkcs8_der_b64();
        let ec = ec_key().to_pkcs8_der_b64();
        let bad = [
            (Alg::ES256, rsa.as_str()),
            (Alg::RS256, ec.as_str()),
            (Alg::RS256, "not base64!"),
            (Alg::ES256, ""),
            (Alg::RS256, &rsa[..rsa.len() / 2]),
        ];
        for (alg, b64) in bad {
            assert_eq!(
                SigningKey::from_pkcs8_der_b64(alg, "k", b64).unwrap_err(),
                JoseError::BadKey,
                "{alg}"
            );
        }
    }

    #[test]
    fn small_rsa_keys_refused() {
        let small = RsaPrivateKey::new(&mut rng(), 1024).unwrap();
        let der = small.to_pkcs8_der().unwrap();
        let b64 = STANDARD.encode(der.as_bytes());
        assert_eq!(
            SigningKey::from_pkcs8_der_b64(Alg::RS256, "k", &b64).unwrap_err(),
            JoseError::BadKey
        );
        // A token signed by it does not verify against its (too small) JWK.
        let key = SigningKey {
            kid: "small".into(),
            alg: Alg::RS256,
            key: PrivateKey::Rsa(Box::new(small)),
        };
        let token = key.sign("JWT", &claims(), &mut rng());
        let set = JwkSet {
            keys: vec![key.public_jwk()],
        };
        assert_eq!(verify(&token, &set, ALL), Err(JoseError::BadKey));
    }

    #[test]
    fn tampering_detected() {
        for key in [rsa_key(), ec_key()] {
            let token = key.sign("JWT", &claims(), &mut rng());
            let p = split(&token);

            let mut other = claims();
            other["sub"] = json!("admin");
            let tampered_payload = format!("{}.{}.{}", p[0], b64(&other), p[2]);

            let mut sig = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
            sig[10] ^= 1;
            let tampered_sig = format!("{}.{}.{}", p[0], p[1], URL_SAFE_NO_PAD.encode(&sig));
            let truncated_sig = format!(
                "{}.{}.{}",
                p[0],
                p[1],
                URL_SAFE_NO_PAD.encode(&sig[..sig.len() - 1])
            );
            let empty_sig = format!("{}.{}.", p[0], p[1]);

            for t in [tampered_payload, tampered_sig, truncated_sig, empty_sig] {
                assert_eq!(
                    verify(&t, &both(), ALL),
                    Err(JoseError::BadSignature),
                    "{t}"
                );
            }
        }
    }

    #[test]
    fn alg_confusion_refused() {
        let c = claims();
        // RS256 token relabelled ES256 and the reverse, keeping the kid.
        let rs_as_es = token_with_header(rsa_key(), &json!({"alg": "ES256", "kid": "rsa-1"}), &c);
        let es_as_rs = token_with_header(ec_key(), &json!({"alg": "RS256", "kid": "ec-1"}), &c);
        // Same, but the kid now names a key of the claimed type.
        let rs_as_es_ec_kid =
            token_with_header(rsa_key(), &json!({"alg": "ES256", "kid": "ec-1"}), &c);
        let es_as_rs_rsa_kid =
            token_with_header(ec_key(), &json!({"alg": "RS256", "kid": "rsa-1"}), &c);
        // Without a kid every fitting key is tried.
        let rs_as_es_no_kid = token_with_header(rsa_key(), &json!({"alg": "ES256"}), &c);
        let es_as_rs_no_kid = token_with_header(ec_key(), &json!({"alg": "RS256"}), &c);

        // JWKs without `alg`, so only kty guards the first two cases.
        let mut no_alg = both();
        for k in &mut no_alg.keys {
            k.alg = None;
        }
        let cases = [
            (&rs_as_es, JoseError::BadKey),
            (&es_as_rs, JoseError::BadKey),
            (&rs_as_es_ec_kid, JoseError::BadSignature),
            (&es_as_rs_rsa_kid, JoseError::BadSignature),
            (&rs_as_es_no_kid, JoseError::BadSignature),
            (&es_as_rs_no_kid, JoseError::BadSignature),
        ];
        for set in [both(), no_alg] {
            for (token, err) in &cases {
                assert_eq!(verify(token, &set, ALL).unwrap_err(), *err, "{token}");
            }
        }
        // Not allowed by the caller.
        let token = rsa_key().sign("JWT", &c, &mut rng());
        assert_eq!(
            verify(&token, &both(), &[Alg::ES256]),
            Err(JoseError::UnsupportedAlg("RS256".into()))
        );
        assert_eq!(
            verify(&token, &both(), &[]),
            Err(JoseError::UnsupportedAlg("RS256".into()))
        );
    }

    #[test]
    fn alg_none_and_other_algs_refused() {
        let c = b64(&claims());
        let none = format!("{}.{c}.", b64(&json!({"alg": "none"})));
        assert_eq!(verify(&none, &both(), ALL), Err(JoseError::AlgNone));
        let none_kid = format!("{}.{c}.", b64(&json!({"alg": "none", "kid": "rsa-1"})));
        assert_eq!(verify(&none_kid, &both(), ALL), Err(JoseError::AlgNone));
        for alg in ["HS256", "None", "NONE", "RS512", "EdDSA"] {
            let t = format!("{}.{c}.AAAA", b64(&json!({"alg": alg})));
            assert_eq!(
                verify(&t, &both(), ALL),
                Err(JoseError::UnsupportedAlg(alg.into()))
            );
        }
    }

    #[test]
    fn key_selection() {
        let token = rsa_key().sign("JWT", &claims(), &mut rng());
        // Unknown kid.
        let ec_only = JwkSet {
            keys: vec![ec_key().public_jwk()],
        };
        assert_eq!(verify(&token, &ec_only, ALL), Err(JoseError::UnknownKey));
        assert_eq!(
            verify(&token, &JwkSet::default(), ALL),
            Err(JoseError::UnknownKey)
        );
        // Without a kid, nothing fitting.
        let no_kid = token_with_header(rsa_key(), &json!({"alg": "RS256"}), &claims());
        assert_eq!(verify(&no_kid, &ec_only, ALL), Err(JoseError::UnknownKey));
        assert!(verify(&no_kid, &both(), ALL).is_ok());

        // kid found but the JWK does not fit.
        let edit = |f: &dyn Fn(&mut Jwk)| {
            let mut jwk = rsa_key().public_jwk();
            f(&mut jwk);
            JwkSet { keys: vec![jwk] }
        };
        let unfit = [
            edit(&|k| k.alg = Some("ES256".into())),
            edit(&|k| k.alg = Some("RS384".into())),
            edit(&|k| k.use_ = Some("enc".into())),
            edit(&|k| k.kty = "EC".into()),
            edit(&|k| k.n = None),
            edit(&|k| k.n = Some("AQAB".into())),
            edit(&|k| k.n = Some("not base64url!".into())),
            edit(&|k| k.e = Some(String::new())),
        ];
        for set in unfit {
            assert_eq!(verify(&token, &set, ALL), Err(JoseError::BadKey), "{set:?}");
        }
        // Absent `use` and `alg` are fine.
        assert!(verify(
            &token,
            &edit(&|k| {
                k.use_ = None;
                k.alg = None;
            }),
            ALL
        )
        .is_ok());

        let ec_token = ec_key().sign("JWT", &claims(), &mut rng());
        let edit_ec = |f: &dyn Fn(&mut Jwk)| {
            let mut jwk = ec_key().public_jwk();
            f(&mut jwk);
            JwkSet { keys: vec![jwk] }
        };
        let unfit_ec = [
            edit_ec(&|k| k.crv = Some("P-384".into())),
            edit_ec(&|k| k.x = Some("AAAA".into())),
            edit_ec(&|k| k.y = Some(URL_SAFE_NO_PAD.encode([0u8; 32]))),
            edit_ec(&|k| k.y = None),
        ];
        for set in unfit_ec {
            assert_eq!(
                verify(&ec_token, &set, ALL),
                Err(JoseError::BadKey),
                "{set:?}"
            );
        }
    }

    #[test]
    fn compact_form_is_strict() {
        let token = rsa_key().sign("JWT", &claims(), &mut rng());
        let p = split(&token);
        let std_sig = base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(URL_SAFE_NO_PAD.decode(&p[2]).unwrap());
        assert_ne!(std_sig, p[2], "the signature should contain - or _");
        let cases = [
            format!("{}.{}", p[0], p[1]),
            format!("{token}.{}", p[2]),
            format!("{token}."),
            format!("{}=.{}.{}", p[0], p[1], p[2]),
            format!("{}.{}=.{}", p[0], p[1], p[2]),
            format!("{token}="),
            format!("{token}=="),
            // Standard base64 alphabet instead of base64url.
            format!("{}.{}.{}", p[0], p[1], std_sig),
            format!(" {token}"),
            String::new(),
            ".".into(),
            "..".into(),
            "...".into(),
            "a.b.c".into(),
            "\u{e9}.\u{e9}.\u{e9}".into(),
            // Header not an object, no alg, unknown crit.
            format!("{}.{}.{}", b64(&json!(["RS256"])), p[1], p[2]),
            format!("{}.{}.{}", b64(&json!({"kid": "rsa-1"})), p[1], p[2]),
            format!("{}.{}.{}", b64(&json!({"alg": 256})), p[1], p[2]),
        ];
        for t in &cases {
            assert_eq!(verify(t, &both(), ALL), Err(JoseError::Malformed), "{t:?}");
        }
        let crit = token_with_header(
            rsa_key(),
            &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}),
            &claims(),
        );
        assert_eq!(verify(&crit, &both(), ALL), Err(JoseError::Malformed));
        // Duplicate header members, correctly signed.
        let dup = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"rsa-1","alg":"none"}"#);
        let input = format!("{dup}.{}", p[1]);
        let sig = rsa_key().sign_input(input.as_bytes(), &mut rng());
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(verify(&t, &both(), ALL), Err(JoseError::Malformed));
        // Whitespace in the header JSON is fine.
        let spaced = URL_SAFE_NO_PAD.encode(" {\"alg\" : \"RS256\", \"kid\":\"rsa-1\"}\n");
        let input = format!("{spaced}.{}", p[1]);
        let sig = rsa_key().sign_input(input.as_bytes(), &mut rng());
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert!(verify(&t, &both(), ALL).is_ok());
    }

    #[test]
    fn claims_must_be_an_object() {
        let header = json!({"alg": "RS256", "kid": "rsa-1"});
        for c in [json!([1, 2]), json!("sub"), json!(null), json!(3)] {
            let t = token_with_header(rsa_key(), &header, &c);
            assert_eq!(verify(&t, &both(), ALL), Err(JoseError::Malformed), "{c}");
        }
        // Not JSON at all, correctly signed.
        let input = format!("{}.{}", b64(&header), URL_SAFE_NO_PAD.encode("{nope"));
        let sig = rsa_key().sign_input(input.as_bytes(), &mut rng());
        let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(verify(&t, &both(), ALL), Err(JoseError::Malformed));
    }

    #[test]
    fn upstream_jwks_with_extra_members() {
        let rsa = rsa_key().public_jwk();
        let doc = json!({
            "keys": [
                {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                {
                    "kty": "RSA", "use": "sig", "kid": "rsa-1", "alg": "RS256",
                    "n": rsa.n, "e": rsa.e,
                    "x5c": ["MIIC+DCCAeCgAwIBAgIJBIGjYW6hFpn2MA0GCSqGSIb3DQEBBQUAMCMx"],
                    "x5t": "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg",
                    "key_ops": ["verify"]
                },
                {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB", "alg": "RSA-OAEP"}
            ],
            "extra": true
        });
        let set: JwkSet = serde_json::from_str(&doc.to_string()).unwrap();
        assert_eq!(set.keys.len(), 3);
        assert_eq!(set.keys[0].kty, "OKP");
        let token = rsa_key().sign("JWT", &claims(), &mut rng());
        let (_, got) = verify(&token, &set, &[Alg::RS256]).unwrap();
        assert_eq!(got, claims());
        // Without a kid, the OKP and encryption keys are skipped.
        let no_kid = token_with_header(rsa_key(), &json!({"alg": "RS256"}), &claims());
        assert!(verify(&no_kid, &set, &[Alg::RS256]).is_ok());
    }

    #[test]
    fn at_hash_vector() {
        // OIDC Core Appendix A.3/A.4 example.
        assert_eq!(
            left_half_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(
            left_half_hash(Alg::ES256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // OIDC Core Appendix A.4 c_hash.
        assert_eq!(
            left_half_hash(
                Alg::RS256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn claim_checks() {
        let expect = Expect {
            issuer: "https://op.example",
            audience: "c1",
            nonce: None,
            leeway: 30,
        };
        let with_nonce = Expect {
            nonce: Some("n-0S6_WzA2Mj"),
            ..expect
        };
        let base = claims(); // iat 1000, exp 2000
        let set = |f: &dyn Fn(&mut Value)| {
            let mut c = base.clone();
            f(&mut c);
            c
        };
        let cases: Vec<(Value, &Expect, i64, Result<(), JoseError>)> = vec![
            (base.clone(), &expect, 1500, Ok(())),
            (base.clone(), &expect, 2029, Ok(())),
            (base.clone(), &expect, 2030, Err(JoseError::Expired)),
            (base.clone(), &expect, 970, Ok(())),
            (base.clone(), &expect, 969, Err(JoseError::IssuedInFuture)),
            (set(&|c| c["exp"] = json!(1999.9)), &expect, 2028, Ok(())),
            (
                set(&|c| c["exp"] = json!(1e300)),
                &expect,
                i64::MAX,
                Err(JoseError::Expired),
            ),
            (set(&|c| c["exp"] = json!(u64::MAX)), &expect, 1500, Ok(())),
            (
                set(&|c| c["exp"] = json!("2000")),
                &expect,
                1500,
                Err(JoseError::MissingClaim("exp")),
            ),
            (
                set(&|c| c["exp"] = Value::Null),
                &expect,
                1500,
                Err(JoseError::MissingClaim("exp")),
            ),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("exp")),
            ),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("iat");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("iat")),
            ),
            (
                set(&|c| c["iss"] = json!("https://op.example/")),
                &expect,
                1500,
                Err(JoseError::WrongIssuer),
            ),
            (
                set(&|c| c["iss"] = json!(1)),
                &expect,
                1500,
                Err(JoseError::MissingClaim("iss")),
            ),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("iss");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("iss")),
            ),
            (
                set(&|c| c["aud"] = json!("c2")),
                &expect,
                1500,
                Err(JoseError::WrongAudience),
            ),
            (set(&|c| c["aud"] = json!(["c1"])), &expect, 1500, Ok(())),
            (
                set(&|c| c["aud"] = json!([])),
                &expect,
                1500,
                Err(JoseError::WrongAudience),
            ),
            (
                set(&|c| c["aud"] = json!(["c2", "c3"])),
                &expect,
                1500,
                Err(JoseError::WrongAudience),
            ),
            (
                set(&|c| c["aud"] = json!(["c1", "c2"])),
                &expect,
                1500,
                Err(JoseError::MissingClaim("azp")),
            ),
            (
                set(&|c| {
                    c["aud"] = json!(["c1", "c2"]);
                    c["azp"] = json!("c2");
                }),
                &expect,
                1500,
                Err(JoseError::WrongAudience),
            ),
            (
                set(&|c| {
                    c["aud"] = json!(["c2", "c1"]);
                    c["azp"] = json!("c1");
                }),
                &expect,
                1500,
                Ok(()),
            ),
            (
                set(&|c| c["aud"] = json!({"c1": true})),
                &expect,
                1500,
                Err(JoseError::MissingClaim("aud")),
            ),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("aud")),
            ),
            (
                base.clone(),
                &with_nonce,
                1500,
                Err(JoseError::MissingClaim("nonce")),
            ),
            (
                set(&|c| c["nonce"] = json!("n-0S6_WzA2Mj")),
                &with_nonce,
                1500,
                Ok(()),
            ),
            (
                set(&|c| c["nonce"] = json!("n-0S6_WzA2Mk")),
                &with_nonce,
                1500,
                Err(JoseError::NonceMismatch),
            ),
            (
                set(&|c| c["nonce"] = json!(1)),
                &with_nonce,
                1500,
                Err(JoseError::MissingClaim("nonce")),
            ),
            // A nonce not asked for is ignored.
            (set(&|c| c["nonce"] = json!("x")), &expect, 1500, Ok(())),
            (
                json!([1]),
                &expect,
                1500,
                Err(JoseError::MissingClaim("iss")),
            ),
        ];
        for (i, (c, e, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(check_claims(&c, e, now), want, "case {i}: {c}");
        }
    }
}
