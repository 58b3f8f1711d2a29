//! JSON Web Keys and JWK Sets (RFC 7517) for RS256 and ES256 (RFC 7518 §6):
//! encoding our public keys for the JWKS endpoint, and judging and decoding
//! the keys of a set a token is verified against.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::elliptic_curve::sec1::Coordinates;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde::{Deserialize, Serialize};

use super::alg::MIN_RSA_BITS;
use super::keys::PrivateKey;
use super::{Alg, JoseError, SigningKey};

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

impl SigningKey {
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
}

/// The members that make a JWK private (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a key carrying one
/// of them is refused where only a public key belongs.
pub(super) const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl Jwk {
    /// The JWK SHA-256 Thumbprint (RFC 7638 §3): the base64url SHA-256 of the required
    /// members in lexicographic order without whitespace (§3.2, §3.3). What a DPoP-bound
    /// token's `cnf.jkt` holds (RFC 9449 §6.1). Only RSA and P-256 keys have one here.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        use sha2::{Digest, Sha256};
        let text = |v: &Option<String>| v.as_deref().map(|s| serde_json::Value::from(s).to_string());
        let canonical = match self.kty.as_str() {
            "RSA" => match (text(&self.e), text(&self.n)) {
                (Some(e), Some(n)) => format!(r#"{{"e":{e},"kty":"RSA","n":{n}}}"#),
                _ => return Err(JoseError::BadKey),
            },
            "EC" => match (text(&self.crv), text(&self.x), text(&self.y)) {
                (Some(crv), Some(x), Some(y)) => format!(r#"{{"crv":{crv},"kty":"EC","x":{x},"y":{y}}}"#),
                _ => return Err(JoseError::BadKey),
            },
            _ => return Err(JoseError::BadKey),
        };
        Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
    }
}

/// Whether `jwk` may verify a token signed with `alg` (RFC 7517 §4.2, §4.4).
pub(super) fn fits(jwk: &Jwk, alg: Alg) -> bool {
    jwk.kty == alg.kty()
        && jwk.alg.as_deref().is_none_or(|a| a == alg.as_str())
        && jwk.use_.as_deref().is_none_or(|u| u == "sig")
}

/// A base64url key member (RFC 7518 §6: `n`, `e`, `x`, `y`), decoded;
/// [`JoseError::BadKey`] if absent or not base64url.
fn member(v: &Option<String>) -> Result<Vec<u8>, JoseError> {
    v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok()).ok_or(JoseError::BadKey)
}

/// The RSA public key of `jwk` (RFC 7518 §6.3.1), refusing moduli below
/// 2048 bits (§3.3) with [`JoseError::BadKey`].
pub(super) fn rsa_public_key(jwk: &Jwk) -> Result<RsaPublicKey, JoseError> {
    let n = BigUint::from_bytes_be(&member(&jwk.n)?);
    let e = BigUint::from_bytes_be(&member(&jwk.e)?);
    if n.bits() < MIN_RSA_BITS {
        return Err(JoseError::BadKey);
    }
    RsaPublicKey::new(n, e).map_err(|_| JoseError::BadKey)
}

/// The P-256 public key of `jwk` (RFC 7518 §6.2.1): `crv` "P-256" and
/// 32-byte coordinates of a point on the curve, else [`JoseError::BadKey`].
pub(super) fn ec_public_key(jwk: &Jwk) -> Result<p256::ecdsa::VerifyingKey, JoseError> {
    if jwk.crv.as_deref() != Some("P-256") {
        return Err(JoseError::BadKey);
    }
    let (x, y) = (member(&jwk.x)?, member(&jwk.y)?);
    if x.len() != 32 || y.len() != 32 {
        return Err(JoseError::BadKey);
    }
    let point = p256::EncodedPoint::from_affine_coordinates(
        p256::FieldBytes::from_slice(&x),
        p256::FieldBytes::from_slice(&y),
        false,
    );
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).map_err(|_| JoseError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::verify;
    use super::*;
    use serde_json::json;

    #[test]
    fn public_jwk_shape() {
        let rsa = rsa_key().public_jwk();
        assert_eq!(
            (rsa.kty.as_str(), rsa.use_.as_deref(), rsa.kid.as_deref(), rsa.alg.as_deref()),
            ("RSA", Some("sig"), Some("rsa-1"), Some("RS256"))
        );
        assert_eq!(rsa.e.as_deref(), Some("AQAB"));
        let n = URL_SAFE_NO_PAD.decode(rsa.n.as_deref().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_ne!(n[0], 0);
        assert!(rsa.crv.is_none() && rsa.x.is_none());

        let ec = ec_key().public_jwk();
        assert_eq!(
            (ec.kty.as_str(), ec.crv.as_deref(), ec.alg.as_deref(), ec.use_.as_deref()),
            ("EC", Some("P-256"), Some("ES256"), Some("sig"))
        );
        for c in [&ec.x, &ec.y] {
            assert_eq!(URL_SAFE_NO_PAD.decode(c.as_deref().unwrap()).unwrap().len(), 32);
        }
        assert!(ec.n.is_none());

        // Absent members are left out, `use` keeps its name.
        let v = serde_json::to_value(&ec).unwrap();
        let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    }

    #[test]
    fn key_selection() {
        let token = rsa_key().sign("JWT", &claims(), &mut rng());
        // Unknown kid.
        let ec_only = JwkSet { keys: vec![ec_key().public_jwk()] };
        assert_eq!(verify(&token, &ec_only, ALL), Err(JoseError::UnknownKey));
        assert_eq!(verify(&token, &JwkSet::default(), ALL), Err(JoseError::UnknownKey));
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
            assert_eq!(verify(&ec_token, &set, ALL), Err(JoseError::BadKey), "{set:?}");
        }
    }

    #[test]
    fn thumbprint_of_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk: Jwk = serde_json::from_value(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(jwk.thumbprint().unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        // Optional members do not change it; a missing required one is refused.
        let bare = Jwk { alg: None, kid: None, use_: Some("sig".into()), ..jwk.clone() };
        assert_eq!(bare.thumbprint(), jwk.thumbprint());
        assert_eq!(Jwk { e: None, ..jwk.clone() }.thumbprint(), Err(JoseError::BadKey));
        assert_eq!(Jwk { kty: "OKP".into(), ..jwk }.thumbprint(), Err(JoseError::BadKey));
        let ec = ec_key().public_jwk();
        assert_eq!(ec.thumbprint().unwrap().len(), 43);
        assert_ne!(ec.thumbprint(), rsa_key().public_jwk().thumbprint());
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
}
