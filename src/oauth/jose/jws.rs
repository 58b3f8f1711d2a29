//! JWS Compact Serialization (RFC 7515 §7.1) with RS256 and ES256 (RFC 7518
//! §3.3, §3.4): signing with a [`SigningKey`], verifying against a [`JwkSet`],
//! and verifying a self-signed proof against the public key its own `jwk`
//! header carries (DPoP, RFC 9449 §4.2), which says who signed, not who to trust.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use rsa::rand_core::CryptoRngCore;
use rsa::Pkcs1v15Sign;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jwk::{ec_public_key, fits, rsa_public_key, PRIVATE_MEMBERS};
use super::keys::PrivateKey;
use super::{Alg, JoseError, Jwk, JwkSet, SigningKey};

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
    /// RFC 7515 §4.1.3: the public key that signed, as a JSON object. Read only by
    /// [`verify_embedded`]; [`verify`] trusts nothing but the set it is given.
    #[serde(default)]
    jwk: Option<serde_json::Map<String, Value>>,
}

/// A compact JWS split and decoded, its `alg` allowed, not yet verified.
struct Parsed<'t> {
    raw: RawHeader,
    alg: Alg,
    /// The signing input (RFC 7515 §5.2 step 8): `header.payload` as sent.
    input: &'t [u8],
    sig: Vec<u8>,
    payload: Vec<u8>,
}

/// Splits and decodes `token`, judging the header's `alg` against `allowed`.
fn parse<'t>(token: &'t str, allowed: &[Alg]) -> Result<Parsed<'t>, JoseError> {
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
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
    let input_len = h64.len() + 1 + p64.len();
    let input = token.as_bytes().get(..input_len).ok_or(JoseError::Malformed)?;
    Ok(Parsed { raw, alg, input, sig, payload })
}

impl Parsed<'_> {
    /// The verified header and claims (a JSON object).
    fn finish(self) -> Result<(Header, Value), JoseError> {
        let claims: Value = serde_json::from_slice(&self.payload).map_err(|_| JoseError::Malformed)?;
        if !claims.is_object() {
            return Err(JoseError::Malformed);
        }
        Ok((Header { alg: self.alg, kid: self.raw.kid, typ: self.raw.typ }, claims))
    }
}

/// The header we emit. Field order gives `{"alg","kid","typ"}`.
#[derive(Serialize)]
struct OutHeader<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

