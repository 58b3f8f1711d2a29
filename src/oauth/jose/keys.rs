//! This server's private signing keys: generation and the PKCS#8 storage form.
//! Publishing their public half is in `jwk.rs`, signing with them in `jws.rs`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

use super::alg::MIN_RSA_BITS;
use super::{Alg, JoseError};

/// The size of the RSA keys [`SigningKey::generate`] makes.
const RSA_BITS: usize = 2048;

/// The private key material behind a [`SigningKey`], one variant per [`Alg`].
pub(super) enum PrivateKey {
    /// An RS256 key (boxed: it is much larger than a P-256 one).
    Rsa(Box<RsaPrivateKey>),
    /// An ES256 key.
    Ec(p256::ecdsa::SigningKey),
}

/// One of this server's private signing keys.
///
/// Debug shows only `kid` and `alg`, so keys never end up in logs.
pub struct SigningKey {
    /// Published in the JWK and the header of every token.
    pub(super) kid: String,
    /// The algorithm the key signs with; fixes the variant of `key`.
    pub(super) alg: Alg,
    /// The private material; visible only inside `jose`.
    pub(super) key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
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
        SigningKey { kid: kid.into(), alg, key }
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
    pub fn from_pkcs8_der_b64(alg: Alg, kid: impl Into<String>, b64: &str) -> Result<Self, JoseError> {
        let der = STANDARD.decode(b64.trim()).map_err(|_| JoseError::BadKey)?;
        let key = match alg {
            Alg::RS256 => {
                let k = RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| JoseError::BadKey)?;
                if k.n().bits() < MIN_RSA_BITS {
                    return Err(JoseError::BadKey);
                }
                PrivateKey::Rsa(Box::new(k))
            }
            Alg::ES256 => PrivateKey::Ec(p256::ecdsa::SigningKey::from_pkcs8_der(&der).map_err(|_| JoseError::BadKey)?),
        };
        Ok(SigningKey { kid: kid.into(), alg, key })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::{verify, JwkSet};
    use super::*;

    #[test]
    fn debug_hides_key_material() {
        for key in [rsa_key(), ec_key()] {
            let s = format!("{key:?}");
            assert!(s.contains(key.kid()) && s.contains(key.alg().as_str()), "{s}");
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
            let set = JwkSet { keys: vec![key.public_jwk()] };
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
            assert_eq!(SigningKey::from_pkcs8_der_b64(alg, "k", b64).unwrap_err(), JoseError::BadKey, "{alg}");
        }
    }

    #[test]
    fn small_rsa_keys_refused() {
        let small = RsaPrivateKey::new(&mut rng(), 1024).unwrap();
        let der = small.to_pkcs8_der().unwrap();
        let b64 = STANDARD.encode(der.as_bytes());
        assert_eq!(SigningKey::from_pkcs8_der_b64(Alg::RS256, "k", &b64).unwrap_err(), JoseError::BadKey);
        // A token signed by it does not verify against its (too small) JWK.
        let key = SigningKey { kid: "small".into(), alg: Alg::RS256, key: PrivateKey::Rsa(Box::new(small)) };
        let token = key.sign("JWT", &claims(), &mut rng());
        let set = JwkSet { keys: vec![key.public_jwk()] };
        assert_eq!(verify(&token, &set, ALL), Err(JoseError::BadKey));
    }
}
