//! The ID Token's claim set (OIDC Core §2, §3.1.3.6, §12.2), the user claims each scope
//! releases (§5.4), shared with the UserInfo response (§5.3.2), and the session id `sid`
//! (OIDC Back-Channel Logout §2.1 / Front-Channel Logout §3).
//!
//! Pure: the caller passes the time, the user as stored, and the access token the ID Token is
//! issued with; signing happens in the service with [`crate::oauth::jose::SigningKey`].

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::oauth::{
    jose::{left_half_hash, Alg},
    scope::Scope,
};

/// The JWS `typ` of ID Tokens ("JWT", RFC 7519 §5.1).
pub const TYP: &str = "JWT";

/// The end-user an ID Token or a UserInfo response speaks of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person<'a> {
    /// The stable account id; `sub` is its decimal form.
    pub id: i64,
    /// The username, released as `preferred_username`.
    pub username: &'a str,
    /// The display name, released as `name` when not empty.
    pub display_name: &'a str,
    /// The email address, if the account has one.
    pub email: Option<&'a str>,
    /// Whether the owner proved they receive mail there.
    pub email_verified: bool,
    /// The phone number in E.164, if the account has one.
    pub phone_number: Option<&'a str>,
    /// Whether the owner proved they receive SMS there.
    pub phone_number_verified: bool,
    /// The user's groups and roles in the client the claims are for, when the caller loaded
    /// them (only for a scope with `groups`).
    pub memberships: Option<&'a Memberships>,
}

/// What the `groups` scope releases: the names of the user's groups, and the roles the user
/// holds in the requesting client, directly or through a group. Not an OIDC standard claim;
/// the names follow common practice (`groups`, `roles`) and are sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memberships {
    /// Group names.
    pub groups: Vec<String>,
    /// Role names of the requesting client.
    pub roles: Vec<String>,
}

/// Claims the `profile` scope releases here (§5.4 lists more; these are the ones we hold).
pub const PROFILE_CLAIMS: &[&str] = &["name", "preferred_username"];
/// Claims the `email` scope releases (§5.4).
pub const EMAIL_CLAIMS: &[&str] = &["email", "email_verified"];
/// Claims the `phone` scope releases (§5.4; the number in E.164, as §5.1 recommends).
pub const PHONE_CLAIMS: &[&str] = &["phone_number", "phone_number_verified"];
/// Claims the `groups` scope releases (ours, see [`Memberships`]).
pub const GROUPS_CLAIMS: &[&str] = &["groups", "roles"];
/// Claims every ID Token may carry, whatever the scope.
pub const ID_TOKEN_CLAIMS: &[&str] =
    &["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "sid", "azp", "amr", "acr"];

/// The user claims `scope` releases for `who` (§5.4), without `sub`. Absent values are left
/// out rather than sent as null (§5.3.2: "If a Claim is not returned, that Claim Name SHOULD
/// be omitted from the JSON object").
pub fn scope_claims(scope: &Scope, who: &Person) -> Map<String, Value> {
    let mut claims = Map::new();
    if scope.contains("profile") {
        if !who.display_name.is_empty() {
            claims.insert("name".into(), who.display_name.into());
        }
        claims.insert("preferred_username".into(), who.username.into());
    }
    if scope.contains("email") {
        if let Some(email) = who.email {
            claims.insert("email".into(), email.into());
            claims.insert("email_verified".into(), who.email_verified.into());
        }
    }
    if scope.contains("phone") {
        if let Some(phone) = who.phone_number {
            claims.insert("phone_number".into(), phone.into());
            claims.insert("phone_number_verified".into(), who.phone_number_verified.into());
        }
    }
    if scope.contains(crate::oauth::scope::GROUPS) {
        if let Some(m) = who.memberships {
            // Always arrays, empty ones included: a client tells "no groups" from "not granted".
            claims.insert("groups".into(), json!(m.groups));
            claims.insert("roles".into(), json!(m.roles));
        }
    }
    claims
}

/// Every claim this server can return, given the scopes it offers (discovery's
/// `claims_supported`).
pub fn supported_claims(known: &Scope) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = ID_TOKEN_CLAIMS.to_vec();
    if known.contains("profile") {
        all.extend_from_slice(PROFILE_CLAIMS);
    }
    if known.contains("email") {
        all.extend_from_slice(EMAIL_CLAIMS);
    }
    if known.contains("phone") {
        all.extend_from_slice(PHONE_CLAIMS);
    }
    if known.contains(crate::oauth::scope::GROUPS) {
        all.extend_from_slice(GROUPS_CLAIMS);
    }
    all
}