impl SigningKey {
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
        let header = OutHeader { alg: self.alg.as_str(), kid: &self.kid, typ };
        let header = serde_json::to_vec(&header).expect("a struct of strings serializes");
        let payload = serde_json::to_vec(claims).expect("a Value serializes");
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let sig = self.sign_input(input.as_bytes(), rng);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The raw JWS signature over the signing input (RFC 7515 §5.1 step 5).
    pub(super) fn sign_input(&self, input: &[u8], rng: &mut impl CryptoRngCore) -> Vec<u8> {
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
/// fit. Claims are not checked here: see [`check_claims`](super::check_claims).
pub fn verify(token: &str, keys: &JwkSet, allowed: &[Alg]) -> Result<(Header, Value), JoseError> {
    let parsed = parse(token, allowed)?;
    let alg = parsed.alg;
    let candidates: Vec<&Jwk> = match &parsed.raw.kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys.keys.iter().filter(|k| k.kid.as_deref() == Some(kid.as_str())).collect();
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

    let mut any_good_key = false;
    let mut verified = false;
    for jwk in candidates {
        match verify_with(jwk, alg, parsed.input, &parsed.sig) {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(JoseError::BadKey) => {}
            Err(_) => any_good_key = true,
        }
    }
    if !verified {
        return Err(if any_good_key { JoseError::BadSignature } else { JoseError::BadKey });
    }
    parsed.finish()
}

/// Verifies a compact JWS with the public key in its own `jwk` header and returns that key
/// with the header and claims. The signature proves only possession of the key: the caller
/// decides what the key may do (DPoP binds tokens to its thumbprint, RFC 9449 §4.3).
///
/// A missing `jwk`, one carrying private members (RFC 9449 §4.3 check 7: "does not contain a
/// private key") or one that does not fit `alg` is [`JoseError::BadKey`].
pub fn verify_embedded(token: &str, allowed: &[Alg]) -> Result<(Header, Jwk, Value), JoseError> {
    let mut parsed = parse(token, allowed)?;
    let members = parsed.raw.jwk.take().ok_or(JoseError::BadKey)?;
    if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        return Err(JoseError::BadKey);
    }
    let jwk: Jwk = serde_json::from_value(Value::Object(members)).map_err(|_| JoseError::BadKey)?;
    if !fits(&jwk, parsed.alg) {
        return Err(JoseError::BadKey);
    }
    verify_with(&jwk, parsed.alg, parsed.input, &parsed.sig)?;
    let (header, claims) = parsed.finish()?;
    Ok((header, jwk, claims))
}

/// Checks one signature with one key: [`JoseError::BadKey`] if the key
/// material is unusable, [`JoseError::BadSignature`] if it does not verify.
fn verify_with(jwk: &Jwk, alg: Alg, input: &[u8], sig: &[u8]) -> Result<(), JoseError> {
    match alg {
        Alg::RS256 => {
            let key = rsa_public_key(jwk)?;
            key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input), sig).map_err(|_| JoseError::BadSignature)
        }
        Alg::ES256 => {
            let key = ec_public_key(jwk)?;
            // RFC 7518 §3.4: R || S, 64 bytes; a DER signature is refused.
            let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| JoseError::BadSignature)?;
            key.verify(input, &sig).map_err(|_| JoseError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_both_algs() {
        for key in [rsa_key(), ec_key()] {
            let token = key.sign("JWT", &claims(), &mut rng());
            let only_own = JwkSet { keys: vec![key.public_jwk()] };
            for set in [only_own, both()] {
                let (header, got) = verify(&token, &set, ALL).unwrap();
                assert_eq!(header, Header { alg: key.alg(), kid: Some(key.kid().into()), typ: Some("JWT".into()) });
                assert_eq!(got, claims());
            }
            let raw_header = URL_SAFE_NO_PAD.decode(&split(&token)[0]).unwrap();
            assert_eq!(
                String::from_utf8(raw_header).unwrap(),
                format!(r#"{{"alg":"{}","kid":"{}","typ":"JWT"}}"#, key.alg(), key.kid())
            );
        }
        let logout = rsa_key().sign("logout+jwt", &claims(), &mut rng());
        let (header, _) = verify(&logout, &both(), &[Alg::RS256]).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
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
        assert_eq!(verify(&der_token, &both(), ALL), Err(JoseError::BadSignature));
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
            let truncated_sig = format!("{}.{}.{}", p[0], p[1], URL_SAFE_NO_PAD.encode(&sig[..sig.len() - 1]));
            let empty_sig = format!("{}.{}.", p[0], p[1]);

            for t in [tampered_payload, tampered_sig, truncated_sig, empty_sig] {
                assert_eq!(verify(&t, &both(), ALL), Err(JoseError::BadSignature), "{t}");
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
        let rs_as_es_ec_kid = token_with_header(rsa_key(), &json!({"alg": "ES256", "kid": "ec-1"}), &c);
        let es_as_rs_rsa_kid = token_with_header(ec_key(), &json!({"alg": "RS256", "kid": "rsa-1"}), &c);
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
        assert_eq!(verify(&token, &both(), &[Alg::ES256]), Err(JoseError::UnsupportedAlg("RS256".into())));
        assert_eq!(verify(&token, &both(), &[]), Err(JoseError::UnsupportedAlg("RS256".into())));
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
            assert_eq!(verify(&t, &both(), ALL), Err(JoseError::UnsupportedAlg(alg.into())));
        }
    }

    #[test]
    fn compact_form_is_strict() {
        let token = rsa_key().sign("JWT", &claims(), &mut rng());
        let p = split(&token);
        let std_sig = base64::engine::general_purpose::STANDARD_NO_PAD.encode(URL_SAFE_NO_PAD.decode(&p[2]).unwrap());
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
}
