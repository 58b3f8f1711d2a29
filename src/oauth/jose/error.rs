//! The one error type of the JOSE code: why a token, key or claim set was
//! refused. Shared by the signature, key and claim checks so that callers
//! match on a single enum.

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