/// What an ID Token is issued for.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenFacts<'a> {
    /// `iss`: this server's issuer identifier.
    pub issuer: &'a str,
    /// `aud` and `azp`: the client.
    pub client_id: &'a str,
    /// Who signed in.
    pub person: Person<'a>,
    /// The granted scope: decides the user claims.
    pub scope: &'a Scope,
    /// `auth_time`: when the user authenticated, if known.
    pub auth_time: Option<i64>,
    /// `nonce` from the authentication request, exactly as sent. Never on a refresh (§12.2:
    /// "it SHOULD NOT have a nonce Claim Value").
    pub nonce: Option<&'a str>,
    /// The access token issued in the same response, for `at_hash` (§3.1.3.6).
    pub access_token: Option<&'a str>,
    /// The code issued in the same authorization response, for `c_hash` (§3.3.2.11).
    pub code: Option<&'a str>,
    /// `sid`: the session the user authenticated in.
    pub sid: Option<&'a str>,
    /// How the user authenticated in that session: RFC 8176 `amr` values, space-separated;
    /// `None` (or empty) when unknown, and then neither `amr` nor `acr` is stated.
    pub amr: Option<&'a str>,
    /// The algorithm that will sign it (decides `at_hash`'s hash).
    pub alg: Alg,
    /// `iat`.
    pub now: i64,
    /// Seconds until `exp`.
    pub lifetime: i64,
}

/// The ID Token's claims (§2): `iss`, `sub`, `aud` (a single string: this server issues for one
/// client), `exp`, `iat`, then what applies of `auth_time`, `nonce`, `at_hash`, `sid`, `azp` and
/// the scope's user claims.
pub fn id_token_claims(f: &IdTokenFacts) -> Value {
    let mut claims = Map::new();
    claims.insert("iss".into(), f.issuer.into());
    claims.insert("sub".into(), f.person.id.to_string().into());
    claims.insert("aud".into(), f.client_id.into());
    claims.insert("exp".into(), json!(f.now + f.lifetime.max(1)));
    claims.insert("iat".into(), json!(f.now));
    if let Some(t) = f.auth_time {
        claims.insert("auth_time".into(), json!(t));
    }
    if let Some(nonce) = f.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(at) = f.access_token {
        claims.insert("at_hash".into(), left_half_hash(f.alg, at).into());
    }
    if let Some(code) = f.code {
        claims.insert("c_hash".into(), left_half_hash(f.alg, code).into());
    }
    if let Some(sid) = f.sid {
        claims.insert("sid".into(), sid.into());
    }
    // §2: `amr` "JSON array of strings that are identifiers for authentication methods used in
    // the authentication", and `acr` the class those methods satisfy.
    if let Some(amr) = f.amr.filter(|a| !a.trim().is_empty()) {
        claims.insert("amr".into(), json!(super::acr::amr_values(amr)));
        claims.insert("acr".into(), super::acr::acr_for(amr).into());
    }
    // §2: "MAY be included even when the authorized party is the same as the sole audience".
    claims.insert("azp".into(), f.client_id.into());
    for (k, v) in scope_claims(f.scope, &f.person) {
        claims.insert(k, v);
    }
    Value::Object(claims)
}

