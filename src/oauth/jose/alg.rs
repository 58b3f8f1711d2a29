//! The JWS algorithms this server implements (RFC 7518 §3.1 names) and the
//! RSA key-size floor (§3.3) that both our keys and upstream ones must meet.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::JoseError;

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these
/// algorithms." Applies to our own keys and to upstream ones.
pub(super) const MIN_RSA_BITS: usize = 2048;

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
    pub(super) fn kty(self) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alg_names() {
        for alg in [Alg::RS256, Alg::ES256] {
            assert_eq!(alg.as_str().parse::<Alg>(), Ok(alg));
            assert_eq!(serde_json::to_value(alg).unwrap(), json!(alg.as_str()));
            assert_eq!(serde_json::from_value::<Alg>(json!(alg.as_str())).unwrap(), alg);
        }
        assert_eq!("none".parse::<Alg>(), Err(JoseError::AlgNone));
        for bad in ["rs256", "HS256", "RS384", ""] {
            assert_eq!(bad.parse::<Alg>(), Err(JoseError::UnsupportedAlg(bad.into())));
        }
    }
}
