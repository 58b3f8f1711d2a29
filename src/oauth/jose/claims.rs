//! JWT claims (RFC 7519): the key-free ID Token checks of OIDC Core §3.1.3.7
//! on a verified claim set, and the `at_hash` / `c_hash` values.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Alg, JoseError};

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
    let iss =
        claims.get("iss").ok_or(JoseError::MissingClaim("iss"))?.as_str().ok_or(JoseError::MissingClaim("iss"))?;
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
                let azp = claims.get("azp").and_then(Value::as_str).ok_or(JoseError::MissingClaim("azp"))?;
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
        let got = claims.get("nonce").and_then(Value::as_str).ok_or(JoseError::MissingClaim("nonce"))?;
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
    use super::super::fixtures::claims;
    use super::*;
    use serde_json::json;

    #[test]
    fn at_hash_vector() {
        // OIDC Core Appendix A.3/A.4 example.
        assert_eq!(left_half_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(left_half_hash(Alg::ES256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
        // OIDC Core Appendix A.4 c_hash.
        assert_eq!(
            left_half_hash(Alg::RS256, "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn claim_checks() {
        let expect = Expect { issuer: "https://op.example", audience: "c1", nonce: None, leeway: 30 };
        let with_nonce = Expect { nonce: Some("n-0S6_WzA2Mj"), ..expect };
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
            (set(&|c| c["exp"] = json!(1e300)), &expect, i64::MAX, Err(JoseError::Expired)),
            (set(&|c| c["exp"] = json!(u64::MAX)), &expect, 1500, Ok(())),
            (set(&|c| c["exp"] = json!("2000")), &expect, 1500, Err(JoseError::MissingClaim("exp"))),
            (set(&|c| c["exp"] = Value::Null), &expect, 1500, Err(JoseError::MissingClaim("exp"))),
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
            (set(&|c| c["iss"] = json!("https://op.example/")), &expect, 1500, Err(JoseError::WrongIssuer)),
            (set(&|c| c["iss"] = json!(1)), &expect, 1500, Err(JoseError::MissingClaim("iss"))),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("iss");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("iss")),
            ),
            (set(&|c| c["aud"] = json!("c2")), &expect, 1500, Err(JoseError::WrongAudience)),
            (set(&|c| c["aud"] = json!(["c1"])), &expect, 1500, Ok(())),
            (set(&|c| c["aud"] = json!([])), &expect, 1500, Err(JoseError::WrongAudience)),
            (set(&|c| c["aud"] = json!(["c2", "c3"])), &expect, 1500, Err(JoseError::WrongAudience)),
            (set(&|c| c["aud"] = json!(["c1", "c2"])), &expect, 1500, Err(JoseError::MissingClaim("azp"))),
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
            (set(&|c| c["aud"] = json!({"c1": true})), &expect, 1500, Err(JoseError::MissingClaim("aud"))),
            (
                set(&|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
                &expect,
                1500,
                Err(JoseError::MissingClaim("aud")),
            ),
            (base.clone(), &with_nonce, 1500, Err(JoseError::MissingClaim("nonce"))),
            (set(&|c| c["nonce"] = json!("n-0S6_WzA2Mj")), &with_nonce, 1500, Ok(())),
            (set(&|c| c["nonce"] = json!("n-0S6_WzA2Mk")), &with_nonce, 1500, Err(JoseError::NonceMismatch)),
            (set(&|c| c["nonce"] = json!(1)), &with_nonce, 1500, Err(JoseError::MissingClaim("nonce"))),
            // A nonce not asked for is ignored.
            (set(&|c| c["nonce"] = json!("x")), &expect, 1500, Ok(())),
            (json!([1]), &expect, 1500, Err(JoseError::MissingClaim("iss"))),
        ];
        for (i, (c, e, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(check_claims(&c, e, now), want, "case {i}: {c}");
        }
    }
}