/// The `sid` of a login session: HMAC-SHA256 under a server secret of the session's stored hash,
/// base64url. Stable for the session's life and the same on every instance, but it reveals
/// nothing that would let anyone present the session (neither the cookie nor its hash).
pub fn session_id(key: &[u8], session_hash: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"oidc-sid\0");
    mac.update(session_hash.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Person<'static> {
        Person {
            id: 7,
            username: "alice",
            display_name: "Alice A.",
            email: Some("alice@example.com"),
            email_verified: false,
            phone_number: Some("+8613800138000"),
            phone_number_verified: true,
            memberships: None,
        }
    }

    fn facts<'a>(scope: &'a Scope) -> IdTokenFacts<'a> {
        IdTokenFacts {
            issuer: "https://id.example",
            client_id: "app",
            person: alice(),
            scope,
            auth_time: Some(990),
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: Some("yat_token"),
            code: None,
            sid: Some("s1"),
            amr: None,
            alg: Alg::RS256,
            now: 1000,
            lifetime: 3600,
        }
    }

    #[test]
    fn amr_and_acr_state_how_the_session_was_authenticated() {
        let scope = Scope::parse("openid").unwrap();
        let c = id_token_claims(&IdTokenFacts { amr: Some("pwd otp mfa"), ..facts(&scope) });
        assert_eq!(c["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(c["acr"], json!(crate::oauth::acr::ACR_MFA));
        let c = id_token_claims(&IdTokenFacts { amr: Some("pwd"), ..facts(&scope) });
        assert_eq!(c["acr"], json!(crate::oauth::acr::ACR_ONE_FACTOR));
        let c = id_token_claims(&IdTokenFacts { amr: Some(""), ..facts(&scope) });
        assert!(c.get("amr").is_none() && c.get("acr").is_none(), "unknown methods are not stated");
    }

    #[test]
    fn the_full_claim_set() {
        let scope = Scope::parse("openid profile email").unwrap();
        let c = id_token_claims(&facts(&scope));
        assert_eq!(
            c,
            json!({
                "iss": "https://id.example", "sub": "7", "aud": "app", "exp": 4600, "iat": 1000,
                "auth_time": 990, "nonce": "n-0S6_WzA2Mj", "at_hash": left_half_hash(Alg::RS256, "yat_token"),
                "sid": "s1", "azp": "app", "name": "Alice A.", "preferred_username": "alice",
                "email": "alice@example.com", "email_verified": false
            })
        );
        // Hybrid: c_hash of the code issued alongside (§3.3.2.11).
        let hybrid = id_token_claims(&IdTokenFacts { code: Some("yac_code"), ..facts(&scope) });
        assert_eq!(hybrid["c_hash"], json!(left_half_hash(Alg::RS256, "yac_code")));
        assert_eq!(c.get("c_hash"), None, "no code, no c_hash");
        // OIDC Core §3.1.3.6's own example: access token and at_hash.
        let example = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(left_half_hash(Alg::RS256, example), "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn only_what_applies() {
        let scope = Scope::parse("openid").unwrap();
        let f = IdTokenFacts { auth_time: None, nonce: None, access_token: None, sid: None, ..facts(&scope) };
        let c = id_token_claims(&f);
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{c}");
        for k in ["iss", "sub", "aud", "exp", "iat", "azp"] {
            assert!(keys.contains(&k), "{k} in {c}");
        }
        // A nonce is echoed byte for byte, whatever it contains.
        let odd = "a b+c/%20é\"";
        let c = id_token_claims(&IdTokenFacts { nonce: Some(odd), ..f });
        assert_eq!(c["nonce"], json!(odd));
        // at_hash follows the signing algorithm's hash (SHA-256 for both of ours).
        let es = id_token_claims(&IdTokenFacts { alg: Alg::ES256, ..facts(&scope) });
        assert_eq!(es["at_hash"], json!(left_half_hash(Alg::ES256, "yat_token")));
    }

    #[test]
    fn scopes_release_their_claims() {
        let who = alice();
        let claims = |s: &str| scope_claims(&Scope::parse(s).unwrap(), &who);
        assert!(claims("openid read").is_empty());
        assert_eq!(Value::Object(claims("openid profile")), json!({"name": "Alice A.", "preferred_username": "alice"}));
        assert_eq!(Value::Object(claims("email")), json!({"email": "alice@example.com", "email_verified": false}));
        assert_eq!(
            Value::Object(claims("phone")),
            json!({"phone_number": "+8613800138000", "phone_number_verified": true})
        );
        let nameless = Person { display_name: "", email: None, phone_number: None, ..who };
        let c = scope_claims(&Scope::parse("profile email phone").unwrap(), &nameless);
        assert_eq!(Value::Object(c), json!({"preferred_username": "alice"}), "absent values are omitted, never null");
    }

    #[test]
    fn the_groups_scope_releases_groups_and_roles() {
        let m = Memberships { groups: vec!["staff".into()], roles: vec!["admin".into(), "viewer".into()] };
        let who = Person { memberships: Some(&m), ..alice() };
        let c = scope_claims(&Scope::parse("openid groups").unwrap(), &who);
        assert_eq!(Value::Object(c), json!({"groups": ["staff"], "roles": ["admin", "viewer"]}));
        assert!(scope_claims(&Scope::parse("openid profile").unwrap(), &who).get("groups").is_none());
        let none = Memberships::default();
        let c = scope_claims(&Scope::parse("groups").unwrap(), &Person { memberships: Some(&none), ..alice() });
        assert_eq!(Value::Object(c), json!({"groups": [], "roles": []}), "granted but empty: empty arrays");
        assert!(supported_claims(&Scope::parse("openid groups").unwrap()).contains(&"roles"));
    }

    #[test]
    fn supported_claims_follow_the_offered_scopes() {
        let all = supported_claims(&Scope::parse("openid profile email phone").unwrap());
        for c in [
            "sub",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "name",
            "preferred_username",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
        ] {
            assert!(all.contains(&c), "{c}");
        }
        let bare = supported_claims(&Scope::parse("openid read").unwrap());
        assert!(!bare.contains(&"email") && !bare.contains(&"name") && bare.contains(&"sub"));
    }

    #[test]
    fn session_ids_are_keyed_stable_and_opaque() {
        let sid = session_id(b"key", "abc123");
        assert_eq!(sid, session_id(b"key", "abc123"));
        assert_ne!(sid, session_id(b"other key", "abc123"));
        assert_ne!(sid, session_id(b"key", "abc124"));
        assert_eq!(sid.len(), 43);
        assert!(!sid.contains("abc123"));
    }
}
