//! The successful token response (RFC 6749 §5.1) and which grants get a
//! refresh token.

use std::fmt;

use serde::Serialize;

use crate::oauth::model::GrantType;

/// The JSON body of a successful token response.
///
/// RFC 6749 §5.1: "The parameters are included in the entity-body of the HTTP
/// response using the "application/json" media type". Absent optional fields
/// are left out. `Debug` redacts the tokens.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// REQUIRED. "The access token issued by the authorization server."
    pub access_token: String,
    /// REQUIRED. `Bearer` (RFC 6750), or `DPoP` for a token bound to the key of the request's
    /// DPoP proof (RFC 9449 §5).
    pub token_type: &'static str,
    /// RECOMMENDED. "The lifetime in seconds of the access token."
    pub expires_in: i64,
    /// "OPTIONAL, if identical to the scope requested by the client; otherwise,
    /// REQUIRED."
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OPTIONAL. "The refresh token, which can be used to obtain new access
    /// tokens using the same authorization grant".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OpenID Connect Core §3.1.3.3 ID Token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// The `token_type` of an unbound token.
    pub const BEARER: &'static str = "Bearer";
    /// The `token_type` of a DPoP-bound token (RFC 9449 §5).
    pub const DPOP: &'static str = "DPoP";

    /// A Bearer response with no scope, refresh token or ID token yet.
    pub fn bearer(access_token: String, expires_in: i64) -> Self {
        TokenResponse {
            access_token,
            token_type: Self::BEARER,
            expires_in,
            scope: None,
            refresh_token: None,
            id_token: None,
        }
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |token: &Option<String>| token.as_ref().map(|_| "[redacted]");
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &redact(&self.refresh_token))
            .field("id_token", &redact(&self.id_token))
            .finish()
    }
}

/// Whether a token response for `grant` carries a refresh token.
///
/// RFC 6749 §4.4.3 (client credentials): "A refresh token SHOULD NOT be
/// included." §4.2.2 (implicit): "The authorization server MUST NOT issue a
/// refresh token." Every other grant gets one (§1.5).
pub fn issues_refresh_token(grant: GrantType) -> bool {
    match grant {
        GrantType::ClientCredentials | GrantType::Implicit => false,
        GrantType::AuthorizationCode
        | GrantType::Password
        | GrantType::RefreshToken
        | GrantType::DeviceCode
        | GrantType::WechatMiniProgram => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refresh_token_policy() {
        let cases = [
            (GrantType::AuthorizationCode, true),
            (GrantType::Password, true),
            (GrantType::RefreshToken, true),
            (GrantType::ClientCredentials, false),
            (GrantType::Implicit, false),
            (GrantType::DeviceCode, true),
            (GrantType::WechatMiniProgram, true),
        ];
        for (grant, expected) in cases {
            assert_eq!(issues_refresh_token(grant), expected, "{grant}");
        }
    }

    #[test]
    fn serializes_without_absent_fields() {
        let minimal = TokenResponse::bearer("at".into(), 3600);
        assert_eq!(
            serde_json::to_value(&minimal).unwrap(),
            json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600})
        );
        let full = TokenResponse {
            scope: Some("openid profile".into()),
            refresh_token: Some("rt".into()),
            id_token: Some("idt".into()),
            ..minimal
        };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({
                "access_token": "at",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid profile",
                "refresh_token": "rt",
                "id_token": "idt"
            })
        );
    }

    #[test]
    fn debug_redacts_tokens() {
        let response = TokenResponse {
            scope: Some("openid".into()),
            refresh_token: Some("SECRET-RT".into()),
            id_token: Some("SECRET-ID".into()),
            ..TokenResponse::bearer("SECRET-AT".into(), 60)
        };
        let shown = format!("{response:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("openid") && shown.contains("Bearer"), "{shown}");
        let bare = format!("{:?}", TokenResponse::bearer("SECRET-AT".into(), 60));
        assert!(bare.contains("refresh_token: None"), "{bare}");
    }
}
