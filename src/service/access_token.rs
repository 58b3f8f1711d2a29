//! The two forms of access tokens (opaque, or JWT per RFC 9068) behind one stored record, the
//! DPoP key they may be bound to (RFC 9449), and finding the record of a presented token
//! whatever its form.

use rand::rngs::OsRng;

use super::{dpop::Presented, unavailable, Services};
use crate::{
    crypto::sha256_hex,
    oauth::{
        discovery::TOKEN_PATH,
        error::OAuthError,
        jose::{self, Alg},
        jwt_access::{self, AccessClaims, AccessTokenFormat},
        model::Client,
        scope::Scope,
    },
};

/// How one grant's tokens are written and whom they are bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AccessForm {
    /// Opaque or JWT.
    pub shape: AccessShape,
    /// The DPoP key of the request's proof, if it had one.
    pub binding: Option<Binding>,
}

/// The access token's form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AccessShape {
    /// The random value itself.
    Opaque,
    /// A JWT for these audiences, whose `jti` is the record's key.
    Jwt {
        /// `aud`.
        audience: Vec<String>,
    },
}

/// The DPoP key a grant's tokens are bound to (RFC 9449 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Binding {
    /// The key's JWK SHA-256 thumbprint.
    pub jkt: String,
    /// Whether the refresh token is bound too: only a public client's, as a confidential
    /// client's is already bound to its credentials (§5).
    pub refresh: bool,
}

impl AccessForm {
    /// The key the access token is bound to.
    pub(super) fn jkt(&self) -> Option<&str> {
        self.binding.as_ref().map(|b| b.jkt.as_str())
    }
}

/// What a presented access token is issued for, as [`Services::present_access`] needs it.
pub(super) struct Issued<'a> {
    /// The client.
    pub client_id: &'a str,
    /// The resource owner, if any.
    pub user_id: Option<i64>,
    /// The granted scope.
    pub scope: &'a Scope,
    /// When the record was made.
    pub issued_at: i64,
    /// When the record expires.
    pub expires_at: i64,
}

impl Services {
    /// The form of `client`'s access tokens for a token request naming `resources` (RFC 8707
    /// §2) with the DPoP proof `proof` (RFC 9449 §5). Named resources must be registered for
    /// the client whatever the form, so that a client learns of a wrong `resource` before it
    /// moves to JWTs. A client that must use DPoP (its policy) gets nothing without a proof.
    pub(super) async fn access_form(
        &self,
        client: &Client,
        resources: &[&str],
        proof: Option<Presented<'_>>,
    ) -> Result<AccessForm, OAuthError> {
        let policy = self.store.client_token_policy(&client.client_id).await.map_err(unavailable)?.unwrap_or_default();
        let audience = jwt_access::audience(resources, &policy.resources, &client.client_id)?;
        let shape = match policy.format {
            AccessTokenFormat::Opaque => AccessShape::Opaque,
            AccessTokenFormat::Jwt => AccessShape::Jwt { audience },
        };
        let binding = match proof {
            Some(p) => {
                let proof = self.accept_proof(p, TOKEN_PATH, None).await?;
                Some(Binding { jkt: proof.jkt, refresh: !client.confidential })
            }
            None if policy.require_dpop => {
                return Err(OAuthError::invalid_dpop_proof("this client's token requests must carry a DPoP proof"))
            }
            None => None,
        };
        Ok(AccessForm { shape, binding })
    }

    /// The access token the client receives for the record stored under `sha256(value)`.
    pub(super) async fn present_access(
        &self,
        form: &AccessForm,
        value: String,
        issued: &Issued<'_>,
    ) -> Result<String, OAuthError> {
        let AccessShape::Jwt { audience } = &form.shape else { return Ok(value) };
        let key = self.signer().await?;
        let jti = sha256_hex(&value);
        let claims = jwt_access::claims(&AccessClaims {
            issuer: &self.settings.issuer,
            client_id: issued.client_id,
            user_id: issued.user_id,
            audience,
            scope: issued.scope,
            jti: &jti,
            issued_at: issued.issued_at,
            expires_at: issued.expires_at,
            jkt: form.jkt(),
        });
        Ok(key.sign(jwt_access::TYP, &claims, &mut OsRng))
    }

    /// The key of the stored record of a presented access token: for a JWT access token of
    /// ours (signature, `typ` and `iss` verified), its `jti`; for anything else, the SHA-256 of
    /// the value, which finds the record of an opaque token and nothing for a foreign JWT.
    pub(super) async fn access_record_key(&self, token: &str) -> Result<String, OAuthError> {
        if !jwt_access::looks_like_jwt(token) {
            return Ok(sha256_hex(token));
        }
        let keys = self.jwks().await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the signing keys");
            OAuthError::temporarily_unavailable("the service is temporarily unavailable; try again")
        })?;
        let ours = jose::verify(token, &keys, &[Alg::RS256, Alg::ES256])
            .ok()
            .filter(|(header, _)| header.typ.as_deref() == Some(jwt_access::TYP))
            .and_then(|(_, claims)| jwt_access::record_key(&claims, &self.settings.issuer).map(str::to_owned));
        Ok(ours.unwrap_or_else(|| sha256_hex(token)))
    }
}
