//! Provider metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2 (one document serves
//! both; RFC 8414 §2 lets OpenID Connect members appear in it).
//!
//! Only what the server does is advertised: a client library believes this document, so a
//! member listing a feature that is not there is a bug. Members whose default is right and
//! that the server cannot honour otherwise are stated explicitly where the default would be
//! wrong (`request_uri_parameter_supported` defaults to true).

use serde::Serialize;

use crate::oauth::{
    authorize::ResponseMode, id_token::supported_claims, jose::Alg, model::GrantType, request::ResponseType,
    scope::Scope,
};

/// The authorization endpoint's path (the seed's URL).
pub const AUTHORIZATION_PATH: &str = "/o/authorize/";
/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/o/token/";
/// The UserInfo endpoint's path.
pub const USERINFO_PATH: &str = "/o/userinfo/";
/// The JWK Set's path.
pub const JWKS_PATH: &str = "/o/.well-known/jwks.json";
/// RFC 7009 revocation.
pub const REVOCATION_PATH: &str = "/o/revoke_token/";
/// RFC 7662 introspection.
pub const INTROSPECTION_PATH: &str = "/o/introspect/";
/// RP-Initiated Logout's end-session endpoint.
pub const END_SESSION_PATH: &str = "/o/logout/";
/// RFC 8628 §3.1 device authorization endpoint.
pub const DEVICE_AUTHORIZATION_PATH: &str = "/o/device/authorize/";
/// RFC 9126 §2: the pushed authorization request endpoint.
pub const PAR_PATH: &str = "/o/par/";

/// What the metadata is computed from.
#[derive(Clone, Copy, Debug)]
pub struct ProviderFacts<'a> {
    /// The issuer identifier (no trailing slash).
    pub issuer: &'a str,
    /// The scopes the server offers.
    pub scopes: &'a Scope,
    /// The grant types the server implements.
    pub grant_types: &'a [GrantType],
    /// The algorithms ID Tokens may be signed with.
    pub id_token_algs: &'a [Alg],
    /// The UI languages (BCP 47 tags) the pages can be shown in.
    pub ui_locales: &'a [&'static str],
}

/// The metadata document. Field order is the order of Discovery §3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderMetadata {
    /// Discovery §3 / RFC 8414 §2 `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `userinfo_endpoint`.
    pub userinfo_endpoint: String,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// `response_types_supported`: those whose grants are implemented, the ones returning an
    /// ID Token only when `openid` is offered.
    pub response_types_supported: Vec<&'static str>,
    /// `response_modes_supported`.
    pub response_modes_supported: Vec<&'static str>,
    /// `grant_types_supported`.
    pub grant_types_supported: Vec<&'static str>,
    /// `subject_types_supported`: `sub` is the account id for every client.
    pub subject_types_supported: Vec<&'static str>,
    /// `id_token_signing_alg_values_supported`.
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `claim_types_supported`.
    pub claim_types_supported: Vec<&'static str>,
    /// `claims_supported`.
    pub claims_supported: Vec<&'static str>,
    /// `acr_values_supported`: the `acr` values ID Tokens state and `acr_values` may ask for.
    pub acr_values_supported: Vec<&'static str>,
    /// `ui_locales_supported`: the languages `ui_locales` can pick.
    pub ui_locales_supported: Vec<&'static str>,
    /// `claims_parameter_supported`: no.
    pub claims_parameter_supported: bool,
    /// `request_parameter_supported`: no.
    pub request_parameter_supported: bool,
    /// `request_uri_parameter_supported`: no (the default would say yes).
    pub request_uri_parameter_supported: bool,
    /// RFC 8414 `revocation_endpoint`.
    pub revocation_endpoint: String,
    /// RFC 8414 `revocation_endpoint_auth_methods_supported`.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8414 `introspection_endpoint`.
    pub introspection_endpoint: String,
    /// RFC 8414 `introspection_endpoint_auth_methods_supported`: confidential clients only.
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8414 `code_challenge_methods_supported`: S256 only (`plain` is refused).
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207 §3: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// RP-Initiated Logout §2.1 `end_session_endpoint`.
    pub end_session_endpoint: String,
    /// RFC 8628 §4 `device_authorization_endpoint`, when the device grant is offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 9126 §5 `pushed_authorization_request_endpoint`.
    pub pushed_authorization_request_endpoint: String,
    /// RFC 9449 §5.1 `dpop_signing_alg_values_supported`: what DPoP proofs may be signed with.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 9126 §5: pushing is required per client, not for every one.
    pub require_pushed_authorization_requests: bool,
    /// Back-Channel Logout §2.1: logout tokens are sent.
    pub backchannel_logout_supported: bool,
    /// Back-Channel Logout §2.1: they carry `sid` (as the ID Tokens do).
    pub backchannel_logout_session_supported: bool,
    /// `prompt_values_supported` (Initiating User Registration via OpenID Connect §4.1).
    pub prompt_values_supported: Vec<&'static str>,
}

/// Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1; `none` for
/// public clients, which send only `client_id`).
const CLIENT_AUTH: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

/// The metadata for `f`.
pub fn provider_metadata(f: &ProviderFacts) -> ProviderMetadata {
    let at = |path: &str| format!("{}{path}", f.issuer);
    let has = |g: GrantType| f.grant_types.contains(&g);
    let openid = f.scopes.contains("openid");
    let response_types: Vec<ResponseType> =
        ResponseType::ALL.into_iter().filter(|t| t.grants().into_iter().all(has) && (openid || !t.id_token)).collect();
    // Query only for codes alone; tokens always travel in the fragment or a form post.
    let response_modes = ResponseMode::ALL
        .into_iter()
        .filter(|m| match m {
            ResponseMode::Query => response_types.iter().any(|t| !t.returns_tokens()),
            ResponseMode::Fragment | ResponseMode::FormPost => !response_types.is_empty(),
        })
        .map(ResponseMode::as_str)
        .collect();
    ProviderMetadata {
        issuer: f.issuer.to_owned(),
        authorization_endpoint: at(AUTHORIZATION_PATH),
        token_endpoint: at(TOKEN_PATH),
        userinfo_endpoint: at(USERINFO_PATH),
        jwks_uri: at(JWKS_PATH),
        scopes_supported: f.scopes.iter().map(str::to_owned).collect(),
        response_types_supported: response_types.into_iter().map(ResponseType::as_str).collect(),
        response_modes_supported: response_modes,
        grant_types_supported: f.grant_types.iter().map(GrantType::as_str).collect(),
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: f.id_token_algs.iter().map(|a| a.as_str()).collect(),
        token_endpoint_auth_methods_supported: CLIENT_AUTH.to_vec(),
        claim_types_supported: vec!["normal"],
        claims_supported: supported_claims(f.scopes),
        acr_values_supported: super::acr::ACR_VALUES_SUPPORTED.to_vec(),
        ui_locales_supported: f.ui_locales.to_vec(),
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        revocation_endpoint: at(REVOCATION_PATH),
        revocation_endpoint_auth_methods_supported: CLIENT_AUTH.to_vec(),
        introspection_endpoint: at(INTROSPECTION_PATH),
        introspection_endpoint_auth_methods_supported: vec!["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: vec!["S256"],
        authorization_response_iss_parameter_supported: true,
        end_session_endpoint: at(END_SESSION_PATH),
        device_authorization_endpoint: has(GrantType::DeviceCode).then(|| at(DEVICE_AUTHORIZATION_PATH)),
        pushed_authorization_request_endpoint: at(PAR_PATH),
        dpop_signing_alg_values_supported: crate::oauth::dpop::ALGS.iter().map(|a| a.as_str()).collect(),
        require_pushed_authorization_requests: false,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        prompt_values_supported: vec!["none", "login", "consent", "select_account"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts<'a>(scopes: &'a Scope, grants: &'a [GrantType], algs: &'a [Alg]) -> ProviderFacts<'a> {
        ProviderFacts {
            issuer: "https://id.example",
            scopes,
            grant_types: grants,
            id_token_algs: algs,
            ui_locales: &["en", "zh-CN"],
        }
    }

    #[test]
    fn the_document_for_every_grant() {
        let scopes = Scope::parse("openid profile email read").unwrap();
        let m = serde_json::to_value(provider_metadata(&facts(&scopes, GrantType::ALL, &[Alg::RS256]))).unwrap();
        assert_eq!(m["issuer"], json!("https://id.example"));
        assert_eq!(m["authorization_endpoint"], json!("https://id.example/o/authorize/"));
        assert_eq!(m["token_endpoint"], json!("https://id.example/o/token/"));
        assert_eq!(m["userinfo_endpoint"], json!("https://id.example/o/userinfo/"));
        assert_eq!(m["jwks_uri"], json!("https://id.example/o/.well-known/jwks.json"));
        assert_eq!(m["revocation_endpoint"], json!("https://id.example/o/revoke_token/"));
        assert_eq!(m["introspection_endpoint"], json!("https://id.example/o/introspect/"));
        assert_eq!(m["scopes_supported"], json!(["email", "openid", "profile", "read"]));
        assert_eq!(
            m["response_types_supported"],
            json!([
                "code",
                "token",
                "id_token",
                "id_token token",
                "code id_token",
                "code token",
                "code id_token token"
            ])
        );
        assert_eq!(m["response_modes_supported"], json!(["query", "fragment", "form_post"]));
        assert_eq!(m["prompt_values_supported"], json!(["none", "login", "consent", "select_account"]));
        assert_eq!(m["ui_locales_supported"], json!(["en", "zh-CN"]));
        assert_eq!(m["acr_values_supported"], json!(["urn:yaoshi:acr:1fa", "urn:yaoshi:acr:mfa"]));
        assert_eq!(m["claims_parameter_supported"], json!(false));
        assert_eq!(
            m["grant_types_supported"],
            json!([
                "authorization_code",
                "password",
                "client_credentials",
                "refresh_token",
                "implicit",
                "urn:ietf:params:oauth:grant-type:device_code"
            ])
        );
        assert_eq!(m["device_authorization_endpoint"], json!("https://id.example/o/device/authorize/"));
        assert_eq!(m["subject_types_supported"], json!(["public"]));
        assert_eq!(m["pushed_authorization_request_endpoint"], json!("https://id.example/o/par/"));
        assert_eq!(m["dpop_signing_alg_values_supported"], json!(["ES256", "RS256"]));
        assert_eq!(m["require_pushed_authorization_requests"], json!(false));
        assert_eq!(m["id_token_signing_alg_values_supported"], json!(["RS256"]));
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["authorization_response_iss_parameter_supported"], json!(true));
        assert_eq!(m["request_uri_parameter_supported"], json!(false));
        assert!(m["claims_supported"].as_array().unwrap().contains(&json!("email_verified")));
        assert_eq!(m["end_session_endpoint"], json!("https://id.example/o/logout/"));
        assert_eq!(
            (&m["backchannel_logout_supported"], &m["backchannel_logout_session_supported"]),
            (&json!(true), &json!(true))
        );
        // Nothing that is not built: no registration, no signed requests, no front-channel logout.
        for absent in ["registration_endpoint", "frontchannel_logout_supported"] {
            assert_eq!(m.get(absent), None, "{absent}");
        }
    }

    #[test]
    fn only_what_is_enabled() {
        let scopes = Scope::parse("openid").unwrap();
        let grants = [GrantType::AuthorizationCode, GrantType::RefreshToken];
        let m = serde_json::to_value(provider_metadata(&facts(&scopes, &grants, &[Alg::ES256, Alg::RS256]))).unwrap();
        assert_eq!(m["response_types_supported"], json!(["code"]));
        assert_eq!(
            m["response_modes_supported"],
            json!(["query", "fragment", "form_post"]),
            "a code can be posted or put in the fragment"
        );
        assert_eq!(m["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
        assert_eq!(m.get("device_authorization_endpoint"), None, "no device grant, no endpoint");
        assert_eq!(m["id_token_signing_alg_values_supported"], json!(["ES256", "RS256"]));
        let claims = m["claims_supported"].as_array().unwrap();
        assert!(!claims.contains(&json!("email")) && !claims.contains(&json!("name")));
        assert!(m.as_object().unwrap().values().all(|v| !v.is_null()), "no null members: {m}");
        // Implicit without openid: access tokens only, never in the query.
        let oauth = Scope::parse("read").unwrap();
        let m = serde_json::to_value(provider_metadata(&facts(&oauth, &[GrantType::Implicit], &[Alg::RS256]))).unwrap();
        assert_eq!(m["response_types_supported"], json!(["token"]));
        assert_eq!(m["response_modes_supported"], json!(["fragment", "form_post"]));
        let m =
            serde_json::to_value(provider_metadata(&facts(&scopes, &[GrantType::Implicit], &[Alg::RS256]))).unwrap();
        assert_eq!(m["response_types_supported"], json!(["token", "id_token", "id_token token"]));
    }
}
